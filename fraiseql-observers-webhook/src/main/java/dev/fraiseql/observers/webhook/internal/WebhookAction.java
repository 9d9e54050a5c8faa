package dev.fraiseql.observers.webhook.internal;

import dev.fraiseql.observers.ObserverConfigException;
import dev.fraiseql.observers.config.ConfigProblem;
import dev.fraiseql.observers.config.Settings;
import dev.fraiseql.observers.spi.Action;
import dev.fraiseql.observers.spi.ActionPreview;
import dev.fraiseql.observers.spi.ActionContext;
import dev.fraiseql.observers.spi.ActionResult;
import dev.fraiseql.observers.spi.Delivery;
import dev.fraiseql.observers.spi.OutboundMessage;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * {@code action = "webhook"}: one HTTP request per attempt carrying the event's default JSON (or a
 * rendered {@code body_template}), the event headers and, when configured, a signature.
 */
public final class WebhookAction implements Action {
  public static final String METHOD = "method";
  public static final String BODY_TEMPLATE = "body_template";
  public static final String CONTENT_TYPE = "content_type";
  public static final String SIGNING = "signing";
  public static final String SIGNING_SECRET_ENV = "signing_secret_env";
  public static final String SIGNING_SECRETS_ENV = "signing_secrets_env";

  /** The per-attempt header: 1 on the first attempt. */
  public static final String HEADER_DELIVERY_ATTEMPT = "Fraiseql-Delivery-Attempt";
  /** The per-delivery header: {@code <event id>:<handler>}, stable across attempts. */
  public static final String HEADER_DELIVERY_ID = "Fraiseql-Delivery-Id";

  /** Every key the webhook action reads. */
  public static final Set<String> KEYS;

  static {
    Set<String> k = new HashSet<>(EndpointSettings.KEYS);
    k.addAll(List.of(METHOD, BODY_TEMPLATE, CONTENT_TYPE, SIGNING, SIGNING_SECRET_ENV, SIGNING_SECRETS_ENV));
    KEYS = Set.copyOf(k);
  }

  private static final Set<String> METHODS = Set.of("POST", "PUT", "PATCH");
  private static final String JSON = "application/json";

  private final HttpEndpoint endpoint;
  private final BodyTemplate template;
  private final String contentType;
  private final Signer signer;
  private final Clock clock;

  private WebhookAction(HttpEndpoint endpoint, BodyTemplate template, String contentType, Signer signer, Clock clock) {
    this.endpoint = endpoint;
    this.template = template;
    this.contentType = contentType;
    this.signer = signer;
    this.clock = clock;
  }

  /**
   * Creates the action for one handler, validating every key.
   *
   * @throws ObserverConfigException naming the key, its location and the fix
   */
  public static WebhookAction create(ActionContext ctx) {
    Settings s = ctx.settings();
    Problems p = new Problems();
    URI uri = p.check(() -> EndpointSettings.url(ctx, "webhook"), null);
    String method = p.check(() -> {
      String m = s.string(METHOD).orElse("POST").trim().toUpperCase(Locale.ROOT);
      if (!METHODS.contains(m)) {
        throw EndpointSettings.problem(s, METHOD, "method of handler " + ctx.handlerName() + " is `"
            + s.string(METHOD).orElse("") + "`", "use POST (the default), PUT or PATCH");
      }
      return m;
    }, "POST");
    Map<String, String> headers = p.check(() -> EndpointSettings.headers(ctx), Map.of());
    String contentType = p.check(() -> {
      String ct = s.string(CONTENT_TYPE).map(String::trim).orElse(JSON);
      if (ct.isEmpty() || ct.indexOf('\n') >= 0 || ct.indexOf('\r') >= 0) {
        throw EndpointSettings.problem(s, CONTENT_TYPE, "content_type of handler " + ctx.handlerName()
            + " is not a media type", "write a media type such as \"application/json\"");
      }
      return ct;
    }, JSON);
    BodyTemplate template = !s.has(BODY_TEMPLATE) ? null : p.check(() ->
        BodyTemplate.compile(s, BODY_TEMPLATE, BodyTemplate.syntaxFor(contentType), ctx.handlerName()), null);
    List<String> secretStrings = new ArrayList<>();
    Signer signer = p.check(() -> signer(ctx, secretStrings), null);
    EndpointSettings.Limits limits = p.check(() -> EndpointSettings.limits(ctx, uri), null);
    p.throwIfAny(ctx.config().source());
    HttpEndpoint endpoint = EndpointSettings.endpoint(ctx, uri, UrlRedaction.redact(uri), method, headers,
        secretStrings, limits);
    Clock clock = ctx.component(Clock.class).orElse(Clock.systemUTC());
    return new WebhookAction(endpoint, template, contentType, signer, clock);
  }

  private static Signer signer(ActionContext ctx, List<String> secretStrings) {
    Settings s = ctx.settings();
    Optional<String> scheme = s.string(SIGNING).map(x -> x.trim().toLowerCase(Locale.ROOT));
    boolean one = s.has(SIGNING_SECRET_ENV);
    boolean many = s.has(SIGNING_SECRETS_ENV);
    if (scheme.isEmpty()) {
      if (one || many) {
        String key = one ? SIGNING_SECRET_ENV : SIGNING_SECRETS_ENV;
        throw EndpointSettings.problem(s, key, key + " is set on handler " + ctx.handlerName() + " but signing is not",
            "add signing = \"standard-webhooks\" or signing = \"fraiseql\"");
      }
      return null;
    }
    if (!scheme.get().equals("standard-webhooks") && !scheme.get().equals("fraiseql")) {
      throw EndpointSettings.problem(s, SIGNING, "signing of handler " + ctx.handlerName() + " is `" + scheme.get() + "`",
          "use \"standard-webhooks\" (webhook-signature headers) or \"fraiseql\" (X-FraiseQL-Signature-256)");
    }
    if (one && many) {
      throw EndpointSettings.problem(s, SIGNING_SECRETS_ENV, "handler " + ctx.handlerName()
          + " sets both signing_secret_env and signing_secrets_env", "keep one: signing_secrets_env = [\"NEW\", \"OLD\"] for a rotation");
    }
    if (!one && !many) {
      throw EndpointSettings.problem(s, SIGNING, "signing is set on handler " + ctx.handlerName() + " but no secret is named",
          "add signing_secret_env = \"VARIABLE_NAME\" (or signing_secrets_env = [\"NEW\", \"OLD\"] during a rotation)");
    }
    String key = one ? SIGNING_SECRET_ENV : SIGNING_SECRETS_ENV;
    List<String> vars = s.stringList(key);
    if (vars.isEmpty()) {
      throw EndpointSettings.problem(s, key, key + " of handler " + ctx.handlerName() + " names no variable",
          "name at least one environment variable");
    }
    boolean standard = scheme.get().equals("standard-webhooks");
    List<byte[]> keys = new ArrayList<>();
    for (String var : vars) {
      String value = ctx.env().apply(var).orElse("");
      if (value.isEmpty()) {
        throw EndpointSettings.problem(s, key, "environment variable " + var + " is not set (in " + key
            + " of handler " + ctx.handlerName() + ")", "set " + var + " to the signing secret"
            + (standard ? " (whsec_<base64>)" : ""));
      }
      secretStrings.add(value);
      if (standard) {
        try {
          byte[] k = Signer.StandardWebhooks.decodeSecret(value);
          keys.add(k);
          String b64 = value.trim().startsWith("whsec_") ? value.trim().substring(6) : value.trim();
          secretStrings.add(b64);
        } catch (IllegalArgumentException e) {
          throw EndpointSettings.problem(s, key, "environment variable " + var + " (in " + key + " of handler "
              + ctx.handlerName() + ") is not a Standard Webhooks secret", "set it to whsec_ followed by the base64 of the key");
        }
      } else {
        keys.add(value.getBytes(StandardCharsets.UTF_8));
      }
    }
    return standard ? new Signer.StandardWebhooks(keys) : new Signer.Fraiseql(keys);
  }

  /** The per-attempt headers every request carries. */
  static Map<String, String> deliveryHeaders(Delivery d) {
    Map<String, String> h = new LinkedHashMap<>();
    h.put(OutboundMessage.HEADER_EVENT_ID, d.event().id().toString());
    h.put(OutboundMessage.HEADER_EVENT_NAME, headerSafe(d.event().name()));
    h.put(HEADER_DELIVERY_ID, headerSafe(d.idempotencyKey()));
    h.put(HEADER_DELIVERY_ATTEMPT, Integer.toString(d.attempt()));
    d.event().context().requestId().filter(r -> !r.isEmpty() && r.length() <= 200)
        .ifPresent(r -> h.put(OutboundMessage.HEADER_REQUEST_ID, headerSafe(r)));
    // W3C trace context: the attempt's span when tracing is on, else the event's, forwarded unchanged
    // (only well-formed values: see Delivery.traceparent())
    d.traceparent().ifPresent(v -> h.put(OutboundMessage.HEADER_TRACEPARENT, v));
    d.tracestate().ifPresent(v -> h.put(OutboundMessage.HEADER_TRACESTATE, v));
    return h;
  }

  /**
   * The value as is when it is printable ASCII, else percent-encoded (UTF-8): a table or handler name
   * with other characters must not make a request impossible to send.
   */
  static String headerSafe(String value) {
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (c < 0x20 || c > 0x7e) {
        return java.net.URLEncoder.encode(value, StandardCharsets.UTF_8);
      }
    }
    return value;
  }

  @Override
  public CompletionStage<ActionResult> execute(Delivery delivery) {
    byte[] body;
    if (template == null) {
      body = delivery.payload();
    } else {
      try {
        body = template.render(delivery.payload()).getBytes(StandardCharsets.UTF_8);
      } catch (IllegalArgumentException e) {
        return CompletableFuture.completedFuture(ActionResult.failed(e.getMessage()));
      }
    }
    Map<String, String> headers = deliveryHeaders(delivery);
    if (signer != null) {
      signer.sign(headers.get(HEADER_DELIVERY_ID), clock.instant().getEpochSecond(), body, headers);
    }
    return endpoint.send(delivery, body, contentType, headers);
  }

  /** The request {@link #execute} would send for {@code delivery}, sent nowhere (signature headers masked). */
  @Override
  public Optional<ActionPreview> preview(Delivery delivery) {
    byte[] body = template == null ? delivery.payload()
        : template.render(delivery.payload()).getBytes(StandardCharsets.UTF_8);
    Map<String, String> headers = deliveryHeaders(delivery);
    if (signer != null) {
      signer.sign(headers.get(HEADER_DELIVERY_ID), clock.instant().getEpochSecond(), body, headers);
    }
    return Optional.of(endpoint.preview(body, contentType, headers, Signer.SIGNATURE_HEADERS));
  }

  @Override
  public String describe() {
    return "webhook to " + endpoint.redacted();
  }

  @Override
  public void close() {
    endpoint.close();
  }

  @Override
  public String toString() {
    return "WebhookAction{" + endpoint.redacted() + (signer != null ? ", " + signer : "") + "}";
  }
}

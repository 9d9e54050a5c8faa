package dev.fraiseql.observers.webhook.internal;

import dev.fraiseql.observers.ObserverConfigException;
import dev.fraiseql.observers.config.ConfigProblem;
import dev.fraiseql.observers.config.ConfigUrls;
import dev.fraiseql.observers.config.Settings;
import dev.fraiseql.observers.spi.ActionContext;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/** Reads the keys the webhook and Slack actions share and builds their {@link HttpEndpoint}. */
final class EndpointSettings {
  static final String URL = "url";
  static final String HEADERS = "headers";
  static final String EGRESS = "egress";
  static final String MAX_CONCURRENCY = "max_concurrency";
  static final String REQUEST_TIMEOUT_MS = "request_timeout_ms";
  static final String RESPONSE_EXCERPT_BYTES = "response_excerpt_bytes";

  static final Set<String> KEYS = Set.of(URL, HEADERS, EGRESS, MAX_CONCURRENCY, REQUEST_TIMEOUT_MS,
      RESPONSE_EXCERPT_BYTES);

  static final int DEFAULT_MAX_CONCURRENCY = 16;
  static final Duration DEFAULT_REQUEST_TIMEOUT = Duration.ofSeconds(10);
  static final int DEFAULT_RESPONSE_EXCERPT_BYTES = 512;

  /** Header names users may not set in {@code headers}: the HTTP client's own and the ones we set per attempt. */
  private static final Set<String> RESERVED = Set.of("host", "connection", "content-length", "expect", "upgrade",
      "user-agent", "fraiseql-event-id", "fraiseql-event-name", "fraiseql-delivery-id", "fraiseql-delivery-attempt",
      "fraiseql-request-id", "webhook-id", "webhook-timestamp", "webhook-signature", "x-fraiseql-signature-256");

  private EndpointSettings() {}

  static ObserverConfigException problem(Settings s, String key, String message, String fix) {
    return new ObserverConfigException(new ConfigProblem(s.location(key), key, message, fix));
  }

  /** The handler's URL: {@code url} (where the loader puts {@code webhook_url} and {@code url_env}). */
  static URI url(ActionContext ctx, String actionName) {
    Settings s = ctx.settings();
    String raw = s.string(URL).orElseThrow(() -> new ObserverConfigException(new ConfigProblem(ctx.location(),
        "webhook_url", "handler " + ctx.handlerName() + " (action = \"" + actionName + "\") has no URL",
        "set webhook_url = \"https://...\" (${VAR} allowed) or url_env = \"VARIABLE_NAME\"")));
    ConfigUrls.require(s, URL, ConfigUrls.HTTP); // the one URL check, as at load
    URI uri;
    try {
      uri = new URI(raw.trim());
    } catch (URISyntaxException e) {
      throw problem(s, URL, "the URL of handler " + ctx.handlerName() + " is not a valid URL (" + e.getReason()
          + " at index " + e.getIndex() + ")", "write an absolute http:// or https:// URL");
    }
    String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
    if (!scheme.equals("http") && !scheme.equals("https")) {
      throw problem(s, URL, "the URL of handler " + ctx.handlerName() + " must be http or https, not "
          + (scheme.isEmpty() ? "a relative URL" : "`" + scheme + "`"), "write an absolute http:// or https:// URL");
    }
    if (uri.getHost() == null || uri.getHost().isEmpty()) {
      throw problem(s, URL, "the URL of handler " + ctx.handlerName() + " has no host (" + UrlRedaction.redact(uri)
          + ")", "write an absolute URL with a host name, like https://hooks.example.com/fraiseql");
    }
    return uri;
  }

  static Map<String, String> headers(ActionContext ctx) {
    Settings s = ctx.settings();
    Map<String, String> headers = s.stringMap(HEADERS);
    Map<String, String> out = new LinkedHashMap<>();
    for (Map.Entry<String, String> h : headers.entrySet()) {
      String name = h.getKey();
      String lower = name.toLowerCase(Locale.ROOT);
      if (!name.matches("[!#$%&'*+.^_`|~0-9A-Za-z-]+")) {
        throw problem(s, HEADERS, "header name `" + name + "` of handler " + ctx.handlerName() + " is not a valid HTTP header name",
            "use letters, digits and - only");
      }
      if (lower.equals("content-type")) {
        throw problem(s, HEADERS, "Content-Type cannot be set in headers of handler " + ctx.handlerName(),
            "use content_type = \"...\" instead");
      }
      if (RESERVED.contains(lower)) {
        throw problem(s, HEADERS, "header `" + name + "` of handler " + ctx.handlerName()
            + " is set by the library on every request", "remove it from headers");
      }
      String value = h.getValue();
      if (value.indexOf('\r') >= 0 || value.indexOf('\n') >= 0 || value.indexOf('\0') >= 0) {
        throw problem(s, HEADERS, "the value of header `" + name + "` of handler " + ctx.handlerName()
            + " contains a line break or NUL", "remove control characters from the value (or the variable it comes from)");
      }
      out.put(name, value);
    }
    return out;
  }

  static EgressPolicy.Mode egressMode(ActionContext ctx) {
    Settings s = ctx.settings();
    Optional<String> own = s.string(EGRESS);
    if (own.isPresent()) {
      return EgressPolicy.Mode.parse(own.get()).orElseThrow(() -> problem(s, EGRESS,
          "egress of handler " + ctx.handlerName() + " is `" + own.get() + "`", "use \"default\" or \"strict\""));
    }
    if ("webhook".equals(ctx.config().backend())) {
      // An invalid [observers.webhook] egress is reported once, by the webhook backend; here it counts as unset.
      Optional<EgressPolicy.Mode> global = ctx.config().backendSettings().value(EGRESS)
          .filter(String.class::isInstance).map(String.class::cast).flatMap(EgressPolicy.Mode::parse);
      if (global.isPresent()) {
        return global.get();
      }
    }
    return EgressPolicy.Mode.DEFAULT;
  }

  /** The secret parts of a URL (user-info, query), for the scrubber. */
  static List<String> urlSecrets(URI uri) {
    List<String> out = new ArrayList<>();
    if (uri.getRawUserInfo() != null) {
      out.add(uri.getRawUserInfo());
      if (uri.getUserInfo() != null) {
        out.add(uri.getUserInfo());
        int colon = uri.getUserInfo().indexOf(':');
        if (colon >= 0) {
          out.add(uri.getUserInfo().substring(colon + 1));
        }
      }
    }
    if (uri.getRawQuery() != null) {
      out.add(uri.getRawQuery());
      for (String part : uri.getRawQuery().split("&")) {
        int eq = part.indexOf('=');
        if (eq >= 0 && eq + 1 < part.length()) {
          out.add(part.substring(eq + 1));
        }
      }
    }
    return out;
  }

  /** The validated limits and egress policy of an endpoint. */
  record Limits(EgressPolicy egress, Duration requestTimeout, int maxConcurrency, int excerptBytes) {}

  /**
   * Reads {@code egress}, {@code request_timeout_ms}, {@code max_concurrency} and
   * {@code response_excerpt_bytes}, and checks {@code uri} (when known) against the egress policy.
   */
  static Limits limits(ActionContext ctx, URI uri) {
    Settings s = ctx.settings();
    Problems p = new Problems();
    EgressPolicy.Mode mode = p.check(() -> egressMode(ctx), EgressPolicy.Mode.DEFAULT);
    EgressPolicy egress = new EgressPolicy(mode);
    if (uri != null) {
      Optional<String> refused = egress.checkWithoutDns(uri.getHost());
      if (refused.isPresent()) {
        p.check(() -> {
          throw problem(s, URL, "the URL of handler " + ctx.handlerName() + " is refused by the egress policy: "
              + refused.get(), "point the handler at a public endpoint");
        }, null);
      }
    }
    Duration timeout = p.check(() -> {
      Duration t = s.millis(REQUEST_TIMEOUT_MS, DEFAULT_REQUEST_TIMEOUT);
      if (t.isZero()) {
        throw problem(s, REQUEST_TIMEOUT_MS, "request_timeout_ms of handler " + ctx.handlerName() + " is 0",
            "give a positive number of milliseconds (default 10000)");
      }
      return t;
    }, DEFAULT_REQUEST_TIMEOUT);
    int concurrency = p.check(() -> s.intValue(MAX_CONCURRENCY, DEFAULT_MAX_CONCURRENCY, 1, 4096), DEFAULT_MAX_CONCURRENCY);
    int excerpt = p.check(() -> s.intValue(RESPONSE_EXCERPT_BYTES, DEFAULT_RESPONSE_EXCERPT_BYTES, 0, 65536),
        DEFAULT_RESPONSE_EXCERPT_BYTES);
    p.throwIfAny(ctx.config().source());
    return new Limits(egress, timeout, concurrency, excerpt);
  }

  /**
   * Builds the endpoint (call only once every setting is valid: it starts threads).
   *
   * @param redacted how the URL appears in logs
   * @param extraSecrets further strings to keep out of logs (signing secrets, a Slack URL's path)
   */
  static HttpEndpoint endpoint(ActionContext ctx, URI uri, String redacted, String method, Map<String, String> headers,
      List<String> extraSecrets, Limits limits) {
    List<String> secrets = new ArrayList<>();
    for (String value : headers.values()) {
      // The whole value and its parts ("Bearer <token>": the token alone may be echoed back).
      secrets.add(value);
      for (String part : value.split("[\\s,;=]+")) {
        if (part.length() >= 8) {
          secrets.add(part);
        }
      }
    }
    secrets.addAll(urlSecrets(uri));
    secrets.addAll(extraSecrets);
    Clock clock = ctx.component(Clock.class).orElse(Clock.systemUTC());
    return new HttpEndpoint(ctx.handlerName(), uri, redacted, method, headers, limits.requestTimeout(),
        limits.maxConcurrency(), Math.max(1, ctx.config().maxInFlight()), limits.excerptBytes(), limits.egress(),
        new Scrubber(secrets), clock);
  }
}

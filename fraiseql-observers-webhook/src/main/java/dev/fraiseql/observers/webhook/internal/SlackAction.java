package dev.fraiseql.observers.webhook.internal;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fraiseql.observers.config.Settings;
import dev.fraiseql.observers.spi.Action;
import dev.fraiseql.observers.spi.ActionContext;
import dev.fraiseql.observers.spi.ActionResult;
import dev.fraiseql.observers.spi.Delivery;
import java.net.URI;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * {@code action = "slack"}: posts {@code {"text": ..., "channel": ..., "username": ..., "icon_emoji": ...}}
 * to a Slack incoming-webhook URL, with the webhook action's retry rules. {@code text} is a Mustache
 * template over the event whose values are escaped for Slack ({@code & < >}). The URL's path is the
 * credential, so logs show only {@code https://hooks.slack.com/***}.
 */
public final class SlackAction implements Action {
  public static final String TEXT = "text";
  public static final String CHANNEL = "channel";
  public static final String USERNAME = "username";
  public static final String ICON_EMOJI = "icon_emoji";

  /** The text when none is configured. */
  public static final String DEFAULT_TEXT = "{{context.event_name}}: {{event}} on {{table}} (event {{id}})";

  /** Every key the Slack action reads. */
  public static final Set<String> KEYS;

  static {
    Set<String> k = new HashSet<>(EndpointSettings.KEYS);
    k.addAll(List.of(TEXT, CHANNEL, USERNAME, ICON_EMOJI));
    KEYS = Set.copyOf(k);
  }

  private static final ObjectMapper MAPPER = new ObjectMapper();

  private final HttpEndpoint endpoint;
  private final BodyTemplate text;
  private final ObjectNode fixed;

  private SlackAction(HttpEndpoint endpoint, BodyTemplate text, ObjectNode fixed) {
    this.endpoint = endpoint;
    this.text = text;
    this.fixed = fixed;
  }

  /** Creates the action for one handler, validating every key. */
  public static SlackAction create(ActionContext ctx) {
    Settings s = ctx.settings();
    Problems p = new Problems();
    URI uri = p.check(() -> EndpointSettings.url(ctx, "slack"), null);
    BodyTemplate text = s.has(TEXT)
        ? p.check(() -> BodyTemplate.compile(s, TEXT, BodyTemplate.Syntax.SLACK, ctx.handlerName()), null)
        : BodyTemplate.ofDefault(DEFAULT_TEXT, BodyTemplate.Syntax.SLACK);
    ObjectNode fixed = MAPPER.createObjectNode();
    for (String key : List.of(CHANNEL, USERNAME, ICON_EMOJI)) {
      p.check(() -> {
        Optional<String> v = s.string(key);
        if (v.isPresent()) {
          if (v.get().isBlank()) {
            throw EndpointSettings.problem(s, key, key + " of handler " + ctx.handlerName() + " is empty",
                "remove it or give a value");
          }
          fixed.put(key, v.get());
        }
        return null;
      }, null);
    }
    Map<String, String> headers = p.check(() -> EndpointSettings.headers(ctx), Map.of());
    EndpointSettings.Limits limits = p.check(() -> EndpointSettings.limits(ctx, uri), null);
    p.throwIfAny(ctx.config().source());
    List<String> secrets = new ArrayList<>();
    if (uri.getRawPath() != null && uri.getRawPath().length() > 1) {
      secrets.add(uri.getRawPath());
      String[] segments = uri.getRawPath().split("/");
      // The first segment ("services") names the kind of hook; the following ones are the credential.
      for (int i = 2; i < segments.length; i++) {
        secrets.add(segments[i]);
      }
    }
    HttpEndpoint endpoint = EndpointSettings.endpoint(ctx, uri, UrlRedaction.redactPath(uri), "POST", headers,
        secrets, limits);
    return new SlackAction(endpoint, text, fixed);
  }

  @Override
  public CompletionStage<ActionResult> execute(Delivery delivery) {
    byte[] body;
    try {
      ObjectNode message = MAPPER.createObjectNode();
      message.put("text", text.render(delivery.payload()));
      message.setAll(fixed);
      body = MAPPER.writeValueAsBytes(message);
    } catch (IllegalArgumentException | JsonProcessingException e) {
      return CompletableFuture.completedFuture(ActionResult.failed("cannot build the Slack message: " + e.getMessage()));
    }
    return endpoint.send(body, "application/json", WebhookAction.deliveryHeaders(delivery));
  }

  /** The message {@link #execute} would post for {@code delivery}, posted nowhere. */
  @Override
  public Optional<dev.fraiseql.observers.spi.ActionPreview> preview(Delivery delivery) {
    ObjectNode message = MAPPER.createObjectNode();
    message.put("text", text.render(delivery.payload()));
    message.setAll(fixed);
    byte[] body = message.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8);
    return Optional.of(endpoint.preview(body, "application/json", WebhookAction.deliveryHeaders(delivery), java.util.Set.of()));
  }

  @Override
  public String describe() {
    return "slack to " + endpoint.redacted();
  }

  @Override
  public void close() {
    endpoint.close();
  }

  @Override
  public String toString() {
    return "SlackAction{" + endpoint.redacted() + "}";
  }
}

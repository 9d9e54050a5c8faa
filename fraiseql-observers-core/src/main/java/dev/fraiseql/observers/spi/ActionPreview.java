package dev.fraiseql.observers.spi;

import java.util.Map;
import java.util.Objects;

/**
 * What an {@link Action} would send for one delivery, worked out without sending anything: the
 * answer of {@link Action#preview(Delivery)}, shown by {@code fraiseql-observers explain --event}.
 *
 * <p>Never holds a secret: URLs are redacted as in log lines, and header values that may carry a
 * credential (every header written in the configuration, signatures) are replaced by {@link #MASKED}.
 *
 * @param target where it would go: {@code POST http://svc/hooks/fraiseql}, {@code publish to fraiseql.order.created on nats}
 * @param headers the request's headers in sending order (empty when the action has none)
 * @param body the exact body that would be sent (a rendered template, or the event's JSON)
 */
public record ActionPreview(String target, Map<String, String> headers, String body) {
  /** What a masked header value reads as. */
  public static final String MASKED = "****";

  public ActionPreview {
    Objects.requireNonNull(target, "target");
    headers = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(headers));
    Objects.requireNonNull(body, "body");
  }

  @Override
  public String toString() {
    return "ActionPreview{" + target + ", headers=" + headers.keySet() + ", " + body.length() + " chars}";
  }
}

package dev.fraiseql.observers;

import dev.fraiseql.observers.config.ConfigText;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Whether a backend (the bus of {@code backend = "nats" | "redis" | "postgres"}) is reachable, as
 * {@link ObserverEngine#health()} reports it and a health endpoint shows it.
 *
 * <pre>{@code
 * BackendHealth h = engine.health();
 * if (h.status() == BackendHealth.Status.DOWN) {
 *   log.warn("observers: {}", h.details()); // {backend=nats, servers=nats://***@nats:4222, error=...}
 * }
 * }</pre>
 *
 * <p>Never holds a secret: every text detail is scrubbed when the value is made (a URL's user and
 * password become {@code ***}, its query string {@code ?***}, and {@code password=...} anywhere
 * becomes {@code password=***}), so a backend's error message that
 * quotes its URL is safe to show. Details are texts, numbers and booleans, in insertion order.
 *
 * @param status UP (reachable), DOWN (not reachable, or closed) or UNKNOWN (the backend cannot tell)
 * @param details what the backend checked: where (without credentials), how long the check took,
 *     the error when it failed
 */
public record BackendHealth(Status status, Map<String, Object> details) {
  private static final Pattern URL = Pattern.compile("[A-Za-z][A-Za-z0-9+.-]*://[^\\s,;'\"()<>\\[\\]]+");
  private static final Pattern SECRET = Pattern.compile("(?i)\\b(password|passwd|pwd|secret|token)=[^&\\s;,]+");

  /** A backend's status. */
  public enum Status {
    /** Reachable: the last check got an answer. */
    UP,
    /** Not reachable (or closed): deliveries through it fail and are retried until it is back. */
    DOWN,
    /** The backend does not check (a third-party backend that does not implement {@code health()}). */
    UNKNOWN
  }

  /** Scrubs every text detail (see the class description) and copies the map. */
  public BackendHealth {
    Objects.requireNonNull(status, "status");
    Map<String, Object> copy = new LinkedHashMap<>();
    if (details != null) {
      details.forEach((k, v) -> {
        if (k != null && v != null) {
          copy.put(k, v instanceof Number || v instanceof Boolean ? v : scrub(v.toString()));
        }
      });
    }
    details = Collections.unmodifiableMap(copy);
  }

  /** Reachable, with what was checked. */
  public static BackendHealth up(Map<String, ?> details) {
    return new BackendHealth(Status.UP, copy(details));
  }

  /** Not reachable: {@code error} (scrubbed) is added to the details as {@code error}. */
  public static BackendHealth down(String error, Map<String, ?> details) {
    Map<String, Object> d = copy(details);
    d.put("error", error == null ? "unknown error" : error);
    return new BackendHealth(Status.DOWN, d);
  }

  /** The backend cannot tell; {@code reason} is added to the details as {@code reason}. */
  public static BackendHealth unknown(String reason) {
    return new BackendHealth(Status.UNKNOWN, Map.of("reason", reason == null ? "not reported" : reason));
  }

  /** This value with one more detail (scrubbed as well); an existing key is replaced. */
  public BackendHealth withDetail(String key, Object value) {
    Map<String, Object> d = new LinkedHashMap<>(details);
    d.put(Objects.requireNonNull(key, "key"), value);
    return new BackendHealth(status, d);
  }

  /** Whether {@link #status()} is {@link Status#UP}. */
  public boolean isUp() {
    return status == Status.UP;
  }

  /** {@code text} with the credentials and query of every URL in it hidden. */
  static String scrub(String text) {
    text = SECRET.matcher(text).replaceAll("$1=***");
    Matcher m = URL.matcher(text);
    if (!m.find()) {
      return text;
    }
    StringBuilder out = new StringBuilder();
    m.reset();
    while (m.find()) {
      m.appendReplacement(out, Matcher.quoteReplacement(ConfigText.redactUrl(m.group())));
    }
    m.appendTail(out);
    return out.toString();
  }

  private static Map<String, Object> copy(Map<String, ?> details) {
    return details == null ? new LinkedHashMap<>() : new LinkedHashMap<>(details);
  }
}

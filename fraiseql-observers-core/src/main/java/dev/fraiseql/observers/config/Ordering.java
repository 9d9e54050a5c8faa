package dev.fraiseql.observers.config;

import java.util.Locale;
import java.util.Optional;

/**
 * Whether a handler (or a subscription) sees the events of one entity in commit order
 * ({@code ordering} in a handler, rule, rule action or subscription).
 *
 * <ul>
 *   <li>{@link #NONE} (default): deliveries run as soon as a worker is free; a retry lets later events
 *       of the same entity overtake it. The fastest choice, right for notifications and idempotent
 *       side effects.
 *   <li>{@link #KEY}: deliveries with the same ordering key ({@code ordering_key}; by default the table
 *       and the row's {@code id}) start in {@code onCommit} order and never overlap: a delivery that is
 *       retrying holds its key until it is delivered or dead-lettered. After a dead letter the key
 *       continues with its next event (the dead letter is stored and logged, and replaying it later
 *       runs it after the events of that key then waiting). Different keys run in parallel, and a key
 *       that waits never holds a worker thread; deliveries that wait for their key count against
 *       {@code max_in_flight}.
 * </ul>
 */
public enum Ordering {
  NONE,
  KEY;

  public String configName() {
    return name().toLowerCase(Locale.ROOT);
  }

  public static Optional<Ordering> parse(String s) {
    for (Ordering o : values()) {
      if (o.configName().equalsIgnoreCase(s == null ? "" : s.trim())) {
        return Optional.of(o);
      }
    }
    return Optional.empty();
  }
}

package dev.fraiseql.observers.config;

import java.util.Locale;
import java.util.Optional;

/**
 * What {@code onCommit} does when {@code max_in_flight} deliveries are already pending
 * ({@code overflow_policy} in {@code [observers]}).
 *
 * <ul>
 *   <li>{@link #BLOCK} (default): the caller waits for room up to {@code overflow_timeout_ms}, then the
 *       deliveries that found no room are dead-lettered (never silently dropped).
 *   <li>{@link #REJECT}: {@code onCommit} throws {@link dev.fraiseql.observers.ObserverOverloadedException}
 *       at once and dispatches nothing for that event; the host decides (for example, record it in the
 *       outbox).
 *   <li>{@link #DEAD_LETTER}: deliveries that find no room go straight to the dead-letter store with
 *       reason {@code overloaded}, to be replayed later.
 * </ul>
 */
public enum OverflowPolicy {
  BLOCK,
  REJECT,
  DEAD_LETTER;

  public String configName() {
    return name().toLowerCase(Locale.ROOT);
  }

  public static Optional<OverflowPolicy> parse(String s) {
    for (OverflowPolicy c : values()) {
      if (c.configName().equalsIgnoreCase(s == null ? "" : s.trim())) {
        return Optional.of(c);
      }
    }
    return Optional.empty();
  }
}

package dev.fraiseql.observers.config;

import java.util.Locale;
import java.util.Optional;

/**
 * The delivery guarantee (seed 001).
 *
 * <ul>
 *   <li>{@link #AT_LEAST_ONCE} (default): fast; a handler may see the same event more than once after a
 *       retry or a redelivery, so it should be idempotent (emails, webhooks).
 *   <li>{@link #EFFECTIVELY_ONCE}: each (event id, handler) pair is claimed in an
 *       {@link dev.fraiseql.observers.spi.IdempotencyStore} before the action runs; duplicates are
 *       skipped. A failed delivery releases its claim so it is retried; a crashed one leaves a claim
 *       that expires. Use for billing and ledger entries.
 * </ul>
 */
public enum CheckpointStrategy {
  AT_LEAST_ONCE,
  EFFECTIVELY_ONCE;

  /** The TOML spelling: {@code at_least_once}, {@code effectively_once}. */
  public String configName() {
    return name().toLowerCase(Locale.ROOT);
  }

  public static Optional<CheckpointStrategy> parse(String s) {
    for (CheckpointStrategy c : values()) {
      if (c.configName().equalsIgnoreCase(s == null ? "" : s.trim())) {
        return Optional.of(c);
      }
    }
    return Optional.empty();
  }
}

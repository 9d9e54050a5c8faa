package dev.fraiseql.observers.config;

import java.util.Locale;
import java.util.Optional;

/** How the delay grows between attempts: {@code exponential} (default), {@code linear} or {@code fixed}. */
public enum BackoffStrategy {
  /** initial × 2^(n-1), capped at the maximum delay. */
  EXPONENTIAL,
  /** initial × n, capped at the maximum delay. */
  LINEAR,
  /** initial every time. */
  FIXED;

  /** The TOML spelling: {@code exponential}, {@code linear}, {@code fixed}. */
  public String configName() {
    return name().toLowerCase(Locale.ROOT);
  }

  public static Optional<BackoffStrategy> parse(String s) {
    for (BackoffStrategy b : values()) {
      if (b.configName().equalsIgnoreCase(s == null ? "" : s.trim())) {
        return Optional.of(b);
      }
    }
    return Optional.empty();
  }
}

package dev.fraiseql.observers.config;

import java.util.Objects;
import java.util.Optional;

/**
 * One thing wrong with a configuration: where, which key, what, and how to fix it. Rendered as
 * {@code fraiseql.toml:14:1: unknown key `max_atempts` in [[observers.handlers]] #2 — did you mean `max_attempts`?}
 */
public record ConfigProblem(ConfigLocation location, String key, String message, String fix) {
  public ConfigProblem {
    Objects.requireNonNull(location, "location");
    Objects.requireNonNull(message, "message");
    key = key == null ? "" : key;
    fix = fix == null ? "" : fix;
  }

  public Optional<String> keyName() {
    return key.isEmpty() ? Optional.empty() : Optional.of(key);
  }

  @Override
  public String toString() {
    StringBuilder s = new StringBuilder().append(location).append(": ").append(message);
    if (!location.section().isEmpty() && !message.contains(location.section())) {
      s.append(" in ").append(location.section());
    }
    if (!fix.isEmpty()) {
      s.append(" — ").append(fix);
    }
    return s.toString();
  }
}

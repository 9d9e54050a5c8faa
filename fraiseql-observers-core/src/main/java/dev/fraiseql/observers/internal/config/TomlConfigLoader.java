package dev.fraiseql.observers.internal.config;

import dev.fraiseql.observers.config.ObserversConfig;
import java.util.Optional;
import java.util.function.Function;

/** Reads fraiseql.toml into an {@link ObserversConfig}. Being written in its own change (issue #2). */
public final class TomlConfigLoader {
  private TomlConfigLoader() {}

  public static ObserversConfig load(String toml, String source, Function<String, Optional<String>> env) {
    throw new IllegalStateException("TOML loader not built yet");
  }
}

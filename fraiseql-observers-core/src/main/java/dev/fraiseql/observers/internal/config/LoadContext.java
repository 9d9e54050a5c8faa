package dev.fraiseql.observers.internal.config;

import dev.fraiseql.observers.config.ConfigLocation;
import dev.fraiseql.observers.config.ConfigProblem;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import org.tomlj.TomlPosition;

/** What one load shares: the file name, the environment, the problems found so far. */
final class LoadContext {
  final String source;
  final Function<String, Optional<String>> env;
  final ValueLocator locator;
  final List<ConfigProblem> problems = new ArrayList<>();

  LoadContext(String source, Function<String, Optional<String>> env, String text) {
    this.source = source;
    this.env = env;
    this.locator = new ValueLocator(text);
  }

  ConfigLocation location(TomlPosition p, String section) {
    return p == null ? new ConfigLocation(source, 0, 0, section) : new ConfigLocation(source, p.line(), p.column(), section);
  }
}

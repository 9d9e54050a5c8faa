package dev.fraiseql.observers.config;

import java.util.Objects;

/**
 * Where something was said: file, line and column (1-based; 0 when unknown, as for config built in
 * code) and the section it belongs to ({@code [[observers.handlers]] #2}).
 */
public record ConfigLocation(String file, int line, int column, String section) {
  public ConfigLocation {
    Objects.requireNonNull(file, "file");
    Objects.requireNonNull(section, "section");
  }

  /** A location for configuration built in code. */
  public static ConfigLocation code(String section) {
    return new ConfigLocation("<code>", 0, 0, section);
  }

  public ConfigLocation withSection(String newSection) {
    return new ConfigLocation(file, line, column, newSection);
  }

  @Override
  public String toString() {
    return line > 0 ? file + ":" + line + ":" + column : file;
  }
}

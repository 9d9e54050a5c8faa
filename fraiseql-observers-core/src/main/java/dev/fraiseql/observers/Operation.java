package dev.fraiseql.observers;

import java.util.Locale;
import java.util.Optional;

/** The kind of row change that committed. */
public enum Operation {
  INSERT("created"),
  UPDATE("updated"),
  DELETE("deleted");

  private final String verb;

  Operation(String verb) {
    this.verb = verb;
  }

  /** The past-tense verb used in derived event names: {@code tb_user} + INSERT is {@code user.created}. */
  public String verb() {
    return verb;
  }

  /** Parses {@code INSERT}, {@code insert}, {@code Insert}; empty for anything else. */
  public static Optional<Operation> parse(String text) {
    if (text == null) {
      return Optional.empty();
    }
    try {
      return Optional.of(valueOf(text.trim().toUpperCase(Locale.ROOT)));
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
  }
}

package dev.fraiseql.observers.internal.condition;

import java.util.Optional;

/**
 * A condition that does not parse, or breaks a limit. {@link #position()} is the 0-based offset of the
 * error in the condition source; {@link #reason()} says what is wrong and {@link #hint()}, when there is
 * one, how to fix it. {@link #getMessage()} combines reason and hint, without the position (callers place
 * it in their own terms, a file column or a character): {@code unknown function `chnged` — did you mean
 * `CHANGED`?}.
 */
public final class ConditionSyntaxException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private final int position;
  private final String reason;
  private final String hint;

  public ConditionSyntaxException(String message, int position) {
    this(message, position, null);
  }

  public ConditionSyntaxException(String reason, int position, String hint) {
    super(reason + (hint == null || hint.isEmpty() ? "" : " — " + hint));
    this.reason = reason;
    this.position = position;
    this.hint = hint == null || hint.isEmpty() ? null : hint;
  }

  /** The 0-based offset of the error in the condition source. */
  public int position() {
    return position;
  }

  /** What is wrong, without the position. */
  public String reason() {
    return reason;
  }

  /** How to fix it, when there is something specific to say. */
  public Optional<String> hint() {
    return Optional.ofNullable(hint);
  }
}

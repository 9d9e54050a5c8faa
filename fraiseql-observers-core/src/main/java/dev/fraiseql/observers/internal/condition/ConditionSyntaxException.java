package dev.fraiseql.observers.internal.condition;

/** A condition that does not parse: {@link #position()} is the 0-based offset of the error in the source. */
public final class ConditionSyntaxException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private final int position;

  public ConditionSyntaxException(String message, int position) {
    super(message);
    this.position = position;
  }

  public int position() {
    return position;
  }
}

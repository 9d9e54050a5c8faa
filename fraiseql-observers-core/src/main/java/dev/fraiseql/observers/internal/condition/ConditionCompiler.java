package dev.fraiseql.observers.internal.condition;

/** Compiles the condition language to an evaluable AST. Being written in its own change (issue #2). */
public final class ConditionCompiler {
  private ConditionCompiler() {}

  /** @throws ConditionSyntaxException with the position of the error */
  public static Condition compile(String source) {
    throw new ConditionSyntaxException("condition language not built yet", 0);
  }
}

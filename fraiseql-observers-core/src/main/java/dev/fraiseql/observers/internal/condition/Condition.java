package dev.fraiseql.observers.internal.condition;

import dev.fraiseql.observers.ObservedEvent;

/**
 * A compiled condition (see {@link ConditionCompiler} for the language). Thread-safe and immutable;
 * {@link #test(ObservedEvent)} never throws: anything that cannot be evaluated counts as {@code false}.
 */
@FunctionalInterface
public interface Condition {
  /** The condition of a handler that has none. */
  Condition ALWAYS = e -> true;

  /** Whether the event satisfies the condition. */
  boolean test(ObservedEvent event);
}

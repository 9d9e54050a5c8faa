package dev.fraiseql.observers.internal.condition;

import dev.fraiseql.observers.ObservedEvent;

/** A compiled condition. Thread-safe; evaluation never throws. */
@FunctionalInterface
public interface Condition {
  Condition ALWAYS = e -> true;

  boolean test(ObservedEvent event);
}

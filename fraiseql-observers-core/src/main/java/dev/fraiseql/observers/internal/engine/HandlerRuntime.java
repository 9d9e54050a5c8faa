package dev.fraiseql.observers.internal.engine;

import dev.fraiseql.observers.config.RetryPolicy;
import dev.fraiseql.observers.internal.condition.Condition;
import dev.fraiseql.observers.spi.Action;
import java.time.Duration;
import java.util.Optional;

/**
 * A compiled handler: its action, condition and budget; {@code order} is its per-key order when it has
 * {@code ordering = "key"}, else null. Immutable (the order's state is its own).
 */
record HandlerRuntime(int index, String name, Action action, Condition condition, RetryPolicy retry,
    boolean synchronous, Duration synchronousTimeout, Optional<String> subject, KeyOrder order) {}

/**
 * The public API: {@link dev.fraiseql.observers.ObserverEngine} (built with
 * {@link dev.fraiseql.observers.ObserverEngine#builder()}), the event
 * ({@link dev.fraiseql.observers.ObservedEvent}), the {@link dev.fraiseql.observers.Dispatch} handle
 * {@code onCommit} returns, the dead-letter queue, listeners and exceptions.
 */
package dev.fraiseql.observers;

package dev.fraiseql.observers.spring.internal;

import dev.fraiseql.observers.ObservedEvent;

/** Writes an event into the outbox on the current transaction's connection. */
public interface OutboxWriter {
  void record(ObservedEvent event);
}

package dev.fraiseql.observers.spi;

import dev.fraiseql.observers.BackendHealth;
import java.util.Optional;

/**
 * What a {@link BackendProvider} creates: an event bus and, where it can, durable stores. A backend
 * may be created only for its stores ({@code idempotency_store = "postgres"} with a NATS bus): it
 * must open bus connections lazily, on the first call to {@link #bus()}.
 */
public interface Backend extends AutoCloseable {

  EventBus bus();

  default Optional<DeadLetterStore> deadLetterStore() {
    return Optional.empty();
  }

  default Optional<IdempotencyStore> idempotencyStore() {
    return Optional.empty();
  }

  /**
   * Whether the bus is reachable now: a cheap check (a ping, the connection's state) that answers
   * within a few seconds and never throws; it may open the bus's connection (backends connect
   * lazily). Details hold no secret (see {@link BackendHealth}). By default {@code UNKNOWN}.
   */
  default BackendHealth health() {
    return BackendHealth.unknown("this backend does not report its health");
  }

  @Override
  default void close() {}
}

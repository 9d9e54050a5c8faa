package dev.fraiseql.observers.spi;

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

  @Override
  default void close() {}
}

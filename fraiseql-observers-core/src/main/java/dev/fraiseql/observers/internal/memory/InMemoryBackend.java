package dev.fraiseql.observers.internal.memory;

import dev.fraiseql.observers.spi.Backend;
import dev.fraiseql.observers.spi.DeadLetterStore;
import dev.fraiseql.observers.spi.EventBus;
import dev.fraiseql.observers.spi.IdempotencyStore;
import java.time.Clock;
import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;

/** The in-memory backend: an in-process bus, a bounded dead-letter store and an idempotency store. */
public final class InMemoryBackend implements Backend {
  /** Pending messages the in-memory bus accepts before a publish fails. */
  public static final int DEFAULT_MAX_PENDING = 100_000;
  /** Completed idempotency keys kept. */
  public static final int DEFAULT_IDEMPOTENCY_CAPACITY = 1_000_000;

  private final InMemoryBus bus;
  private final InMemoryDeadLetterStore deadLetters;
  private final InMemoryIdempotencyStore idempotency;

  public InMemoryBackend(ScheduledExecutorService scheduler, int deadLetterCapacity, Clock clock) {
    this.bus = new InMemoryBus(scheduler, DEFAULT_MAX_PENDING, 100_000);
    this.deadLetters = new InMemoryDeadLetterStore(deadLetterCapacity);
    this.idempotency = new InMemoryIdempotencyStore(DEFAULT_IDEMPOTENCY_CAPACITY, clock);
  }

  @Override
  public EventBus bus() {
    return bus;
  }

  /** Always UP: the bus is in this process. */
  @Override
  public dev.fraiseql.observers.BackendHealth health() {
    return dev.fraiseql.observers.BackendHealth.up(java.util.Map.of("bus", "in this process"));
  }

  @Override
  public Optional<DeadLetterStore> deadLetterStore() {
    return Optional.of(deadLetters);
  }

  @Override
  public Optional<IdempotencyStore> idempotencyStore() {
    return Optional.of(idempotency);
  }

  @Override
  public void close() {
    bus.close();
  }
}

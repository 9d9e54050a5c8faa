package dev.fraiseql.observers.nats.internal;

import dev.fraiseql.observers.spi.Backend;
import dev.fraiseql.observers.spi.EventBus;
import dev.fraiseql.observers.spi.IdempotencyStore;
import io.nats.client.Options;
import java.util.Optional;

/**
 * The NATS backend: a JetStream bus, connected on the first {@link #bus()} call. It keeps no dead
 * letters (they come from the pg or redis module, or memory); it keeps idempotency keys in a JetStream
 * key-value bucket only when {@code idempotency_bucket} is configured.
 */
public final class NatsBackend implements Backend {
  private final NatsSettings settings;
  private final Optional<Options> hostOptions;
  private final Optional<KvIdempotencyStore> idempotency;
  private NatsEventBus bus;
  private boolean closed;

  public NatsBackend(NatsSettings settings, Optional<Options> hostOptions) {
    this.settings = settings;
    this.hostOptions = hostOptions;
    this.idempotency = settings.idempotencyBucket.map(b -> new KvIdempotencyStore(this::natsBus, settings, b));
  }

  private NatsEventBus natsBus() {
    return (NatsEventBus) bus();
  }

  /**
   * The JetStream key-value idempotency store when {@code idempotency_bucket} is set; it connects on
   * first use. Without that key this backend has no idempotency store (PostgreSQL's table, Redis, or
   * memory is used, as seed 001 describes).
   */
  @Override
  public Optional<IdempotencyStore> idempotencyStore() {
    return idempotency.map(s -> s);
  }

  @Override
  public synchronized EventBus bus() {
    if (closed) {
      throw new IllegalStateException("the NATS backend is closed");
    }
    if (bus == null) {
      bus = new NatsEventBus(settings, hostOptions);
    }
    return bus;
  }

  @Override
  public synchronized void close() {
    closed = true;
    idempotency.ifPresent(KvIdempotencyStore::close);
    if (bus != null) {
      bus.close();
    }
  }

  @Override
  public String toString() {
    return "NatsBackend{" + settings + "}";
  }
}

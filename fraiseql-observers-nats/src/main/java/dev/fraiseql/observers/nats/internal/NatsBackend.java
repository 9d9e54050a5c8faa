package dev.fraiseql.observers.nats.internal;

import dev.fraiseql.observers.spi.Backend;
import dev.fraiseql.observers.spi.EventBus;
import io.nats.client.Options;
import java.util.Optional;

/**
 * The NATS backend: a JetStream bus, connected on the first {@link #bus()} call. It offers no durable
 * stores: dead letters and idempotency keys come from the pg or redis module, or from memory.
 */
public final class NatsBackend implements Backend {
  private final NatsSettings settings;
  private final Optional<Options> hostOptions;
  private NatsEventBus bus;
  private boolean closed;

  public NatsBackend(NatsSettings settings, Optional<Options> hostOptions) {
    this.settings = settings;
    this.hostOptions = hostOptions;
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
    if (bus != null) {
      bus.close();
    }
  }

  @Override
  public String toString() {
    return "NatsBackend{" + settings + "}";
  }
}

package dev.fraiseql.observers.nats.internal;

import dev.fraiseql.observers.BackendHealth;
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

  /** How long {@link #health()} waits for a first connection that is being made. */
  static final java.time.Duration HEALTH_WAIT = java.time.Duration.ofSeconds(2);

  /**
   * UP when the JetStream connection is CONNECTED; DOWN while it is not (never connected yet,
   * reconnecting, closed). Opens the bus (connecting in the background) if nothing used it yet, and
   * waits up to {@link #HEALTH_WAIT} for a first connection.
   */
  @Override
  public BackendHealth health() {
    java.util.Map<String, Object> d = new java.util.LinkedHashMap<>();
    d.put("servers", settings.redactedServers());
    d.put("stream", settings.stream);
    NatsEventBus b;
    try {
      b = natsBus();
    } catch (IllegalStateException e) {
      return BackendHealth.down(e.getMessage(), d);
    }
    Optional<NatsConnector.Live> live = b.connector().now();
    if (live.isEmpty()) {
      try {
        live = b.connector().await(HEALTH_WAIT);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    if (live.isEmpty()) {
      return BackendHealth.down("not connected to NATS (connecting in the background)", d);
    }
    io.nats.client.Connection.Status status = live.get().connection().getStatus();
    d.put("connection", status.name());
    return status == io.nats.client.Connection.Status.CONNECTED ? BackendHealth.up(d)
        : BackendHealth.down("the NATS connection is " + status, d);
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

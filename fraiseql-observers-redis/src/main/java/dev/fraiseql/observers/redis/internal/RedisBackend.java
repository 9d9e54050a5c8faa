package dev.fraiseql.observers.redis.internal;

import dev.fraiseql.observers.BackendHealth;
import dev.fraiseql.observers.spi.Backend;
import dev.fraiseql.observers.spi.DeadLetterStore;
import dev.fraiseql.observers.spi.EventBus;
import dev.fraiseql.observers.spi.IdempotencyStore;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The redis backend: a Streams event bus and durable dead-letter and idempotency stores sharing one
 * lazily opened connection pool. Nothing connects until a component is first used.
 */
public final class RedisBackend implements Backend {
  private static final Logger LOG = LoggerFactory.getLogger(RedisBackend.class);

  private final RedisClient client;
  private final RedisDeadLetterStore deadLetters;
  private final RedisIdempotencyStore idempotency;
  private volatile RedisEventBus bus;
  private volatile boolean closed;

  public RedisBackend(RedisSettings settings) {
    this.client = new RedisClient(settings, "fraiseql-observers");
    this.deadLetters = new RedisDeadLetterStore(client);
    this.idempotency = new RedisIdempotencyStore(client);
  }

  public RedisSettings settings() {
    return client.settings();
  }

  @Override
  public EventBus bus() {
    RedisEventBus b = bus;
    if (b == null) {
      synchronized (this) {
        if (closed) {
          throw new IllegalStateException("the redis backend is closed");
        }
        if (bus == null) {
          bus = new RedisEventBus(client);
          LOG.debug("[observer] redis event bus on {}", client.where());
        }
        b = bus;
      }
    }
    return b;
  }

  /**
   * A PING through the pool (the configured {@code timeout_ms} bounds the connect and the answer):
   * UP with the round trip's time, DOWN with the error. Opens the pool if nothing used it yet.
   */
  @Override
  public BackendHealth health() {
    java.util.Map<String, Object> d = new java.util.LinkedHashMap<>();
    d.put("server", client.where());
    if (closed) {
      return BackendHealth.down("the redis backend is closed", d);
    }
    long start = System.nanoTime();
    try {
      String pong = client.idempotent(j -> j.ping());
      d.put("pingMs", (System.nanoTime() - start) / 1_000_000);
      return "PONG".equalsIgnoreCase(pong) ? BackendHealth.up(d) : BackendHealth.down("PING answered " + pong, d);
    } catch (RuntimeException e) {
      return BackendHealth.down(e.getClass().getSimpleName() + ": " + e.getMessage(), d);
    }
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
    RedisEventBus b;
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      b = bus;
    }
    if (b != null) {
      b.close();
    }
    client.close();
  }

  @Override
  public String toString() {
    return "RedisBackend{" + client.where() + "}";
  }
}

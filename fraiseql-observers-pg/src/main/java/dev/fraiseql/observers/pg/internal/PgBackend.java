package dev.fraiseql.observers.pg.internal;

import dev.fraiseql.observers.BackendHealth;
import dev.fraiseql.observers.ObserverConfigException;
import dev.fraiseql.observers.config.ConfigLocation;
import dev.fraiseql.observers.config.ConfigProblem;
import dev.fraiseql.observers.spi.BackendContext;
import dev.fraiseql.observers.spi.DeadLetterStore;
import dev.fraiseql.observers.spi.EventBus;
import dev.fraiseql.observers.spi.IdempotencyStore;
import java.util.Optional;

/**
 * The {@code postgres} backend: an idempotency store, a dead-letter store and (created on the first
 * call to {@link #bus()}) an event bus. Creating it opens no connection and creates no table: each
 * part does that on first use, so a NATS deployment can use it for effectively-once alone.
 */
public final class PgBackend implements dev.fraiseql.observers.spi.Backend {
  private final PgDatabase db;
  private final PgBackendSettings settings;
  private final BackendContext context;
  private final PgIdentifier idempotencyTable;
  private final PgDeadLetterStore deadLetters;
  private volatile PgIdempotencyStore idempotency;
  private volatile PgEventBus bus;

  public PgBackend(PgDatabase db, PgBackendSettings settings, BackendContext context) {
    this.db = db;
    this.settings = settings;
    this.context = context;
    String name = context.config().idempotencyTable();
    try {
      this.idempotencyTable = PgIdentifier.parse(name);
    } catch (IllegalArgumentException e) {
      throw new ObserverConfigException(new ConfigProblem(
          ConfigLocation.code("[observers]").withSection("[observers]"), "idempotency_table", e.getMessage(),
          "write a table name such as `observer_idempotency_keys` or `myschema.observer_idempotency_keys`"));
    }
    this.deadLetters = new PgDeadLetterStore(db, settings.deadLetterTable(), settings.createTables());
  }

  @Override
  public EventBus bus() {
    PgEventBus b = bus;
    if (b == null) {
      synchronized (this) {
        b = bus;
        if (b == null) {
          b = new PgEventBus(db, settings.eventsTable(), settings.createTables(), settings.pollInterval());
          bus = b;
        }
      }
    }
    return b;
  }

  /** How long {@link #health()} waits for a connection and its answer. */
  static final java.time.Duration HEALTH_TIMEOUT = java.time.Duration.ofSeconds(3);
  private java.util.concurrent.CompletableFuture<BackendHealth> healthCheck;

  /**
   * A connection from the bus's pool (the host's DataSource or {@code database_url}) validated with
   * {@code Connection.isValid}: UP with the time it took, DOWN with the error, or DOWN when no answer
   * came within {@link #HEALTH_TIMEOUT} (the check goes on in the background; the next call waits for
   * it instead of starting another).
   */
  @Override
  public BackendHealth health() {
    java.util.Map<String, Object> d = new java.util.LinkedHashMap<>();
    d.put("database", db.describe());
    java.util.concurrent.CompletableFuture<BackendHealth> check;
    synchronized (this) {
      check = healthCheck;
      if (check == null || check.isDone()) {
        check = new java.util.concurrent.CompletableFuture<>();
        healthCheck = check;
        java.util.concurrent.CompletableFuture<BackendHealth> result = check;
        Thread t = new Thread(() -> result.complete(checkConnection(d)), "fraiseql-pg-health");
        t.setDaemon(true);
        t.start();
      }
    }
    try {
      return check.get(HEALTH_TIMEOUT.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.TimeoutException e) {
      return BackendHealth.down("no connection within " + HEALTH_TIMEOUT.toMillis() + "ms", d);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return BackendHealth.down("interrupted", d);
    } catch (java.util.concurrent.ExecutionException e) {
      return BackendHealth.down(String.valueOf(e.getCause()), d);
    }
  }

  private BackendHealth checkConnection(java.util.Map<String, Object> details) {
    java.util.Map<String, Object> d = new java.util.LinkedHashMap<>(details);
    long start = System.nanoTime();
    try (java.sql.Connection c = db.dataSource().getConnection()) {
      boolean valid = c.isValid((int) HEALTH_TIMEOUT.toSeconds());
      d.put("checkMs", (System.nanoTime() - start) / 1_000_000);
      return valid ? BackendHealth.up(d) : BackendHealth.down("the connection did not answer", d);
    } catch (java.sql.SQLException e) {
      return BackendHealth.down(SqlErrors.describe(e), d);
    } catch (RuntimeException e) {
      return BackendHealth.down(e.toString(), d);
    }
  }

  @Override
  public Optional<DeadLetterStore> deadLetterStore() {
    return Optional.of(deadLetters);
  }

  @Override
  public Optional<IdempotencyStore> idempotencyStore() {
    PgIdempotencyStore s = idempotency;
    if (s == null) {
      synchronized (this) {
        s = idempotency;
        if (s == null) {
          s = new PgIdempotencyStore(db, idempotencyTable, settings.createTables(),
              PgIdempotencyStore.DEFAULT_QUEUE_CAPACITY, settings.idempotencyWriters());
          idempotency = s;
        }
      }
    }
    return Optional.of(s);
  }

  @Override
  public synchronized void close() {
    if (bus != null) {
      bus.close();
    }
    if (idempotency != null) {
      idempotency.close();
    }
    db.close();
  }

  @Override
  public String toString() {
    return "PgBackend{" + db.describe() + "}";
  }
}

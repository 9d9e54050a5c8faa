package dev.fraiseql.observers.pg.internal;

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

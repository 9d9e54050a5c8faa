package dev.fraiseql.observers.pg.internal;

import dev.fraiseql.observers.spi.Action;
import dev.fraiseql.observers.spi.ActionResult;
import dev.fraiseql.observers.spi.Delivery;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Calls a SQL function with the event's JSON as its single {@code jsonb} argument:
 * {@code SELECT "schema"."fn"(?::jsonb)}. Under effectively-once it inserts the key
 * ({@code idempotency_key} = the event id, {@code listener_id} = the handler name, as the engine's
 * own claims do) in the same transaction, so the function's effect happens exactly once: a key
 * already there means a duplicate, reported as {@link ActionResult#duplicate(String)} (the delivery ends
 * as {@code DUPLICATE}, as the engine's own skips do).
 *
 * <p>Runs on the calling (dispatcher) thread and bounds the statement with the handler's attempt
 * timeout ({@code statement_timeout}). Waiting for a pooled connection is not part of the attempt
 * ({@link Delivery#markQueued()} before the pool is asked, {@link Delivery#markStarted()} once it
 * answered): a burst larger than the pool spends no budget on that wait, which the pool's own
 * connection timeout bounds ({@code pool_connection_timeout_ms} for the module's pool); an attempt the
 * engine gave up on meanwhile gives its connection straight back without calling the function.
 */
public final class SqlFunctionAction implements Action {
  private static final Logger LOG = LoggerFactory.getLogger(SqlFunctionAction.class);

  private final String handler;
  private final PgIdentifier function;
  private final PgDatabase db;
  private final boolean ownsDatabase;
  private final PgIdentifier idempotencyTable;
  private final boolean createTables;
  private final Duration timeout;
  private final String callSql;
  private final String keySql;
  private volatile boolean tableReady;

  /**
   * @param idempotencyTable the table to record keys in under effectively-once; null under at-least-once
   */
  public SqlFunctionAction(String handler, PgIdentifier function, PgDatabase db, boolean ownsDatabase,
      PgIdentifier idempotencyTable, boolean createTables, Duration timeout) {
    this.handler = Objects.requireNonNull(handler, "handler");
    this.function = Objects.requireNonNull(function, "function");
    this.db = Objects.requireNonNull(db, "db");
    this.ownsDatabase = ownsDatabase;
    this.idempotencyTable = idempotencyTable;
    this.createTables = createTables;
    this.timeout = timeout;
    this.callSql = "SELECT " + function.quoted() + "(?::jsonb)";
    this.keySql = idempotencyTable == null ? null
        : "INSERT INTO " + idempotencyTable.quoted() + " (idempotency_key, listener_id, processed_at)"
            + " VALUES (?, ?, now()) ON CONFLICT (idempotency_key, listener_id) DO NOTHING";
  }

  @Override
  public CompletionStage<ActionResult> execute(Delivery delivery) {
    return CompletableFuture.completedFuture(run(delivery));
  }

  private ActionResult run(Delivery delivery) {
    String json = new String(delivery.payload(), StandardCharsets.UTF_8);
    try {
      if (idempotencyTable != null && !tableReady) {
        if (createTables) {
          Migrations.apply(db.dataSource(), Migrations.IDEMPOTENCY, Map.of("observer_idempotency_keys", idempotencyTable));
        }
        tableReady = true;
      }
      // Waiting for a pooled connection is not part of the attempt: timeout_ms stops while this
      // thread waits (the pool's own connection timeout bounds the wait) and restarts once it has one.
      if (!delivery.markQueued()) {
        return ActionResult.retry("abandoned before its connection was taken");
      }
      try (Connection c = db.dataSource().getConnection()) {
        if (!delivery.markStarted()) {
          // the engine gave up on this attempt while it waited (it is closing): do not run the function
          LOG.debug("[observer] {}: event {} abandoned while waiting for a connection, not calling {}", handler,
              delivery.event().id(), function);
          return ActionResult.retry("abandoned while waiting for a connection");
        }
        boolean auto = c.getAutoCommit();
        c.setAutoCommit(false);
        try {
          if (timeout != null && !timeout.isZero()) {
            try (PreparedStatement st = c.prepareStatement("SELECT set_config('statement_timeout', ?, true)")) {
              st.setString(1, Long.toString(Math.max(1, timeout.toMillis())));
              st.execute();
            }
          }
          if (keySql != null) {
            int inserted;
            try (PreparedStatement st = c.prepareStatement(keySql)) {
              // the engine's own layout: (event id, handler name)
              st.setString(1, delivery.event().id().toString());
              st.setString(2, delivery.handler());
              inserted = st.executeUpdate();
            }
            if (inserted == 0) {
              c.rollback();
              LOG.debug("[observer] {}: event {} already processed, skipping", handler, delivery.event().id());
              return ActionResult.duplicate("already processed (effectively_once)");
            }
          }
          try (PreparedStatement st = c.prepareStatement(callSql)) {
            st.setString(1, json);
            st.execute();
          }
          c.commit();
          return ActionResult.delivered("sql " + function + " ok");
        } catch (SQLException | RuntimeException e) {
          try {
            c.rollback();
          } catch (SQLException ignored) {
            // the connection is broken; the pool discards it
          }
          throw e;
        } finally {
          try {
            c.setAutoCommit(auto);
          } catch (SQLException ignored) {
            // the connection is broken; the pool discards it
          }
        }
      }
    } catch (SQLException e) {
      String what = "sql " + function + ": " + SqlErrors.describe(e);
      return SqlErrors.isPermanent(e) ? ActionResult.failed(what) : ActionResult.retry(what);
    }
  }

  @Override
  public String describe() {
    return "sql function " + function + " on " + db.describe();
  }

  /** The call {@link #execute} would make, made nowhere: the function and the JSON argument it would get. */
  @Override
  public java.util.Optional<dev.fraiseql.observers.spi.ActionPreview> preview(Delivery delivery) {
    Map<String, String> args = idempotencyTable == null ? Map.of()
        : Map.of("idempotency key (inserted in the same transaction)", delivery.idempotencyKey());
    return java.util.Optional.of(new dev.fraiseql.observers.spi.ActionPreview("SELECT " + function + "($1::jsonb) on "
        + db.describe(), args, new String(delivery.payload(), StandardCharsets.UTF_8)));
  }

  @Override
  public boolean recordsIdempotencyItself() {
    return idempotencyTable != null;
  }

  @Override
  public void close() {
    if (ownsDatabase) {
      db.close();
    }
  }

  @Override
  public String toString() {
    return "SqlFunctionAction{" + handler + " → " + function + "}";
  }
}

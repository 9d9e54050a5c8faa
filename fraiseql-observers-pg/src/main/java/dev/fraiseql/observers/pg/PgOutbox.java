package dev.fraiseql.observers.pg;

import dev.fraiseql.observers.ObservedEvent;
import dev.fraiseql.observers.pg.internal.Migrations;
import dev.fraiseql.observers.pg.internal.PgIdentifier;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import javax.sql.DataSource;

/**
 * The transactional outbox: records events in the host's own transaction, so that a crash between
 * the commit and the dispatch cannot lose a side effect. A {@link PgOutboxRelay} dispatches the
 * recorded events through the engine after the commit (never before; a rolled-back transaction
 * dispatches nothing).
 *
 * <pre>{@code
 * PgOutbox outbox = PgOutbox.create();            // table observer_outbox
 * try (Connection c = dataSource.getConnection()) {
 *   c.setAutoCommit(false);
 *   // ... your INSERT INTO tb_user ...
 *   outbox.record(c, ObservedEvent.insert("tb_user", Map.of("id", id, "email", email)));
 *   c.commit();                                      // the relay wakes on this commit
 * }
 * }</pre>
 *
 * Instead of calling {@code engine.onCommit(event)} after the commit, record the event before it
 * and run a relay. Immutable and thread-safe.
 */
public final class PgOutbox {
  /** The default table name. */
  public static final String DEFAULT_TABLE = "observer_outbox";

  private final PgIdentifier table;
  private final String insertSql;
  private final String channel;

  private PgOutbox(PgIdentifier table) {
    this.table = table;
    this.insertSql = "INSERT INTO " + table.quoted() + " (event_id, event) VALUES (?, ?::jsonb)";
    this.channel = table.channel("_wake");
  }

  /** An outbox in {@code observer_outbox}. */
  public static PgOutbox create() {
    return forTable(DEFAULT_TABLE);
  }

  /**
   * An outbox in {@code table} ({@code name} or {@code schema.name}).
   *
   * @throws IllegalArgumentException when it is not a plain SQL name
   */
  public static PgOutbox forTable(String table) {
    return new PgOutbox(PgIdentifier.parse(table));
  }

  /**
   * Records {@code event} in the transaction of {@code connection} and notifies the relays, which
   * hear of it when (and only if) that transaction commits. In auto-commit mode the event is
   * committed at once.
   *
   * @throws SQLException as the insert does (the outbox table missing: run {@link #createTable} or
   *     the shipped migration {@code dev/fraiseql/observers/pg/migrations/V3__observer_outbox.sql})
   */
  public void record(Connection connection, ObservedEvent event) throws SQLException {
    record(connection, List.of(event));
  }

  /** Records several events, in order, in the transaction of {@code connection}. */
  public void record(Connection connection, List<ObservedEvent> events) throws SQLException {
    Objects.requireNonNull(connection, "connection");
    if (events.isEmpty()) {
      return;
    }
    try (PreparedStatement ps = connection.prepareStatement(insertSql)) {
      for (ObservedEvent e : events) {
        ps.setObject(1, e.id());
        ps.setString(2, e.toJsonString());
        ps.addBatch();
      }
      ps.executeBatch();
    }
    try (PreparedStatement ps = connection.prepareStatement("SELECT pg_notify(?, '')")) {
      ps.setString(1, channel);
      ps.execute();
    }
  }

  /** Creates the outbox table and its indexes if they are missing (safe to call from many instances). */
  public void createTable(DataSource dataSource) throws SQLException {
    Migrations.apply(dataSource, Migrations.OUTBOX, Map.of("observer_outbox", table));
  }

  /** The table, e.g. {@code observer_outbox} or {@code app.observer_outbox}. */
  public String table() {
    return table.toString();
  }

  /** The LISTEN/NOTIFY channel the relays wake on. */
  public String channel() {
    return channel;
  }

  PgIdentifier identifier() {
    return table;
  }

  @Override
  public String toString() {
    return "PgOutbox{" + table + "}";
  }
}

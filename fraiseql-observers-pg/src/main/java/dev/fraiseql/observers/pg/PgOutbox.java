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
import java.util.UUID;
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
 * and run a relay. When you commit yourself, {@link #recordAndCommit(Connection, ObservedEvent)}
 * replaces {@code record} and {@code commit()} and saves a round trip. Immutable and thread-safe.
 */
public final class PgOutbox {
  /** The default table name. */
  public static final String DEFAULT_TABLE = "observer_outbox";

  /** The advisory lock relays hold while they wait for work (two int keys: a namespace, the table). */
  static final int WAKE_LOCK_NAMESPACE = 0x66716f78; // "fqox"

  private final PgIdentifier table;
  private final int wakeLockKey;
  private final String recordOneSql;
  private final String recordManySql;
  private final String recordOneAndCommitSql;
  private final String recordManyAndCommitSql;
  private final String channel;

  private PgOutbox(PgIdentifier table) {
    this.table = table;
    this.channel = table.channel("_wake");
    this.wakeLockKey = table.quoted().hashCode() & 0x7fffffff;
    // One statement, one round trip: the insert, and the wake-up when a relay waits for work. A
    // waiting relay holds the wake lock exclusively: then the shared try fails and this transaction
    // notifies (delivered on commit; PostgreSQL sends one per transaction however many records it
    // makes). Otherwise the shared lock is taken until this transaction ends, which keeps relays from
    // going to sleep before they can see its rows, and nothing is notified: a NOTIFY serializes the
    // commits of every notifying transaction of the server, so busy relays are not woken this way.
    String wakeIfWaiting = " SELECT pg_notify(?, '') WHERE NOT pg_try_advisory_xact_lock_shared("
        + WAKE_LOCK_NAMESPACE + ", " + wakeLockKey + ")";
    this.recordOneSql = "WITH ins AS (INSERT INTO " + table.quoted() + " (event_id, event) VALUES (?, ?::json))"
        + wakeIfWaiting;
    // many events as one JSON array (no per-element escaping); each element keeps its exact text
    this.recordManySql = "WITH ins AS (INSERT INTO " + table.quoted() + " (event_id, event)"
        + " SELECT u.id, e.ev FROM unnest(?::uuid[]) WITH ORDINALITY AS u(id, n)"
        + " JOIN json_array_elements(?::json) WITH ORDINALITY AS e(ev, n) USING (n) ORDER BY n)"
        + wakeIfWaiting;
    // the same statement and the transaction's COMMIT, sent together: pgjdbc sends the statements of
    // one SQL text in one round trip (extended protocol: one Sync, so a failed insert makes the server
    // skip the COMMIT; simple protocol: the COMMIT of a failed transaction rolls it back)
    this.recordOneAndCommitSql = recordOneSql + "; COMMIT";
    this.recordManyAndCommitSql = recordManySql + "; COMMIT";
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
   * Records {@code event} in the transaction of {@code connection}; relays dispatch it when (and only
   * if) that transaction commits. A relay waiting for work is notified (it hears of it on commit);
   * busy relays are not (they look for rows by themselves until they run out, and cannot go to sleep
   * while this transaction is open). In auto-commit mode the event is committed at once.
   *
   * @throws SQLException as the insert does (the outbox table missing: run {@link #createTable} or
   *     the shipped migrations {@code dev/fraiseql/observers/pg/migrations/V3__observer_outbox.sql}
   *     and {@code V6__observer_outbox_json_fillfactor.sql})
   */
  public void record(Connection connection, ObservedEvent event) throws SQLException {
    record(connection, List.of(event));
  }

  /**
   * Records several events, in order, in the transaction of {@code connection}: one statement (one
   * round trip) whatever their number.
   */
  public void record(Connection connection, List<ObservedEvent> events) throws SQLException {
    write(connection, events, false);
  }

  /**
   * Records {@code event} and commits the transaction of {@code connection}, in <b>one</b> round trip:
   * the same as {@link #record(Connection, ObservedEvent)} followed by {@code connection.commit()},
   * one network round trip shorter. Use it as the last step of a transaction you commit yourself
   * with plain JDBC.
   *
   * <p>It commits with SQL, not through {@link Connection#commit()}: it must not be called on a
   * connection whose transaction something else manages (Spring's {@code @Transactional}, JTA, an
   * XA branch): it would commit behind the manager's back (for XA, before the coordinator's
   * prepare). There, call {@link #record(Connection, ObservedEvent)} and let the manager commit.
   * A pool that rolls back a connection on close it thinks has uncommitted work (HikariCP) does no
   * harm: the transaction is already over, and the driver's {@code commit()} and {@code rollback()}
   * do nothing until the next statement starts one.
   *
   * <p>When it throws, call {@code rollback()} as after any failed statement: a failed insert or a
   * failed commit (a deferred constraint, a serialization failure) leaves nothing committed once you
   * roll back (with pgjdbc's {@code autosave} the transaction may still be open after a failed insert,
   * holding your earlier statements; do not commit it). If the connection is lost during the call,
   * whether the transaction committed is unknown, exactly as with {@code commit()}. In auto-commit
   * mode this is {@link #record(Connection, ObservedEvent)}.
   *
   * @throws SQLException as the insert or the commit does
   */
  public void recordAndCommit(Connection connection, ObservedEvent event) throws SQLException {
    recordAndCommit(connection, List.of(event));
  }

  /**
   * Records several events, in order, and commits the transaction of {@code connection}, in one round
   * trip (see {@link #recordAndCommit(Connection, ObservedEvent)}). With no events it only commits
   * (in auto-commit mode it does nothing).
   */
  public void recordAndCommit(Connection connection, List<ObservedEvent> events) throws SQLException {
    Objects.requireNonNull(connection, "connection");
    Objects.requireNonNull(events, "events");
    if (connection.getAutoCommit()) {
      write(connection, events, false);
    } else if (events.isEmpty()) {
      connection.commit();
    } else {
      write(connection, events, true);
    }
  }

  private void write(Connection connection, List<ObservedEvent> events, boolean commit) throws SQLException {
    Objects.requireNonNull(connection, "connection");
    Objects.requireNonNull(events, "events");
    if (events.isEmpty()) {
      return;
    }
    if (events.size() == 1) {
      ObservedEvent e = events.get(0);
      try (PreparedStatement ps = connection.prepareStatement(commit ? recordOneAndCommitSql : recordOneSql)) {
        ps.setObject(1, e.id());
        ps.setString(2, e.toJsonString());
        ps.setString(3, channel);
        ps.execute();
      }
      return;
    }
    UUID[] ids = new UUID[events.size()];
    StringBuilder json = new StringBuilder(events.size() * 512).append('[');
    for (int i = 0; i < ids.length; i++) {
      ObservedEvent e = events.get(i);
      ids[i] = e.id();
      if (i > 0) {
        json.append(',');
      }
      json.append(e.toJsonString());
    }
    json.append(']');
    try (PreparedStatement ps = connection.prepareStatement(commit ? recordManyAndCommitSql : recordManySql)) {
      ps.setArray(1, connection.createArrayOf("uuid", ids));
      ps.setString(2, json.toString());
      ps.setString(3, channel);
      ps.execute();
    }
  }

  /**
   * Creates the outbox table and its indexes if they are missing, and upgrades a table created by an
   * earlier version (V6: {@code event} as {@code json}, which rewrites the table once; see the
   * module's README). Safe to call from many instances.
   */
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

  /** The second key of the wake lock (the first is {@link #WAKE_LOCK_NAMESPACE}). */
  int wakeLockKey() {
    return wakeLockKey;
  }

  /**
   * How far behind the relays are: the rows not yet dispatched ({@code status = 'pending'}, leased ones
   * included) and the age of the oldest, by the database's clock. One statement on the pending index;
   * it counts the pending rows, so call it at scrape intervals (seconds), not per event. The
   * Micrometer module's {@code ObserverMetrics.outboxBacklog} turns it into gauges.
   *
   * @param timeout the statement's limit (a metrics scrape should not hang on a sick database)
   * @throws SQLException as the query does (the outbox table missing, the timeout)
   */
  public Backlog backlog(DataSource dataSource, java.time.Duration timeout) throws SQLException {
    Objects.requireNonNull(dataSource, "dataSource");
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement("SELECT count(*), extract(epoch FROM now() - min(recorded_at))"
            + " FROM " + table.quoted() + " WHERE status = 'pending'")) {
      ps.setQueryTimeout((int) Math.max(1, Math.min(Integer.MAX_VALUE, (timeout.toMillis() + 999) / 1000)));
      try (java.sql.ResultSet rs = ps.executeQuery()) {
        rs.next();
        long pending = rs.getLong(1);
        double age = rs.getDouble(2);
        return new Backlog(pending, rs.wasNull() ? java.time.Duration.ZERO
            : java.time.Duration.ofNanos((long) (Math.max(0, age) * 1_000_000_000d)));
      }
    }
  }

  /**
   * The outbox's backlog (see {@link #backlog}).
   *
   * @param pending rows recorded and not yet dispatched
   * @param oldestAge how long the oldest of them has waited; zero when there is none
   */
  public record Backlog(long pending, java.time.Duration oldestAge) {}

  @Override
  public String toString() {
    return "PgOutbox{" + table + "}";
  }
}

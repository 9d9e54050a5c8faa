package dev.fraiseql.observers.pg;

import dev.fraiseql.observers.pg.internal.PgIdentifier;
import dev.fraiseql.observers.pg.internal.PgUrl;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * What an outbox table holds right now, read in one transaction: pending rows (how many, how many
 * are due, how old the oldest is), finished rows (done and failed), per-handler outcomes of the
 * done rows still kept, and the relays holding leases. What {@code fraiseql-observers outbox status}
 * prints.
 *
 * <pre>{@code
 * PgOutboxStatus s = PgOutboxStatus.read(connection, PgOutbox.DEFAULT_TABLE);
 * s.pending();  s.oldestPendingAge();  s.leases();
 * }</pre>
 *
 * @param table the table read
 * @param pending rows not yet finished (waiting, being dispatched, or postponed after an error)
 * @param due pending rows whose next attempt is due now and that no relay holds
 * @param retrying pending rows that failed at least once (postponed, with a {@code last_error})
 * @param oldestPendingAge age of the oldest pending row; empty when none is pending
 * @param done rows whose dispatch ended (kept until the relay's retention deletes them)
 * @param failed rows a relay could not dispatch at all (unreadable event)
 * @param outcomes per handler and status ({@code DELIVERED}, {@code SKIPPED}, {@code DEAD_LETTERED}, ...), counted over the done rows kept
 * @param leases the relays holding unexpired leases, most rows first
 */
public record PgOutboxStatus(String table, long pending, long due, long retrying, Optional<Duration> oldestPendingAge,
    long done, long failed, List<HandlerOutcomes> outcomes, List<Lease> leases) {

  public PgOutboxStatus {
    Objects.requireNonNull(table, "table");
    oldestPendingAge = oldestPendingAge == null ? Optional.empty() : oldestPendingAge;
    outcomes = List.copyOf(outcomes);
    leases = List.copyOf(leases);
  }

  /**
   * How many deliveries of one handler ended with one status, over the done rows kept.
   *
   * @param handler the handler's name
   * @param status a {@link dev.fraiseql.observers.DeliveryOutcome.Status} name
   * @param count how many
   */
  public record HandlerOutcomes(String handler, String status, long count) {}

  /**
   * A relay holding leases.
   *
   * @param owner the relay's id ({@code host:pid:n})
   * @param rows how many rows it holds
   * @param until when its latest lease expires (a relay renews every third of the lease while it works)
   */
  public record Lease(String owner, long rows, Instant until) {}

  /**
   * Reads the status of {@code table} ({@code observer_outbox} or {@code schema.name}) through
   * {@code connection}. Read-only; the connection's auto-commit and transaction are left as they were
   * (the queries run inside whatever transaction is open).
   *
   * @throws IllegalArgumentException when {@code table} is not a plain SQL name
   * @throws SQLException as the queries do (the table missing: "relation ... does not exist")
   */
  public static PgOutboxStatus read(Connection connection, String table) throws SQLException {
    String t = PgIdentifier.parse(table).quoted();
    long pending;
    long due;
    long retrying;
    Optional<Duration> oldest;
    long done;
    long failed;
    try (PreparedStatement ps = connection.prepareStatement("SELECT"
        + " count(*) FILTER (WHERE status = 'pending'),"
        + " count(*) FILTER (WHERE status = 'pending' AND next_attempt_at <= now() AND (lease_until IS NULL OR lease_until < now())),"
        + " count(*) FILTER (WHERE status = 'pending' AND last_error IS NOT NULL),"
        + " extract(epoch FROM now() - min(recorded_at) FILTER (WHERE status = 'pending')) * 1000,"
        + " count(*) FILTER (WHERE status = 'done'),"
        + " count(*) FILTER (WHERE status = 'failed')"
        + " FROM " + t);
         ResultSet rs = ps.executeQuery()) {
      rs.next();
      pending = rs.getLong(1);
      due = rs.getLong(2);
      retrying = rs.getLong(3);
      double ms = rs.getDouble(4);
      oldest = rs.wasNull() ? Optional.empty() : Optional.of(Duration.ofMillis(Math.max(0, Math.round(ms))));
      done = rs.getLong(5);
      failed = rs.getLong(6);
    }
    List<HandlerOutcomes> outcomes = new ArrayList<>();
    try (PreparedStatement ps = connection.prepareStatement("SELECT o->>'handler', o->>'status', count(*)"
        + " FROM " + t + ", jsonb_array_elements(CASE WHEN jsonb_typeof(outcomes) = 'array' THEN outcomes ELSE '[]'::jsonb END) o"
        + " WHERE status = 'done' GROUP BY 1, 2 ORDER BY 1, 2");
         ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        outcomes.add(new HandlerOutcomes(String.valueOf(rs.getString(1)), String.valueOf(rs.getString(2)), rs.getLong(3)));
      }
    }
    List<Lease> leases = new ArrayList<>();
    try (PreparedStatement ps = connection.prepareStatement("SELECT lease_owner, count(*), max(lease_until)"
        + " FROM " + t + " WHERE status = 'pending' AND lease_owner IS NOT NULL AND lease_until >= now()"
        + " GROUP BY lease_owner ORDER BY 2 DESC, 1");
         ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        Timestamp until = rs.getTimestamp(3);
        leases.add(new Lease(rs.getString(1), rs.getLong(2), until.toInstant()));
      }
    }
    return new PgOutboxStatus(table, pending, due, retrying, oldest, done, failed, outcomes, leases);
  }

  /**
   * Reads the status of {@code table} through one connection opened from {@code databaseUrl}
   * ({@code postgres://user:pass@host/db}, {@code postgresql://...} or {@code jdbc:postgresql://...},
   * as {@code database_url} in {@code fraiseql.toml}), closed before returning.
   *
   * @throws IllegalArgumentException when the URL or the table name is malformed (the message never holds credentials)
   */
  public static PgOutboxStatus read(String databaseUrl, String table) throws SQLException {
    PgUrl url = PgUrl.parse(databaseUrl);
    // the driver itself, not DriverManager: a shaded jar (the command line) may not carry its service entry
    Connection opened = new org.postgresql.Driver().connect(url.jdbcUrl(), url.properties());
    if (opened == null) {
      throw new SQLException("not a PostgreSQL URL: " + url.redacted());
    }
    try (Connection c = opened) {
      c.setReadOnly(true);
      return read(c, table);
    }
  }
}

package dev.fraiseql.observers.pg;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fraiseql.observers.Dispatch;
import dev.fraiseql.observers.DeliveryOutcome;
import dev.fraiseql.observers.ObservedEvent;
import dev.fraiseql.observers.ObserverEngine;
import dev.fraiseql.observers.pg.internal.PgDatabase;
import dev.fraiseql.observers.pg.internal.PgIdentifier;
import dev.fraiseql.observers.pg.internal.PgListener;
import dev.fraiseql.observers.pg.internal.SqlErrors;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Dispatches the events a {@link PgOutbox} recorded, through an {@link ObserverEngine}, after their
 * transaction committed.
 *
 * <pre>{@code
 * try (PgOutboxRelay relay = PgOutboxRelay.builder(engine, dataSource).start()) {
 *   // ... the application runs; record events with PgOutbox.record(connection, event)
 * }
 * }</pre>
 *
 * <p>How it works: one thread claims pending rows in id order with {@code FOR UPDATE SKIP LOCKED},
 * stamping them with its own id and a lease ({@link Builder#lease}, 30 s by default) that it renews
 * every third of the lease while the engine works on them; it hands each event to
 * {@code engine.onCommit}, and when the dispatch completes it stores every handler's outcome
 * (status, attempts, detail) and marks the row {@code done}. Several relays (application instances)
 * share one outbox: a row is claimed by one relay at a time, so without a crash no row is dispatched
 * twice. A relay that dies leaves its leases to expire; another relay then takes the rows over and
 * dispatches them again (at-least-once; with {@code checkpoint_strategy = "effectively_once"} the
 * handlers that had finished are skipped as duplicates). If the engine refuses an event (overload,
 * closed) the row is retried later with a growing delay ({@code attempts}, {@code next_attempt_at}).
 *
 * <p>It wakes on {@code LISTEN/NOTIFY} (the recording transaction notifies on commit) and polls
 * every {@link Builder#pollInterval} as a fallback. Done rows are deleted after
 * {@link Builder#retention} (24 h by default). At most {@link Builder#maxInFlight} events are being
 * dispatched at once; the rest wait in the table.
 *
 * <p>Close the relay before the engine: {@link #close()} stops claiming, waits up to
 * {@link Builder#shutdownTimeout} for dispatches in progress and records their outcomes; rows still
 * in progress after that keep their lease and are taken over by another relay when it expires.
 */
public final class PgOutboxRelay implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(PgOutboxRelay.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  private final ObserverEngine engine;
  private final PgDatabase db;
  private final PgOutbox outbox;
  private final PgIdentifier table;
  private final int batchSize;
  private final int maxInFlight;
  private final Duration pollInterval;
  private final Duration lease;
  private final Duration retention;
  private final Duration shutdownTimeout;
  private final boolean createTable;
  private final String owner = UUID.randomUUID().toString();
  private final Semaphore wake = new Semaphore(0);
  private final Map<Long, Boolean> inFlight = new ConcurrentHashMap<>();
  private final ConcurrentLinkedQueue<Finished> finished = new ConcurrentLinkedQueue<>();
  private final AtomicLong dispatched = new AtomicLong();
  private final Thread thread;
  private volatile boolean running = true;
  private PgListener listener;
  private long nextHeartbeat;
  private long nextCleanup;

  private record Finished(long id, List<DeliveryOutcome> outcomes, String error) {}

  private PgOutboxRelay(Builder b) {
    this.engine = b.engine;
    this.db = PgDatabase.of(b.dataSource);
    this.outbox = b.outbox;
    this.table = b.outbox.identifier();
    this.batchSize = b.batchSize;
    this.maxInFlight = b.maxInFlight;
    this.pollInterval = b.pollInterval;
    this.lease = b.lease;
    this.retention = b.retention;
    this.shutdownTimeout = b.shutdownTimeout;
    this.createTable = b.createTable;
    this.thread = new Thread(this::run, "fraiseql-pg-outbox-relay-" + table);
    this.thread.setDaemon(true);
  }

  /** A relay dispatching through {@code engine}, reading the outbox with connections from {@code dataSource}. */
  public static Builder builder(ObserverEngine engine, DataSource dataSource) {
    return new Builder(engine, dataSource);
  }

  private PgOutboxRelay begin() {
    if (createTable) {
      try {
        outbox.createTable(db.dataSource());
      } catch (SQLException e) {
        LOG.warn("outbox {}: cannot create the table yet ({}); the relay keeps trying", table, SqlErrors.describe(e));
      }
    }
    listener = new PgListener(db, outbox.channel(), this::wake, "fraiseql-pg-outbox-listen-" + table);
    thread.start();
    LOG.info("[observer] outbox relay started on {} (lease {}ms, poll {}ms)", table, lease.toMillis(),
        pollInterval.toMillis());
    return this;
  }

  private void wake() {
    if (wake.availablePermits() == 0) {
      wake.release();
    }
  }

  /** Events this relay handed to the engine so far. */
  public long dispatchedCount() {
    return dispatched.get();
  }

  /** Events being dispatched by this relay right now. */
  public int inFlight() {
    return inFlight.size();
  }

  private void run() {
    long backoff = 500;
    while (running) {
      try {
        flush();
        heartbeat();
        cleanup();
        int room = Math.min(batchSize, maxInFlight - inFlight.size());
        int claimed = room > 0 ? claimAndDispatch(room) : 0;
        backoff = 500;
        if (claimed < room || room <= 0) {
          // never sleep past a lease renewal
          long waitMs = inFlight.isEmpty() ? pollInterval.toMillis()
              : Math.min(pollInterval.toMillis(), Math.max(10, lease.toMillis() / 3));
          wake.tryAcquire(waitMs, TimeUnit.MILLISECONDS);
          wake.drainPermits();
        }
      } catch (SQLException | RuntimeException e) {
        LOG.warn("outbox relay {}: {}; retrying in {}ms", table,
            e instanceof SQLException ? SqlErrors.describe((SQLException) e) : e.toString(), backoff);
        try {
          wake.tryAcquire(backoff, TimeUnit.MILLISECONDS);
        } catch (InterruptedException ie) {
          break;
        }
        backoff = Math.min(30_000, backoff * 2);
      } catch (InterruptedException e) {
        break;
      }
    }
    long end = System.nanoTime() + shutdownTimeout.toNanos();
    while (!inFlight.isEmpty() && System.nanoTime() < end) {
      try {
        heartbeat();
        flush();
        wake.tryAcquire(50, TimeUnit.MILLISECONDS);
      } catch (SQLException | RuntimeException e) {
        break;
      } catch (InterruptedException e) {
        break;
      }
    }
    try {
      flush();
    } catch (SQLException | RuntimeException e) {
      LOG.warn("outbox relay {}: could not record the last outcomes ({}); those rows will be dispatched again"
          + " when their lease expires", table, e.toString());
    }
    if (!inFlight.isEmpty()) {
      LOG.warn("outbox relay {}: {} event(s) still being dispatched at close; another relay takes them over"
          + " when their lease expires", table, inFlight.size());
    }
  }

  private int claimAndDispatch(int limit) throws SQLException {
    String sql = "WITH c AS (SELECT id FROM " + table.quoted() + " WHERE status = 'pending' AND next_attempt_at <= now()"
        + " AND (lease_until IS NULL OR lease_until < now()) ORDER BY id LIMIT ? FOR UPDATE SKIP LOCKED)"
        + " UPDATE " + table.quoted() + " o SET lease_owner = ?, lease_until = now() + ? * interval '1 millisecond',"
        + " attempts = o.attempts + 1 FROM c WHERE o.id = c.id RETURNING o.id, o.event::text, o.attempts";
    List<long[]> ids = new ArrayList<>();
    List<String> jsons = new ArrayList<>();
    try (Connection c = db.dataSource().getConnection()) {
      if (!c.getAutoCommit()) {
        c.setAutoCommit(true);
      }
      try (PreparedStatement ps = c.prepareStatement(sql)) {
        ps.setInt(1, limit);
        ps.setString(2, owner);
        ps.setLong(3, lease.toMillis());
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            ids.add(new long[] {rs.getLong(1), rs.getInt(3)});
            jsons.add(rs.getString(2));
          }
        }
      }
    }
    // RETURNING order is not guaranteed: dispatch in id (recording) order
    List<Integer> order = new ArrayList<>();
    for (int i = 0; i < ids.size(); i++) {
      order.add(i);
    }
    order.sort((a, b) -> Long.compare(ids.get(a)[0], ids.get(b)[0]));
    for (int i : order) {
      long id = ids.get(i)[0];
      int attempts = (int) ids.get(i)[1];
      ObservedEvent event;
      try {
        event = ObservedEvent.fromJson(jsons.get(i).getBytes(StandardCharsets.UTF_8));
      } catch (IllegalArgumentException e) {
        LOG.error("outbox {}: row {} does not hold an event ({}); marking it failed", table, id, e.getMessage());
        finished.add(new Finished(id, List.of(), "unreadable event: " + e.getMessage()));
        inFlight.put(id, Boolean.TRUE);
        continue;
      }
      inFlight.put(id, Boolean.TRUE);
      Dispatch d;
      try {
        d = engine.onCommit(event);
      } catch (RuntimeException e) {
        // overloaded or closed: give the row back with a delay
        inFlight.remove(id);
        postpone(id, attempts, e.toString());
        continue;
      }
      dispatched.incrementAndGet();
      d.completion().whenComplete((outcomes, err) -> {
        finished.add(new Finished(id, outcomes == null ? List.of() : outcomes, err == null ? null : err.toString()));
        wake();
      });
    }
    return ids.size();
  }

  private void postpone(long id, int attempts, String error) throws SQLException {
    long delayMs = Math.min(60_000L, 500L << Math.min(7, Math.max(0, attempts - 1)));
    try (Connection c = db.dataSource().getConnection();
         PreparedStatement ps = c.prepareStatement("UPDATE " + table.quoted() + " SET lease_owner = NULL,"
             + " lease_until = NULL, next_attempt_at = now() + ? * interval '1 millisecond', last_error = ?"
             + " WHERE id = ? AND lease_owner = ?")) {
      ps.setLong(1, delayMs);
      ps.setString(2, error.length() > 500 ? error.substring(0, 500) : error);
      ps.setLong(3, id);
      ps.setString(4, owner);
      ps.executeUpdate();
    }
    LOG.warn("outbox {}: the engine did not take event row {} ({}); retrying in {}ms", table, id, error, delayMs);
  }

  private void flush() throws SQLException {
    if (finished.isEmpty()) {
      return;
    }
    List<Finished> batch = new ArrayList<>();
    for (Finished f; (f = finished.poll()) != null; ) {
      batch.add(f);
    }
    try (Connection c = db.dataSource().getConnection();
         PreparedStatement ps = c.prepareStatement("UPDATE " + table.quoted() + " SET status = ?, outcomes = ?::jsonb,"
             + " last_error = ?, completed_at = now(), lease_owner = NULL, lease_until = NULL WHERE id = ?")) {
      if (!c.getAutoCommit()) {
        c.setAutoCommit(true);
      }
      for (Finished f : batch) {
        ps.setString(1, f.error() == null ? "done" : "failed");
        ps.setString(2, outcomesJson(f.outcomes()));
        ps.setString(3, f.error());
        ps.setLong(4, f.id());
        ps.addBatch();
      }
      ps.executeBatch();
    } catch (SQLException e) {
      finished.addAll(batch);
      throw e;
    }
    for (Finished f : batch) {
      inFlight.remove(f.id());
    }
  }

  private static String outcomesJson(List<DeliveryOutcome> outcomes) {
    ArrayNode arr = JSON.createArrayNode();
    for (DeliveryOutcome o : outcomes) {
      ObjectNode n = arr.addObject();
      n.put("handler", o.handler());
      n.put("status", o.status().name());
      n.put("attempts", o.attempts());
      n.put("detail", o.detail());
      n.put("elapsed_ms", o.elapsed().toMillis());
    }
    return arr.toString();
  }

  private void heartbeat() throws SQLException {
    long now = System.nanoTime();
    if (inFlight.isEmpty() || now < nextHeartbeat) {
      return;
    }
    nextHeartbeat = now + lease.toNanos() / 3;
    Long[] ids = inFlight.keySet().toArray(new Long[0]);
    int renewed;
    try (Connection c = db.dataSource().getConnection();
         PreparedStatement ps = c.prepareStatement("UPDATE " + table.quoted()
             + " SET lease_until = now() + ? * interval '1 millisecond'"
             + " WHERE id = ANY(?) AND lease_owner = ? AND status = 'pending'")) {
      ps.setLong(1, lease.toMillis());
      ps.setArray(2, c.createArrayOf("bigint", ids));
      ps.setString(3, owner);
      renewed = ps.executeUpdate();
    }
    if (renewed < ids.length) {
      LOG.debug("outbox {}: renewed {} of {} leases (the others just finished or were taken over)", table, renewed,
          ids.length);
    }
  }

  private void cleanup() throws SQLException {
    long now = System.nanoTime();
    if (now < nextCleanup) {
      return;
    }
    long everyMs = Math.max(1_000L, Math.min(300_000L, retention.toMillis()));
    nextCleanup = now + TimeUnit.MILLISECONDS.toNanos(everyMs);
    try (Connection c = db.dataSource().getConnection();
         PreparedStatement ps = c.prepareStatement("DELETE FROM " + table.quoted() + " WHERE id IN (SELECT id FROM "
             + table.quoted() + " WHERE status = 'done' AND completed_at < now() - ? * interval '1 millisecond'"
             + " LIMIT 10000)")) {
      ps.setLong(1, retention.toMillis());
      int n = ps.executeUpdate();
      if (n > 0) {
        LOG.debug("outbox {}: deleted {} delivered row(s) older than {}ms", table, n, retention.toMillis());
      }
    }
  }

  /** Stops claiming, waits for dispatches in progress (up to the shutdown timeout), records their outcomes. */
  @Override
  public void close() {
    if (!running) {
      return;
    }
    running = false;
    wake();
    try {
      thread.join(shutdownTimeout.toMillis() + 5_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (listener != null) {
      listener.close();
    }
  }

  @Override
  public String toString() {
    return "PgOutboxRelay{" + table + ", " + inFlight.size() + " in flight}";
  }

  /** Configures a {@link PgOutboxRelay}; {@link #start()} creates and starts it. */
  public static final class Builder {
    private final ObserverEngine engine;
    private final DataSource dataSource;
    private PgOutbox outbox = PgOutbox.create();
    private int batchSize = 100;
    private int maxInFlight = 1_000;
    private Duration pollInterval = Duration.ofSeconds(1);
    private Duration lease = Duration.ofSeconds(30);
    private Duration retention = Duration.ofHours(24);
    private Duration shutdownTimeout = Duration.ofSeconds(10);
    private boolean createTable = true;

    private Builder(ObserverEngine engine, DataSource dataSource) {
      this.engine = Objects.requireNonNull(engine, "engine");
      this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
    }

    /** The outbox to relay ({@link PgOutbox#create()} by default). */
    public Builder outbox(PgOutbox outbox) {
      this.outbox = Objects.requireNonNull(outbox, "outbox");
      return this;
    }

    /** Rows claimed per round trip (100). */
    public Builder batchSize(int batchSize) {
      if (batchSize < 1 || batchSize > 10_000) {
        throw new IllegalArgumentException("batchSize must be from 1 to 10000");
      }
      this.batchSize = batchSize;
      return this;
    }

    /** Events being dispatched at once, at most (1000); the rest wait in the table. */
    public Builder maxInFlight(int maxInFlight) {
      if (maxInFlight < 1) {
        throw new IllegalArgumentException("maxInFlight must be at least 1");
      }
      this.maxInFlight = maxInFlight;
      return this;
    }

    /** How often to look for rows when no notification arrives (1 s). */
    public Builder pollInterval(Duration pollInterval) {
      if (pollInterval.toMillis() < 10) {
        throw new IllegalArgumentException("pollInterval must be at least 10ms");
      }
      this.pollInterval = pollInterval;
      return this;
    }

    /**
     * How long a claimed row stays this relay's without renewal (30 s): after a crash, its rows are
     * dispatched again this long after the last renewal.
     */
    public Builder lease(Duration lease) {
      if (lease.toMillis() < 300) {
        throw new IllegalArgumentException("lease must be at least 300ms");
      }
      this.lease = lease;
      return this;
    }

    /** How long done rows are kept before deletion (24 h). */
    public Builder retention(Duration retention) {
      if (retention.isNegative()) {
        throw new IllegalArgumentException("retention must not be negative");
      }
      this.retention = retention;
      return this;
    }

    /** How long {@link PgOutboxRelay#close()} waits for dispatches in progress (10 s). */
    public Builder shutdownTimeout(Duration shutdownTimeout) {
      this.shutdownTimeout = Objects.requireNonNull(shutdownTimeout, "shutdownTimeout");
      return this;
    }

    /** Whether to create the outbox table if it is missing (true). */
    public Builder createTable(boolean createTable) {
      this.createTable = createTable;
      return this;
    }

    /** Creates the relay and starts its thread. */
    public PgOutboxRelay start() {
      return new PgOutboxRelay(this).begin();
    }
  }
}

package dev.fraiseql.observers.pg;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fraiseql.observers.Dispatch;
import dev.fraiseql.observers.DeliveryOutcome;
import dev.fraiseql.observers.ObservedEvent;
import dev.fraiseql.observers.ObserverEngine;
import dev.fraiseql.observers.pg.internal.CaptureRows;
import dev.fraiseql.observers.pg.internal.PgDatabase;
import dev.fraiseql.observers.pg.internal.PgIdentifier;
import dev.fraiseql.observers.pg.internal.PgListener;
import dev.fraiseql.observers.pg.internal.SqlErrors;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
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
 * <p>How it works: one thread, on one connection of its own, claims pending rows in id order with
 * {@code FOR UPDATE SKIP LOCKED}, stamping them with its own id and a lease ({@link Builder#lease},
 * 30 s by default) that it renews every third of the lease while the engine works on them. The
 * claimed events go to {@link Builder#dispatchThreads} threads, which parse them (the exact JSON
 * text {@link PgOutbox#record} wrote, which the engine then uses as the event's payload) and hand
 * them to {@code engine.onCommit}. When a dispatch completes its outcome (every handler's status,
 * attempts, detail) is queued, and the relay thread writes the queued outcomes, marking the rows
 * {@code done}, in the same round trip and transaction as its next claim. Several relays (application instances)
 * share one outbox: a row is claimed by one relay at a time, so without a crash no row is dispatched
 * twice. A relay that dies leaves its leases to expire; another relay then takes the rows over and
 * dispatches them again (at-least-once; with {@code checkpoint_strategy = "effectively_once"} the
 * handlers that had finished are skipped as duplicates). If the engine refuses an event (overload,
 * closed) the row is retried later with a growing delay ({@code attempts}, {@code next_attempt_at}).
 *
 * <p>It wakes on {@code LISTEN/NOTIFY}: when it runs out of rows it takes an advisory lock (the wake
 * lock) and recording transactions, which try it shared, then notify on commit; while it is busy
 * they do not (a NOTIFY serializes commits server-wide), and it cannot take the lock while one of
 * them is open, so it looks again every 50 ms until they end. It polls every
 * {@link Builder#pollInterval} as a fallback. Done rows are deleted after
 * {@link Builder#retention} (24 h by default). At most {@link Builder#maxInFlight} events are being
 * dispatched at once; the rest wait in the table.
 *
 * <p>Connections: the relay holds two connections of {@code dataSource} for as long as it runs (its
 * own and the LISTEN one); a pooled {@code DataSource} is fine, so is a non-pooling one.
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
  private final int dispatchThreads;
  private final Duration pollInterval;
  private final Duration lease;
  private final Duration retention;
  private final Duration shutdownTimeout;
  private final boolean createTable;
  private final PgCapture capture;
  private final String owner = UUID.randomUUID().toString();
  private final Semaphore wake = new Semaphore(0);
  private final Map<Long, Boolean> inFlight = new ConcurrentHashMap<>();
  private final ConcurrentLinkedQueue<Finished> finished = new ConcurrentLinkedQueue<>();
  private final ConcurrentLinkedQueue<Postponed> postponed = new ConcurrentLinkedQueue<>();
  private final AtomicLong dispatched = new AtomicLong();
  private final AtomicLong roundTrips = new AtomicLong();
  private final Thread thread;
  private final ExecutorService dispatchers;
  private final String claimSql;
  private final String flushSql;
  private final String postponeSql;
  private volatile boolean running = true;
  /** Epoch millis of the relay loop's last successful cycle (0: none yet). */
  private volatile long lastCycleMillis;
  private PgListener listener;
  /** The relay thread's own connection for claims, outcomes, lease renewals and clean-up. */
  private Connection connection;
  private long nextHeartbeat;
  private long nextCleanup;
  /** Relay thread only: this relay holds the wake lock (it waits for work: recorders notify). */
  private boolean holdsWakeLock;
  /** Relay thread only: a round trip that took or gave back the wake lock failed (we may hold it). */
  private boolean wakeLockUncertain;
  /** Relay thread only: rows the last claim returned (-1: none yet since the connection was opened). */
  private int lastClaimed = -1;
  private final String unlockSql;
  private final String tryLockSql;

  /** While a recording transaction is open, a relay that ran out of rows looks again this often. */
  static final long RECORDING_POLL_MS = 50;

  private enum Lock { NOT_TRIED, ACQUIRED, OTHER_RELAY_WAITS, RECORDING }

  private record Cycle(int claimed, Lock lock) {}

  private record Finished(long id, String status, String outcomes, String error) {}

  private record Postponed(long id, long delayMs, String error) {}

  private record Row(long id, int attempts, byte[] json, UUID eventId) {}

  private PgOutboxRelay(Builder b) {
    this.engine = b.engine;
    this.db = PgDatabase.of(b.dataSource);
    this.outbox = b.outbox;
    this.table = b.outbox.identifier();
    this.batchSize = b.batchSize;
    this.maxInFlight = b.maxInFlight;
    this.dispatchThreads = b.dispatchThreads;
    this.pollInterval = b.pollInterval;
    this.lease = b.lease;
    this.retention = b.retention;
    this.shutdownTimeout = b.shutdownTimeout;
    this.createTable = b.createTable;
    if (b.capture != null && !b.capture.outbox().table().equals(b.outbox.table())) {
      throw new IllegalArgumentException("the capture writes into outbox " + b.capture.outbox().table()
          + " but the relay reads " + b.outbox.table() + ": use the same outbox for both");
    }
    this.capture = b.capture != null ? b.capture : PgCapture.of(b.engine.config(), b.outbox);
    String t = table.quoted();
    // event::text: the exact text from a JSON column (V6), the normalized text from a JSONB one (V3)
    this.claimSql = "WITH c AS (SELECT id FROM " + t + " WHERE status = 'pending' AND next_attempt_at <= now()"
        + " AND (lease_until IS NULL OR lease_until < now()) ORDER BY id LIMIT ? FOR UPDATE SKIP LOCKED)"
        + " UPDATE " + t + " o SET lease_owner = ?, lease_until = now() + ? * interval '1 millisecond',"
        + " attempts = o.attempts + 1 FROM c WHERE o.id = c.id RETURNING o.id, o.attempts, o.event::text, o.event_id";
    this.flushSql = "UPDATE " + t + " o SET status = u.status, outcomes = u.outcomes::jsonb, last_error = u.error,"
        + " completed_at = now(), lease_owner = NULL, lease_until = NULL"
        + " FROM unnest(?::bigint[], ?::text[], ?::text[], ?::text[]) AS u(id, status, outcomes, error) WHERE o.id = u.id";
    this.postponeSql = "UPDATE " + t + " o SET lease_owner = NULL, lease_until = NULL,"
        + " next_attempt_at = now() + u.delay * interval '1 millisecond', last_error = u.error"
        + " FROM unnest(?::bigint[], ?::bigint[], ?::text[]) AS u(id, delay, error) WHERE o.id = u.id AND o.lease_owner = ?";
    int ns = PgOutbox.WAKE_LOCK_NAMESPACE;
    int key = b.outbox.wakeLockKey();
    this.unlockSql = "SELECT pg_advisory_unlock(" + ns + ", " + key + ")";
    // 'K': this relay now waits for work; 'R': another relay does (recorders notify, this one hears
    // it too); 'W': recording transactions are open (they hold the lock shared), look again soon
    this.tryLockSql = "SELECT CASE WHEN pg_try_advisory_lock(" + ns + ", " + key + ") THEN 'K'"
        + " WHEN EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND classid = " + ns
        + " AND objid = " + key + " AND objsubid = 2 AND mode = 'ExclusiveLock' AND granted) THEN 'R' ELSE 'W' END";
    this.thread = new Thread(this::run, "fraiseql-pg-outbox-relay-" + table);
    this.thread.setDaemon(true);
    AtomicLong n = new AtomicLong();
    this.dispatchers = Executors.newFixedThreadPool(dispatchThreads, r -> {
      Thread th = new Thread(r, "fraiseql-pg-outbox-dispatch-" + table + "-" + n.incrementAndGet());
      th.setDaemon(true);
      return th;
    });
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
    if (capture.enabled()) {
      startCapture();
    }
    listener = new PgListener(db, outbox.channel(), this::wake, "fraiseql-pg-outbox-listen-" + table);
    thread.start();
    LOG.info("[observer] outbox relay started on {} (lease {}ms, poll {}ms, {} dispatch thread(s))", table,
        lease.toMillis(), pollInterval.toMillis(), dispatchThreads);
    return this;
  }

  /**
   * Installs or upgrades the capture triggers ({@code capture_install = true}), or checks them and
   * logs what is missing with the fix.
   */
  private void startCapture() {
    try {
      if (capture.installAtStartup()) {
        capture.install(db.dataSource());
      } else {
        List<String> problems = capture.check(db.dataSource());
        for (String p : problems) {
          LOG.error("[observer] {}", p);
        }
        if (problems.isEmpty()) {
          LOG.info("[observer] capture: triggers in place (outbox {}): {}", table, capture.describe());
        }
      }
    } catch (SQLException e) {
      throw new IllegalStateException("[observer] capture: cannot install or check the capture triggers on outbox "
          + table + " (" + SqlErrors.describe(e) + "); without them no change is captured", e);
    }
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

  /**
   * When the relay's loop last completed a cycle (outcomes written, rows claimed), empty before the
   * first. It cycles at least every {@link Builder#pollInterval}; an older value means the relay cannot
   * reach PostgreSQL (it retries with a growing delay, up to 30 s) or is stuck. For health checks.
   */
  public java.util.Optional<java.time.Instant> lastCycle() {
    long t = lastCycleMillis;
    return t == 0 ? java.util.Optional.empty() : java.util.Optional.of(java.time.Instant.ofEpochMilli(t));
  }

  /** Whether the relay's thread is running (false after {@link #close()} or if it died). */
  public boolean isRunning() {
    return running && thread.isAlive();
  }

  /** The outbox table this relay reads. */
  public String table() {
    return outbox.table();
  }

  /** Round trips to PostgreSQL made by the relay thread so far (outcomes and the next claim share one). */
  public long roundTrips() {
    return roundTrips.get();
  }

  private void run() {
    long backoff = 500;
    while (running) {
      try {
        heartbeat();
        cleanup();
        int room = Math.min(batchSize, maxInFlight - inFlight.size());
        Cycle r = cycle(Math.max(0, room));
        lastCycleMillis = System.currentTimeMillis();
        backoff = 500;
        if (room > 0 && r.claimed() == room) {
          continue; // a full batch: there may be more
        }
        if (!finished.isEmpty() || !postponed.isEmpty()) {
          continue; // write those first
        }
        // never sleep past a lease renewal
        long waitMs = inFlight.isEmpty() ? pollInterval.toMillis()
            : Math.min(pollInterval.toMillis(), Math.max(10, lease.toMillis() / 3));
        if (room > 0 && r.claimed() > 0) {
          // rows are coming in: look again soon (or when dispatches finish), without the wake lock
          waitMs = Math.min(waitMs, RECORDING_POLL_MS);
        } else if (room > 0 && !holdsWakeLock) {
          if (r.lock() == Lock.NOT_TRIED) {
            continue; // out of rows: take the wake lock and look once more before sleeping
          }
          if (r.lock() == Lock.RECORDING) {
            waitMs = Math.min(waitMs, RECORDING_POLL_MS); // their rows become visible when they commit
          }
        }
        wake.tryAcquire(waitMs, TimeUnit.MILLISECONDS);
        wake.drainPermits();
      } catch (SQLException | RuntimeException e) {
        dropConnection();
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
        cycle(0);
        wake.tryAcquire(50, TimeUnit.MILLISECONDS);
      } catch (SQLException | RuntimeException e) {
        break;
      } catch (InterruptedException e) {
        break;
      }
    }
    dispatchers.shutdown();
    try {
      cycle(0);
    } catch (SQLException | RuntimeException e) {
      LOG.warn("outbox relay {}: could not record the last outcomes ({}); those rows will be dispatched again"
          + " when their lease expires", table, e.toString());
    }
    dropConnection();
    if (!inFlight.isEmpty()) {
      LOG.warn("outbox relay {}: {} event(s) still being dispatched at close; another relay takes them over"
          + " when their lease expires", table, inFlight.size());
    }
  }

  private Connection connection() throws SQLException {
    if (connection == null) {
      Connection c = db.dataSource().getConnection();
      try {
        if (!c.getAutoCommit()) {
          c.setAutoCommit(true);
        }
      } catch (SQLException e) {
        c.close();
        throw e;
      }
      connection = c;
    }
    return connection;
  }

  private void dropConnection() {
    Connection c = connection;
    connection = null;
    if (c != null && (holdsWakeLock || wakeLockUncertain)) {
      // a session lock: it survives a rolled-back transaction and would stay with a pooled connection
      try (Statement st = c.createStatement()) {
        for (int i = 0; i < 4; i++) {
          try (ResultSet rs = st.executeQuery(unlockSql)) {
            if (!rs.next() || !rs.getBoolean(1)) {
              break;
            }
          }
        }
      } catch (SQLException | RuntimeException ignored) {
        // the connection is broken: the lock went with its session
      }
    }
    holdsWakeLock = false;
    wakeLockUncertain = false;
    lastClaimed = -1;
    if (c != null) {
      try {
        c.close();
      } catch (SQLException | RuntimeException ignored) {
        // it is broken anyway
      }
    }
  }

  /**
   * One round trip, one transaction: the outcomes of finished dispatches, the rows the engine refused
   * (given back with a delay), and a claim of up to {@code limit} rows, which are then handed to the
   * dispatch threads. Plus the wake lock, which a relay holds while it waits for work: released
   * once a claim found rows (busy: recorders need not notify, the relay looks by itself), taken
   * after a claim that found none (the claim then runs in a later statement, with a snapshot taken
   * after the lock: every recording transaction that did not notify has ended by then, so its rows
   * are seen).
   */
  private Cycle cycle(int limit) throws SQLException {
    List<Finished> done = new ArrayList<>();
    for (Finished f; (f = finished.poll()) != null; ) {
      done.add(f);
    }
    List<Postponed> back = new ArrayList<>();
    for (Postponed p; (p = postponed.poll()) != null; ) {
      back.add(p);
    }
    boolean unlock = limit > 0 && holdsWakeLock && lastClaimed > 0;
    boolean tryLock = limit > 0 && !holdsWakeLock && lastClaimed == 0;
    if (done.isEmpty() && back.isEmpty() && limit <= 0) {
      return new Cycle(0, Lock.NOT_TRIED);
    }
    List<String> parts = new ArrayList<>(5);
    if (unlock) {
      parts.add(unlockSql);
    }
    if (!done.isEmpty()) {
      parts.add(flushSql);
    }
    if (!back.isEmpty()) {
      parts.add(postponeSql);
    }
    if (tryLock) {
      parts.add(tryLockSql);
    }
    if (limit > 0) {
      parts.add(claimSql);
    }
    List<Row> rows = new ArrayList<>();
    Lock lock = Lock.NOT_TRIED;
    try {
      Connection c = connection();
      try (PreparedStatement ps = c.prepareStatement(String.join(";\n", parts))) {
        int p = 1;
        if (!done.isEmpty()) {
          Long[] ids = new Long[done.size()];
          String[] statuses = new String[ids.length];
          String[] outcomes = new String[ids.length];
          String[] errors = new String[ids.length];
          for (int i = 0; i < ids.length; i++) {
            Finished f = done.get(i);
            ids[i] = f.id();
            statuses[i] = f.status();
            outcomes[i] = f.outcomes();
            errors[i] = f.error();
          }
          ps.setArray(p++, c.createArrayOf("bigint", ids));
          ps.setArray(p++, c.createArrayOf("text", statuses));
          ps.setArray(p++, c.createArrayOf("text", outcomes));
          ps.setArray(p++, c.createArrayOf("text", errors));
        }
        if (!back.isEmpty()) {
          Long[] ids = new Long[back.size()];
          Long[] delays = new Long[ids.length];
          String[] errors = new String[ids.length];
          for (int i = 0; i < ids.length; i++) {
            ids[i] = back.get(i).id();
            delays[i] = back.get(i).delayMs();
            errors[i] = back.get(i).error();
          }
          ps.setArray(p++, c.createArrayOf("bigint", ids));
          ps.setArray(p++, c.createArrayOf("bigint", delays));
          ps.setArray(p++, c.createArrayOf("text", errors));
          ps.setString(p++, owner);
        }
        if (limit > 0) {
          ps.setInt(p++, limit);
          ps.setString(p++, owner);
          ps.setLong(p, lease.toMillis());
        }
        roundTrips.incrementAndGet();
        boolean isResult = ps.execute();
        for (String part : parts) {
          if (isResult) {
            try (ResultSet rs = ps.getResultSet()) {
              if (part == claimSql) {
                while (rs.next()) {
                  rows.add(new Row(rs.getLong(1), rs.getInt(2), rs.getBytes(3), rs.getObject(4, UUID.class)));
                }
              } else if (part == tryLockSql && rs.next()) {
                String k = rs.getString(1);
                lock = "K".equals(k) ? Lock.ACQUIRED : "R".equals(k) ? Lock.OTHER_RELAY_WAITS : Lock.RECORDING;
              }
            }
          }
          isResult = ps.getMoreResults();
        }
      }
    } catch (SQLException | RuntimeException e) {
      // nothing of this transaction was written: the outcomes and postponements go in the next one
      finished.addAll(done);
      postponed.addAll(back);
      if (unlock || tryLock) {
        wakeLockUncertain = true; // session locks ignore the rollback: dropConnection gives it back
      }
      throw e;
    }
    if (unlock) {
      holdsWakeLock = false;
    }
    if (lock == Lock.ACQUIRED) {
      holdsWakeLock = true;
    }
    if (limit > 0) {
      lastClaimed = rows.size();
    }
    for (Finished f : done) {
      inFlight.remove(f.id());
    }
    if (!rows.isEmpty()) {
      dispatch(rows);
    }
    return new Cycle(rows.size(), lock);
  }

  /**
   * Hands the claimed rows to the dispatch threads in contiguous chunks: each parses its rows and
   * calls {@code engine.onCommit} in id order (across chunks the hand-over interleaves).
   */
  private void dispatch(List<Row> rows) {
    // RETURNING order is not guaranteed: dispatch in id (recording) order
    rows.sort((a, b) -> Long.compare(a.id(), b.id()));
    for (Row r : rows) {
      inFlight.put(r.id(), Boolean.TRUE);
    }
    int chunks = Math.min(dispatchThreads, rows.size());
    int per = (rows.size() + chunks - 1) / chunks;
    for (int from = 0; from < rows.size(); from += per) {
      List<Row> chunk = rows.subList(from, Math.min(rows.size(), from + per));
      try {
        dispatchers.execute(() -> dispatchChunk(chunk));
      } catch (RejectedExecutionException e) {
        dispatchChunk(chunk); // closing: do it here
      }
    }
  }

  private void dispatchChunk(List<Row> chunk) {
    boolean queued = false; // outcomes or postponements for the relay thread to write
    for (Row r : chunk) {
      long id = r.id();
      try {
        if (CaptureRows.isCapture(r.json())) {
          queued |= dispatchCaptured(r);
          continue;
        }
        ObservedEvent event;
        try {
          event = ObservedEvent.fromJson(r.json());
        } catch (IllegalArgumentException e) {
          LOG.error("outbox {}: row {} does not hold an event ({}); marking it failed", table, id, e.getMessage());
          finished.add(new Finished(id, "failed", "[]", "unreadable event: " + e.getMessage()));
          queued = true;
          continue;
        }
        Dispatch d;
        try {
          d = engine.onCommit(event);
        } catch (RuntimeException e) {
          // overloaded or closed: give the row back with a delay
          long delayMs = Math.min(60_000L, 500L << Math.min(7, Math.max(0, r.attempts() - 1)));
          String error = e.toString();
          LOG.warn("outbox {}: the engine did not take event row {} ({}); retrying in {}ms", table, id, error, delayMs);
          inFlight.remove(id);
          postponed.add(new Postponed(id, delayMs, error.length() > 500 ? error.substring(0, 500) : error));
          queued = true;
          continue;
        }
        dispatched.incrementAndGet();
        d.completion().whenComplete((outcomes, err) -> {
          finished.add(err == null
              ? new Finished(id, "done", outcomesJson(outcomes == null ? List.of() : outcomes), null)
              : new Finished(id, "failed", "[]", err.toString()));
          wake();
        });
      } catch (RuntimeException e) {
        LOG.error("outbox {}: dispatching row {} failed", table, id, e);
        finished.add(new Finished(id, "failed", "[]", e.toString()));
        queued = true;
      }
    }
    if (queued) {
      wake();
    }
  }

  /**
   * A row a capture trigger wrote (one per statement): its events, one per changed row, are handed
   * to the engine in row order; the row is done when all of them are. If the engine refuses one, the
   * row is given back with a delay and all its events are dispatched again later (with the same ids:
   * effectively-once skips those that had completed). Returns whether something was queued for the
   * relay thread.
   */
  private boolean dispatchCaptured(Row r) {
    long id = r.id();
    List<ObservedEvent> events = new ArrayList<>();
    try {
      for (byte[] json : CaptureRows.split(r.eventId(), r.json())) {
        events.add(ObservedEvent.fromJson(json));
      }
    } catch (IllegalArgumentException e) {
      LOG.error("outbox {}: row {} does not hold captured events ({}); marking it failed", table, id, e.getMessage());
      finished.add(new Finished(id, "failed", "[]", "unreadable capture row: " + e.getMessage()));
      return true;
    }
    List<java.util.concurrent.CompletableFuture<List<DeliveryOutcome>>> completions = new ArrayList<>(events.size());
    for (int i = 0; i < events.size(); i++) {
      try {
        completions.add(engine.onCommit(events.get(i)).completion().toCompletableFuture());
      } catch (RuntimeException e) {
        long delayMs = Math.min(60_000L, 500L << Math.min(7, Math.max(0, r.attempts() - 1)));
        String error = e.toString();
        LOG.warn("outbox {}: the engine did not take event {} of {} of captured row {} ({}); retrying the row in {}ms",
            table, i + 1, events.size(), id, error, delayMs);
        inFlight.remove(id);
        postponed.add(new Postponed(id, delayMs, error.length() > 500 ? error.substring(0, 500) : error));
        return true;
      }
      dispatched.incrementAndGet();
    }
    java.util.concurrent.CompletableFuture.allOf(completions.toArray(new java.util.concurrent.CompletableFuture<?>[0]))
        .whenComplete((ignored, err) -> {
          if (err != null) {
            finished.add(new Finished(id, "failed", "[]", err.toString()));
          } else {
            List<DeliveryOutcome> all = new ArrayList<>();
            for (var f : completions) {
              List<DeliveryOutcome> o = f.join();
              if (o != null) {
                all.addAll(o);
              }
            }
            finished.add(new Finished(id, "done", outcomesJson(all), null));
          }
          wake();
        });
    return false;
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
    Connection c = connection();
    try (PreparedStatement ps = c.prepareStatement("UPDATE " + table.quoted()
        + " SET lease_until = now() + ? * interval '1 millisecond'"
        + " WHERE id = ANY(?) AND lease_owner = ? AND status = 'pending'")) {
      ps.setLong(1, lease.toMillis());
      ps.setArray(2, c.createArrayOf("bigint", ids));
      ps.setString(3, owner);
      roundTrips.incrementAndGet();
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
    try (PreparedStatement ps = connection().prepareStatement("DELETE FROM " + table.quoted() + " WHERE id IN"
        + " (SELECT id FROM " + table.quoted() + " WHERE status = 'done' AND completed_at < now() - ? * interval '1 millisecond'"
        + " LIMIT 10000)")) {
      ps.setLong(1, retention.toMillis());
      roundTrips.incrementAndGet();
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
    dispatchers.shutdown();
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
    private int batchSize = 500;
    private int maxInFlight = 1_000;
    private int dispatchThreads = Math.max(1, Math.min(4, java.lang.Runtime.getRuntime().availableProcessors()));
    private Duration pollInterval = Duration.ofSeconds(1);
    private Duration lease = Duration.ofSeconds(30);
    private Duration retention = Duration.ofHours(24);
    private Duration shutdownTimeout = Duration.ofSeconds(10);
    private boolean createTable = true;
    private PgCapture capture;

    private Builder(ObserverEngine engine, DataSource dataSource) {
      this.engine = Objects.requireNonNull(engine, "engine");
      this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
    }

    /** The outbox to relay ({@link PgOutbox#create()} by default). */
    public Builder outbox(PgOutbox outbox) {
      this.outbox = Objects.requireNonNull(outbox, "outbox");
      return this;
    }

    /**
     * Rows claimed per round trip, at most (500). Each round trip also commits (one fsync) and
     * writes the outcomes that finished meanwhile: larger batches mean fewer of both.
     */
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

    /**
     * Threads that parse claimed events and hand them to the engine (the number of processors, from
     * 1 to 4, by default). With 1, events are handed over strictly in recording order.
     */
    public Builder dispatchThreads(int dispatchThreads) {
      if (dispatchThreads < 1 || dispatchThreads > 64) {
        throw new IllegalArgumentException("dispatchThreads must be from 1 to 64");
      }
      this.dispatchThreads = dispatchThreads;
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

    /**
     * The capture triggers to install (or check) at start and whose rows this relay splits into
     * events. By default {@code PgCapture.of(engine.config(), outbox)}: on when the engine's config says
     * {@code [observers.postgres] capture = "triggers"}.
     */
    public Builder capture(PgCapture capture) {
      this.capture = Objects.requireNonNull(capture, "capture");
      return this;
    }

    /**
     * Creates the relay and starts its thread; with capture on, first installs or checks the triggers.
     *
     * @throws dev.fraiseql.observers.ObserverConfigException when a captured table or column does not exist
     * @throws IllegalStateException when the triggers cannot be installed or checked (database unreachable)
     */
    public PgOutboxRelay start() {
      return new PgOutboxRelay(this).begin();
    }
  }
}

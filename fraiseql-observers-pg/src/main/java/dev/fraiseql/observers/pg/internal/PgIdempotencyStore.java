package dev.fraiseql.observers.pg.internal;

import dev.fraiseql.observers.spi.IdempotencyStore;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Seed 001's idempotency table as an {@link IdempotencyStore}.
 *
 * <p>A row whose {@code claimed_until} is null is processed: every later claim answers
 * {@link Claim#DONE} (rows written by other tools with only the seed's three columns count as
 * processed too). A row with {@code claimed_until} set is a claim in progress; once that time has
 * passed (its owner died) a claim takes it over with a conditional update.
 *
 * <p>Claims, completions and releases are queued and written by one thread in batches: whatever
 * arrived while the previous round trip ran goes in the next one (one statement per kind of
 * operation, up to {@link #MAX_BATCH} keys). The queue holds at most {@code queueCapacity}
 * operations; when it is full a caller waits up to 5 seconds, then its stage fails (the engine
 * treats that as a failed attempt and retries). Releases delete only this instance's own claims.
 */
public final class PgIdempotencyStore implements IdempotencyStore, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(PgIdempotencyStore.class);
  public static final int MAX_BATCH = 500;
  public static final int DEFAULT_QUEUE_CAPACITY = 10_000;

  private enum Kind { CLAIM, COMPLETE, RELEASE }

  private record Op(Kind kind, String key, String listener, long ttlMillis, CompletableFuture<Object> result) {}

  private record Pair(String key, String listener) {}

  private final PgDatabase db;
  private final PgIdentifier table;
  private final boolean createTables;
  private final String owner = UUID.randomUUID().toString();
  private final BlockingQueue<Op> queue;
  private final Thread writer;
  private final ExecutorService callbacks;
  private final AtomicBoolean closed = new AtomicBoolean();
  private final java.util.concurrent.atomic.AtomicLong roundTrips = new java.util.concurrent.atomic.AtomicLong();
  private volatile boolean tableReady;
  private final String claimSql;
  private final String completeSql;
  private final String releaseSql;

  public PgIdempotencyStore(PgDatabase db, PgIdentifier table, boolean createTables, int queueCapacity) {
    this.db = Objects.requireNonNull(db, "db");
    this.table = Objects.requireNonNull(table, "table");
    this.createTables = createTables;
    this.queue = new ArrayBlockingQueue<>(queueCapacity);
    String t = table.quoted();
    this.claimSql = "WITH input AS (SELECT * FROM unnest(?::text[], ?::text[], ?::bigint[]) AS i(k, l, ttl)),"
        + " ins AS (INSERT INTO " + t + " AS t (idempotency_key, listener_id, processed_at, claimed_until, claim_token)"
        + "   SELECT k, l, now(), now() + ttl * interval '1 millisecond', ? FROM input"
        + "   ON CONFLICT (idempotency_key, listener_id) DO NOTHING RETURNING t.idempotency_key, t.listener_id),"
        + " upd AS (UPDATE " + t + " AS t SET claimed_until = now() + i.ttl * interval '1 millisecond',"
        + "   claim_token = ?, processed_at = now() FROM input i"
        + "   WHERE t.idempotency_key = i.k AND t.listener_id = i.l AND t.claimed_until IS NOT NULL"
        + "   AND t.claimed_until < now() RETURNING t.idempotency_key, t.listener_id)"
        + " SELECT i.k, i.l, CASE"
        + "   WHEN EXISTS (SELECT 1 FROM ins WHERE ins.idempotency_key = i.k AND ins.listener_id = i.l)"
        + "     OR EXISTS (SELECT 1 FROM upd WHERE upd.idempotency_key = i.k AND upd.listener_id = i.l) THEN 'C'"
        + "   WHEN EXISTS (SELECT 1 FROM " + t + " x WHERE x.idempotency_key = i.k AND x.listener_id = i.l"
        + "     AND x.claimed_until IS NULL) THEN 'D'"
        + "   ELSE 'B' END FROM input i";
    this.completeSql = "INSERT INTO " + t + " AS t (idempotency_key, listener_id, processed_at, claimed_until, claim_token)"
        + " SELECT k, l, now(), NULL, NULL FROM unnest(?::text[], ?::text[]) AS i(k, l)"
        + " ON CONFLICT (idempotency_key, listener_id) DO UPDATE"
        + " SET processed_at = now(), claimed_until = NULL, claim_token = NULL";
    this.releaseSql = "DELETE FROM " + t + " AS t USING unnest(?::text[], ?::text[]) AS i(k, l)"
        + " WHERE t.idempotency_key = i.k AND t.listener_id = i.l AND t.claimed_until IS NOT NULL AND t.claim_token = ?";
    ThreadPoolExecutor cb = new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS, new LinkedBlockingQueue<>(), r -> {
      Thread th = new Thread(r, "fraiseql-pg-idempotency-callbacks");
      th.setDaemon(true);
      return th;
    });
    this.callbacks = cb;
    this.writer = new Thread(this::run, "fraiseql-pg-idempotency-" + table);
    this.writer.setDaemon(true);
    this.writer.start();
  }

  /** Statements sent so far (claims, completions and releases are batched: this grows slower than calls). */
  public long roundTrips() {
    return roundTrips.get();
  }

  /** The table, e.g. {@code observer_idempotency_keys}. */
  public PgIdentifier table() {
    return table;
  }

  /** Creates the table (and adds the claim columns to a seed-001 table) when allowed. */
  public void ensureTable() throws java.sql.SQLException {
    if (!tableReady) {
      if (createTables) {
        Migrations.apply(db.dataSource(), Migrations.IDEMPOTENCY, Map.of("observer_idempotency_keys", table));
      }
      tableReady = true;
    }
  }

  @Override
  public CompletionStage<Claim> claim(String key, String listenerId, Duration ttl) {
    long ms = Math.max(1, ttl.toMillis());
    return this.<Claim>submit(Kind.CLAIM, key, listenerId, ms);
  }

  @Override
  public CompletionStage<Void> complete(String key, String listenerId) {
    return this.<Void>submit(Kind.COMPLETE, key, listenerId, 0);
  }

  @Override
  public CompletionStage<Void> release(String key, String listenerId) {
    return this.<Void>submit(Kind.RELEASE, key, listenerId, 0);
  }

  @SuppressWarnings("unchecked")
  private <T> CompletionStage<T> submit(Kind kind, String key, String listener, long ttl) {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(listener, "listenerId");
    CompletableFuture<Object> f = new CompletableFuture<>();
    if (closed.get()) {
      f.completeExceptionally(new IllegalStateException("the idempotency store is closed"));
      return (CompletionStage<T>) (CompletionStage<?>) f;
    }
    try {
      if (!queue.offer(new Op(kind, key, listener, ttl, f), 5, TimeUnit.SECONDS)) {
        f.completeExceptionally(new IllegalStateException("idempotency store overloaded: "
            + queue.size() + " operations queued for " + table));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      f.completeExceptionally(e);
    }
    // callers' continuations never run on the writer thread
    return (CompletionStage<T>) (CompletionStage<?>) f.whenCompleteAsync((v, e) -> { }, callbacks);
  }

  private void run() {
    List<Op> batch = new ArrayList<>();
    while (!closed.get() || !queue.isEmpty()) {
      try {
        Op first = queue.poll(200, TimeUnit.MILLISECONDS);
        if (first == null) {
          continue;
        }
        batch.clear();
        batch.add(first);
        queue.drainTo(batch, MAX_BATCH - 1);
        process(batch);
      } catch (InterruptedException e) {
        if (closed.get()) {
          break;
        }
      } catch (RuntimeException e) {
        LOG.error("idempotency store {}: unexpected error", table, e);
        batch.forEach(op -> op.result().completeExceptionally(e));
      }
    }
    for (Op op; (op = queue.poll()) != null; ) {
      op.result().completeExceptionally(new IllegalStateException("the idempotency store is closed"));
    }
  }

  private void process(List<Op> batch) {
    try {
      ensureTable();
      try (Connection c = db.dataSource().getConnection()) {
        if (!c.getAutoCommit()) {
          c.setAutoCommit(true);
        }
        // runs of the same kind, in arrival order (a release must precede the retry's claim)
        int i = 0;
        while (i < batch.size()) {
          int j = i;
          Kind k = batch.get(i).kind();
          while (j < batch.size() && batch.get(j).kind() == k) {
            j++;
          }
          List<Op> run = batch.subList(i, j);
          try {
            switch (k) {
              case CLAIM -> runClaims(c, run);
              case COMPLETE -> runSimple(c, run, completeSql, false);
              case RELEASE -> runSimple(c, run, releaseSql, true);
              default -> throw new IllegalStateException(k.name());
            }
          } catch (SQLException e) {
            fail(run, e);
            if (c.isClosed() || !c.isValid(1)) {
              fail(batch.subList(j, batch.size()), e);
              return;
            }
          }
          i = j;
        }
      }
    } catch (SQLException e) {
      fail(batch, e);
    }
  }

  private void fail(List<Op> ops, SQLException e) {
    LOG.warn("idempotency store {}: {} operation(s) failed: SQLSTATE {} {}", table, ops.size(), e.getSQLState(),
        SqlErrors.message(e));
    for (Op op : ops) {
      op.result().completeExceptionally(e);
    }
  }

  private void runClaims(Connection c, List<Op> ops) throws SQLException {
    Map<Pair, List<Op>> byPair = new LinkedHashMap<>();
    for (Op op : ops) {
      byPair.computeIfAbsent(new Pair(op.key(), op.listener()), p -> new ArrayList<>()).add(op);
    }
    int n = byPair.size();
    String[] keys = new String[n];
    String[] listeners = new String[n];
    Long[] ttls = new Long[n];
    int idx = 0;
    for (Map.Entry<Pair, List<Op>> e : byPair.entrySet()) {
      keys[idx] = e.getKey().key();
      listeners[idx] = e.getKey().listener();
      ttls[idx] = e.getValue().get(0).ttlMillis();
      idx++;
    }
    Map<Pair, Claim> results = new LinkedHashMap<>();
    try (PreparedStatement ps = c.prepareStatement(claimSql)) {
      Array ka = c.createArrayOf("text", keys);
      Array la = c.createArrayOf("text", listeners);
      Array ta = c.createArrayOf("bigint", ttls);
      ps.setArray(1, ka);
      ps.setArray(2, la);
      ps.setArray(3, ta);
      ps.setString(4, owner);
      ps.setString(5, owner);
      roundTrips.incrementAndGet();
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          String code = rs.getString(3);
          Claim claim = "C".equals(code) ? Claim.CLAIMED : "D".equals(code) ? Claim.DONE : Claim.BUSY;
          results.put(new Pair(rs.getString(1), rs.getString(2)), claim);
        }
      }
    }
    for (Map.Entry<Pair, List<Op>> e : byPair.entrySet()) {
      Claim r = results.getOrDefault(e.getKey(), Claim.BUSY);
      List<Op> same = e.getValue();
      same.get(0).result().complete(r);
      for (int k = 1; k < same.size(); k++) {
        // the same key twice in one batch: the first caller holds it
        same.get(k).result().complete(r == Claim.CLAIMED ? Claim.BUSY : r);
      }
    }
  }

  private void runSimple(Connection c, List<Op> ops, String sql, boolean withOwner) throws SQLException {
    Map<Pair, List<Op>> byPair = new LinkedHashMap<>();
    for (Op op : ops) {
      byPair.computeIfAbsent(new Pair(op.key(), op.listener()), p -> new ArrayList<>()).add(op);
    }
    String[] keys = byPair.keySet().stream().map(Pair::key).toArray(String[]::new);
    String[] listeners = byPair.keySet().stream().map(Pair::listener).toArray(String[]::new);
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setArray(1, c.createArrayOf("text", keys));
      ps.setArray(2, c.createArrayOf("text", listeners));
      if (withOwner) {
        ps.setString(3, owner);
      }
      roundTrips.incrementAndGet();
      ps.executeUpdate();
    }
    for (Op op : ops) {
      op.result().complete(null);
    }
  }

  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      try {
        writer.join(TimeUnit.SECONDS.toMillis(10));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      writer.interrupt();
      callbacks.shutdown();
    }
  }

  @Override
  public String toString() {
    return "PgIdempotencyStore{" + table + " on " + db.describe() + "}";
  }
}

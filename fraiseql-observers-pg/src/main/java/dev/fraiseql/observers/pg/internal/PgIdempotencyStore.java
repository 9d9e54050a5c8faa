package dev.fraiseql.observers.pg.internal;

import dev.fraiseql.observers.spi.IdempotencyStore;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
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
 * <p>Claims, completions and releases are queued and written in batches by {@code writers} threads
 * (2 by default), each with its own share of the keys (by hash of key and listener, so the
 * operations on one key stay in arrival order) and its own connection for the round trip. A writer
 * sends whatever arrived while its previous round trip ran (up to {@link #MAX_BATCH} operations) as
 * <b>one</b> round trip and one transaction: the releases, then the completions, then the claims
 * (a plain {@code INSERT ... ON CONFLICT DO NOTHING}). Only claims that found a row already there
 * (a duplicate, a claim in progress, an expired claim) need a second round trip, which takes over
 * expired claims and tells processed keys from busy ones. While one writer waits for PostgreSQL the
 * others send theirs, so commits overlap (group commit) instead of queueing behind one connection.
 *
 * <p>Answers are completed on the writer thread: continuations must not block (the engine always
 * continues on its own executor). The queues hold at most {@code queueCapacity} operations in all;
 * when a writer's share is full a caller waits up to 5 seconds, then its stage fails (the engine
 * treats that as a failed attempt and retries). Releases delete only this instance's own claims.
 */
public final class PgIdempotencyStore implements IdempotencyStore, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(PgIdempotencyStore.class);
  public static final int MAX_BATCH = 2000;
  public static final int DEFAULT_QUEUE_CAPACITY = 10_000;
  public static final int DEFAULT_WRITERS = 2;
  public static final int MAX_WRITERS = 16;

  private enum Kind { CLAIM, COMPLETE, RELEASE }

  private record Op(Kind kind, Pair pair, long ttlMillis, CompletableFuture<Object> result) {}

  private record Pair(String key, String listener) {}

  private final PgDatabase db;
  private final PgIdentifier table;
  private final boolean createTables;
  private final String owner = UUID.randomUUID().toString();
  private final Writer[] writers;
  private final AtomicBoolean closed = new AtomicBoolean();
  private final AtomicLong roundTrips = new AtomicLong();
  private final Object tableLock = new Object();
  private volatile boolean tableReady;
  private final String claimSql;
  private final String contestedSql;
  private final String completeSql;
  private final String releaseSql;

  public PgIdempotencyStore(PgDatabase db, PgIdentifier table, boolean createTables, int queueCapacity) {
    this(db, table, createTables, queueCapacity, DEFAULT_WRITERS);
  }

  /**
   * @param writers threads (each using one connection at a time) writing batches concurrently, 1 to
   *     {@link #MAX_WRITERS}
   */
  public PgIdempotencyStore(PgDatabase db, PgIdentifier table, boolean createTables, int queueCapacity, int writers) {
    this.db = Objects.requireNonNull(db, "db");
    this.table = Objects.requireNonNull(table, "table");
    this.createTables = createTables;
    if (writers < 1 || writers > MAX_WRITERS) {
      throw new IllegalArgumentException("writers must be from 1 to " + MAX_WRITERS);
    }
    String t = table.quoted();
    // new keys: one INSERT; the keys it does not return already had a row (see contestedSql)
    this.claimSql = "INSERT INTO " + t + " AS t (idempotency_key, listener_id, processed_at, claimed_until, claim_token)"
        + " SELECT i.k, i.l, now(), now() + i.ttl * interval '1 millisecond', ?"
        + " FROM unnest(?::text[], ?::text[], ?::bigint[]) AS i(k, l, ttl)"
        + " ON CONFLICT (idempotency_key, listener_id) DO NOTHING RETURNING t.idempotency_key, t.listener_id";
    // keys that had a row: take over expired claims ('C'), report processed keys ('D'); the rest are busy
    this.contestedSql = "WITH input AS (SELECT * FROM unnest(?::text[], ?::text[], ?::bigint[]) AS i(k, l, ttl)),"
        + " upd AS (UPDATE " + t + " AS t SET claimed_until = now() + i.ttl * interval '1 millisecond',"
        + "   claim_token = ?, processed_at = now() FROM input i"
        + "   WHERE t.idempotency_key = i.k AND t.listener_id = i.l AND t.claimed_until IS NOT NULL"
        + "   AND t.claimed_until < now() RETURNING t.idempotency_key, t.listener_id)"
        + " SELECT idempotency_key, listener_id, 'C' FROM upd"
        + " UNION ALL SELECT x.idempotency_key, x.listener_id, 'D' FROM " + t + " x JOIN input i"
        + "   ON x.idempotency_key = i.k AND x.listener_id = i.l WHERE x.claimed_until IS NULL";
    this.completeSql = "INSERT INTO " + t + " AS t (idempotency_key, listener_id, processed_at, claimed_until, claim_token)"
        + " SELECT k, l, now(), NULL, NULL FROM unnest(?::text[], ?::text[]) AS i(k, l)"
        + " ON CONFLICT (idempotency_key, listener_id) DO UPDATE"
        + " SET processed_at = now(), claimed_until = NULL, claim_token = NULL";
    this.releaseSql = "DELETE FROM " + t + " AS t USING unnest(?::text[], ?::text[]) AS i(k, l)"
        + " WHERE t.idempotency_key = i.k AND t.listener_id = i.l AND t.claimed_until IS NOT NULL AND t.claim_token = ?";
    int share = Math.max(1, (queueCapacity + writers - 1) / writers);
    this.writers = new Writer[writers];
    for (int i = 0; i < writers; i++) {
      this.writers[i] = new Writer(i, share);
    }
    for (Writer w : this.writers) {
      w.thread.start();
    }
  }

  /** Round trips sent so far (claims, completions and releases are batched: this grows slower than calls). */
  public long roundTrips() {
    return roundTrips.get();
  }

  /** How many writer threads send batches concurrently. */
  public int writers() {
    return writers.length;
  }

  /** The table, e.g. {@code observer_idempotency_keys}. */
  public PgIdentifier table() {
    return table;
  }

  /** Creates the table (and adds the claim columns to a seed-001 table) when allowed. */
  public void ensureTable() throws SQLException {
    if (!tableReady) {
      synchronized (tableLock) {
        if (!tableReady) {
          if (createTables) {
            Migrations.apply(db.dataSource(), Migrations.IDEMPOTENCY, Map.of("observer_idempotency_keys", table));
          }
          tableReady = true;
        }
      }
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
    // one key always goes to the same writer: its operations stay in arrival order
    Writer w = writers[Math.floorMod(key.hashCode() * 31 + listener.hashCode(), writers.length)];
    try {
      if (!w.queue.offer(new Op(kind, new Pair(key, listener), ttl, f), 5, TimeUnit.SECONDS)) {
        f.completeExceptionally(new IllegalStateException("idempotency store overloaded: "
            + w.queue.size() + " operations queued for " + table + " (writer " + w.index + ")"));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      f.completeExceptionally(e);
    }
    return (CompletionStage<T>) (CompletionStage<?>) f;
  }

  /** One writer: its queue, its thread; it takes a connection for each round trip. */
  private final class Writer {
    final int index;
    final BlockingQueue<Op> queue;
    final Thread thread;

    Writer(int index, int capacity) {
      this.index = index;
      this.queue = new ArrayBlockingQueue<>(capacity);
      this.thread = new Thread(this::run, "fraiseql-pg-idempotency-" + table + "-" + index);
      this.thread.setDaemon(true);
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
  }

  /**
   * One kind's operations of a batch: the first per (key, listener) in arrival order, and the rare
   * repeats (the same key twice in one batch), which take the first one's answer.
   */
  private static final class Group {
    final Map<Pair, Op> first = new LinkedHashMap<>();
    List<Op> repeats;

    void add(Op op) {
      if (first.putIfAbsent(op.pair(), op) != null) {
        if (repeats == null) {
          repeats = new ArrayList<>(2);
        }
        repeats.add(op);
      }
    }

    boolean isEmpty() {
      return first.isEmpty();
    }

    /** Completes every operation with {@code value}. */
    void settle(Object value) {
      for (Op op : first.values()) {
        op.result().complete(value);
      }
      if (repeats != null) {
        repeats.forEach(op -> op.result().complete(value));
      }
    }

    void fail(Throwable e) {
      first.values().forEach(op -> op.result().completeExceptionally(e));
      if (repeats != null) {
        repeats.forEach(op -> op.result().completeExceptionally(e));
      }
    }

    /** Claims only, once every first one is answered: a repeat of a key the first one claimed is busy. */
    void answerRepeats() {
      if (repeats == null) {
        return;
      }
      for (Op op : repeats) {
        CompletableFuture<Object> f = first.get(op.pair()).result();
        f.whenComplete((v, e) -> {
          if (e != null) {
            op.result().completeExceptionally(e);
          } else {
            op.result().complete(v == Claim.CLAIMED ? Claim.BUSY : v);
          }
        });
      }
    }
  }

  private void process(List<Op> batch) {
    Group releases = new Group();
    Group completions = new Group();
    Group claims = new Group();
    for (Op op : batch) {
      (op.kind() == Kind.CLAIM ? claims : op.kind() == Kind.COMPLETE ? completions : releases).add(op);
    }
    for (int attempt = 1; ; attempt++) {
      try {
        ensureTable();
        write(releases, completions, claims);
        claims.answerRepeats();
        return;
      } catch (SQLException e) {
        String state = e.getSQLState();
        if (attempt == 1 && ("40P01".equals(state) || "40001".equals(state))) {
          continue; // a deadlock with another instance's batch: that transaction wrote nothing, send it again
        }
        LOG.warn("idempotency store {}: {} operation(s) failed: SQLSTATE {} {}", table, batch.size(), state,
            SqlErrors.message(e));
        for (Op op : batch) {
          op.result().completeExceptionally(e);
        }
        return;
      }
    }
  }

  /**
   * One round trip, one transaction: releases, completions, claims (in that order: a release must
   * precede the retry's claim of the same key; a completion makes a duplicate's claim answer DONE).
   * Throws only when that transaction failed (then nothing of it was written). A second round trip
   * follows only for claims that met an existing row; if it fails, only those claims fail.
   */
  private void write(Group releases, Group completions, Group claims) throws SQLException {
    StringBuilder sql = new StringBuilder();
    if (!releases.isEmpty()) {
      sql.append(releaseSql);
    }
    if (!completions.isEmpty()) {
      sql.append(sql.length() == 0 ? "" : ";\n").append(completeSql);
    }
    if (!claims.isEmpty()) {
      sql.append(sql.length() == 0 ? "" : ";\n").append(claimSql);
    }
    try (Connection c = db.dataSource().getConnection()) {
      if (!c.getAutoCommit()) {
        c.setAutoCommit(true); // the statements then run in one implicit transaction, committed once
      }
      java.util.Set<Pair> claimed = new java.util.HashSet<>(claims.first.size() * 2);
      try (PreparedStatement ps = c.prepareStatement(sql.toString())) {
        int p = 1;
        if (!releases.isEmpty()) {
          p = bindPairs(c, ps, p, releases.first, false);
          ps.setString(p++, owner);
        }
        if (!completions.isEmpty()) {
          p = bindPairs(c, ps, p, completions.first, false);
        }
        if (!claims.isEmpty()) {
          ps.setString(p++, owner);
          bindPairs(c, ps, p, claims.first, true);
        }
        roundTrips.incrementAndGet();
        boolean isResult = ps.execute();
        while (true) {
          if (isResult) {
            try (ResultSet rs = ps.getResultSet()) {
              while (rs.next()) {
                claimed.add(new Pair(rs.getString(1), rs.getString(2)));
              }
            }
          } else if (ps.getUpdateCount() == -1) {
            break;
          }
          isResult = ps.getMoreResults();
        }
      }
      // committed: answer everything but the contested claims
      releases.settle(null);
      completions.settle(null);
      Map<Pair, Op> contested = new LinkedHashMap<>();
      for (Map.Entry<Pair, Op> e : claims.first.entrySet()) {
        if (claimed.contains(e.getKey())) {
          e.getValue().result().complete(Claim.CLAIMED);
        } else {
          contested.put(e.getKey(), e.getValue());
        }
      }
      if (contested.isEmpty()) {
        return;
      }
      Map<Pair, Claim> answers = new HashMap<>();
      try (PreparedStatement ps = c.prepareStatement(contestedSql)) {
        int p = bindPairs(c, ps, 1, contested, true);
        ps.setString(p, owner);
        roundTrips.incrementAndGet();
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            answers.put(new Pair(rs.getString(1), rs.getString(2)),
                "C".equals(rs.getString(3)) ? Claim.CLAIMED : Claim.DONE);
          }
        }
      } catch (SQLException e) {
        LOG.warn("idempotency store {}: {} contested claim(s) failed: SQLSTATE {} {}", table, contested.size(),
            e.getSQLState(), SqlErrors.message(e));
        contested.values().forEach(op -> op.result().completeExceptionally(e));
        return;
      }
      for (Map.Entry<Pair, Op> e : contested.entrySet()) {
        e.getValue().result().complete(answers.getOrDefault(e.getKey(), Claim.BUSY));
      }
    }
  }

  /** Binds key and listener arrays (sorted, so concurrent instances lock rows in one order), and TTLs for claims. */
  private static int bindPairs(Connection c, PreparedStatement ps, int p, Map<Pair, Op> ops, boolean ttls)
      throws SQLException {
    Op[] sorted = ops.values().toArray(new Op[0]);
    java.util.Arrays.sort(sorted, (a, b) -> {
      int k = a.pair().key().compareTo(b.pair().key());
      return k != 0 ? k : a.pair().listener().compareTo(b.pair().listener());
    });
    String[] keys = new String[sorted.length];
    String[] listeners = new String[sorted.length];
    for (int i = 0; i < sorted.length; i++) {
      keys[i] = sorted[i].pair().key();
      listeners[i] = sorted[i].pair().listener();
    }
    ps.setArray(p++, c.createArrayOf("text", keys));
    ps.setArray(p++, c.createArrayOf("text", listeners));
    if (ttls) {
      Long[] t = new Long[sorted.length];
      for (int i = 0; i < sorted.length; i++) {
        t[i] = sorted[i].ttlMillis();
      }
      ps.setArray(p++, c.createArrayOf("bigint", t));
    }
    return p;
  }

  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      for (Writer w : writers) {
        try {
          w.thread.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(end - System.nanoTime())));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        w.thread.interrupt();
      }
    }
  }

  @Override
  public String toString() {
    return "PgIdempotencyStore{" + table + " on " + db.describe() + ", " + writers.length + " writers}";
  }
}

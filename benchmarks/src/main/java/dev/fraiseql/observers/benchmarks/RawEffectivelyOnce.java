package dev.fraiseql.observers.benchmarks;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;

/**
 * The raw side of {@code pg effectively-once (vs JDBC)}: the same guaranteed work as the pg module's
 * idempotency store, written by hand over plain JDBC and nothing else. Each key is claimed durably
 * before the handler runs (the store's claim statement: {@code INSERT ... SELECT FROM unnest(...) ON
 * CONFLICT DO NOTHING RETURNING}), the handler runs for each claimed key, and the key is then
 * completed durably (the store's completion statement: {@code INSERT ... ON CONFLICT DO UPDATE}). A key
 * counts as done once its completion has committed.
 *
 * <p>Like the store: {@code writers} threads, each owning the keys that hash to it and one connection
 * (here a plain {@code DriverManager} connection, no pool), each sending whatever arrived during its
 * previous round trip (up to 2,000 keys) as one round trip and one implicit transaction — the
 * completions of the keys it handled last time, then the claims of the new keys, with arrays sorted
 * as the store sorts them. Unlike the store there is no engine: the handler runs inline on the writer
 * thread, nothing is routed, no future is made per key, no retry or contested-claim path exists.
 */
final class RawEffectivelyOnce implements AutoCloseable {
  static final int MAX_BATCH = 2000;

  private final String claimSql;
  private final String completeSql;
  private final String owner = UUID.randomUUID().toString();
  private final long ttlMillis;
  private final List<BlockingQueue<String>> queues = new ArrayList<>();
  private final List<Thread> threads = new ArrayList<>();
  private final List<Connection> connections = new ArrayList<>();
  private final LongAdder completed = new LongAdder();
  private final LongAdder roundTrips = new LongAdder();
  private final AtomicReference<Throwable> failure = new AtomicReference<>();
  private volatile boolean closed;

  /**
   * @param table the idempotency table (quoted or plain, {@code schema.name})
   * @param handler runs once per claimed key, on the writer thread
   */
  RawEffectivelyOnce(String url, String table, int writers, int queueCapacity, long ttlMillis, Consumer<String> handler)
      throws SQLException {
    // the store's statements (PgIdempotencyStore), verbatim
    this.claimSql = "INSERT INTO " + table + " AS t (idempotency_key, listener_id, processed_at, claimed_until, claim_token)"
        + " SELECT i.k, i.l, now(), now() + i.ttl * interval '1 millisecond', ?"
        + " FROM unnest(?::text[], ?::text[], ?::bigint[]) AS i(k, l, ttl)"
        + " ON CONFLICT (idempotency_key, listener_id) DO NOTHING RETURNING t.idempotency_key, t.listener_id";
    this.completeSql = "INSERT INTO " + table + " AS t (idempotency_key, listener_id, processed_at, claimed_until, claim_token)"
        + " SELECT k, l, now(), NULL, NULL FROM unnest(?::text[], ?::text[]) AS i(k, l)"
        + " ON CONFLICT (idempotency_key, listener_id) DO UPDATE"
        + " SET processed_at = now(), claimed_until = NULL, claim_token = NULL";
    this.ttlMillis = ttlMillis;
    int share = Math.max(1, (queueCapacity + writers - 1) / writers);
    for (int w = 0; w < writers; w++) {
      Connection c = DriverManager.getConnection(url);
      connections.add(c);
      BlockingQueue<String> q = new ArrayBlockingQueue<>(share);
      queues.add(q);
      Thread t = new Thread(() -> run(c, q, handler), "bench-raw-once-" + w);
      t.setDaemon(true);
      threads.add(t);
    }
    threads.forEach(Thread::start);
  }

  /** Queues {@code key} for its writer (waits while that writer's queue is full, as the store does). */
  void submit(String key) throws InterruptedException {
    Throwable f = failure.get();
    if (f != null) {
      throw new IllegalStateException("a raw writer failed: " + f, f);
    }
    queues.get(Math.floorMod(key.hashCode(), queues.size())).put(key);
  }

  /** Keys whose completion has committed. */
  long completed() {
    return completed.sum();
  }

  long roundTrips() {
    return roundTrips.sum();
  }

  private void run(Connection c, BlockingQueue<String> q, Consumer<String> handler) {
    List<String> claims = new ArrayList<>();
    List<String> handled = new ArrayList<>();
    try {
      while (!closed) {
        claims.clear();
        String first = handled.isEmpty() ? q.poll(200, TimeUnit.MILLISECONDS) : q.poll();
        if (first != null) {
          claims.add(first);
          q.drainTo(claims, MAX_BATCH - 1);
        }
        if (claims.isEmpty() && handled.isEmpty()) {
          continue;
        }
        List<String> claimed = roundTrip(c, handled, claims);
        completed.add(handled.size());
        handled.clear();
        for (String key : claimed) {
          handler.accept(key);
          handled.add(key);
        }
      }
    } catch (InterruptedException e) {
      // closing
    } catch (Throwable e) {
      failure.compareAndSet(null, e);
    }
  }

  /** One round trip, one implicit transaction: the completions, then the claims; returns the keys claimed. */
  private List<String> roundTrip(Connection c, List<String> completions, List<String> claims) throws SQLException {
    String sql = completions.isEmpty() ? claimSql : claims.isEmpty() ? completeSql : completeSql + ";\n" + claimSql;
    List<String> claimed = new ArrayList<>(claims.size());
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      int p = 1;
      if (!completions.isEmpty()) {
        String[] keys = sorted(completions);
        ps.setArray(p++, c.createArrayOf("text", keys));
        ps.setArray(p++, c.createArrayOf("text", listeners(keys.length)));
      }
      if (!claims.isEmpty()) {
        String[] keys = sorted(claims);
        Long[] ttls = new Long[keys.length];
        Arrays.fill(ttls, ttlMillis);
        ps.setString(p++, owner);
        ps.setArray(p++, c.createArrayOf("text", keys));
        ps.setArray(p++, c.createArrayOf("text", listeners(keys.length)));
        ps.setArray(p, c.createArrayOf("bigint", ttls));
      }
      roundTrips.increment();
      boolean isResult = ps.execute();
      while (true) {
        if (isResult) {
          try (ResultSet rs = ps.getResultSet()) {
            while (rs.next()) {
              claimed.add(rs.getString(1));
            }
          }
        } else if (ps.getUpdateCount() == -1) {
          break;
        }
        isResult = ps.getMoreResults();
      }
    }
    if (claimed.size() != claims.size()) {
      Set<String> missing = new HashSet<>(claims);
      missing.removeAll(claimed);
      throw new IllegalStateException(missing.size() + " raw claim(s) met an existing row, e.g. " + missing.iterator().next());
    }
    return claimed;
  }

  static final String LISTENER = "ledger";

  private static String[] listeners(int n) {
    String[] l = new String[n];
    Arrays.fill(l, LISTENER);
    return l;
  }

  private static String[] sorted(List<String> keys) {
    String[] k = keys.toArray(new String[0]);
    Arrays.sort(k);
    return k;
  }

  @Override
  public void close() throws SQLException {
    closed = true;
    for (Thread t : threads) {
      t.interrupt();
      try {
        t.join(10_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    for (Connection c : connections) {
      c.close();
    }
  }
}

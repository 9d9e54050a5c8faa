package dev.fraiseql.observers.benchmarks;

import dev.fraiseql.observers.ObservedEvent;
import dev.fraiseql.observers.ObserverEngine;
import dev.fraiseql.observers.pg.PgOutbox;
import dev.fraiseql.observers.pg.PgOutboxRelay;
import dev.fraiseql.observers.pg.internal.PgDatabase;
import dev.fraiseql.observers.pg.internal.PgUrl;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * pg, three rows, all in a fresh schema of the test database:
 * <ul>
 *   <li>{@code pg effectively-once}: the same no-op Java handler with {@code checkpoint_strategy =
 *       "effectively_once"} (claims and completions in the PostgreSQL idempotency table) against the
 *       default at-least-once; target 0.5.
 *   <li>{@code pg outbox record}: a host transaction (INSERT INTO tb_order + commit) that also records its
 *       event with {@link PgOutbox#record}, against the same transaction without it; one connection per
 *       producer; target 0.8. {@code pg outbox recordAndCommit}: the same with
 *       {@link PgOutbox#recordAndCommit} (the record and the COMMIT in one round trip).
 *   <li>{@code pg relay}: events recorded 100 per transaction and dispatched by a {@link PgOutboxRelay}
 *       to a no-op handler (timed until the handler has seen them all), against raw inserts of the same
 *       rows 100 per transaction into a table of the outbox's shape; target 0.25.
 * </ul>
 */
final class PgCase implements BenchCase {
  static final int TX_BATCH = 100;

  @Override
  public String name() {
    return "pg";
  }

  @Override
  public Optional<String> unavailable() {
    return Servers.unreachable(Servers.pgUrl(), 5432);
  }

  @Override
  public List<Row> run(Options o) throws Exception {
    String schema = "bench_" + Servers.suffix();
    String url = Servers.pgUrl();
    try (Connection admin = DriverManager.getConnection(url)) {
      exec(admin, "CREATE SCHEMA " + schema);
      try {
        exec(admin, "CREATE TABLE " + schema + ".tb_order (id uuid PRIMARY KEY, customer_id uuid NOT NULL,"
            + " total numeric NOT NULL, status text NOT NULL, items jsonb NOT NULL)");
        List<Row> rows = new ArrayList<>();
        rows.addAll(checkpoints(o, url, schema, admin));
        rows.add(ledger(o, url, schema, admin));
        rows.addAll(record(o, url, schema, admin));
        rows.add(relay(o, url, schema, admin));
        return rows;
      } finally {
        exec(admin, "DROP SCHEMA " + schema + " CASCADE");
      }
    }
  }

  private static String engineToml(String url, String schema, boolean effectivelyOnce) {
    return "[observers]\nbackend = \"postgres\"\ndatabase_url = \"" + url + "\"\n"
        + (effectivelyOnce ? "checkpoint_strategy = \"effectively_once\"\n" : "")
        + "idempotency_table = \"" + schema + ".observer_idempotency_keys\"\n\n[observers.postgres]\n"
        + "dead_letter_table = \"" + schema + ".observer_dead_letters\"\nevents_table = \"" + schema + ".observer_events\"\n\n"
        + "[[observers.handlers]]\nname = \"ledger\"\nevent = \"order.created\"\naction = \"handler\"\nhandler = \"ledger\"\n";
  }

  private List<Row> checkpoints(Options o, String url, String schema, Connection admin) throws Exception {
    long n = o.count(20_000, 100);
    LongAdder eo = new LongAdder();
    LongAdder alo = new LongAdder();
    LongAdder rawHandled = new LongAdder();
    AtomicLong seq = new AtomicLong();
    List<Row> rows = new ArrayList<>();
    try (ObserverEngine once = ObserverEngine.builder().configToml(engineToml(url, schema, true))
        .handler("ledger", e -> eo.increment()).build();
        ObserverEngine least = ObserverEngine.builder().configToml(engineToml(url, schema, false))
            .handler("ledger", e -> alo.increment()).build()) {
      Bench.Side ours = engineSide(once, eo, seq, "the handler (effectively-once)");
      Bench.Side atLeastOnce = engineSide(least, alo, seq, "the handler (at-least-once)");
      Bench.Comparison c = Bench.compare(o, n, ours, atLeastOnce);
      Map<String, Object> notes = new LinkedHashMap<>();
      notes.put("raw_side", "the same engine and handler, at_least_once");
      notes.put("idempotency_keys_recorded", count(admin, schema + ".observer_idempotency_keys"));
      notes.put("producers", CoreCase.PRODUCERS);
      rows.add(Row.ratio("pg effectively-once", c, 0.5, notes));

      // the same guaranteed work by hand: the store's claim and completion statements, batched, plain JDBC
      String ourTable = schema + ".observer_idempotency_keys";
      String rawTable = schema + ".raw_idempotency_keys";
      exec(admin, "CREATE TABLE " + rawTable + " (LIKE " + ourTable + " INCLUDING ALL)" + storageOf(admin, ourTable));
      long before = count(admin, ourTable);
      try (RawEffectivelyOnce raw = new RawEffectivelyOnce(url, rawTable, 2, 10_000,
          once.config().claimTtl().toMillis(), key -> rawHandled.increment())) {
        Bench.Side rawSide = count -> {
          long done = raw.completed();
          Bench.drive(CoreCase.PRODUCERS, count, i -> raw.submit(Payload.order(seq.incrementAndGet()).id().toString()));
          return Bench.awaitCount(Bench.budget(count), () -> raw.completed() - done, count, "the raw completions");
        };
        Bench.Comparison r = Bench.compare(o, n, ours, rawSide);
        Map<String, Object> rn = new LinkedHashMap<>();
        rn.put("raw_side", "the store's claim + completion SQL, batched (≤ 2,000 per round trip), 2 writer threads,"
            + " plain JDBC connections, handler inline");
        rn.put("keys_completed_ours", countUnchecked(admin, ourTable + " WHERE claimed_until IS NULL") - before);
        rn.put("keys_completed_raw", countUnchecked(admin, rawTable + " WHERE claimed_until IS NULL"));
        rn.put("raw_handler_runs", rawHandled.sum());
        rn.put("raw_round_trips", raw.roundTrips());
        rn.put("table_storage", storageOf(admin, rawTable).trim());
        rows.add(Row.ratio("pg effectively-once (vs JDBC)", r, 0.8, rn));
      }
    }
    return rows;
  }

  /** {@code " WITH (fillfactor=60)"} when the table has storage parameters, else empty. */
  private static String storageOf(Connection admin, String table) throws SQLException {
    try (PreparedStatement ps = admin.prepareStatement(
        "SELECT array_to_string(reloptions, ', ') FROM pg_class WHERE oid = ?::regclass")) {
      ps.setString(1, table);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        String opts = rs.getString(1);
        return opts == null || opts.isEmpty() ? "" : " WITH (" + opts + ")";
      }
    }
  }

  /**
   * The case effectively-once is for (seed 001: "billing, ledger entries"): a Java handler that writes
   * one ledger row per event to PostgreSQL (its own autocommit INSERT on a pooled connection), with
   * {@code effectively_once} against at-least-once, same handler, same pool.
   */
  private Row ledger(Options o, String url, String schema, Connection admin) throws Exception {
    long n = o.count(10_000, 100);
    exec(admin, "CREATE TABLE " + schema + ".ledger (event_id uuid PRIMARY KEY, order_id uuid NOT NULL,"
        + " total numeric NOT NULL, mode text NOT NULL)");
    String insert = "INSERT INTO " + schema + ".ledger (event_id, order_id, total, mode) VALUES (?, ?, ?, ?)";
    AtomicLong seq = new AtomicLong();
    LongAdder eo = new LongAdder();
    LongAdder alo = new LongAdder();
    // the handler's own pool: the pg module's pool behind database_url (HikariCP), on a URL of its own so it is not shared
    PgDatabase pool = PgDatabase.fromUrl(PgUrl.parse(withAppName(url, "bench-ledger")), CoreCase.WORKERS);
    try (ObserverEngine once = ObserverEngine.builder().configToml(engineToml(url, schema, true))
        .handler("ledger", e -> writeLedger(pool.dataSource(), insert, e, "effectively_once", eo)).build();
        ObserverEngine least = ObserverEngine.builder().configToml(engineToml(url, schema, false))
            .handler("ledger", e -> writeLedger(pool.dataSource(), insert, e, "at_least_once", alo)).build()) {
      Bench.Side ours = engineSide(once, eo, seq, "the ledger handler (effectively-once)");
      Bench.Side raw = engineSide(least, alo, seq, "the ledger handler (at-least-once)");
      Bench.Comparison c = Bench.compare(o, n, ours, raw);
      Map<String, Object> notes = new LinkedHashMap<>();
      notes.put("handler", "one INSERT INTO ledger per event, autocommit, pool of " + CoreCase.WORKERS);
      notes.put("raw_side", "the same engine and handler, at_least_once");
      notes.put("ledger_rows_effectively_once", count(admin, schema + ".ledger WHERE mode = 'effectively_once'"));
      notes.put("ledger_rows_at_least_once", count(admin, schema + ".ledger WHERE mode = 'at_least_once'"));
      return Row.ratio("pg effectively-once (ledger)", c, 0.5, notes);
    } finally {
      pool.close();
    }
  }

  private static void writeLedger(javax.sql.DataSource pool, String insert, ObservedEvent e, String mode, LongAdder done)
      throws SQLException {
    Map<String, Object> row = e.newRow().orElseThrow();
    try (Connection c = pool.getConnection(); PreparedStatement ps = c.prepareStatement(insert)) {
      ps.setObject(1, e.id());
      ps.setObject(2, java.util.UUID.fromString((String) row.get("id")));
      ps.setBigDecimal(3, (java.math.BigDecimal) row.get("total"));
      ps.setString(4, mode);
      ps.executeUpdate();
    }
    done.increment();
  }

  /** One side: fresh order events through {@code engine}, timed until {@code handled} counted them all and nothing is in flight. */
  private static Bench.Side engineSide(ObserverEngine engine, LongAdder handled, AtomicLong seq, String what) {
    return count -> {
      long before = handled.sum();
      Bench.drive(CoreCase.PRODUCERS, count, i -> engine.onCommit(Payload.order(seq.incrementAndGet())));
      long got = Bench.awaitCount(Bench.budget(count), () -> handled.sum() - before, count, what);
      Bench.await(Duration.ofSeconds(60), () -> engine.inFlight() == 0, "in-flight deliveries to end");
      return got;
    };
  }

  /** How a host transaction ends: without the outbox, {@code record} + {@code commit()}, or {@code recordAndCommit}. */
  private enum Tx { RAW, RECORD, RECORD_AND_COMMIT }

  private List<Row> record(Options o, String url, String schema, Connection admin) throws Exception {
    long n = o.count(5_000, 50);
    PgOutbox outbox = PgOutbox.forTable(schema + ".observer_outbox");
    PGSimpleDataSource ds = dataSource(url);
    outbox.createTable(ds);
    String insert = "INSERT INTO " + schema + ".tb_order (id, customer_id, total, status, items) VALUES (?, ?, ?, ?, ?::jsonb)";
    AtomicLong seq = new AtomicLong();
    List<Connection> conns = new ArrayList<>();
    try {
      for (int p = 0; p < CoreCase.PRODUCERS; p++) {
        Connection c = DriverManager.getConnection(url);
        c.setAutoCommit(false);
        conns.add(c);
      }
      List<Row> rows = new ArrayList<>();
      for (Tx mode : List.of(Tx.RECORD, Tx.RECORD_AND_COMMIT)) {
        Bench.Side ours = Bench.prepared(() -> exec(admin, "TRUNCATE " + schema + ".tb_order, " + schema + ".observer_outbox"),
            count -> transactions(conns, count, seq, insert, outbox, mode, admin, schema));
        Bench.Side raw = Bench.prepared(() -> exec(admin, "TRUNCATE " + schema + ".tb_order"),
            count -> transactions(conns, count, seq, insert, outbox, Tx.RAW, admin, schema));
        Bench.Comparison c = Bench.compare(o, n, ours, raw);
        Map<String, Object> notes = new LinkedHashMap<>();
        notes.put("transaction", mode == Tx.RECORD
            ? "INSERT INTO tb_order + PgOutbox.record + commit() (raw: INSERT + commit())"
            : "INSERT INTO tb_order + PgOutbox.recordAndCommit, one round trip for both (raw: INSERT + commit())");
        notes.put("connections", CoreCase.PRODUCERS);
        rows.add(Row.ratio(mode == Tx.RECORD ? "pg outbox record" : "pg outbox recordAndCommit", c, 0.8, notes));
      }
      return rows;
    } finally {
      for (Connection c : conns) {
        c.close();
      }
    }
  }

  /** {@code count} host transactions split over the connections; returns rows committed (outbox rows for ours). */
  private static long transactions(List<Connection> conns, long count, AtomicLong seq, String insert, PgOutbox outbox,
      Tx mode, Connection admin, String schema) throws Exception {
    List<Thread> threads = new ArrayList<>();
    List<Throwable> errors = java.util.Collections.synchronizedList(new ArrayList<>());
    for (int p = 0; p < conns.size(); p++) {
      final int me = p;
      Connection c = conns.get(p);
      Thread t = new Thread(() -> {
        try (PreparedStatement ps = c.prepareStatement(insert)) {
          for (long i = me; i < count; i += conns.size()) {
            ObservedEvent e = Payload.order(seq.incrementAndGet());
            bindOrder(ps, e);
            ps.executeUpdate();
            switch (mode) {
              case RAW -> c.commit();
              case RECORD -> {
                outbox.record(c, e);
                c.commit();
              }
              case RECORD_AND_COMMIT -> outbox.recordAndCommit(c, e);
            }
          }
        } catch (Throwable e) {
          errors.add(e);
        }
      }, "bench-pg-tx-" + p);
      t.start();
      threads.add(t);
    }
    for (Thread t : threads) {
      t.join();
    }
    if (!errors.isEmpty()) {
      throw new IllegalStateException("a host transaction failed: " + errors.get(0), errors.get(0));
    }
    long orders = count(admin, schema + ".tb_order");
    if (mode == Tx.RAW) {
      return orders;
    }
    long recorded = count(admin, schema + ".observer_outbox");
    return Math.min(orders, recorded);
  }

  private static void bindOrder(PreparedStatement ps, ObservedEvent e) throws SQLException {
    Map<String, Object> row = e.newRow().orElseThrow();
    ps.setObject(1, java.util.UUID.fromString((String) row.get("id")));
    ps.setObject(2, java.util.UUID.fromString((String) row.get("customer_id")));
    ps.setBigDecimal(3, (java.math.BigDecimal) row.get("total"));
    ps.setString(4, (String) row.get("status"));
    ps.setString(5, "[{\"sku\":\"SKU-1001\",\"qty\":2,\"price\":49.95},{\"sku\":\"SKU-2002\",\"qty\":1,\"price\":30.00}]");
  }

  private Row relay(Options o, String url, String schema, Connection admin) throws Exception {
    long n = o.count(20_000, 200);
    PgOutbox outbox = PgOutbox.forTable(schema + ".relay_outbox");
    // a pooled DataSource, as a production host passes (the pg module's own pool, as behind database_url)
    PgDatabase pool = PgDatabase.fromUrl(PgUrl.parse(withAppName(url, "bench-relay")), 4);
    javax.sql.DataSource ds = pool.dataSource();
    outbox.createTable(ds);
    exec(admin, "CREATE TABLE " + schema + ".raw_outbox (LIKE " + schema + ".relay_outbox INCLUDING ALL)");
    String rawInsert = "INSERT INTO " + schema + ".raw_outbox (event_id, event) VALUES (?, ?::json)";
    LongAdder handled = new LongAdder();
    AtomicLong seq = new AtomicLong();
    List<Connection> conns = new ArrayList<>();
    String toml = "[observers]\nbackend = \"in-memory\"\n\n[[observers.handlers]]\nname = \"noop\"\nevent = \"order.created\"\n"
        + "action = \"handler\"\nhandler = \"noop\"\n";
    try (ObserverEngine engine = ObserverEngine.builder().configToml(toml).handler("noop", e -> handled.increment()).build();
        PgOutboxRelay relay = PgOutboxRelay.builder(engine, ds).outbox(outbox).start()) {
      for (int p = 0; p < CoreCase.PRODUCERS; p++) {
        Connection c = DriverManager.getConnection(url);
        c.setAutoCommit(false);
        conns.add(c);
      }
      Bench.Side ours = count -> {
        long before = handled.sum();
        batches(conns, count, seq, (c, events) -> outbox.record(c, events));
        return Bench.awaitCount(Bench.budget(count), () -> handled.sum() - before, count, "the no-op handler behind the relay");
      };
      Bench.Side raw = Bench.prepared(() -> exec(admin, "TRUNCATE " + schema + ".raw_outbox"), count -> {
        batches(conns, count, seq, (c, events) -> {
          try (PreparedStatement ps = c.prepareStatement(rawInsert)) {
            for (ObservedEvent e : events) {
              ps.setObject(1, e.id());
              ps.setString(2, e.toJsonString());
              ps.addBatch();
            }
            ps.executeBatch();
          }
        });
        return count(admin, schema + ".raw_outbox");
      });
      Bench.Comparison c = Bench.compare(o, n, ours, raw);
      long total = n * o.rounds() + o.warmup(n);
      Bench.awaitSlowly(Duration.ofSeconds(60), () -> countUnchecked(admin, schema + ".relay_outbox WHERE status = 'done'") >= total,
          "the relay to mark every row done");
      Map<String, Object> notes = new LinkedHashMap<>();
      notes.put("rows_per_transaction", TX_BATCH);
      notes.put("connections", CoreCase.PRODUCERS);
      notes.put("relay_dispatched", relay.dispatchedCount());
      notes.put("outbox_rows_done", countUnchecked(admin, schema + ".relay_outbox WHERE status = 'done'"));
      return Row.ratio("pg relay", c, 0.25, notes);
    } finally {
      for (Connection c : conns) {
        c.close();
      }
      pool.close();
    }
  }

  @FunctionalInterface
  interface Batch {
    void write(Connection c, List<ObservedEvent> events) throws SQLException;
  }

  /** {@code count} rows, 100 per transaction, split over the connections. */
  private static void batches(List<Connection> conns, long count, AtomicLong seq, Batch batch) throws Exception {
    List<Thread> threads = new ArrayList<>();
    List<Throwable> errors = java.util.Collections.synchronizedList(new ArrayList<>());
    long perConn = count / conns.size();
    for (int p = 0; p < conns.size(); p++) {
      Connection c = conns.get(p);
      long mine = p == conns.size() - 1 ? count - perConn * (conns.size() - 1) : perConn;
      Thread t = new Thread(() -> {
        try {
          for (long done = 0; done < mine; ) {
            int size = (int) Math.min(TX_BATCH, mine - done);
            List<ObservedEvent> events = new ArrayList<>(size);
            for (int k = 0; k < size; k++) {
              events.add(Payload.order(seq.incrementAndGet()));
            }
            batch.write(c, events);
            c.commit();
            done += size;
          }
        } catch (Throwable e) {
          errors.add(e);
        }
      }, "bench-pg-batch-" + p);
      t.start();
      threads.add(t);
    }
    for (Thread t : threads) {
      t.join();
    }
    if (!errors.isEmpty()) {
      throw new IllegalStateException("a batch transaction failed: " + errors.get(0), errors.get(0));
    }
  }

  private static String withAppName(String url, String name) {
    return url + (url.contains("?") ? "&" : "?") + "ApplicationName=" + name;
  }

  private static PGSimpleDataSource dataSource(String url) {
    PGSimpleDataSource ds = new PGSimpleDataSource();
    ds.setURL(url);
    return ds;
  }

  private static void exec(Connection c, String sql) throws SQLException {
    try (Statement s = c.createStatement()) {
      s.execute(sql);
    }
  }

  private static long count(Connection c, String tableAndWhere) throws SQLException {
    try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT count(*) FROM " + tableAndWhere)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private static long countUnchecked(Connection c, String tableAndWhere) {
    try {
      return count(c, tableAndWhere);
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }
}

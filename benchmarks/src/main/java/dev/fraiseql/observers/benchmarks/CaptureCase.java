package dev.fraiseql.observers.benchmarks;

import dev.fraiseql.observers.ObserverEngine;
import dev.fraiseql.observers.pg.PgCapture;
import dev.fraiseql.observers.pg.PgOutbox;
import dev.fraiseql.observers.pg.PgOutboxRelay;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * capture (zero-code capture triggers), all in a fresh schema. Two identical order tables: one with
 * the capture triggers {@link PgCapture} installs, one without. Each row runs paired rounds (ours and
 * raw alternate, first side alternating) and reports the medians plus the per-round ratios' median,
 * min and max.
 * <ul>
 *   <li>{@code capture one-row tx}: INSERT one order + commit, 2 connections; target 0.8.
 *   <li>{@code capture 10k-row statement}: one {@code INSERT ... SELECT} of 10,000 orders; target 0.5.
 *       Beside it, without a target, the other design: a row-level trigger writing one outbox row per
 *       row (what the statement trigger avoids).
 *   <li>{@code capture relay}: orders inserted 100 per transaction (100 single-row INSERT statements,
 *       so 100 outbox rows) into the captured table, timed until a no-op handler behind the relay has
 *       seen every row; raw: the same rows inserted 100 per transaction into a table of the outbox's
 *       shape; target 0.25.
 * </ul>
 */
final class CaptureCase implements BenchCase {
  private static final String COLUMNS = "(id bigint PRIMARY KEY, customer_id uuid NOT NULL, total numeric NOT NULL,"
      + " status text NOT NULL, items jsonb NOT NULL)";
  private static final String VALUES = "(?, '7c9e6679-7425-40de-944b-e07fc1f90ae7', 129.90, 'pending',"
      + " '[{\"sku\":\"SKU-1001\",\"qty\":2,\"price\":49.95},{\"sku\":\"SKU-2002\",\"qty\":1,\"price\":30.00}]')";
  private static final String SELECT = " SELECT g, '7c9e6679-7425-40de-944b-e07fc1f90ae7', 129.90, 'pending',"
      + " '[{\"sku\":\"SKU-1001\",\"qty\":2,\"price\":49.95},{\"sku\":\"SKU-2002\",\"qty\":1,\"price\":30.00}]'::jsonb"
      + " FROM generate_series(?::bigint, ?::bigint) g";
  static final int BULK = 10_000;

  @Override
  public String name() {
    return "capture";
  }

  @Override
  public Optional<String> unavailable() {
    return Servers.unreachable(Servers.pgUrl(), 5432);
  }

  @Override
  public List<Row> run(Options o) throws Exception {
    String schema = "bench_cap_" + Servers.suffix();
    String url = Servers.pgUrl();
    try (Connection admin = DriverManager.getConnection(url)) {
      exec(admin, "CREATE SCHEMA " + schema);
      try {
        exec(admin, "CREATE TABLE " + schema + ".tb_order " + COLUMNS);
        exec(admin, "CREATE TABLE " + schema + ".raw_order " + COLUMNS);
        PGSimpleDataSource ds = new PGSimpleDataSource();
        ds.setURL(url);
        PgOutbox outbox = PgOutbox.forTable(schema + ".observer_outbox");
        String toml = "[observers.postgres]\ncapture = \"triggers\"\n\n[[observers.capture]]\ntable = \"" + schema
            + ".tb_order\"\nentity = \"order\"\n\n[[observers.handlers]]\nname = \"noop\"\nevent = \"order.created\"\n"
            + "action = \"handler\"\nhandler = \"noop\"\n";
        LongAdder handled = new LongAdder();
        List<Row> rows = new ArrayList<>();
        try (ObserverEngine engine = ObserverEngine.builder().configToml(toml).handler("noop", e -> handled.increment())
            .build()) {
          PgCapture capture = PgCapture.of(engine.config(), outbox);
          capture.install(ds);
          rows.add(oneRow(o, url, schema, admin));
          rows.addAll(bulk(o, url, schema, admin));
          rows.add(relay(o, url, schema, admin, engine, ds, outbox, handled));
        }
        return rows;
      } finally {
        exec(admin, "DROP SCHEMA " + schema + " CASCADE");
      }
    }
  }

  /** Paired rounds: medians of each side and of the per-round ratios. */
  private static Row paired(String name, Options o, long n, Bench.Side ours, Bench.Side raw, double target,
      Map<String, Object> notes) throws Exception {
    long warm = o.warmup(n);
    ours.prepare();
    Bench.check(name + " warm-up (ours)", warm, ours.run(warm));
    raw.prepare();
    Bench.check(name + " warm-up (raw)", warm, raw.run(warm));
    int rounds = Math.max(3, o.rounds());
    double[] a = new double[rounds];
    double[] b = new double[rounds];
    double[] ratio = new double[rounds];
    long oursGot = 0;
    long rawGot = 0;
    for (int r = 0; r < rounds; r++) {
      long[] x;
      long[] y;
      if (r % 2 == 0) {
        x = Bench.timed(ours, n);
        y = Bench.timed(raw, n);
      } else {
        y = Bench.timed(raw, n);
        x = Bench.timed(ours, n);
      }
      a[r] = Bench.opsPerSec(n, x[0]);
      b[r] = Bench.opsPerSec(n, y[0]);
      ratio[r] = a[r] / b[r];
      oursGot += x[1];
      rawGot += y[1];
    }
    double[] sorted = ratio.clone();
    Arrays.sort(sorted);
    Map<String, Object> all = new LinkedHashMap<>(notes);
    all.put("paired_ratio_median", round(Bench.median(ratio)));
    all.put("paired_ratio_min", round(sorted[0]));
    all.put("paired_ratio_max", round(sorted[sorted.length - 1]));
    all.put("rounds", rounds);
    return Row.ratio(name, new Bench.Comparison(Bench.median(a), Bench.median(b), Bench.median(ratio), sorted[0],
        sorted[sorted.length - 1], rounds, n * rounds, oursGot, rawGot), target, all);
  }

  private static double round(double v) {
    return Math.round(v * 1000) / 1000.0;
  }

  private Row oneRow(Options o, String url, String schema, Connection admin) throws Exception {
    long n = o.count(4_000, 40);
    AtomicLong seq = new AtomicLong();
    List<Connection> conns = connections(url, CoreCase.PRODUCERS);
    try {
      Bench.Side ours = Bench.prepared(() -> exec(admin, "TRUNCATE " + schema + ".tb_order, " + schema + ".observer_outbox"),
          count -> {
            oneRowTransactions(conns, count, seq, "INSERT INTO " + schema + ".tb_order VALUES " + VALUES);
            return Math.min(count(admin, schema + ".tb_order"), count(admin, schema + ".observer_outbox"));
          });
      Bench.Side raw = Bench.prepared(() -> exec(admin, "TRUNCATE " + schema + ".raw_order"), count -> {
        oneRowTransactions(conns, count, seq, "INSERT INTO " + schema + ".raw_order VALUES " + VALUES);
        return count(admin, schema + ".raw_order");
      });
      Map<String, Object> notes = new LinkedHashMap<>();
      notes.put("transaction", "INSERT one order + commit (ours: the table has the INSERT capture trigger)");
      notes.put("connections", CoreCase.PRODUCERS);
      return paired("capture one-row tx", o, n, ours, raw, 0.8, notes);
    } finally {
      close(conns);
    }
  }

  private List<Row> bulk(Options o, String url, String schema, Connection admin) throws Exception {
    long statements = o.smoke() ? 1 : Math.max(2, Math.round(6 * o.scale()));
    long n = statements * BULK;
    AtomicLong seq = new AtomicLong();
    List<Row> rows = new ArrayList<>();
    try (Connection c = DriverManager.getConnection(url)) {
      c.setAutoCommit(false);
      Bench.Side ours = Bench.prepared(() -> exec(admin, "TRUNCATE " + schema + ".tb_order, " + schema + ".observer_outbox"),
          count -> {
            bulkStatements(c, count, seq, "INSERT INTO " + schema + ".tb_order" + SELECT);
            long events = count(admin, "(SELECT json_array_length(event->'rows') AS k FROM " + schema
                + ".observer_outbox) x", "coalesce(sum(k), 0)");
            return Math.min(count(admin, schema + ".tb_order"), events);
          });
      Bench.Side raw = Bench.prepared(() -> exec(admin, "TRUNCATE " + schema + ".raw_order"), count -> {
        bulkStatements(c, count, seq, "INSERT INTO " + schema + ".raw_order" + SELECT);
        return count(admin, schema + ".raw_order");
      });
      Map<String, Object> notes = new LinkedHashMap<>();
      notes.put("statement", "INSERT INTO orders SELECT ... FROM generate_series (10,000 rows), then commit; rates in rows/s");
      notes.put("outbox_rows_per_statement", 1);
      rows.add(paired("capture 10k-row statement", o, n, ours, raw, 0.5, notes));

      // the other design, for comparison: a row-level trigger, one outbox row per changed row
      exec(admin, "CREATE TABLE " + schema + ".row_order " + COLUMNS);
      exec(admin, "CREATE TABLE " + schema + ".row_outbox (LIKE " + schema + ".observer_outbox INCLUDING ALL)");
      exec(admin, "CREATE FUNCTION " + schema + ".row_capture() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
          + " INSERT INTO " + schema + ".row_outbox (event_id, event) VALUES (gen_random_uuid(), json_build_object("
          + "'event', 'INSERT', 'table', 'tb_order', 'timestamp', clock_timestamp(), 'data', json_build_object("
          + "'new', row_to_json(NEW), 'old', NULL), 'context', json_build_object('event_name', 'order.created',"
          + " 'user_id', nullif(current_setting('fraiseql.user_id', true), ''))));"
          + " RETURN NULL; END $$");
      exec(admin, "CREATE TRIGGER row_capture AFTER INSERT ON " + schema + ".row_order FOR EACH ROW EXECUTE FUNCTION "
          + schema + ".row_capture()");
      Bench.Side rowLevel = Bench.prepared(() -> exec(admin, "TRUNCATE " + schema + ".row_order, " + schema
          + ".row_outbox"), count -> {
            bulkStatements(c, count, seq, "INSERT INTO " + schema + ".row_order" + SELECT);
            return Math.min(count(admin, schema + ".row_order"), count(admin, schema + ".row_outbox"));
          });
      Map<String, Object> rowNotes = new LinkedHashMap<>();
      rowNotes.put("design", "row-level AFTER INSERT trigger, one outbox INSERT per row (not shipped; for comparison)");
      Row r = paired("capture 10k-row statement, row-trigger design", o, n, rowLevel, raw, Double.NaN, rowNotes);
      rows.add(new Row(r.name(), r.ours(), r.raw(), r.ratio(), r.ratioMin(), r.ratioMax(), r.pairs(), Double.NaN, r.sent(),
          r.oursReceived(), r.rawReceived(), true,
          r.notes()));
    }
    return rows;
  }

  private Row relay(Options o, String url, String schema, Connection admin, ObserverEngine engine,
      PGSimpleDataSource ds, PgOutbox outbox, LongAdder handled) throws Exception {
    long n = o.count(20_000, 200);
    exec(admin, "TRUNCATE " + schema + ".tb_order, " + schema + ".observer_outbox");
    exec(admin, "CREATE TABLE " + schema + ".raw_outbox (LIKE " + schema + ".observer_outbox INCLUDING ALL)");
    AtomicLong seq = new AtomicLong(1_000_000_000L);
    List<Connection> conns = connections(url, CoreCase.PRODUCERS);
    String rawInsert = "INSERT INTO " + schema + ".raw_outbox (event_id, event) VALUES (gen_random_uuid(), ?::json)";
    String event = "{\"event\":\"INSERT\",\"table\":\"tb_order\",\"data\":{\"new\":{\"id\":%d,\"customer_id\":"
        + "\"7c9e6679-7425-40de-944b-e07fc1f90ae7\",\"total\":129.90,\"status\":\"pending\",\"items\":[{\"sku\":\"SKU-1001\","
        + "\"qty\":2,\"price\":49.95},{\"sku\":\"SKU-2002\",\"qty\":1,\"price\":30.00}]},\"old\":null}}";
    try (PgOutboxRelay relay = PgOutboxRelay.builder(engine, ds).outbox(outbox).start()) {
      Bench.Side ours = count -> {
        long before = handled.sum();
        batches(conns, count, seq, "INSERT INTO " + schema + ".tb_order VALUES " + VALUES, null);
        return Bench.awaitCount(Bench.budget(count), () -> handled.sum() - before, count,
            "the no-op handler behind capture and the relay");
      };
      Bench.Side raw = Bench.prepared(() -> exec(admin, "TRUNCATE " + schema + ".raw_outbox"), count -> {
        batches(conns, count, seq, rawInsert, event);
        return count(admin, schema + ".raw_outbox");
      });
      Map<String, Object> notes = new LinkedHashMap<>();
      notes.put("rows_per_transaction", PgCase.TX_BATCH);
      notes.put("ours", "100 single-row INSERTs into the captured table per transaction, timed until the handler saw them");
      notes.put("raw", "the same rows' JSON inserted 100 per transaction (JDBC batch) into a table of the outbox's shape");
      notes.put("connections", CoreCase.PRODUCERS);
      Row r = paired("capture relay", o, n, ours, raw, 0.25, notes);
      r.notes().put("relay_dispatched", relay.dispatchedCount());
      return r;
    } finally {
      close(conns);
    }
  }

  private static List<Connection> connections(String url, int k) throws SQLException {
    List<Connection> conns = new ArrayList<>();
    for (int p = 0; p < k; p++) {
      Connection c = DriverManager.getConnection(url);
      c.setAutoCommit(false);
      conns.add(c);
    }
    return conns;
  }

  private static void close(List<Connection> conns) throws SQLException {
    for (Connection c : conns) {
      c.close();
    }
  }

  private static void oneRowTransactions(List<Connection> conns, long count, AtomicLong seq, String sql) throws Exception {
    parallel(conns, (c, me) -> {
      try (PreparedStatement ps = c.prepareStatement(sql)) {
        for (long i = me; i < count; i += conns.size()) {
          ps.setLong(1, seq.incrementAndGet());
          ps.executeUpdate();
          c.commit();
        }
      }
    });
  }

  private static void bulkStatements(Connection c, long rows, AtomicLong seq, String sql) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      for (long done = 0; done < rows; done += BULK) {
        long from = seq.get() + 1;
        long size = Math.min(BULK, rows - done);
        seq.addAndGet(size);
        ps.setLong(1, from);
        ps.setLong(2, from + size - 1);
        ps.executeUpdate();
        c.commit();
      }
    }
  }

  /** {@code count} rows, 100 per transaction (a JDBC batch of single-row statements), over the connections. */
  private static void batches(List<Connection> conns, long count, AtomicLong seq, String sql, String eventFormat)
      throws Exception {
    long perConn = count / conns.size();
    parallel(conns, (c, me) -> {
      long mine = me == conns.size() - 1 ? count - perConn * (conns.size() - 1) : perConn;
      try (PreparedStatement ps = c.prepareStatement(sql)) {
        for (long done = 0; done < mine; ) {
          int size = (int) Math.min(PgCase.TX_BATCH, mine - done);
          for (int k = 0; k < size; k++) {
            long id = seq.incrementAndGet();
            if (eventFormat == null) {
              ps.setLong(1, id);
            } else {
              ps.setString(1, String.format(eventFormat, id));
            }
            ps.addBatch();
          }
          ps.executeBatch();
          c.commit();
          done += size;
        }
      }
    });
  }

  @FunctionalInterface
  private interface PerConnection {
    void run(Connection c, int me) throws Exception;
  }

  private static void parallel(List<Connection> conns, PerConnection work) throws Exception {
    List<Thread> threads = new ArrayList<>();
    List<Throwable> errors = java.util.Collections.synchronizedList(new ArrayList<>());
    for (int p = 0; p < conns.size(); p++) {
      final int me = p;
      Connection c = conns.get(p);
      Thread t = new Thread(() -> {
        try {
          work.run(c, me);
        } catch (Throwable e) {
          errors.add(e);
        }
      }, "bench-capture-" + p);
      t.start();
      threads.add(t);
    }
    for (Thread t : threads) {
      t.join();
    }
    if (!errors.isEmpty()) {
      throw new IllegalStateException("a transaction failed: " + errors.get(0), errors.get(0));
    }
  }

  private static void exec(Connection c, String sql) throws SQLException {
    try (Statement s = c.createStatement()) {
      s.execute(sql);
    }
  }

  private static long count(Connection c, String tableAndWhere) throws SQLException {
    return count(c, tableAndWhere, "count(*)");
  }

  private static long count(Connection c, String from, String what) throws SQLException {
    try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT " + what + " FROM " + from)) {
      rs.next();
      return rs.getLong(1);
    }
  }
}

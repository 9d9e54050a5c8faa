package dev.fraiseql.observers.pg;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fraiseql.observers.ObservedEvent;
import dev.fraiseql.observers.ObserverEngine;
import dev.fraiseql.observers.config.CheckpointStrategy;
import dev.fraiseql.observers.config.OverflowPolicy;
import dev.fraiseql.observers.config.HandlerConfig;
import dev.fraiseql.observers.config.ObserversConfig;
import dev.fraiseql.observers.config.RetryPolicy;
import dev.fraiseql.observers.config.Settings;
import dev.fraiseql.observers.pg.internal.Migrations;
import dev.fraiseql.observers.pg.internal.PgIdentifier;
import dev.fraiseql.observers.spi.PermanentFailureException;
import java.io.File;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.postgresql.ds.PGSimpleDataSource;

@SuppressWarnings("try") // resources opened for their side effects (relays, subscribers)
class PgOutboxIT {
  static PgTestSupport pg;

  @BeforeAll
  static void setUp() {
    pg = new PgTestSupport();
  }

  @AfterAll
  static void tearDown() {
    pg.close();
  }

  /** One handler, {@code ship}, on every order.created. */
  static ObserversConfig config() {
    return ObserversConfig.builder()
        .handler(HandlerConfig.builder("ship").event("order.created").action("handler")
            .settings(Settings.of("[[observers.handlers]] ship", Map.of("handler", "ship")))
            .retry(RetryPolicy.custom().maxAttempts(3).initialDelay(Duration.ofMillis(20)).build()).build())
        .build();
  }

  /** A SQL-function handler {@code reserve} under effectively-once. */
  static ObserversConfig sqlConfig(String url, String function, String idempotencyTable) {
    return ObserversConfig.builder().checkpointStrategy(CheckpointStrategy.EFFECTIVELY_ONCE)
        .idempotencyTable(idempotencyTable)
        .backendSettings(Settings.of("[observers]", Map.of("database_url", url)))
        .handler(HandlerConfig.builder("reserve").event("order.created").action("sql")
            .settings(Settings.of("[[observers.handlers]] reserve", Map.of("function", function)))
            .retry(RetryPolicy.custom().maxAttempts(5).initialDelay(Duration.ofMillis(20)).build()).build())
        .build();
  }

  private static ObservedEvent order(int i) {
    return ObservedEvent.insert("tb_order", Map.of("id", "o-" + i));
  }

  private static void recordCommitted(PgOutbox outbox, List<ObservedEvent> events) throws Exception {
    try (Connection c = pg.ds().getConnection()) {
      c.setAutoCommit(false);
      outbox.record(c, events);
      c.commit();
    }
  }

  @Test
  void eventsAreDispatchedAfterCommitNeverBeforeAndRollbackDispatchesNothing() throws Exception {
    PgOutbox outbox = PgOutbox.forTable(pg.t("outbox_tx"));
    outbox.createTable(pg.ds());
    Map<String, AtomicInteger> seen = new ConcurrentHashMap<>();
    try (ObserverEngine engine = ObserverEngine.builder().config(config())
            .handler("ship", e -> seen.computeIfAbsent(e.newRow().orElseThrow().get("id").toString(),
                k -> new AtomicInteger()).incrementAndGet()).build();
         // a long poll interval: only NOTIFY (sent on commit) can wake the relay quickly
         PgOutboxRelay relay = PgOutboxRelay.builder(engine, pg.ds()).outbox(outbox)
             .pollInterval(Duration.ofSeconds(30)).start()) {
      try (Connection c = pg.ds().getConnection()) {
        c.setAutoCommit(false);
        outbox.record(c, order(1));
        c.rollback();
      }
      try (Connection c = pg.ds().getConnection()) {
        c.setAutoCommit(false);
        outbox.record(c, order(2));
        // not committed yet: the relay cannot see it
        Thread.sleep(500);
        assertThat(seen).doesNotContainKey("o-2");
        long t0 = System.nanoTime();
        c.commit();
        PgTestSupport.await(Duration.ofSeconds(5), () -> seen.containsKey("o-2"));
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(5));
      }
      recordCommitted(outbox, List.of(order(3)));
      PgTestSupport.await(Duration.ofSeconds(5), () -> seen.containsKey("o-3"));
      PgTestSupport.await(Duration.ofSeconds(5), () -> pg.count("SELECT count(*) FROM " + outbox.table()
          + " WHERE status = 'done' AND outcomes @> '[{\"handler\":\"ship\",\"status\":\"DELIVERED\",\"attempts\":1}]'") == 2);
      assertThat(seen).doesNotContainKey("o-1");
      assertThat(seen.get("o-2").get()).isEqualTo(1);
      assertThat(pg.count("SELECT count(*) FROM " + outbox.table())).isEqualTo(2);
    }
  }

  @Test
  void twoRelaysDeliverEachRowExactlyOnce() throws Exception {
    PgOutbox outbox = PgOutbox.forTable(pg.t("outbox_two"));
    outbox.createTable(pg.ds());
    Map<String, List<String>> deliveries = new ConcurrentHashMap<>();
    ObserverEngine.Builder a = ObserverEngine.builder().config(config()).handler("ship", e -> {
      deliveries.computeIfAbsent(e.id().toString(), k -> new java.util.concurrent.CopyOnWriteArrayList<>()).add("a");
      Thread.sleep(ThreadLocalRandom.current().nextInt(3));
    });
    ObserverEngine.Builder b = ObserverEngine.builder().config(config()).handler("ship", e -> {
      deliveries.computeIfAbsent(e.id().toString(), k -> new java.util.concurrent.CopyOnWriteArrayList<>()).add("b");
      Thread.sleep(ThreadLocalRandom.current().nextInt(3));
    });
    List<ObservedEvent> events = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      events.add(order(i));
    }
    try (ObserverEngine ea = a.build(); ObserverEngine eb = b.build();
         PgOutboxRelay ra = PgOutboxRelay.builder(ea, pg.ds()).outbox(outbox).batchSize(7)
             .pollInterval(Duration.ofMillis(50)).lease(Duration.ofSeconds(20)).start();
         PgOutboxRelay rb = PgOutboxRelay.builder(eb, pg.ds()).outbox(outbox).batchSize(7)
             .pollInterval(Duration.ofMillis(50)).lease(Duration.ofSeconds(20)).start()) {
      for (int i = 0; i < events.size(); i += 10) {
        recordCommitted(outbox, events.subList(i, i + 10));
      }
      PgTestSupport.await(Duration.ofSeconds(60), () -> pg.count("SELECT count(*) FROM " + outbox.table()
          + " WHERE status = 'done'") == events.size());
      assertThat(deliveries).hasSize(events.size());
      assertThat(deliveries.values()).allSatisfy(l -> assertThat(l).hasSize(1));
      assertThat(ra.dispatchedCount() + rb.dispatchedCount()).isEqualTo(events.size());
      assertThat(ra.dispatchedCount()).isPositive();
      assertThat(rb.dispatchedCount()).isPositive();
    }
  }

  @Test
  void retentionDeletesDeliveredRows() throws Exception {
    PgOutbox outbox = PgOutbox.forTable(pg.t("outbox_retention"));
    AtomicInteger n = new AtomicInteger();
    try (ObserverEngine engine = ObserverEngine.builder().config(config()).handler("ship", e -> n.incrementAndGet())
            .build();
         PgOutboxRelay relay = PgOutboxRelay.builder(engine, pg.ds()).outbox(outbox)
             .retention(Duration.ofMillis(1)).pollInterval(Duration.ofMillis(100)).start()) {
      PgTestSupport.await(Duration.ofSeconds(10), () -> pg.count("SELECT count(*) FROM information_schema.tables"
          + " WHERE table_schema = '" + pg.schema + "' AND table_name = 'outbox_retention'") == 1);
      recordCommitted(outbox, List.of(order(1), order(2), order(3)));
      PgTestSupport.await(Duration.ofSeconds(10), () -> n.get() == 3);
      PgTestSupport.await(Duration.ofSeconds(10), () -> pg.count("SELECT count(*) FROM " + outbox.table()) == 0);
    }
  }

  @Test
  void aHostKilledWithSigkillMidBatchLosesNothing() throws Exception {
    PgOutbox outbox = PgOutbox.forTable(pg.t("outbox_crash"));
    outbox.createTable(pg.ds());
    String deliveries = pg.t("crash_deliveries");
    pg.exec("CREATE TABLE " + deliveries + " (event_id TEXT NOT NULL, relay TEXT NOT NULL)");
    List<ObservedEvent> events = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      events.add(order(i));
    }
    recordCommitted(outbox, events);

    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    File log = new File("target/outbox-child.log");
    Process child = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
        OutboxChildMain.class.getName(), PgTestSupport.URL, outbox.table(), deliveries, "1500")
        .redirectErrorStream(true).redirectOutput(log).start();
    try {
      PgTestSupport.await(Duration.ofSeconds(60), () -> pg.count("SELECT count(*) FROM " + deliveries) >= 3);
      child.destroyForcibly(); // SIGKILL, in the middle of a batch
      child.waitFor();
    } finally {
      if (child.isAlive()) {
        child.destroyForcibly();
      }
    }
    long byChild = pg.count("SELECT count(*) FROM " + deliveries);
    assertThat(byChild).isLessThan(events.size());
    // the dead relay's rows are still claimed, unfinished
    assertThat(pg.count("SELECT count(*) FROM " + outbox.table() + " WHERE status = 'pending'")).isPositive();

    try (ObserverEngine engine = ObserverEngine.builder().config(config()).handler("ship", e -> {
          try (Connection c = pg.ds().getConnection(); Statement st = c.createStatement()) {
            st.executeUpdate("INSERT INTO " + deliveries + " (event_id, relay) VALUES ('" + e.id() + "', 'parent')");
          }
        }).build();
         PgOutboxRelay relay = PgOutboxRelay.builder(engine, pg.ds()).outbox(outbox)
             .pollInterval(Duration.ofMillis(100)).start()) {
      PgTestSupport.await(Duration.ofSeconds(60), () -> pg.count("SELECT count(*) FROM " + outbox.table()
          + " WHERE status = 'done'") == events.size());
    }
    Set<String> delivered = new HashSet<>();
    try (Connection c = pg.ds().getConnection(); Statement st = c.createStatement();
         ResultSet rs = st.executeQuery("SELECT DISTINCT event_id FROM " + deliveries)) {
      while (rs.next()) {
        delivered.add(rs.getString(1));
      }
    }
    Set<String> expected = new HashSet<>();
    events.forEach(e -> expected.add(e.id().toString()));
    assertThat(delivered).isEqualTo(expected);
    // at-least-once: only rows the child had claimed (at most its 5 in flight) may have run twice
    assertThat(pg.count("SELECT count(*) FROM " + deliveries) - events.size()).isBetween(0L, 5L);
  }

  @Test
  void outboxPlusSqlHandlerUnderEffectivelyOnceSurvivesSigkillWithExactlyOneEffectPerEvent() throws Exception {
    PgOutbox outbox = PgOutbox.forTable(pg.t("outbox_eo"));
    outbox.createTable(pg.ds());
    String effects = pg.t("eo_effects");
    String function = pg.t("fn_slow_reserve");
    String idem = pg.t("eo_idempotency");
    pg.exec("CREATE TABLE " + effects + " (event_id TEXT NOT NULL)");
    // slow, so that the kill lands inside the function's transaction for some event
    pg.exec("CREATE FUNCTION " + function + "(payload jsonb) RETURNS void LANGUAGE sql AS $$"
        + " INSERT INTO " + effects + " VALUES (payload->>'id'); SELECT pg_sleep(0.1) $$");
    List<ObservedEvent> events = new ArrayList<>();
    for (int i = 0; i < 30; i++) {
      events.add(order(i));
    }
    recordCommitted(outbox, events);

    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process child = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
        OutboxChildMain.class.getName(), PgTestSupport.URL, outbox.table(), pg.t("unused"), "1500", "sql", function, idem)
        .redirectErrorStream(true).redirectOutput(new File("target/outbox-child-sql.log")).start();
    try {
      PgTestSupport.await(Duration.ofSeconds(60), () -> pg.count("SELECT count(*) FROM " + effects) >= 4);
      child.destroyForcibly();
      child.waitFor();
    } finally {
      if (child.isAlive()) {
        child.destroyForcibly();
      }
    }
    assertThat(pg.count("SELECT count(*) FROM " + effects)).isLessThan(events.size());
    try (ObserverEngine engine = ObserverEngine.builder().config(sqlConfig(PgTestSupport.URL, function, idem)).build();
         PgOutboxRelay relay = PgOutboxRelay.builder(engine, pg.ds()).outbox(outbox)
             .pollInterval(Duration.ofMillis(100)).start()) {
      PgTestSupport.await(Duration.ofSeconds(60), () -> pg.count("SELECT count(*) FROM " + outbox.table()
          + " WHERE status = 'done'") == events.size());
    }
    assertThat(pg.count("SELECT count(*) FROM " + effects)).isEqualTo(events.size());
    assertThat(pg.count("SELECT count(DISTINCT event_id) FROM " + effects)).isEqualTo(events.size());
    assertThat(pg.count("SELECT count(*) FROM " + idem + " WHERE listener_id = 'reserve' AND claimed_until IS NULL"))
        .isEqualTo(events.size());
  }

  private static ObservedEvent numbered(int i) {
    return ObservedEvent.insert("tb_order", Map.of("id", "o-" + i, "n", i, "note", "caf\u00e9 \"quoted\" \u20ac"));
  }

  private static int n(ObservedEvent e) {
    return ((Number) e.newRow().orElseThrow().get("n")).intValue();
  }

  private static List<String> column(String sql) throws Exception {
    List<String> out = new ArrayList<>();
    try (Connection c = pg.ds().getConnection(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
      while (rs.next()) {
        out.add(rs.getString(1));
      }
    }
    return out;
  }

  @Test
  void recordWritesEachEventsExactJsonInOrderInOneStatement() throws Exception {
    PgOutbox outbox = PgOutbox.forTable(pg.t("outbox_exact"));
    outbox.createTable(pg.ds());
    List<ObservedEvent> events = new ArrayList<>();
    for (int i = 0; i < 250; i++) {
      events.add(numbered(i));
    }
    recordCommitted(outbox, events);
    ObservedEvent single = numbered(250);
    recordCommitted(outbox, List.of(single));
    List<String> stored = column("SELECT event::text FROM " + outbox.table() + " ORDER BY id");
    List<String> ids = column("SELECT event_id::text FROM " + outbox.table() + " ORDER BY id");
    assertThat(stored).hasSize(251);
    for (int i = 0; i < 250; i++) {
      assertThat(stored.get(i)).isEqualTo(events.get(i).toJsonString());
      assertThat(ids.get(i)).isEqualTo(events.get(i).id().toString());
    }
    assertThat(stored.get(250)).isEqualTo(single.toJsonString()); // one event: the single-row statement
    assertThat(column("SELECT data_type FROM information_schema.columns WHERE table_schema = '" + pg.schema
        + "' AND table_name = 'outbox_exact' AND column_name = 'event'")).containsExactly("json");
  }

  /**
   * recordAndCommit: the record and the COMMIT go out together. The host's rows and the event are
   * visible to another session right after the call (no {@code commit()}); a commit that fails (a
   * deferred foreign key) keeps nothing of the transaction; the connection goes on working. Run with
   * pgjdbc's defaults (statements become server-prepared after 5 uses), with {@code autosave=always}
   * and with the simple query protocol.
   */
  @Test
  void recordAndCommitCommitsWithTheRecordAndAFailedCommitKeepsNothing() throws Exception {
    PgOutbox outbox = PgOutbox.forTable(pg.t("outbox_rac"));
    outbox.createTable(pg.ds());
    String customers = pg.t("rac_customer");
    String orders = pg.t("rac_order");
    pg.exec("CREATE TABLE " + customers + " (id int PRIMARY KEY)");
    pg.exec("INSERT INTO " + customers + " VALUES (1)");
    pg.exec("CREATE TABLE " + orders + " (id int PRIMARY KEY, customer int NOT NULL REFERENCES " + customers
        + " (id) DEFERRABLE INITIALLY DEFERRED)");
    int id = 0;
    List<ObservedEvent> expected = new ArrayList<>();
    for (String options : List.of("", "&autosave=always", "&preferQueryMode=simple")) {
      try (Connection c = java.sql.DriverManager.getConnection(PgTestSupport.URL + options)) {
        c.setAutoCommit(false);
        for (int i = 0; i < 7; i++) { // past pgjdbc's prepareThreshold (5)
          id++;
          insertOrder(c, orders, id, 1);
          ObservedEvent e = numbered(id);
          outbox.recordAndCommit(c, e);
          expected.add(e);
          // committed by the call: another session sees the order and the event now
          assertThat(pg.count("SELECT count(*) FROM " + orders + " WHERE id = " + id)).as(options).isEqualTo(1);
          assertThat(column("SELECT event::text FROM " + outbox.table() + " ORDER BY id DESC LIMIT 1"))
              .as(options).containsExactly(e.toJsonString());
        }
        // several events in one call
        List<ObservedEvent> three = List.of(numbered(1000 + id), numbered(2000 + id), numbered(3000 + id));
        id++;
        insertOrder(c, orders, id, 1);
        outbox.recordAndCommit(c, three);
        expected.addAll(three);
        assertThat(pg.count("SELECT count(*) FROM " + orders + " WHERE id = " + id)).as(options).isEqualTo(1);
        c.commit(); // a commit after it is harmless: nothing is open
        // the commit fails (order of an unknown customer, checked at commit): nothing of it stays
        long before = pg.count("SELECT count(*) FROM " + outbox.table());
        insertOrder(c, orders, 90_000 + id, 42);
        ObservedEvent lost = numbered(90_000 + id);
        java.sql.SQLException failure = org.assertj.core.api.Assertions.catchThrowableOfType(
            () -> outbox.recordAndCommit(c, lost), java.sql.SQLException.class);
        assertThat((Throwable) failure).as(options).isNotNull();
        assertThat(failure.getSQLState()).as(options).isEqualTo("23503");
        c.rollback();
        assertThat(pg.count("SELECT count(*) FROM " + outbox.table())).as(options).isEqualTo(before);
        assertThat(pg.count("SELECT count(*) FROM " + orders + " WHERE id = " + (90_000 + id))).isZero();
        // the insert fails (no such outbox table): once rolled back, nothing of the transaction stays
        // (pgjdbc's autosave keeps the transaction open after the failed statement; simple mode runs
        // the COMMIT, which ends the failed transaction; the default skips it)
        int failedOrder = 80_000 + id;
        insertOrder(c, orders, failedOrder, 1);
        java.sql.SQLException insertFailure = org.assertj.core.api.Assertions.catchThrowableOfType(
            () -> PgOutbox.forTable(pg.t("no_such_outbox")).recordAndCommit(c, numbered(failedOrder)),
            java.sql.SQLException.class);
        assertThat((Throwable) insertFailure).as(options).isNotNull();
        assertThat(insertFailure.getSQLState()).as(options).isEqualTo("42P01");
        c.rollback();
        assertThat(pg.count("SELECT count(*) FROM " + orders + " WHERE id = " + failedOrder)).as(options).isZero();
        // the connection still works: the next transaction commits normally
        id++;
        insertOrder(c, orders, id, 1);
        ObservedEvent next = numbered(id);
        outbox.recordAndCommit(c, next);
        expected.add(next);
        // the transaction's only statement: pgjdbc's BEGIN goes out with it, in the same round trip
        ObservedEvent alone = numbered(7000 + id);
        outbox.recordAndCommit(c, alone);
        expected.add(alone);
        assertThat(column("SELECT event::text FROM " + outbox.table() + " ORDER BY id DESC LIMIT 1"))
            .as(options).containsExactly(alone.toJsonString());
        // auto-commit: the plain record, committed at once
        c.setAutoCommit(true);
        ObservedEvent auto = numbered(5000 + id);
        outbox.recordAndCommit(c, auto);
        expected.add(auto);
      }
    }
    assertThat(column("SELECT event::text FROM " + outbox.table() + " ORDER BY id"))
        .containsExactlyElementsOf(expected.stream().map(ObservedEvent::toJsonString).toList());
  }

  private static void insertOrder(Connection c, String table, int id, int customer) throws Exception {
    try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + table + " (id, customer) VALUES (?, ?)")) {
      ps.setInt(1, id);
      ps.setInt(2, customer);
      ps.executeUpdate();
    }
  }

  @Test
  void aV3OutboxTableIsUpgradedAndItsPendingRowsAreDispatched() throws Exception {
    // the table as V3 created it (event JSONB, the (next_attempt_at, id) index), with rows the old record wrote
    PgIdentifier id = PgIdentifier.parse(pg.t("outbox_v3"));
    pg.exec(Migrations.render(Migrations.OUTBOX, Map.of("observer_outbox", id)));
    List<ObservedEvent> old = new ArrayList<>();
    try (Connection c = pg.ds().getConnection();
         PreparedStatement ps = c.prepareStatement("INSERT INTO " + id.quoted() + " (event_id, event) VALUES (?, ?::jsonb)")) {
      for (int i = 0; i < 20; i++) {
        ObservedEvent e = numbered(i);
        old.add(e);
        ps.setObject(1, e.id());
        ps.setString(2, e.toJsonString());
        ps.executeUpdate();
      }
    }
    String indexes = "SELECT indexname FROM pg_indexes WHERE schemaname = '" + pg.schema + "' AND tablename = 'outbox_v3'"
        + " ORDER BY indexname";
    assertThat(column(indexes)).contains("outbox_v3_pending_idx");
    PgOutbox outbox = PgOutbox.forTable(pg.t("outbox_v3"));
    Map<String, ObservedEvent> seen = new ConcurrentHashMap<>();
    try (ObserverEngine engine = ObserverEngine.builder().config(config())
            .handler("ship", e -> seen.put(e.id().toString(), e)).build();
         PgOutboxRelay relay = PgOutboxRelay.builder(engine, pg.ds()).outbox(outbox)
             .pollInterval(Duration.ofMillis(100)).start()) {
      PgTestSupport.await(Duration.ofSeconds(20), () -> pg.count("SELECT count(*) FROM " + outbox.table()
          + " WHERE status = 'done'") == 20);
      List<ObservedEvent> fresh = List.of(numbered(20), numbered(21));
      recordCommitted(outbox, fresh);
      PgTestSupport.await(Duration.ofSeconds(20), () -> pg.count("SELECT count(*) FROM " + outbox.table()
          + " WHERE status = 'done'") == 22);
      assertThat(column("SELECT event::text FROM " + outbox.table() + " WHERE event_id = '" + fresh.get(0).id() + "'"))
          .containsExactly(fresh.get(0).toJsonString());
    }
    assertThat(seen).hasSize(22);
    for (ObservedEvent e : old) {
      assertThat(seen.get(e.id().toString()).newRow()).isEqualTo(e.newRow());
    }
    assertThat(column("SELECT data_type FROM information_schema.columns WHERE table_schema = '" + pg.schema
        + "' AND table_name = 'outbox_v3' AND column_name = 'event'")).containsExactly("json");
    assertThat(column(indexes)).containsExactly("outbox_v3_done_idx", "outbox_v3_pending_id_idx", "outbox_v3_pkey");
    assertThat(column("SELECT array_to_string(reloptions, ',') FROM pg_class WHERE oid = '" + id.quoted() + "'::regclass"))
        .containsExactly("fillfactor=50");
    assertThat(pg.count("SELECT count(*) FROM " + outbox.table() + " WHERE outcomes @> '[{\"handler\":\"ship\","
        + "\"status\":\"DELIVERED\"}]'")).isEqualTo(22);
    // applying the migrations again changes nothing (V3's old index is not created again)
    outbox.createTable(pg.ds());
    assertThat(column(indexes)).containsExactly("outbox_v3_done_idx", "outbox_v3_pending_id_idx", "outbox_v3_pkey");
  }

  @Test
  void parallelDispatchStoresEachEventsOwnOutcome() throws Exception {
    PgOutbox outbox = PgOutbox.forTable(pg.t("outbox_parallel"));
    outbox.createTable(pg.ds());
    Map<String, AtomicInteger> calls = new ConcurrentHashMap<>();
    List<ObservedEvent> events = new ArrayList<>();
    for (int i = 0; i < 600; i++) {
      events.add(numbered(i));
    }
    try (ObserverEngine engine = ObserverEngine.builder().config(config()).handler("ship", e -> {
          calls.computeIfAbsent(e.id().toString(), k -> new AtomicInteger()).incrementAndGet();
          if (n(e) % 7 == 0) {
            throw new PermanentFailureException("no such warehouse for " + n(e));
          }
        }).build();
         PgOutboxRelay relay = PgOutboxRelay.builder(engine, pg.ds()).outbox(outbox).dispatchThreads(4).batchSize(50)
             .pollInterval(Duration.ofMillis(100)).start()) {
      for (int i = 0; i < events.size(); i += 100) {
        recordCommitted(outbox, events.subList(i, i + 100));
      }
      PgTestSupport.await(Duration.ofSeconds(60), () -> pg.count("SELECT count(*) FROM " + outbox.table()
          + " WHERE status = 'done'") == events.size());
      assertThat(relay.dispatchedCount()).isEqualTo(events.size());
    }
    assertThat(calls).hasSize(events.size());
    assertThat(calls.values()).allSatisfy(c -> assertThat(c.get()).isEqualTo(1));
    Map<String, String> statusByEvent = new HashMap<>();
    try (Connection c = pg.ds().getConnection(); Statement st = c.createStatement();
         ResultSet rs = st.executeQuery("SELECT event_id::text, outcomes->0->>'status', outcomes->0->>'detail',"
             + " jsonb_array_length(outcomes) FROM " + outbox.table())) {
      while (rs.next()) {
        assertThat(rs.getInt(4)).isEqualTo(1);
        statusByEvent.put(rs.getString(1), rs.getString(2) + (rs.getString(3).contains("no such warehouse") ? "!" : ""));
      }
    }
    for (ObservedEvent e : events) {
      assertThat(statusByEvent.get(e.id().toString())).as("event %d", n(e))
          .isEqualTo(n(e) % 7 == 0 ? "DEAD_LETTERED!" : "DELIVERED");
    }
  }

  @Test
  void eventsTheEngineRefusesAreGivenBackWithADelayAndDispatchedLater() throws Exception {
    PgOutbox outbox = PgOutbox.forTable(pg.t("outbox_refused"));
    outbox.createTable(pg.ds());
    ObserversConfig tight = config().toBuilder().maxInFlight(10).overflowPolicy(OverflowPolicy.REJECT).build();
    Map<String, AtomicInteger> calls = new ConcurrentHashMap<>();
    List<ObservedEvent> events = new ArrayList<>();
    for (int i = 0; i < 30; i++) {
      events.add(numbered(i));
    }
    try (ObserverEngine engine = ObserverEngine.builder().config(tight).handler("ship", e -> {
          calls.computeIfAbsent(e.id().toString(), k -> new AtomicInteger()).incrementAndGet();
          Thread.sleep(100);
        }).build();
         PgOutboxRelay relay = PgOutboxRelay.builder(engine, pg.ds()).outbox(outbox).dispatchThreads(2)
             .pollInterval(Duration.ofMillis(50)).start()) {
      recordCommitted(outbox, events);
      PgTestSupport.await(Duration.ofSeconds(60), () -> pg.count("SELECT count(*) FROM " + outbox.table()
          + " WHERE status = 'done'") == events.size());
    }
    assertThat(calls).hasSize(events.size());
    assertThat(calls.values()).allSatisfy(c -> assertThat(c.get()).isEqualTo(1));
    // refused rows were claimed again after their delay (a done row's last_error is cleared)
    assertThat(pg.count("SELECT count(*) FROM " + outbox.table() + " WHERE attempts > 1")).isPositive();
    assertThat(pg.count("SELECT count(*) FROM " + outbox.table() + " WHERE last_error IS NOT NULL")).isZero();
    assertThat(pg.count("SELECT count(*) FROM " + outbox.table() + " WHERE lease_owner IS NOT NULL")).isZero();
  }

  @Test
  void theRelayKeepsOneConnectionOfANonPoolingDataSourceAndBatchesItsRoundTrips() throws Exception {
    PgOutbox outbox = PgOutbox.forTable(pg.t("outbox_simple_ds"));
    outbox.createTable(pg.ds());
    PGSimpleDataSource simple = new PGSimpleDataSource();
    simple.setURL(PgTestSupport.URL);
    AtomicInteger opened = new AtomicInteger();
    DataSource counting = (DataSource) java.lang.reflect.Proxy.newProxyInstance(getClass().getClassLoader(),
        new Class<?>[] {DataSource.class}, (proxy, method, args) -> {
          if (method.getName().equals("getConnection")) {
            opened.incrementAndGet();
          }
          try {
            return method.invoke(simple, args);
          } catch (java.lang.reflect.InvocationTargetException e) {
            throw e.getCause();
          }
        });
    AtomicInteger handled = new AtomicInteger();
    List<ObservedEvent> events = new ArrayList<>();
    for (int i = 0; i < 1000; i++) {
      events.add(numbered(i));
    }
    long trips;
    try (ObserverEngine engine = ObserverEngine.builder().config(config()).handler("ship", e -> handled.incrementAndGet())
            .build();
         PgOutboxRelay relay = PgOutboxRelay.builder(engine, counting).outbox(outbox).createTable(false)
             .pollInterval(Duration.ofMillis(100)).start()) {
      for (int i = 0; i < events.size(); i += 100) {
        recordCommitted(outbox, events.subList(i, i + 100));
      }
      PgTestSupport.await(Duration.ofSeconds(60), () -> pg.count("SELECT count(*) FROM " + outbox.table()
          + " WHERE status = 'done'") == events.size());
      trips = relay.roundTrips();
    }
    assertThat(handled.get()).isEqualTo(events.size());
    // the LISTEN connection and the relay's own: no connection per claim, flush or heartbeat
    assertThat(opened.get()).isEqualTo(2);
    // outcomes ride with the next claim, many rows per round trip
    assertThat(trips).isLessThan(events.size() / 2);
  }

  /** Whether a relay waits for work on {@code outbox} (holds its wake lock exclusively). */
  private static boolean relayWaits(PgOutbox outbox) {
    return pg.count("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = "
        + PgOutbox.WAKE_LOCK_NAMESPACE + " AND objid = " + outbox.wakeLockKey()
        + " AND objsubid = 2 AND mode = 'ExclusiveLock' AND granted") == 1;
  }

  /** A connection LISTENing on the outbox's channel, to count the notifications recorders send. */
  private static Connection listen(PgOutbox outbox) throws Exception {
    Connection c = pg.db.openListenConnection();
    try (Statement st = c.createStatement()) {
      st.execute("LISTEN \"" + outbox.channel() + "\"");
    }
    return c;
  }

  private static int notifications(Connection listening, int waitMs) throws Exception {
    org.postgresql.PGNotification[] n = listening.unwrap(org.postgresql.PGConnection.class).getNotifications(waitMs);
    return n == null ? 0 : n.length;
  }

  @Test
  void onlyAWaitingRelayIsNotifiedAndATransactionOpenWhenTheRelayRanOutOfRowsIsStillSeenAtOnce() throws Exception {
    PgOutbox outbox = PgOutbox.forTable(pg.t("outbox_wake"));
    outbox.createTable(pg.ds());
    Map<String, Long> seenAt = new ConcurrentHashMap<>();
    try (Connection listening = listen(outbox);
         Connection open = pg.ds().getConnection()) {
      // a host transaction records before any relay runs (nobody waits: no notification) and stays open
      open.setAutoCommit(false);
      ObservedEvent first = numbered(1);
      outbox.record(open, first);
      try (ObserverEngine engine = ObserverEngine.builder().config(config())
              .handler("ship", e -> seenAt.put(e.id().toString(), System.nanoTime())).build();
           // a poll interval far longer than the test: only the wake-up protocol can be quick
           PgOutboxRelay relay = PgOutboxRelay.builder(engine, pg.ds()).outbox(outbox)
               .pollInterval(Duration.ofSeconds(60)).start()) {
        Thread.sleep(500);
        // the open transaction holds the wake lock shared: the relay cannot go to sleep
        assertThat(relayWaits(outbox)).isFalse();
        long committedAt = System.nanoTime();
        open.commit();
        PgTestSupport.await(Duration.ofSeconds(5), () -> seenAt.containsKey(first.id().toString()));
        assertThat(Duration.ofNanos(seenAt.get(first.id().toString()) - committedAt)).isLessThan(Duration.ofSeconds(2));
        assertThat(notifications(listening, 200)).as("notifications for a commit nobody waited for").isZero();

        // out of rows and no transaction open: the relay waits, holding the lock; recorders notify it
        PgTestSupport.await(Duration.ofSeconds(5), () -> relayWaits(outbox));
        for (int i = 2; i <= 4; i++) {
          ObservedEvent e = numbered(i);
          long t0 = System.nanoTime();
          recordCommitted(outbox, List.of(e));
          PgTestSupport.await(Duration.ofSeconds(5), () -> seenAt.containsKey(e.id().toString()));
          assertThat(Duration.ofNanos(seenAt.get(e.id().toString()) - t0)).isLessThan(Duration.ofSeconds(2));
          assertThat(notifications(listening, 1000)).as("notifications for event %d", i).isEqualTo(1);
          PgTestSupport.await(Duration.ofSeconds(5), () -> relayWaits(outbox));
        }
        // recordAndCommit wakes the waiting relay the same way (the notification goes out with its COMMIT)
        ObservedEvent fifth = numbered(5);
        long t5 = System.nanoTime();
        try (Connection c = pg.ds().getConnection()) {
          c.setAutoCommit(false);
          outbox.recordAndCommit(c, fifth);
        }
        PgTestSupport.await(Duration.ofSeconds(5), () -> seenAt.containsKey(fifth.id().toString()));
        assertThat(Duration.ofNanos(seenAt.get(fifth.id().toString()) - t5)).isLessThan(Duration.ofSeconds(2));
        assertThat(notifications(listening, 1000)).as("notifications for recordAndCommit").isEqualTo(1);
        PgTestSupport.await(Duration.ofSeconds(5), () -> pg.count("SELECT count(*) FROM " + outbox.table()
            + " WHERE status = 'done'") == 5);
      }
      // closing gives the lock back, although the connection returns to a pool
      assertThat(relayWaits(outbox)).isFalse();
    }
  }

  @Test
  void twoWaitingRelaysBothHearOfCommitsAndDispatchEachRowOnce() throws Exception {
    PgOutbox outbox = PgOutbox.forTable(pg.t("outbox_wake_two"));
    outbox.createTable(pg.ds());
    Map<String, AtomicInteger> calls = new ConcurrentHashMap<>();
    try (ObserverEngine a = ObserverEngine.builder().config(config())
            .handler("ship", e -> calls.computeIfAbsent(e.id().toString(), k -> new AtomicInteger()).incrementAndGet())
            .build();
         ObserverEngine b = ObserverEngine.builder().config(config())
            .handler("ship", e -> calls.computeIfAbsent(e.id().toString(), k -> new AtomicInteger()).incrementAndGet())
            .build();
         PgOutboxRelay ra = PgOutboxRelay.builder(a, pg.ds()).outbox(outbox).pollInterval(Duration.ofSeconds(60)).start();
         PgOutboxRelay rb = PgOutboxRelay.builder(b, pg.ds()).outbox(outbox).pollInterval(Duration.ofSeconds(60)).start()) {
      PgTestSupport.await(Duration.ofSeconds(5), () -> relayWaits(outbox));
      Thread.sleep(300);
      for (int i = 0; i < 5; i++) {
        List<ObservedEvent> batch = List.of(numbered(10 * i), numbered(10 * i + 1), numbered(10 * i + 2));
        long t0 = System.nanoTime();
        recordCommitted(outbox, batch);
        PgTestSupport.await(Duration.ofSeconds(5), () -> batch.stream().allMatch(e -> calls.containsKey(e.id().toString())));
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(3));
        PgTestSupport.await(Duration.ofSeconds(5), () -> relayWaits(outbox));
      }
      PgTestSupport.await(Duration.ofSeconds(5), () -> pg.count("SELECT count(*) FROM " + outbox.table()
          + " WHERE status = 'done'") == 15);
    }
    assertThat(calls).hasSize(15);
    assertThat(calls.values()).allSatisfy(c -> assertThat(c.get()).isEqualTo(1));
  }

  @Test
  void aRelayThatHitsAnErrorGivesTheWakeLockBackAndRecovers() throws Exception {
    PgOutbox outbox = PgOutbox.forTable(pg.t("outbox_wake_error"));
    outbox.createTable(pg.ds());
    AtomicInteger handled = new AtomicInteger();
    try (ObserverEngine engine = ObserverEngine.builder().config(config()).handler("ship", e -> handled.incrementAndGet())
            .build();
         PgOutboxRelay relay = PgOutboxRelay.builder(engine, pg.ds()).outbox(outbox).createTable(false)
             .pollInterval(Duration.ofMillis(100)).start()) {
      PgTestSupport.await(Duration.ofSeconds(5), () -> relayWaits(outbox));
      // its claims now fail: the lock must not stay behind with the pooled connection
      pg.exec("ALTER TABLE " + outbox.table() + " RENAME TO outbox_wake_error_away");
      PgTestSupport.await(Duration.ofSeconds(5), () -> !relayWaits(outbox));
      Thread.sleep(700);
      assertThat(relayWaits(outbox)).isFalse();
      pg.exec("ALTER TABLE " + pg.t("outbox_wake_error_away") + " RENAME TO outbox_wake_error");
      recordCommitted(outbox, List.of(numbered(1), numbered(2)));
      PgTestSupport.await(Duration.ofSeconds(20), () -> handled.get() == 2);
      PgTestSupport.await(Duration.ofSeconds(20), () -> relayWaits(outbox));
    }
    assertThat(relayWaits(outbox)).isFalse();
  }
}

package dev.fraiseql.observers.pg;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fraiseql.observers.ObservedEvent;
import dev.fraiseql.observers.ObserverEngine;
import dev.fraiseql.observers.config.CheckpointStrategy;
import dev.fraiseql.observers.config.HandlerConfig;
import dev.fraiseql.observers.config.ObserversConfig;
import dev.fraiseql.observers.config.RetryPolicy;
import dev.fraiseql.observers.config.Settings;
import java.io.File;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

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
}

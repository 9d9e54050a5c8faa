package dev.fraiseql.observers.pg;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.fraiseql.observers.DeliveryOutcome;
import dev.fraiseql.observers.ObservedEvent;
import dev.fraiseql.observers.ObserverEngine;
import dev.fraiseql.observers.pg.internal.PgDatabase;
import dev.fraiseql.observers.pg.internal.PgPoolSettings;
import dev.fraiseql.observers.pg.internal.PgUrl;
import dev.fraiseql.observers.testkit.CapturedStderr;
import java.sql.Connection;
import java.sql.SQLTransientConnectionException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The HikariCP pool behind {@code database_url}: its settings from {@code [observers.postgres]} take
 * effect on the server (connections counted in {@code pg_stat_activity} by a unique application name),
 * it closes with the engine, and a host {@code DataSource} is used as it is and left open.
 */
class PgPoolIT {
  static PgTestSupport pg;

  @BeforeAll
  static void setUp() {
    pg = new PgTestSupport();
  }

  @AfterAll
  static void tearDown() {
    pg.close();
  }

  /** The test URL with its own application name (a pool per URL, and its connections countable on the server). */
  private static String url(String app) {
    return PgTestSupport.URL + (PgTestSupport.URL.contains("?") ? "&" : "?") + "ApplicationName=" + app;
  }

  private static long serverConnections(String app) {
    return pg.count("SELECT count(*) FROM pg_stat_activity WHERE application_name = '" + app + "'");
  }

  private static String toml(String url, String schema, String poolKeys) {
    return "[observers]\nbackend = \"postgres\"\ndatabase_url = \"" + url + "\"\n"
        + "checkpoint_strategy = \"effectively_once\"\nidempotency_table = \"" + schema + ".observer_idempotency_keys\"\n\n"
        + "[observers.postgres]\ndead_letter_table = \"" + schema + ".observer_dead_letters\"\n"
        + "events_table = \"" + schema + ".observer_events\"\n" + poolKeys + "\n"
        + "[[observers.handlers]]\nname = \"ledger\"\nevent = \"order.created\"\naction = \"handler\"\nhandler = \"ledger\"\n";
  }

  private static ObservedEvent order(int i) {
    return ObservedEvent.insert("tb_order", Map.of("id", "o-" + i, "total", 10 + i));
  }

  @Test
  void thePoolBehindDatabaseUrlKeepsItsMinimumIdleAndClosesWithTheEngine() throws Exception {
    String app = "fq_pool_" + UUID.randomUUID().toString().substring(0, 8);
    AtomicInteger handled = new AtomicInteger();
    ObserverEngine engine = ObserverEngine.builder()
        .configToml(toml(url(app), pg.schema, "pool_size = 3\npool_min_idle = 2\npool_max_lifetime_ms = 60000\n"
            + "pool_idle_timeout_ms = 30000\npool_connection_timeout_ms = 5000\npool_leak_detection_ms = 20000\n")
            .replace("observer_idempotency_keys", "minidle_keys"))
        .handler("ledger", e -> handled.incrementAndGet()).build();
    try {
      for (int i = 0; i < 20; i++) {
        List<DeliveryOutcome> out = engine.onCommit(order(i)).completion().toCompletableFuture().get(20, TimeUnit.SECONDS);
        assertThat(out).singleElement().extracting(DeliveryOutcome::status).isEqualTo(DeliveryOutcome.Status.DELIVERED);
      }
      assertThat(handled.get()).isEqualTo(20);
      // completions are written in the background right after the outcome: wait for the 20th
      PgTestSupport.await(Duration.ofSeconds(10), () -> pg.count("SELECT count(*) FROM " + pg.t("minidle_keys")
          + " WHERE claimed_until IS NULL") == 20);
      assertThat(pg.count("SELECT count(*) FROM " + pg.t("minidle_keys"))).isEqualTo(20);
      // HikariCP fills up to pool_min_idle in the background and never goes above pool_size
      PgTestSupport.await(Duration.ofSeconds(15), () -> serverConnections(app) >= 2);
      assertThat(serverConnections(app)).isBetween(2L, 3L);
    } finally {
      engine.close();
    }
    PgTestSupport.await(Duration.ofSeconds(15), () -> serverConnections(app) == 0);
  }

  @Test
  void withTheDefaultMinimumIdleConnectionsOpenOnFirstUseOnly() throws Exception {
    String app = "fq_pool_" + UUID.randomUUID().toString().substring(0, 8);
    try (ObserverEngine engine = ObserverEngine.builder().configToml(toml(url(app), pg.schema, "pool_size = 2\n"))
        .handler("ledger", e -> { }).build()) {
      Thread.sleep(500);
      assertThat(serverConnections(app)).isZero();
      engine.onCommit(order(100)).completion().toCompletableFuture().get(20, TimeUnit.SECONDS);
      assertThat(serverConnections(app)).isBetween(1L, 2L);
    }
    PgTestSupport.await(Duration.ofSeconds(15), () -> serverConnections(app) == 0);
  }

  @Test
  void aFullPoolFailsTheCallerAfterTheConnectionTimeoutWithoutShowingThePassword() throws Exception {
    String secret = "s3cr3t-" + UUID.randomUUID();
    String app = "fq_pool_" + UUID.randomUUID().toString().substring(0, 8);
    // trust auth ignores the password: it only has to stay out of every message
    PgUrl url = PgUrl.parse("postgres://root:" + secret + "@localhost:5432/test?ApplicationName=" + app);
    PgDatabase db = PgDatabase.fromUrl(url, new PgPoolSettings(2, 0, Duration.ofMillis(300), Duration.ofMinutes(10),
        Duration.ofMinutes(30), Duration.ZERO));
    try (Connection a = db.dataSource().getConnection(); Connection b = db.dataSource().getConnection()) {
      assertThat(serverConnections(app)).isEqualTo(2);
      long t0 = System.nanoTime();
      assertThatThrownBy(() -> db.dataSource().getConnection())
          .isInstanceOf(SQLTransientConnectionException.class)
          .hasMessageContaining("request timed out after")
          .satisfies(e -> assertThat(e.toString()).doesNotContain(secret));
      assertThat(Duration.ofNanos(System.nanoTime() - t0)).isBetween(Duration.ofMillis(250), Duration.ofSeconds(5));
      assertThat(db.toString() + db.describe() + db.dataSource()).doesNotContain(secret);
    } finally {
      db.close();
    }
    PgTestSupport.await(Duration.ofSeconds(15), () -> serverConnections(app) == 0);
  }

  @Test
  void aConnectionHeldPastTheLeakThresholdIsReportedByHikari() throws Exception {
    String app = "fq_pool_" + UUID.randomUUID().toString().substring(0, 8);
    PgDatabase db = PgDatabase.fromUrl(PgUrl.parse(url(app)), new PgPoolSettings(2, 0, Duration.ofSeconds(5),
        Duration.ofMinutes(10), Duration.ofMinutes(30), Duration.ofSeconds(2)));
    try {
      String log = CapturedStderr.during(() -> {
        try (Connection c = db.dataSource().getConnection()) {
          Thread.sleep(3_000);
          assertThat(c.isValid(2)).isTrue();
        }
      });
      assertThat(log).contains("Connection leak detection triggered");
    } finally {
      db.close();
    }
  }

  @Test
  void aHostDataSourceIsUsedAsItIsAndStaysOpenAfterTheEngineCloses() throws Exception {
    String app = "fq_host_" + UUID.randomUUID().toString().substring(0, 8);
    HikariConfig cfg = new HikariConfig();
    cfg.setJdbcUrl(url(app));
    cfg.setMaximumPoolSize(2);
    cfg.setPoolName("host-pool-" + app);
    AtomicInteger handled = new AtomicInteger();
    try (HikariDataSource host = new HikariDataSource(cfg)) {
      // no database_url at all: the DataSource is the only connection
      String toml = toml("unused", pg.schema, "").replace("database_url = \"unused\"\n", "")
          .replace("observer_idempotency_keys", "host_idempotency_keys");
      try (ObserverEngine engine = ObserverEngine.builder().configToml(toml).component(DataSource.class, host)
          .handler("ledger", e -> handled.incrementAndGet()).build()) {
        for (int i = 0; i < 5; i++) {
          engine.onCommit(order(i)).completion().toCompletableFuture().get(20, TimeUnit.SECONDS);
        }
        assertThat(host.getHikariPoolMXBean().getTotalConnections()).isBetween(1, 2);
      }
      assertThat(handled.get()).isEqualTo(5);
      assertThat(host.isClosed()).isFalse();
      try (Connection c = host.getConnection(); var st = c.createStatement();
          var rs = st.executeQuery("SELECT count(*) FROM " + pg.t("host_idempotency_keys"))) {
        rs.next();
        assertThat(rs.getLong(1)).isEqualTo(5);
      }
      assertThat(serverConnections(app)).isBetween(1L, 2L);
    }
  }
}

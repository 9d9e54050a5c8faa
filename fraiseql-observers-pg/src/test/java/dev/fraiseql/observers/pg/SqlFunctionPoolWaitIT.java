package dev.fraiseql.observers.pg;

import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.fraiseql.observers.CloseReport;
import dev.fraiseql.observers.DeliveryOutcome;
import dev.fraiseql.observers.ObservedEvent;
import dev.fraiseql.observers.ObserverEngine;
import dev.fraiseql.observers.config.BackoffStrategy;
import dev.fraiseql.observers.config.CheckpointStrategy;
import dev.fraiseql.observers.config.HandlerConfig;
import dev.fraiseql.observers.config.ObserversConfig;
import dev.fraiseql.observers.config.RetryPolicy;
import dev.fraiseql.observers.config.Settings;
import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Waiting for a pooled connection is not part of a SQL handler's attempt (issue #15): a burst larger
 * than the pool spends no budget on the wait, and an attempt abandoned while it waits never runs the
 * function.
 */
class SqlFunctionPoolWaitIT {
  static PgTestSupport pg;

  @BeforeAll
  static void setUp() {
    pg = new PgTestSupport();
    pg.exec("CREATE TABLE " + pg.t("calls") + " (order_id TEXT NOT NULL, event_id TEXT NOT NULL)");
    // 100 ms of work per call, so that a burst queues for the pool far longer than timeout_ms
    pg.exec("CREATE FUNCTION " + pg.t("fn_slow") + "(payload jsonb) RETURNS void LANGUAGE plpgsql AS $$"
        + " BEGIN PERFORM pg_sleep(0.1);"
        + " INSERT INTO " + pg.t("calls") + " VALUES (payload->'data'->'new'->>'id', payload->>'id'); END $$");
  }

  @AfterAll
  static void tearDown() {
    pg.close();
  }

  private static HikariDataSource pool(int size) {
    HikariConfig cfg = new HikariConfig();
    cfg.setJdbcUrl(PgTestSupport.URL);
    cfg.setMaximumPoolSize(size);
    cfg.setConnectionTimeout(30_000);
    cfg.setPoolName("fq-poolwait-" + pg.schema);
    return new HikariDataSource(cfg);
  }

  private static ObserverEngine engine(DataSource ds, Duration timeout, int maxAttempts) {
    HandlerConfig h = HandlerConfig.builder("slow").event("order.created").action("sql")
        .settings(Settings.of("[[observers.handlers]] slow", Map.of("function", pg.t("fn_slow"))))
        .retry(RetryPolicy.custom().maxAttempts(maxAttempts).backoff(BackoffStrategy.FIXED)
            .initialDelay(Duration.ofMillis(50)).maxDelay(Duration.ofMillis(50)).jitter(0)
            .attemptTimeout(timeout).build())
        .build();
    ObserversConfig cfg = ObserversConfig.builder().checkpointStrategy(CheckpointStrategy.AT_LEAST_ONCE)
        .idempotencyTable(pg.t("idem")).handler(h).build();
    return ObserverEngine.builder().component(DataSource.class, ds).config(cfg).build();
  }

  private static ObservedEvent order(String id) {
    return ObservedEvent.insert("tb_order", Map.of("id", id));
  }

  private static long calls(String prefix) {
    return pg.count("SELECT count(*) FROM " + pg.t("calls") + " WHERE order_id LIKE '" + prefix + "%'");
  }

  @Test
  void aBurstLargerThanThePoolSpendsNoBudgetWaitingForAConnection() throws Exception {
    // 2 connections, 100 ms per call, 40 events: the last ones wait ~2 s for a connection, timeout_ms is 400
    try (HikariDataSource ds = pool(2); ObserverEngine engine = engine(ds, Duration.ofMillis(400), 2)) {
      List<ObservedEvent> events = new ArrayList<>();
      List<CompletableFuture<List<DeliveryOutcome>>> fs = new ArrayList<>();
      for (int i = 0; i < 40; i++) {
        ObservedEvent e = order("burst-" + i);
        events.add(e);
        fs.add(engine.onCommit(e).completion().toCompletableFuture());
      }
      List<DeliveryOutcome> all = new ArrayList<>();
      for (var f : fs) {
        all.addAll(f.get(60, TimeUnit.SECONDS));
      }
      assertThat(all).hasSize(40).allSatisfy(o -> {
        assertThat(o.status()).isEqualTo(DeliveryOutcome.Status.DELIVERED);
        assertThat(o.attempts()).as(o.detail()).isEqualTo(1);
      });
      // each event's function ran exactly once, with that event
      assertThat(calls("burst-")).isEqualTo(40);
      for (int i = 0; i < events.size(); i++) {
        assertThat(pg.count("SELECT count(*) FROM " + pg.t("calls") + " WHERE event_id = '" + events.get(i).id() + "'"
            + " AND order_id = 'burst-" + i + "'")).isEqualTo(1);
      }
      assertThat(engine.deadLetters().list()).isEmpty();
    }
  }

  @Test
  void anAttemptAbandonedWhileWaitingForAConnectionNeverRunsTheFunction() throws Exception {
    try (HikariDataSource ds = pool(1)) {
      ObserverEngine engine = engine(ds, Duration.ofSeconds(5), 3);
      Connection held = ds.getConnection();
      List<CompletableFuture<List<DeliveryOutcome>>> fs = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        fs.add(engine.onCommit(order("abandoned-" + i)).completion().toCompletableFuture());
      }
      // all three wait in the pool for the one connection the test holds
      PgTestSupport.await(Duration.ofSeconds(10), () -> ds.getHikariPoolMXBean().getThreadsAwaitingConnection() == 3);
      // the engine gives up on them while they wait
      CompletableFuture<CloseReport> closing = CompletableFuture.supplyAsync(() -> engine.shutdown(Duration.ofMillis(200)));
      Thread.sleep(600);
      held.close();
      CloseReport report = closing.get(30, TimeUnit.SECONDS);
      assertThat(report.deadLettered()).isEqualTo(3);
      for (var f : fs) {
        assertThat(f.get(10, TimeUnit.SECONDS)).singleElement()
            .satisfies(o -> assertThat(o.status()).isEqualTo(DeliveryOutcome.Status.DEAD_LETTERED));
      }
      // the waiting threads got the connection afterwards and gave it back without calling the function
      PgTestSupport.await(Duration.ofSeconds(10), () -> ds.getHikariPoolMXBean().getThreadsAwaitingConnection() == 0
          && ds.getHikariPoolMXBean().getActiveConnections() == 0);
      Thread.sleep(300);
      assertThat(calls("abandoned-")).isZero();
    }
  }
}

package dev.fraiseql.observers.pg;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.fraiseql.observers.DeliveryOutcome;
import dev.fraiseql.observers.ObservedEvent;
import dev.fraiseql.observers.ObserverConfigException;
import dev.fraiseql.observers.ObserverEngine;
import dev.fraiseql.observers.config.BackoffStrategy;
import dev.fraiseql.observers.config.CheckpointStrategy;
import dev.fraiseql.observers.config.HandlerConfig;
import dev.fraiseql.observers.config.ObserversConfig;
import dev.fraiseql.observers.config.RetryPolicy;
import dev.fraiseql.observers.config.Settings;
import dev.fraiseql.observers.spi.DeadLetter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class SqlFunctionActionIT {
  static PgTestSupport pg;

  @BeforeAll
  static void setUp() {
    pg = new PgTestSupport();
    pg.exec("CREATE TABLE " + pg.t("reservations") + " (order_id TEXT NOT NULL, sku TEXT NOT NULL, qty INT NOT NULL,"
        + " event_id TEXT NOT NULL)");
    pg.exec("CREATE FUNCTION " + pg.t("fn_reserve_inventory") + "(payload jsonb) RETURNS void LANGUAGE sql AS $$"
        + " INSERT INTO " + pg.t("reservations") + " (order_id, sku, qty, event_id)"
        + " SELECT payload->'data'->'new'->>'id', payload->'data'->'new'->>'sku',"
        + " (payload->'data'->'new'->>'qty')::int, payload->>'id' $$");
    pg.exec("CREATE SEQUENCE " + pg.t("flaky_calls"));
    // fails (P0001, transient) on its first two calls, then reserves (a sequence is not rolled back)
    pg.exec("CREATE FUNCTION " + pg.t("fn_flaky") + "(payload jsonb) RETURNS void LANGUAGE plpgsql AS $$"
        + " DECLARE n int; BEGIN"
        + " n := nextval('" + pg.t("flaky_calls") + "');"
        + " IF n <= 2 THEN RAISE EXCEPTION 'warehouse busy (call %)', n; END IF;"
        + " INSERT INTO " + pg.t("reservations") + " VALUES (payload->'data'->'new'->>'id', 'flaky', 1, payload->>'id');"
        + " END $$");
    pg.exec("CREATE FUNCTION " + pg.t("fn_wants_int") + "(payload jsonb) RETURNS void LANGUAGE plpgsql AS $$"
        + " BEGIN PERFORM (payload->>'table')::int; END $$");
  }

  @AfterAll
  static void tearDown() {
    pg.close();
  }

  private static HandlerConfig sqlHandler(String name, String function, int maxAttempts) {
    return HandlerConfig.builder(name).event("order.created").action("sql")
        .settings(Settings.of("[[observers.handlers]] " + name, Map.of("function", function)))
        .retry(RetryPolicy.custom().maxAttempts(maxAttempts).backoff(BackoffStrategy.FIXED)
            .initialDelay(Duration.ofMillis(50)).maxDelay(Duration.ofMillis(50)).jitter(0).build())
        .build();
  }

  private static ObserverEngine engine(CheckpointStrategy strategy, String idemTable, DataSource ds,
      HandlerConfig... handlers) {
    ObserversConfig.Builder cfg = ObserversConfig.builder().checkpointStrategy(strategy)
        .idempotencyTable(idemTable);
    for (HandlerConfig h : handlers) {
      cfg.handler(h);
    }
    ObserverEngine.Builder b = ObserverEngine.builder();
    if (ds != null) {
      b.component(DataSource.class, ds);
    } else {
      cfg.backendSettings(Settings.of("[observers]", Map.of("database_url", PgTestSupport.URL)));
    }
    return b.config(cfg.build()).build();
  }

  private static ObservedEvent order(String id, String sku, int qty) {
    return ObservedEvent.insert("tb_order", Map.of("id", id, "sku", sku, "qty", qty));
  }

  private static long reservations(String orderId) {
    return pg.count("SELECT count(*) FROM " + pg.t("reservations") + " WHERE order_id = '" + orderId + "'");
  }

  @Test
  void functionReceivesThePayloadAsJsonb() throws Exception {
    try (ObserverEngine engine = engine(CheckpointStrategy.AT_LEAST_ONCE, pg.t("idem_a"), null,
        sqlHandler("reserve", pg.t("fn_reserve_inventory"), 3))) {
      ObservedEvent e = order("o-1", "sku-9", 4);
      List<DeliveryOutcome> out = engine.onCommit(e).completion().toCompletableFuture().get(20, TimeUnit.SECONDS);
      assertThat(out).singleElement().satisfies(o -> assertThat(o.status()).isEqualTo(DeliveryOutcome.Status.DELIVERED));
      assertThat(pg.count("SELECT count(*) FROM " + pg.t("reservations") + " WHERE order_id = 'o-1' AND sku = 'sku-9'"
          + " AND qty = 4 AND event_id = '" + e.id() + "'")).isEqualTo(1);
    }
  }

  @Test
  void sameEventDeliveredTwiceReservesOnceUnderEffectivelyOnce() throws Exception {
    String idem = pg.t("idem_eo");
    ObservedEvent e = order("o-2", "sku-1", 1);
    // two engines (two service instances), the same event delivered to both, concurrently, several times
    try (ObserverEngine a = engine(CheckpointStrategy.EFFECTIVELY_ONCE, idem, pg.ds(),
            sqlHandler("reserve", pg.t("fn_reserve_inventory"), 3));
         ObserverEngine b = engine(CheckpointStrategy.EFFECTIVELY_ONCE, idem, null,
            sqlHandler("reserve", pg.t("fn_reserve_inventory"), 3))) {
      List<DeliveryOutcome> all = new ArrayList<>();
      List<java.util.concurrent.CompletableFuture<List<DeliveryOutcome>>> fs = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        fs.add(a.onCommit(e).completion().toCompletableFuture());
        fs.add(b.onCommit(e).completion().toCompletableFuture());
      }
      for (var f : fs) {
        all.addAll(f.get(20, TimeUnit.SECONDS));
      }
      assertThat(reservations("o-2")).isEqualTo(1);
      assertThat(all).allSatisfy(o -> assertThat(o.succeeded()).isTrue());
      // the skips are reported as duplicates (outcome and listeners), not as deliveries
      assertThat(all.stream().filter(o -> o.status() == DeliveryOutcome.Status.DELIVERED)).hasSize(1);
      assertThat(all.stream().filter(o -> o.status() == DeliveryOutcome.Status.DUPLICATE)).hasSize(7);
      assertThat(pg.count("SELECT count(*) FROM " + idem + " WHERE idempotency_key = '" + e.id() + "'"
          + " AND listener_id = 'reserve' AND claimed_until IS NULL")).isEqualTo(1);
    }
  }

  @Test
  void transientSqlErrorIsRetriedAndTheKeyIsNotRecordedUntilItSucceeds() throws Exception {
    String idem = pg.t("idem_flaky");
    try (ObserverEngine engine = engine(CheckpointStrategy.EFFECTIVELY_ONCE, idem, pg.ds(),
        sqlHandler("flaky", pg.t("fn_flaky"), 5))) {
      ObservedEvent e = order("o-3", "x", 1);
      List<DeliveryOutcome> out = engine.onCommit(e).completion().toCompletableFuture().get(20, TimeUnit.SECONDS);
      assertThat(out).singleElement().satisfies(o -> {
        assertThat(o.status()).isEqualTo(DeliveryOutcome.Status.DELIVERED);
        assertThat(o.attempts()).isEqualTo(3);
      });
      assertThat(reservations("o-3")).isEqualTo(1);
      // delivered again: a duplicate, not a second reservation
      List<DeliveryOutcome> again = engine.onCommit(e).completion().toCompletableFuture().get(20, TimeUnit.SECONDS);
      assertThat(again.get(0).succeeded()).isTrue();
      assertThat(reservations("o-3")).isEqualTo(1);
    }
  }

  @Test
  void undefinedFunctionAndBadArgumentArePermanentWithSqlState() throws Exception {
    try (ObserverEngine engine = engine(CheckpointStrategy.AT_LEAST_ONCE, pg.t("idem_b"), pg.ds(),
        sqlHandler("missing", pg.t("fn_does_not_exist"), 5), sqlHandler("badarg", pg.t("fn_wants_int"), 5))) {
      ObservedEvent e = order("o-4", "x", 1);
      List<DeliveryOutcome> out = engine.onCommit(e).completion().toCompletableFuture().get(20, TimeUnit.SECONDS);
      assertThat(out).hasSize(2).allSatisfy(o -> {
        assertThat(o.status()).isEqualTo(DeliveryOutcome.Status.DEAD_LETTERED);
        assertThat(o.attempts()).isEqualTo(1);
      });
      List<DeadLetter> dead = engine.deadLetters().list();
      assertThat(dead).extracting(DeadLetter::handler).containsExactlyInAnyOrder("missing", "badarg");
      assertThat(dead).filteredOn(d -> d.handler().equals("missing")).singleElement()
          .satisfies(d -> assertThat(d.lastError()).contains("SQLSTATE 42883").contains("fn_does_not_exist"));
      assertThat(dead).filteredOn(d -> d.handler().equals("badarg")).singleElement()
          .satisfies(d -> assertThat(d.lastError()).contains("SQLSTATE 22P02"));
    }
  }

  @Test
  void invalidFunctionNameIsAConfigErrorNamingTheKey() {
    assertThatThrownBy(() -> engine(CheckpointStrategy.AT_LEAST_ONCE, pg.t("idem_c"), pg.ds(),
        sqlHandler("evil", "fn_x(); DROP TABLE users; --", 1)).close())
        .isInstanceOf(ObserverConfigException.class)
        .hasMessageContaining("function")
        .hasMessageContaining("not a valid SQL name");
  }

  @Test
  void noConnectionIsAConfigErrorThatSaysHowToFixIt() {
    ObserversConfig cfg = ObserversConfig.builder().handler(sqlHandler("reserve", "fn_reserve_inventory", 1)).build();
    assertThatThrownBy(() -> ObserverEngine.builder().config(cfg).build().close())
        .isInstanceOf(ObserverConfigException.class)
        .hasMessageContaining("database_url")
        .hasMessageContaining("DataSource");
  }

  @Test
  void passwordInDatabaseUrlNeverAppearsInErrors() {
    String secret = "s3cr3t-" + UUID.randomUUID();
    ObserversConfig cfg = ObserversConfig.builder()
        .backendSettings(Settings.of("[observers]", Map.of("database_url", "postgres://root:" + secret + "@localhost:1/nope")))
        .handler(sqlHandler("reserve", "fn_reserve_inventory", 1)).build();
    try (ObserverEngine engine = ObserverEngine.builder().config(cfg).build()) {
      List<DeliveryOutcome> out = engine.onCommit(order("o-5", "x", 1)).completion().toCompletableFuture()
          .get(20, TimeUnit.SECONDS);
      assertThat(out.get(0).detail()).doesNotContain(secret);
      assertThat(engine.deadLetters().list()).allSatisfy(d -> assertThat(d.toString() + d.attempts()).doesNotContain(secret));
    } catch (Exception e) {
      assertThat(e.toString()).doesNotContain(secret);
    }
  }
}

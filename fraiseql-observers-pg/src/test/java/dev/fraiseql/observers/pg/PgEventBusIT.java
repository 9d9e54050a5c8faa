package dev.fraiseql.observers.pg;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fraiseql.observers.ObservedEvent;
import dev.fraiseql.observers.ObserverEngine;
import dev.fraiseql.observers.config.HandlerConfig;
import dev.fraiseql.observers.config.ObserversConfig;
import dev.fraiseql.observers.config.Settings;
import dev.fraiseql.observers.config.SubscriptionConfig;
import dev.fraiseql.observers.pg.internal.PgEventBus;
import dev.fraiseql.observers.pg.internal.PgIdentifier;
import dev.fraiseql.observers.spi.BusSubscription;
import dev.fraiseql.observers.spi.Disposition;
import dev.fraiseql.observers.spi.InboundMessage;
import dev.fraiseql.observers.spi.OutboundMessage;
import dev.fraiseql.observers.spi.PublishAck;
import dev.fraiseql.observers.spi.SubscriptionSpec;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

@SuppressWarnings("try") // resources opened for their side effects (relays, subscribers)
class PgEventBusIT {
  static PgTestSupport pg;

  @BeforeAll
  static void setUp() {
    pg = new PgTestSupport();
  }

  @AfterAll
  static void tearDown() {
    pg.close();
  }

  private static PgEventBus bus(String table) {
    return new PgEventBus(pg.db, PgIdentifier.parse(pg.t(table)), true, Duration.ofMillis(200));
  }

  private static SubscriptionSpec spec(String subject, String durable, Duration ackWait) {
    return new SubscriptionSpec(subject, durable, ackWait, 16, Settings.empty());
  }

  private static OutboundMessage msg(String subject, String body, String dedup) {
    return new OutboundMessage(subject, body.getBytes(StandardCharsets.UTF_8), Map.of("X-Test", "yes"), dedup);
  }

  private static PublishAck publish(PgEventBus bus, OutboundMessage m) throws Exception {
    return bus.publish(m).toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @Test
  void roundTripWithHeadersWildcardsAndDeduplication() throws Exception {
    try (PgEventBus bus = bus("ev_rt")) {
      List<InboundMessage> got = new CopyOnWriteArrayList<>();
      BusSubscription sub = bus.subscribe(spec("fraiseql.order.*", "inventory", Duration.ofSeconds(30)), m -> {
        got.add(m);
        return CompletableFuture.completedFuture(Disposition.ack());
      });
      // the consumer registers asynchronously: wait for it before publishing
      PgTestSupport.await(Duration.ofSeconds(10), () -> tableHas("ev_rt_consumers", "durable = 'inventory'"));
      PublishAck first = publish(bus, msg("fraiseql.order.created", "{\"n\":1}", "e1:fraiseql.order.created"));
      PublishAck again = publish(bus, msg("fraiseql.order.created", "{\"n\":1}", "e1:fraiseql.order.created"));
      publish(bus, msg("fraiseql.user.created", "{\"n\":2}", "e2:fraiseql.user.created"));
      publish(bus, msg("fraiseql.order.updated", "{\"n\":3}", "e3:fraiseql.order.updated"));
      assertThat(first.duplicate()).isFalse();
      assertThat(again.duplicate()).isTrue();
      assertThat(again.position()).isEqualTo(first.position());
      PgTestSupport.await(Duration.ofSeconds(10), () -> got.size() >= 2);
      Thread.sleep(300); // nothing else may arrive
      assertThat(got).extracting(InboundMessage::subject).containsExactly("fraiseql.order.created", "fraiseql.order.updated");
      assertThat(new String(got.get(0).payload(), StandardCharsets.UTF_8)).isEqualTo("{\"n\":1}");
      assertThat(got.get(0).headers()).containsEntry("X-Test", "yes");
      assertThat(got.get(0).deliveryCount()).isEqualTo(1);
      assertThat(got.get(0).messageId()).isEqualTo(first.position());
      PgTestSupport.await(Duration.ofSeconds(10), () -> pg.count("SELECT count(*) FROM " + pg.t("ev_rt_deliveries")
          + " WHERE status = 'done'") == 2);
      sub.close();
    }
  }

  private static boolean tableHas(String table, String where) {
    try {
      return pg.count("SELECT count(*) FROM " + pg.t(table) + " WHERE " + where) > 0;
    } catch (IllegalStateException e) {
      return false; // not created yet
    }
  }

  @Test
  void redeliveryCountsDeliveriesAndTermStopsThem() throws Exception {
    try (PgEventBus bus = bus("ev_redeliver")) {
      Map<String, List<Integer>> counts = new ConcurrentHashMap<>();
      bus.subscribe(spec("jobs", "worker", Duration.ofSeconds(30)), m -> {
        String body = new String(m.payload(), StandardCharsets.UTF_8);
        counts.computeIfAbsent(body, k -> new CopyOnWriteArrayList<>()).add(m.deliveryCount());
        if (body.equals("retry-twice") && m.deliveryCount() < 3) {
          return CompletableFuture.completedFuture(Disposition.redeliverAfter(Duration.ofMillis(100)));
        }
        if (body.equals("poison")) {
          return CompletableFuture.completedFuture(Disposition.term());
        }
        return CompletableFuture.completedFuture(Disposition.ack());
      });
      PgTestSupport.await(Duration.ofSeconds(10), () -> tableHas("ev_redeliver_consumers", "durable = 'worker'"));
      publish(bus, msg("jobs", "retry-twice", "a"));
      publish(bus, msg("jobs", "poison", "b"));
      PgTestSupport.await(Duration.ofSeconds(10), () -> counts.getOrDefault("retry-twice", List.of()).size() == 3);
      Thread.sleep(500);
      assertThat(counts.get("retry-twice")).containsExactly(1, 2, 3);
      assertThat(counts.get("poison")).containsExactly(1);
      assertThat(pg.count("SELECT count(*) FROM " + pg.t("ev_redeliver_deliveries") + " WHERE status = 'dead'"))
          .isEqualTo(1);
    }
  }

  @Test
  void instancesSharingADurableSplitTheWorkAndTakeOverExpiredLeases() throws Exception {
    try (PgEventBus a = bus("ev_shared"); PgEventBus b = bus("ev_shared")) {
      Map<String, AtomicInteger> handled = new ConcurrentHashMap<>();
      Map<String, Integer> lastCount = new ConcurrentHashMap<>();
      for (PgEventBus bus : List.of(a, b)) {
        bus.subscribe(spec("orders", "billing", Duration.ofSeconds(30)), m -> {
          String body = new String(m.payload(), StandardCharsets.UTF_8);
          handled.computeIfAbsent(body, k -> new AtomicInteger()).incrementAndGet();
          lastCount.put(body, m.deliveryCount());
          return CompletableFuture.completedFuture(Disposition.ack());
        });
      }
      PgTestSupport.await(Duration.ofSeconds(10), () -> tableHas("ev_shared_consumers", "durable = 'billing'"));
      for (int i = 0; i < 200; i++) {
        publish(a, msg("orders", "m" + i, "d" + i));
      }
      PgTestSupport.await(Duration.ofSeconds(30), () -> handled.size() == 200);
      Thread.sleep(300);
      assertThat(handled.values()).allSatisfy(n -> assertThat(n.get()).isEqualTo(1));

      // a consumer that died holding a message: its lease expires and a live instance takes it over
      PublishAck orphan = publish(a, msg("orders", "orphan", "orphan"));
      PgTestSupport.await(Duration.ofSeconds(10), () -> handled.containsKey("orphan"));
      pg.exec("UPDATE " + pg.t("ev_shared_deliveries") + " SET status = 'pending', lease_owner = 'dead-instance',"
          + " lease_until = now() + interval '1 second', delivery_count = 1 WHERE event_id = " + orphan.position());
      PgTestSupport.await(Duration.ofSeconds(10), () -> handled.get("orphan").get() == 2);
      assertThat(lastCount.get("orphan")).isEqualTo(2);
    }
  }

  @Test
  void choreographyOverPostgresOrderServicePublishesInventoryRunsSqlFunction() throws Exception {
    pg.exec("CREATE TABLE " + pg.t("stock_reservations") + " (order_id TEXT, event_name TEXT)");
    pg.exec("CREATE FUNCTION " + pg.t("fn_reserve_inventory") + "(payload jsonb) RETURNS void LANGUAGE sql AS $$"
        + " INSERT INTO " + pg.t("stock_reservations") + " SELECT payload->'data'->'new'->>'id',"
        + " payload->'context'->>'event_name' $$");
    Settings backend = Settings.of("[observers]", Map.of("database_url", PgTestSupport.URL,
        "events_table", pg.t("choreo_events"), "poll_interval_ms", 200L));
    ObserversConfig orderService = ObserversConfig.builder().backend("postgres").backendSettings(backend)
        .handler(HandlerConfig.builder("order-created").event("order.created").action("publish")
            .settings(Settings.of("h", Map.of("subject", "fraiseql.order.created"))).build())
        .build();
    ObserversConfig inventoryService = ObserversConfig.builder().backend("postgres").backendSettings(backend)
        .subscription(SubscriptionConfig.builder("fraiseql.order.created", pg.t("fn_reserve_inventory")).build())
        .build();
    try (ObserverEngine inventory = ObserverEngine.builder().config(inventoryService).build();
         ObserverEngine orders = ObserverEngine.builder().config(orderService).build()) {
      PgTestSupport.await(Duration.ofSeconds(10), () -> tableHas("choreo_events_consumers", "true"));
      ObservedEvent e = ObservedEvent.insert("tb_order", Map.of("id", "ord-77"));
      orders.onCommit(e).completion().toCompletableFuture().get(10, TimeUnit.SECONDS);
      PgTestSupport.await(Duration.ofSeconds(10), () -> pg.count("SELECT count(*) FROM " + pg.t("stock_reservations")
          + " WHERE order_id = 'ord-77' AND event_name = 'order.created'") == 1);
    }
  }
}

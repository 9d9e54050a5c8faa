package dev.fraiseql.observers.pg;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fraiseql.observers.DeliveryOutcome;
import dev.fraiseql.observers.ObservedEvent;
import dev.fraiseql.observers.ObserverEngine;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import dev.fraiseql.observers.spi.Backend;
import dev.fraiseql.observers.spi.BackendContext;
import dev.fraiseql.observers.spi.BackendProvider;
import dev.fraiseql.observers.spi.BusSubscription;
import dev.fraiseql.observers.spi.EventBus;
import dev.fraiseql.observers.spi.InboundHandler;
import dev.fraiseql.observers.spi.OutboundMessage;
import dev.fraiseql.observers.spi.PublishAck;
import dev.fraiseql.observers.spi.SubscriptionSpec;
import java.util.Set;
import dev.fraiseql.observers.pg.internal.PgDatabase;
import dev.fraiseql.observers.pg.internal.PgUrl;
import java.util.concurrent.CompletionStage;

/**
 * The seeds' TOML, as written (default table names, unqualified function name), against PostgreSQL.
 * The test schema comes first on the search path ({@code currentSchema} in the JDBC URL).
 */
@SuppressWarnings("try") // resources opened for their side effects (relays, subscribers)
class SeedConfigIT {
  static PgTestSupport pg;
  static String url;

  @BeforeAll
  static void setUp() {
    pg = new PgTestSupport();
    url = PgTestSupport.URL + (PgTestSupport.URL.contains("?") ? "&" : "?") + "currentSchema=" + pg.schema;
    pg.exec("CREATE TABLE " + pg.t("inventory_reservations") + " (order_id TEXT NOT NULL, event_id TEXT NOT NULL)");
    pg.exec("CREATE FUNCTION " + pg.t("fn_reserve_inventory") + "(payload jsonb) RETURNS void LANGUAGE sql AS $$"
        + " INSERT INTO " + pg.t("inventory_reservations") + " SELECT payload->'data'->'new'->>'id', payload->>'id' $$");
  }

  @AfterAll
  static void tearDown() {
    pg.close();
  }

  private static final String ORDER_SERVICE = """
      [observers]
      backend = "postgres"
      database_url = "${DATABASE_URL}"

      [[observers]]
      table = "tb_order"
      event = "INSERT"
      subject = "fraiseql.order.created"
      """;

  private static final String INVENTORY_SERVICE = """
      [observers]
      backend = "postgres"
      database_url = "${DATABASE_URL}"
      checkpoint_strategy = "effectively_once"
      idempotency_table = "observer_idempotency_keys"

      [observers.postgres]
      poll_interval_ms = 200

      # Subscribe to events from order-service
      [[observers.subscribe]]
      subject = "fraiseql.order.created"
      handler = "fn_reserve_inventory"
      """;

  @Test
  void seed000ChoreographyWithSeed001EffectivelyOnceOverPostgres() throws Exception {
    Map<String, String> env = Map.of("DATABASE_URL", url);
    try (ObserverEngine inventory = ObserverEngine.builder().env(env).configToml(INVENTORY_SERVICE).build();
         ObserverEngine orders = ObserverEngine.builder().env(env).configToml(ORDER_SERVICE).build()) {
      ObservedEvent e = ObservedEvent.insert("tb_order", Map.of("id", "ord-1", "total", 42));
      // the order service commits, then reports the same commit twice (a retry after a timeout, say)
      orders.onCommit(e).completion().toCompletableFuture().get(10, TimeUnit.SECONDS);
      orders.onCommit(e).completion().toCompletableFuture().get(10, TimeUnit.SECONDS);
      PgTestSupport.await(Duration.ofSeconds(10), () -> pg.count("SELECT count(*) FROM " + pg.t("inventory_reservations")
          + " WHERE order_id = 'ord-1' AND event_id = '" + e.id() + "'") == 1);
      PgTestSupport.await(Duration.ofSeconds(10), () -> pg.count("SELECT count(*) FROM "
          + pg.t("observer_idempotency_keys") + " WHERE listener_id = 'fn_reserve_inventory'"
          + " AND idempotency_key = '" + e.id() + "' AND claimed_until IS NULL") == 1);
      Thread.sleep(500);
      assertThat(pg.count("SELECT count(*) FROM " + pg.t("inventory_reservations"))).isEqualTo(1);
      assertThat(pg.count("SELECT count(*) FROM " + pg.t("observer_events")
          + " WHERE subject = 'fraiseql.order.created'")).isEqualTo(1);
    }
  }

  private static final String BILLING = """
      [observers]
      database_url = "${DATABASE_URL}"
      checkpoint_strategy = "effectively_once"
      idempotency_table = "observer_idempotency_keys"

      [[observers.handlers]]
      name = "ledger-entry"
      event = "order.created"
      action = "handler"
      handler = "ledger"
      max_attempts = 3
      initial_delay_ms = 50
      """;

  @Test
  void javaHandlerUnderEffectivelyOnceRunsOnceAcrossInstancesAndAFailureIsRetriedNotSkipped() throws Exception {
    Map<String, String> env = Map.of("DATABASE_URL", url);
    AtomicInteger ledgerWrites = new AtomicInteger();
    AtomicInteger calls = new AtomicInteger();
    ObserverEngine.Builder instance = ObserverEngine.builder().env(env).configToml(BILLING).handler("ledger", ev -> {
      if (calls.incrementAndGet() == 1) {
        throw new IllegalStateException("ledger unavailable");
      }
      Thread.sleep(20);
      ledgerWrites.incrementAndGet();
    });
    ObserverEngine.Builder other = ObserverEngine.builder().env(env).configToml(BILLING).handler("ledger", ev -> {
      if (calls.incrementAndGet() == 1) {
        throw new IllegalStateException("ledger unavailable");
      }
      Thread.sleep(20);
      ledgerWrites.incrementAndGet();
    });
    try (ObserverEngine a = instance.build(); ObserverEngine b = other.build()) {
      ObservedEvent e = ObservedEvent.insert("tb_order", Map.of("id", "ord-2"));
      List<CompletableFuture<List<DeliveryOutcome>>> all = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        all.add(a.onCommit(e).completion().toCompletableFuture());
        all.add(b.onCommit(e).completion().toCompletableFuture());
      }
      List<DeliveryOutcome> outcomes = new ArrayList<>();
      for (CompletableFuture<List<DeliveryOutcome>> f : all) {
        outcomes.addAll(f.get(30, TimeUnit.SECONDS));
      }
      assertThat(ledgerWrites.get()).isEqualTo(1);
      assertThat(outcomes).filteredOn(o -> o.status() == DeliveryOutcome.Status.DELIVERED).hasSize(1);
      assertThat(outcomes).noneMatch(o -> o.status() == DeliveryOutcome.Status.DEAD_LETTERED);
      assertThat(pg.count("SELECT count(*) FROM " + pg.t("observer_idempotency_keys") + " WHERE idempotency_key = '"
          + e.id() + "' AND listener_id = 'ledger-entry' AND claimed_until IS NULL")).isEqualTo(1);
    }
  }

  @Test
  void readmeExampleLoadsAndRunsASqlHandler() throws Exception {
    pg.exec("CREATE SCHEMA " + pg.schema + "_billing");
    try {
      pg.exec("CREATE TABLE " + pg.schema + "_billing.ledger (event_id TEXT, total INT)");
      pg.exec("CREATE FUNCTION " + pg.schema + "_billing.fn_post_ledger_entry(payload jsonb) RETURNS void"
          + " LANGUAGE sql AS $$ INSERT INTO " + pg.schema + "_billing.ledger"
          + " SELECT payload->>'id', (payload->'data'->'new'->>'total')::int $$");
      String toml = """
          [observers]
          backend = "postgres"
          database_url = "${DATABASE_URL}"
          checkpoint_strategy = "effectively_once"
          idempotency_table = "observer_idempotency_keys"

          [observers.postgres]
          create_tables = true
          dead_letter_table = "observer_dead_letters"
          events_table = "observer_events"
          pool_size = 4
          poll_interval_ms = 1000

          [[observers.handlers]]
          name = "ledger-entry"
          event = "order.created"
          action = "sql"
          function = "SCHEMA_billing.fn_post_ledger_entry"
          max_attempts = 5
          """.replace("SCHEMA", pg.schema);
      try (ObserverEngine engine = ObserverEngine.builder().env(Map.of("DATABASE_URL", url)).configToml(toml).build()) {
        ObservedEvent e = ObservedEvent.insert("tb_order", Map.of("id", "ord-3", "total", 99));
        List<DeliveryOutcome> first = engine.onCommit(e).completion().toCompletableFuture().get(10, TimeUnit.SECONDS);
        List<DeliveryOutcome> second = engine.onCommit(e).completion().toCompletableFuture().get(10, TimeUnit.SECONDS);
        assertThat(first.get(0).status()).isEqualTo(DeliveryOutcome.Status.DELIVERED);
        assertThat(second.get(0).succeeded()).isTrue();
        assertThat(pg.count("SELECT count(*) FROM " + pg.schema + "_billing.ledger WHERE event_id = '" + e.id()
            + "' AND total = 99")).isEqualTo(1);
      }
    } finally {
      pg.exec("DROP SCHEMA " + pg.schema + "_billing CASCADE");
    }
  }

  private static final String SEED_001 = """
      [observers]
      backend = "nats"
      nats_url = "${NATS_URL}"
      checkpoint_strategy = "effectively_once"
      idempotency_table = "observer_idempotency_keys"

      [[observers.handlers]]
      name = "ledger"
      event = "payment.created"
      action = "handler"
      handler = "ledger"
      """;

  /** Stands in for the NATS module (not a dependency of this one): a bus-only backend named nats. */
  private static BackendProvider natsStandIn(List<String> published) {
    return new BackendProvider() {
      @Override
      public String name() {
        return "nats";
      }

      @Override
      public Set<String> settingKeys() {
        return Set.of("nats_url");
      }

      @Override
      public Backend create(BackendContext context) {
        return () -> new EventBus() {
          @Override
          public String name() {
            return "nats";
          }

          @Override
          public CompletionStage<PublishAck> publish(OutboundMessage message) {
            published.add(message.subject());
            return CompletableFuture.completedFuture(new PublishAck(message.subject(), false, "1"));
          }

          @Override
          public BusSubscription subscribe(SubscriptionSpec spec, InboundHandler handler) {
            return () -> { };
          }
        };
      }
    };
  }

  @Test
  void seed001AsWrittenWithANatsBusKeepsItsIdempotencyKeysInPostgresOnly() throws Exception {
    AtomicInteger ledger = new AtomicInteger();
    // the host's pool, with a schema of its own first on its search path
    String schema = pg.schema + "_seed1";
    pg.exec("CREATE SCHEMA " + schema);
    PgDatabase hostPool = PgDatabase.fromUrl(PgUrl.parse(url.replace("currentSchema=" + pg.schema,
        "currentSchema=" + schema)), 2);
    try (ObserverEngine engine = ObserverEngine.builder().env(Map.of("NATS_URL", "nats://localhost:4222"))
        .configToml(SEED_001).backend(natsStandIn(new java.util.concurrent.CopyOnWriteArrayList<>()))
        .component(javax.sql.DataSource.class, hostPool.dataSource())
        .handler("ledger", ev -> ledger.incrementAndGet()).build()) {
      ObservedEvent e = ObservedEvent.insert("tb_payment", Map.of("id", "pay-1", "amount", 100));
      engine.onCommit(e).completion().toCompletableFuture().get(10, TimeUnit.SECONDS);
      List<DeliveryOutcome> again = engine.onCommit(e).completion().toCompletableFuture().get(10, TimeUnit.SECONDS);
      assertThat(ledger.get()).isEqualTo(1);
      assertThat(again.get(0).status()).isEqualTo(DeliveryOutcome.Status.DUPLICATE);
      assertThat(pg.count("SELECT count(*) FROM " + schema + ".observer_idempotency_keys WHERE idempotency_key = '"
          + e.id() + "' AND listener_id = 'ledger' AND claimed_until IS NULL")).isEqualTo(1);
      // the postgres backend served the store only: no bus tables were created
      assertThat(pg.count("SELECT count(*) FROM pg_tables WHERE schemaname = '" + schema + "'")).isEqualTo(1);
    } finally {
      hostPool.close();
      pg.exec("DROP SCHEMA " + schema + " CASCADE");
    }
  }
}

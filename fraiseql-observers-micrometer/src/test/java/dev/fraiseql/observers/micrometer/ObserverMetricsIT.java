package dev.fraiseql.observers.micrometer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fraiseql.observers.DeliveryOutcome;
import dev.fraiseql.observers.ObservedEvent;
import dev.fraiseql.observers.ObserverEngine;
import dev.fraiseql.observers.pg.PgOutbox;
import dev.fraiseql.observers.pg.PgOutboxRelay;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.postgresql.ds.PGSimpleDataSource;

/** The Prometheus text after real webhook deliveries to a real HTTP receiver, and an outbox's backlog in PostgreSQL. */
class ObserverMetricsIT {
  static final String PG_URL = Optional.ofNullable(System.getenv("FRAISEQL_TEST_PG_URL"))
      .orElse("jdbc:postgresql://localhost:5432/test?user=root");

  /** The value of the series {@code name{labels}} in Prometheus text, or null when absent. */
  static Double value(String scrape, String name, Map<String, String> labels) {
    Pattern line = Pattern.compile("^" + Pattern.quote(name) + "(\\{([^}]*)\\})? (\\S+)$", Pattern.MULTILINE);
    Matcher m = line.matcher(scrape);
    while (m.find()) {
      String l = m.group(2) == null ? "" : m.group(2);
      boolean all = labels.entrySet().stream().allMatch(e -> l.contains(e.getKey() + "=\"" + e.getValue() + "\""));
      if (all) {
        return Double.parseDouble(m.group(3));
      }
    }
    return null;
  }

  @Test
  void theScrapeShowsOneRetryAndOneDeliveryAfterA503ThenA200AndADeadLetter() throws Exception {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    ObserverMetrics metrics = ObserverMetrics.builder(registry).build();
    try (Receiver r = new Receiver()) {
      r.answer("/signup", 503, 200).answer("/crm", 400).answer("/email", 200);
      String toml = """
          [observers]
          backend = "webhook"

          [[observers.handlers]]
          name = "signup-event"
          event = "user.created"
          action = "webhook"
          webhook_url = "%s"
          max_attempts = 3
          initial_delay_ms = 10
          jitter = 0.0

          [[observers.handlers]]
          name = "crm-sync"
          event = "user.created"
          action = "webhook"
          webhook_url = "%s"

          [[observers.handlers]]
          name = "vip-email"
          event = "user.created"
          condition = "plan == 'vip'"
          action = "webhook"
          webhook_url = "%s"
          """.formatted(r.url("/signup"), r.url("/crm"), r.url("/email"));
      try (ObserverEngine engine = ObserverEngine.builder().configToml(toml).listener(metrics).build()) {
        metrics.bindTo(engine);
        String before = registry.scrape();
        assertThat(value(before, "fraiseql_observer_deliveries_total",
            Map.of("handler", "crm-sync", "outcome", "dead_lettered", "action", "webhook"))).as(before).isEqualTo(0.0);

        List<DeliveryOutcome> out = engine.onCommit(ObservedEvent.insert("tb_user", Map.of("id", 1, "plan", "free")))
            .completion().toCompletableFuture().get(20, TimeUnit.SECONDS).stream()
            .sorted(Comparator.comparing(DeliveryOutcome::handler)).toList();
        assertThat(out).extracting(DeliveryOutcome::status).containsExactly(DeliveryOutcome.Status.DEAD_LETTERED,
            DeliveryOutcome.Status.DELIVERED, DeliveryOutcome.Status.SKIPPED);
        assertThat(r.requests).containsExactlyInAnyOrder("/signup 503", "/signup 200", "/crm 400");

        String s = registry.scrape();
        System.out.println(s.lines().filter(l -> l.startsWith("fraiseql_") && !l.contains("_bucket")).reduce("", (a, b) -> a + b + "\n"));
        String n = "fraiseql_observer_deliveries_total";
        assertThat(value(s, n, Map.of("handler", "signup-event", "action", "webhook", "outcome", "retried"))).as(s).isEqualTo(1.0);
        assertThat(value(s, n, Map.of("handler", "signup-event", "action", "webhook", "outcome", "delivered"))).isEqualTo(1.0);
        assertThat(value(s, n, Map.of("handler", "signup-event", "outcome", "dead_lettered"))).isEqualTo(0.0);
        assertThat(value(s, n, Map.of("handler", "crm-sync", "outcome", "dead_lettered"))).isEqualTo(1.0);
        assertThat(value(s, n, Map.of("handler", "crm-sync", "outcome", "delivered"))).isEqualTo(0.0);
        assertThat(value(s, n, Map.of("handler", "vip-email", "outcome", "skipped"))).isEqualTo(1.0);
        String t = "fraiseql_observer_attempts_seconds_count";
        assertThat(value(s, t, Map.of("handler", "signup-event", "result", "retry"))).isEqualTo(1.0);
        assertThat(value(s, t, Map.of("handler", "signup-event", "result", "delivered"))).isEqualTo(1.0);
        assertThat(value(s, t, Map.of("handler", "crm-sync", "result", "failed"))).isEqualTo(1.0);
        assertThat(value(s, "fraiseql_observer_attempts_seconds_bucket", Map.of("handler", "signup-event",
            "result", "delivered", "le", "+Inf"))).as("percentile histogram").isEqualTo(1.0);
        assertThat(value(s, "fraiseql_observer_dead_letters_stored", Map.of())).isEqualTo(1.0);
        assertThat(value(s, "fraiseql_observer_deliveries_in_flight", Map.of())).isEqualTo(0.0);
        assertThat(value(s, "fraiseql_observer_deliveries_queued", Map.of())).isEqualTo(0.0);
        assertThat(value(s, "fraiseql_observer_attempts_running", Map.of())).isEqualTo(0.0);
        assertThat(s).doesNotContain(ObservedEvent.class.getSimpleName()).doesNotContain("event_id");
      }
    }
  }

  @Test
  void theOutboxBacklogGaugesShowPendingRowsAndTheOldestAge() throws Exception {
    PGSimpleDataSource ds = new PGSimpleDataSource();
    ds.setURL(PG_URL);
    String table = "obs_metrics_outbox_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
    PgOutbox outbox = PgOutbox.forTable(table);
    outbox.createTable(ds);
    try {
      PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
      ObserverMetrics metrics = ObserverMetrics.builder(registry).build();
      metrics.bindOutbox(table, Duration.ZERO, () -> {
        PgOutbox.Backlog b = outbox.backlog(ds, Duration.ofSeconds(2));
        return new ObserverMetrics.Backlog(b.pending(), b.oldestAge());
      });
      Map<String, String> tag = Map.of("table", table);
      String empty = registry.scrape();
      assertThat(value(empty, "fraiseql_observer_outbox_pending", tag)).as(empty).isEqualTo(0.0);
      assertThat(value(empty, "fraiseql_observer_outbox_oldest_age_seconds", tag)).isEqualTo(0.0);
      try (Connection c = ds.getConnection()) {
        c.setAutoCommit(false);
        outbox.record(c, List.of(ObservedEvent.insert("tb_order", Map.of("id", 1)), ObservedEvent.insert("tb_order", Map.of("id", 2)),
            ObservedEvent.insert("tb_order", Map.of("id", 3))));
        c.commit();
      }
      Thread.sleep(1100);
      String s = registry.scrape();
      assertThat(value(s, "fraiseql_observer_outbox_pending", tag)).as(s).isEqualTo(3.0);
      assertThat(value(s, "fraiseql_observer_outbox_oldest_age_seconds", tag)).isBetween(1.0, 60.0);
      // a relay dispatches them: the backlog drains, the relay's counter shows three
      java.util.concurrent.atomic.AtomicInteger handled = new java.util.concurrent.atomic.AtomicInteger();
      String toml = """
          [[observers.handlers]]
          name = "ledger"
          event = "order.created"
          action = "handler"
          handler = "ledger"
          """;
      try (ObserverEngine engine = ObserverEngine.builder().configToml(toml).listener(metrics)
              .handler("ledger", e -> handled.incrementAndGet()).build();
           PgOutboxRelay relay = PgOutboxRelay.builder(engine, ds).outbox(outbox).pollInterval(Duration.ofMillis(100)).start()) {
        metrics.bindTo(engine).bindRelay(table, relay::dispatchedCount, relay::inFlight);
        long end = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (value(registry.scrape(), "fraiseql_observer_outbox_pending", tag) != 0.0 && System.nanoTime() < end) {
          Thread.sleep(50);
        }
        String done = registry.scrape();
        assertThat(value(done, "fraiseql_observer_outbox_pending", tag)).as(done).isEqualTo(0.0);
        assertThat(value(done, "fraiseql_observer_outbox_oldest_age_seconds", tag)).isEqualTo(0.0);
        assertThat(value(done, "fraiseql_observer_outbox_dispatched_total", tag)).isEqualTo(3.0);
        assertThat(value(done, "fraiseql_observer_deliveries_total", Map.of("handler", "ledger", "action", "handler",
            "outcome", "delivered"))).isEqualTo(3.0);
        assertThat(handled).hasValue(3);
      }
      // the table gone: NaN, not an exception in the scrape
      drop(ds, table);
      String gone = registry.scrape();
      assertThat(value(gone, "fraiseql_observer_outbox_pending", tag)).isNaN();
    } finally {
      drop(ds, table);
    }
  }

  private static void drop(DataSource ds, String table) throws Exception {
    try (Connection c = ds.getConnection(); Statement st = c.createStatement()) {
      st.execute("DROP TABLE IF EXISTS " + table);
    }
  }

  static Connection connect() throws Exception {
    return DriverManager.getConnection(PG_URL);
  }
}

package dev.fraiseql.observers.micrometer;

import static dev.fraiseql.observers.micrometer.ObserverMetricsIT.value;
import static org.assertj.core.api.Assertions.assertThat;

import dev.fraiseql.observers.DeliveryOutcome;
import dev.fraiseql.observers.ObservedEvent;
import dev.fraiseql.observers.ObserverEngine;
import dev.fraiseql.observers.config.HandlerConfig;
import dev.fraiseql.observers.config.ObserversConfig;
import dev.fraiseql.observers.config.Settings;
import dev.fraiseql.observers.config.SubscriptionConfig;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.nats.client.Connection;
import io.nats.client.Nats;
import java.sql.Statement;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.postgresql.ds.PGSimpleDataSource;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.params.ScanParams;
import redis.clients.jedis.resps.ScanResult;

/**
 * {@code fraiseql_observer_subscription_lag} against the real servers: N messages published to a
 * subscription whose handler holds them (none acknowledged) show as N, then 0 once they are handled;
 * for the PostgreSQL bus, Redis Streams and NATS JetStream.
 */
class SubscriptionLagIT {
  static final String NATS_URL = Optional.ofNullable(System.getenv("FRAISEQL_TEST_NATS_URL")).orElse("nats://localhost:4222");
  static final String REDIS_URL = Optional.ofNullable(System.getenv("FRAISEQL_TEST_REDIS_URL")).orElse("redis://localhost:6379");
  static final int N = 5;

  private final String id = UUID.randomUUID().toString().replace("-", "").substring(0, 10);

  /** Publishes N through the engine's publish handler while the subscriber holds them; checks the gauge N, then 0. */
  private void lagGoesToNThenZero(ObserversConfig config, String subject) throws Exception {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    ObserverMetrics metrics = ObserverMetrics.builder(registry).build();
    CountDownLatch release = new CountDownLatch(1);
    AtomicInteger handled = new AtomicInteger();
    Map<String, String> tags = Map.of("handler", "reserveInventory", "subject", subject);
    try (ObserverEngine engine = ObserverEngine.builder().config(config).listener(metrics).handler("reserveInventory", e -> {
      release.await(60, TimeUnit.SECONDS);
      handled.incrementAndGet();
    }).build()) {
      metrics.bindTo(engine);
      String before = registry.scrape();
      assertThat(value(before, "fraiseql_observer_subscription_lag", tags)).as(before).isNotNull();
      for (int i = 0; i < N; i++) {
        List<DeliveryOutcome> out = engine.onCommit(ObservedEvent.insert("tb_order", Map.of("id", "o-" + i)))
            .completion().toCompletableFuture().get(20, TimeUnit.SECONDS);
        assertThat(out).singleElement().satisfies(o -> assertThat(o.status()).isEqualTo(DeliveryOutcome.Status.DELIVERED));
      }
      double seen = awaitGauge(registry, tags, N, Duration.ofSeconds(15));
      assertThat(seen).as("published, none acknowledged").isEqualTo(N);
      assertThat(engine.subscriptionLag("reserveInventory")).hasValue(N);
      assertThat(handled).hasValue(0);
      release.countDown();
      double after = awaitGauge(registry, tags, 0, Duration.ofSeconds(30));
      assertThat(after).as("after consumption").isEqualTo(0.0);
      assertThat(handled).hasValue(N);
      assertThat(engine.subscriptionLag("no-such-handler")).isEmpty();
    } finally {
      release.countDown();
    }
  }

  /** Scrapes until the gauge reads {@code want} (or the time is up); returns the last reading. */
  private static double awaitGauge(PrometheusMeterRegistry registry, Map<String, String> tags, double want, Duration d)
      throws InterruptedException {
    long end = System.nanoTime() + d.toNanos();
    Double v;
    do {
      v = value(registry.scrape(), "fraiseql_observer_subscription_lag", tags);
      if (v != null && v == want) {
        return v;
      }
      Thread.sleep(100);
    } while (System.nanoTime() < end);
    return v == null ? Double.NaN : v;
  }

  private static SubscriptionConfig subscription(String subject, String durable) {
    return SubscriptionConfig.builder(subject, "reserveInventory").durable(durable).build();
  }

  private static HandlerConfig publisher(String subject) {
    return HandlerConfig.builder("order-created").event("order.created").action("publish")
        .settings(Settings.of("[[observers.handlers]] #1", Map.of("subject", subject))).build();
  }

  @Test
  void postgresBus() throws Exception {
    String schema = "obs_lag_" + id;
    PGSimpleDataSource ds = new PGSimpleDataSource();
    ds.setURL(ObserverMetricsIT.PG_URL);
    try (java.sql.Connection c = ds.getConnection(); Statement st = c.createStatement()) {
      st.execute("CREATE SCHEMA " + schema);
    }
    try {
      String url = ObserverMetricsIT.PG_URL + (ObserverMetricsIT.PG_URL.contains("?") ? "&" : "?") + "currentSchema=" + schema;
      Map<String, Object> pg = new LinkedHashMap<>();
      pg.put("database_url", url);
      pg.put("create_tables", true);
      pg.put("poll_interval_ms", 200L);
      String subject = "fraiseql.order.created";
      ObserversConfig config = ObserversConfig.builder().backend("postgres")
          .backendSettings(Settings.of("[observers]", pg))
          .handler(publisher(subject)).subscription(subscription(subject, "inv" + id)).build();
      lagGoesToNThenZero(config, subject);
    } finally {
      try (java.sql.Connection c = ds.getConnection(); Statement st = c.createStatement()) {
        st.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
      }
    }
  }

  @Test
  void redisStreams() throws Exception {
    String prefix = "obs-lag-" + id + ":";
    String subject = "fraiseql.order.created";
    ObserversConfig config = ObserversConfig.builder().backend("redis")
        .backendSettings(Settings.of("[observers]", Map.of("redis_url", REDIS_URL, "key_prefix", prefix, "block_ms", 200L)))
        .handler(publisher(subject)).subscription(subscription(subject, "inv" + id)).build();
    try (RedisClient jedis = RedisClient.create(java.net.URI.create(REDIS_URL))) {
      try {
        lagGoesToNThenZero(config, subject);
      } finally {
        String cursor = ScanParams.SCAN_POINTER_START;
        do {
          ScanResult<String> page = jedis.scan(cursor, new ScanParams().match(prefix + "*").count(100));
          page.getResult().forEach(jedis::del);
          cursor = page.getCursor();
        } while (!cursor.equals(ScanParams.SCAN_POINTER_START));
      }
    }
  }

  @Test
  void natsJetStream() throws Exception {
    String subject = "lag" + id + ".order.created";
    Map<String, Object> nats = new LinkedHashMap<>();
    nats.put("nats_url", NATS_URL);
    nats.put("stream", "LAG" + id);
    nats.put("subjects", List.of("lag" + id + ".>"));
    nats.put("fetch_wait_ms", 250L);
    ObserversConfig config = ObserversConfig.builder().backend("nats").backendSettings(Settings.of("[observers]", nats))
        .handler(publisher(subject)).subscription(subscription(subject, "inv" + id)).build();
    try (Connection plain = Nats.connect(NATS_URL)) {
      try {
        lagGoesToNThenZero(config, subject);
      } finally {
        try {
          plain.jetStreamManagement().deleteStream("LAG" + id);
        } catch (Exception ignored) {
          // already gone
        }
      }
    }
  }
}

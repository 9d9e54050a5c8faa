package dev.fraiseql.observers.micrometer;

import static dev.fraiseql.observers.micrometer.ObserverMetricsIT.value;
import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.fraiseql.observers.DeliveryOutcome;
import dev.fraiseql.observers.Dispatch;
import dev.fraiseql.observers.ObservedEvent;
import dev.fraiseql.observers.ObserverEngine;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * A burst to a slow webhook receiver with a small {@code max_concurrency}: the saturation is visible in
 * the scrape (attempts waiting for a slot, how long they waited, waits abandoned unsent), and waiting
 * spends no attempt budget. A real JDK HTTP server on loopback.
 */
class EndpointSaturationIT {
  private static final Map<String, String> SLOW = Map.of("handler", "slow-hook", "action", "webhook");

  /** A receiver that answers 200 after {@code delayMs}, counting requests and the most it held at once. */
  private static final class SlowReceiver implements AutoCloseable {
    final HttpServer server;
    final ExecutorService pool = Executors.newFixedThreadPool(16);
    final AtomicInteger requests = new AtomicInteger();
    final AtomicInteger concurrent = new AtomicInteger();
    final AtomicInteger maxConcurrent = new AtomicInteger();

    SlowReceiver(long delayMs) throws Exception {
      server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
      server.createContext("/", ex -> {
        int now = concurrent.incrementAndGet();
        maxConcurrent.accumulateAndGet(now, Math::max);
        try {
          ex.getRequestBody().readAllBytes();
          requests.incrementAndGet();
          Thread.sleep(delayMs);
          ex.sendResponseHeaders(200, -1);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        } finally {
          concurrent.decrementAndGet();
          ex.close();
        }
      });
      server.setExecutor(pool);
      server.start();
    }

    String url() {
      return "http://127.0.0.1:" + server.getAddress().getPort() + "/hook";
    }

    @Override
    public void close() {
      server.stop(0);
      pool.shutdownNow();
    }
  }

  @Test
  void aBurstShowsWaitingAttemptsThatReturnToZeroAndSpendsNoBudgetOnWaiting() throws Exception {
    int events = 30;
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    ObserverMetrics metrics = ObserverMetrics.builder(registry).build();
    try (SlowReceiver r = new SlowReceiver(100)) {
      // a wait of up to ~1.5 s (30 requests, 2 at a time, 100 ms each) against a 400 ms attempt timeout and a
      // single attempt: if waiting counted as the attempt, most of the burst would be dead-lettered
      String toml = """
          [observers]
          backend = "webhook"

          [[observers.handlers]]
          name = "slow-hook"
          event = "user.created"
          action = "webhook"
          webhook_url = "%s"
          max_concurrency = 2
          timeout_ms = 400
          request_timeout_ms = 400
          max_attempts = 1
          """.formatted(r.url());
      try (ObserverEngine engine = ObserverEngine.builder().configToml(toml).listener(metrics).build()) {
        metrics.bindTo(engine);
        String before = registry.scrape();
        assertThat(value(before, "fraiseql_observer_endpoint_waiting", SLOW)).as(before).isEqualTo(0.0);
        assertThat(value(before, "fraiseql_observer_queue_abandoned_total", SLOW)).isEqualTo(0.0);

        List<Dispatch> dispatches = new ArrayList<>();
        for (int i = 0; i < events; i++) {
          dispatches.add(engine.onCommit(ObservedEvent.insert("tb_user", Map.of("id", i))));
        }
        double maxWaiting = 0;
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (engine.inFlight() > 0 && System.nanoTime() < end) {
          maxWaiting = Math.max(maxWaiting, value(registry.scrape(), "fraiseql_observer_endpoint_waiting", SLOW));
          Thread.sleep(20);
        }
        for (Dispatch d : dispatches) {
          assertThat(d.completion().toCompletableFuture().get(30, TimeUnit.SECONDS))
              .extracting(DeliveryOutcome::status).containsExactly(DeliveryOutcome.Status.DELIVERED);
        }
        String s = registry.scrape();
        System.out.println(s.lines().filter(l -> l.startsWith("fraiseql_observer_") && !l.contains("_bucket"))
            .reduce("", (a, b) -> a + b + "\n"));
        assertThat(maxWaiting).as("attempts seen waiting for a slot during the burst").isGreaterThan(0);
        assertThat(maxWaiting).isLessThanOrEqualTo(events - 2);
        assertThat(value(s, "fraiseql_observer_endpoint_waiting", SLOW)).as("after the burst").isEqualTo(0.0);
        // every request that did not find a free slot waited, and its wait was timed
        double waits = value(s, "fraiseql_observer_queue_wait_seconds_count", SLOW);
        assertThat(waits).isBetween(events - 2.0, (double) events);
        assertThat(value(s, "fraiseql_observer_queue_wait_seconds_max", SLOW)).as("the last ones waited ~1 s")
            .isGreaterThan(0.5);
        assertThat(value(s, "fraiseql_observer_queue_abandoned_total", SLOW)).isEqualTo(0.0);
        // no budget spent on waiting: one attempt per event, each timed from its hand-off to the client
        assertThat(value(s, "fraiseql_observer_attempts_seconds_count", Map.of("handler", "slow-hook", "result", "delivered")))
            .isEqualTo((double) events);
        assertThat(value(s, "fraiseql_observer_attempts_seconds_max", Map.of("handler", "slow-hook", "result", "delivered")))
            .as("an attempt's time excludes its wait").isLessThan(0.4);
        assertThat(value(s, "fraiseql_observer_deliveries_total", Map.of("handler", "slow-hook", "outcome", "retried")))
            .isEqualTo(0.0);
        assertThat(value(s, "fraiseql_observer_deliveries_total", Map.of("handler", "slow-hook", "outcome", "delivered")))
            .isEqualTo((double) events);
        assertThat(r.requests).hasValue(events);
        assertThat(r.maxConcurrent.get()).isLessThanOrEqualTo(2);
      }
    }
  }

  @Test
  void waitsPastQueueTimeoutAreCountedAsAbandonedAndTheGaugeReturnsToZero() throws Exception {
    int events = 12;
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    ObserverMetrics metrics = ObserverMetrics.builder(registry).build();
    try (SlowReceiver r = new SlowReceiver(300)) {
      // one slot, 300 ms a request, a 250 ms bound on the wait: all but the first few leave the queue unsent
      String toml = """
          [observers]
          backend = "webhook"

          [[observers.handlers]]
          name = "slow-hook"
          event = "user.created"
          action = "webhook"
          webhook_url = "%s"
          max_concurrency = 1
          queue_timeout_ms = 250
          max_attempts = 1
          """.formatted(r.url());
      try (ObserverEngine engine = ObserverEngine.builder().configToml(toml).listener(metrics).build()) {
        metrics.bindTo(engine);
        List<Dispatch> dispatches = new ArrayList<>();
        for (int i = 0; i < events; i++) {
          dispatches.add(engine.onCommit(ObservedEvent.insert("tb_user", Map.of("id", i))));
        }
        int delivered = 0;
        int dead = 0;
        for (Dispatch d : dispatches) {
          DeliveryOutcome o = d.completion().toCompletableFuture().get(30, TimeUnit.SECONDS).get(0);
          if (o.status() == DeliveryOutcome.Status.DELIVERED) {
            delivered++;
          } else {
            assertThat(o.status()).isEqualTo(DeliveryOutcome.Status.DEAD_LETTERED);
            assertThat(o.detail()).contains("queue_timeout_ms");
            dead++;
          }
        }
        String s = registry.scrape();
        assertThat(dead).isPositive();
        assertThat(value(s, "fraiseql_observer_queue_abandoned_total", SLOW)).as(s).isEqualTo((double) dead);
        assertThat(value(s, "fraiseql_observer_endpoint_waiting", SLOW)).isEqualTo(0.0);
        assertThat(value(s, "fraiseql_observer_queue_wait_seconds_count", SLOW))
            .as("every wait, started or abandoned, is timed").isGreaterThanOrEqualTo(dead);
        assertThat(r.requests).as("an abandoned wait is never sent").hasValue(delivered);
      }
    }
  }
}

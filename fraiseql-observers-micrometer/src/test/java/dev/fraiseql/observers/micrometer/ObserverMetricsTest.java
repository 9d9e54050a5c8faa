package dev.fraiseql.observers.micrometer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.fraiseql.observers.ObservedEvent;
import dev.fraiseql.observers.ObserverEngine;
import dev.fraiseql.observers.spi.ActionResult;
import dev.fraiseql.observers.spi.PermanentFailureException;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The binder against a real engine with Java handlers (no servers). */
class ObserverMetricsTest {
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

  private double count(String handler, String outcome) {
    return registry.get(ObserverMetrics.DELIVERIES).tag("handler", handler).tag("outcome", outcome).counter().count();
  }

  @Test
  void javaHandlersAreCountedByOutcomeWithTheirActionTag() throws Exception {
    ObserverMetrics metrics = ObserverMetrics.builder(registry).tags("service", "orders").build();
    String toml = """
        [[observers.handlers]]
        name = "ok"
        event = "user.created"
        action = "handler"
        handler = "ok"

        [[observers.handlers]]
        name = "bad"
        event = "user.created"
        action = "handler"
        handler = "bad"
        """;
    try (ObserverEngine engine = ObserverEngine.builder().configToml(toml).listener(metrics)
        .handler("ok", e -> { })
        .handler("bad", e -> {
          throw new PermanentFailureException("no such customer");
        }).build()) {
      metrics.bindTo(engine);
      for (int i = 0; i < 3; i++) {
        engine.onCommit(ObservedEvent.insert("tb_user", Map.of("id", i))).completion().toCompletableFuture()
            .get(10, TimeUnit.SECONDS);
      }
      assertThat(count("ok", "delivered")).isEqualTo(3);
      assertThat(count("bad", "dead_lettered")).isEqualTo(3);
      assertThat(count("bad", "delivered")).isZero();
      assertThat(registry.get(ObserverMetrics.ATTEMPTS).tag("handler", "bad").tag("result", "failed").timer().count())
          .isEqualTo(3);
      assertThat(registry.get(ObserverMetrics.DELIVERIES).tag("handler", "ok").counter().getId().getTag("action"))
          .isEqualTo("handler");
      assertThat(registry.get(ObserverMetrics.DEAD_LETTERS_STORED).gauge().value()).isEqualTo(3);
      assertThat(registry.get(ObserverMetrics.IN_FLIGHT).tag("service", "orders").gauge().value()).isZero();
      Set<String> tagKeys = registry.getMeters().stream().flatMap(m -> m.getId().getTags().stream())
          .map(t -> t.getKey()).collect(Collectors.toSet());
      assertThat(tagKeys).containsOnly("service", "handler", "action", "outcome", "result");
    }
  }

  @Test
  void duplicatesFromAnActionAndHandlerNamesBeyondTheBoundAreFolded() {
    ObserverMetrics metrics = ObserverMetrics.builder(registry).maxHandlers(2).build();
    ObservedEvent e = ObservedEvent.insert("tb_user", Map.of("id", 1));
    metrics.attemptStarted(e, "a", 1);
    metrics.attemptFinished(e, "a", 1, ActionResult.duplicate("already processed"), Duration.ofMillis(3));
    metrics.duplicateSkipped(e, "a");
    assertThat(count("a", "duplicate")).isEqualTo(1);
    assertThat(count("a", "delivered")).as("a duplicate is not a delivery").isZero();
    assertThat(registry.get(ObserverMetrics.ATTEMPTS).tag("handler", "a").tag("result", "duplicate").timer().count())
        .isEqualTo(1);
    assertThat(registry.get(ObserverMetrics.DELIVERIES).tag("handler", "a").counter().getId().getTag("action"))
        .isEqualTo(ObserverMetrics.UNKNOWN_ACTION);
    metrics.skipped(e, "b");
    metrics.skipped(e, "c");
    metrics.skipped(e, "d");
    assertThat(count("other", "skipped")).isEqualTo(2);
    Set<String> handlers = registry.getMeters().stream().map(Meter::getId).map(id -> id.getTag("handler"))
        .collect(Collectors.toSet());
    assertThat(handlers).containsExactlyInAnyOrder("a", "b", "other");
  }

  @Test
  void badBuilderValuesAreRefused() {
    assertThatThrownBy(() -> ObserverMetrics.builder(registry).percentiles(1.5))
        .hasMessageContaining("between 0 and 1, got 1.5");
    assertThatThrownBy(() -> ObserverMetrics.builder(registry).maxHandlers(0)).hasMessageContaining("at least 1");
  }

  @Test
  void outboxAndRelayGaugesKeepReadingAfterGarbageCollection() throws Exception {
    ObserverMetrics metrics = ObserverMetrics.builder(registry).build();
    java.util.concurrent.atomic.AtomicLong pending = new java.util.concurrent.atomic.AtomicLong(7);
    // lambdas referenced by nothing but the binder, as a caller passing method references does
    metrics.bindOutbox("app.observer_outbox", Duration.ZERO,
        () -> new ObserverMetrics.Backlog(pending.get(), Duration.ofSeconds(3)));
    metrics.bindRelay("app.observer_outbox", () -> 11L, () -> 2);
    for (int i = 0; i < 5; i++) {
      System.gc();
      Thread.sleep(20);
    }
    assertThat(registry.get(ObserverMetrics.OUTBOX_PENDING).tag("table", "app.observer_outbox").gauge().value())
        .isEqualTo(7.0);
    assertThat(registry.get(ObserverMetrics.OUTBOX_RELAY_IN_FLIGHT).tag("table", "app.observer_outbox").gauge().value())
        .isEqualTo(2.0);
    assertThat(registry.get(ObserverMetrics.OUTBOX_DISPATCHED).tag("table", "app.observer_outbox").functionCounter()
        .count()).isEqualTo(11.0);
  }
}

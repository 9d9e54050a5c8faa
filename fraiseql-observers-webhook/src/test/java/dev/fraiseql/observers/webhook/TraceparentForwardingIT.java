package dev.fraiseql.observers.webhook;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fraiseql.observers.DeliveryOutcome;
import dev.fraiseql.observers.MutationContext;
import dev.fraiseql.observers.ObservedEvent;
import dev.fraiseql.observers.ObserverEngine;
import dev.fraiseql.observers.webhook.Receiver.Response;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Without OpenTelemetry on the classpath (this module has none), a {@code traceparent} on the event's
 * context reaches the receiver unchanged, on every attempt; a malformed one is not sent.
 */
class TraceparentForwardingIT {
  static final String TP = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

  private static List<DeliveryOutcome> send(Receiver r, MutationContext ctx) throws Exception {
    String toml = """
        [observers]
        backend = "webhook"
        [[observers.handlers]]
        name = "crm-sync"
        event = "user.created"
        action = "webhook"
        webhook_url = "%s"
        max_attempts = 2
        initial_delay_ms = 10
        """.formatted(r.uri("/hook"));
    try (ObserverEngine engine = ObserverEngine.builder().configToml(toml).build()) {
      return engine.onCommit(ObservedEvent.builder().table("tb_user").operation(dev.fraiseql.observers.Operation.INSERT)
          .newRow(Map.of("id", 1)).context(ctx).build()).completion().toCompletableFuture().get(20, TimeUnit.SECONDS);
    }
  }

  @Test
  void aTraceparentOnTheEventIsSentUnchangedOnEveryAttempt() throws Exception {
    try (Receiver r = new Receiver()) {
      r.answer(Response.of(503), Response.of(200));
      List<DeliveryOutcome> out = send(r, MutationContext.builder().attribute("traceparent", TP)
          .attribute("tracestate", "congo=t61rcWkgMzE").build());
      assertThat(out).singleElement().satisfies(o -> assertThat(o.status()).isEqualTo(DeliveryOutcome.Status.DELIVERED));
      assertThat(r.requests()).hasSize(2).allSatisfy(q -> {
        assertThat(q.header("traceparent")).isEqualTo(TP);
        assertThat(q.header("tracestate")).isEqualTo("congo=t61rcWkgMzE");
      });
    }
  }

  @Test
  void noTraceHeadersWithoutATraceOrWithAMalformedOne() throws Exception {
    try (Receiver r = new Receiver()) {
      r.answer(Response.of(200), Response.of(200));
      send(r, MutationContext.empty());
      send(r, MutationContext.builder().attribute("traceparent", "00-xyz\r\nX-Injected: 1").attribute("tracestate", "a=1").build());
      assertThat(r.requests()).hasSize(2).allSatisfy(q -> {
        assertThat(q.header("traceparent")).isNull();
        assertThat(q.header("tracestate")).isNull();
        assertThat(q.header("X-Injected")).isNull();
      });
    }
  }
}

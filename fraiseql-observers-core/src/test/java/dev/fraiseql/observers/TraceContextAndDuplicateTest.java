package dev.fraiseql.observers;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fraiseql.observers.config.HandlerConfig;
import dev.fraiseql.observers.config.ObserversConfig;
import dev.fraiseql.observers.config.RetryPolicy;
import dev.fraiseql.observers.spi.ActionResult;
import dev.fraiseql.observers.spi.OutboundMessage;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.slf4j.MDC;

/** W3C trace context carried by the event's context, and duplicates reported by an action. */
class TraceContextAndDuplicateTest {
  static final String TP = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

  private static ObservedEvent event(MutationContext ctx) {
    return ObservedEvent.builder().operation(Operation.INSERT).table("tb_user").newRow(Map.of("id", 1)).context(ctx).build();
  }

  @Test
  void onlyWellFormedTraceparentsAreExposed() {
    assertThat(MutationContext.builder().attribute("traceparent", TP).build().traceparent()).contains(TP);
    for (String bad : List.of("", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01", "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\nX-Evil: 1", TP + "-extra")) {
      assertThat(MutationContext.builder().attribute("traceparent", bad).build().traceparent()).as(bad).isEmpty();
    }
    // a later version may append fields
    String v1 = "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-abc";
    assertThat(MutationContext.builder().attribute("traceparent", v1).build().traceparent()).contains(v1);
    assertThat(MutationContext.builder().attribute("traceparent", 42).build().traceparent()).isEmpty();
    // tracestate only with a traceparent, and only header-safe
    assertThat(MutationContext.builder().attribute("tracestate", "rojo=00f067aa0ba902b7").build().tracestate()).isEmpty();
    assertThat(MutationContext.builder().attribute("traceparent", TP).attribute("tracestate", "rojo=1").build().tracestate())
        .contains("rojo=1");
    assertThat(MutationContext.builder().attribute("traceparent", TP).attribute("tracestate", "a=1\nb=2").build().tracestate())
        .isEmpty();
  }

  @Test
  void busMessagesCarryTheTraceHeadersAndTheJsonKeepsThem() {
    ObservedEvent e = event(MutationContext.builder().requestId("r-1").attribute("traceparent", TP)
        .attribute("tracestate", "rojo=1").build());
    OutboundMessage m = OutboundMessage.forEvent("fraiseql.user.created", e);
    assertThat(m.headers()).containsEntry("traceparent", TP).containsEntry("tracestate", "rojo=1");
    assertThat(ObservedEvent.fromJson(e.toJson()).context().traceparent()).contains(TP);
    OutboundMessage plain = OutboundMessage.forEvent("fraiseql.user.created",
        event(MutationContext.builder().attribute("traceparent", "garbage").build()));
    assertThat(plain.headers()).doesNotContainKeys("traceparent", "tracestate");
  }

  @Test
  void theMdcCarriesTheProducersTraceAndSpanIdsWhileTheEngineLogsOrCallsListeners() throws Exception {
    // core's tests run with slf4j-simple plus a working MDC (testkit.MdcSimpleProvider, via slf4j.provider)
    assertThat(MDC.getMDCAdapter()).isNotInstanceOf(org.slf4j.helpers.NOPMDCAdapter.class);
    mdcDuringDelivery();
  }

  private void mdcDuringDelivery() throws Exception {
    ScriptedActions scripted = new ScriptedActions().script("h", ActionResult.delivered());
    List<String> seen = new CopyOnWriteArrayList<>();
    ObserverListener l = new ObserverListener() {
      @Override
      public void attemptStarted(ObservedEvent event, String handler, int attempt) {
        seen.add(MDC.get("trace_id") + "/" + MDC.get("span_id") + "/" + MDC.get("fraiseql.handler"));
      }
    };
    try (ObserverEngine engine = ObserverEngine.builder().config(config()).action(scripted).listener(l)
        .executor(Runnable::run).build()) {
      MDC.put("trace_id", "outer");
      engine.onCommit(event(MutationContext.builder().attribute("traceparent", TP).build())).completion()
          .toCompletableFuture().get(5, TimeUnit.SECONDS);
      assertThat(MDC.get("trace_id")).as("restored").isEqualTo("outer");
      assertThat(MDC.get("span_id")).as("restored").isNull();
      MDC.remove("trace_id");
      engine.onCommit(event(MutationContext.empty())).completion().toCompletableFuture().get(5, TimeUnit.SECONDS);
    }
    assertThat(seen).containsExactly("4bf92f3577b34da6a3ce929d0e0e4736/00f067aa0ba902b7/h", "null/null/h");
  }

  @Test
  void anActionsDuplicateEndsAsDuplicateAndIsReportedToListeners() throws Exception {
    ScriptedActions scripted = new ScriptedActions().script("h", ActionResult.duplicate("already processed"));
    List<String> calls = new CopyOnWriteArrayList<>();
    ObserverListener l = new ObserverListener() {
      @Override
      public void attemptFinished(ObservedEvent event, String handler, int attempt, ActionResult result, Duration elapsed) {
        calls.add("finished " + result);
      }

      @Override
      public void duplicateSkipped(ObservedEvent event, String handler) {
        calls.add("duplicate " + handler);
      }

      @Override
      public void completed(ObservedEvent event, DeliveryOutcome outcome) {
        calls.add("completed " + outcome.status());
      }
    };
    try (ObserverEngine engine = ObserverEngine.builder().config(config()).action(scripted).listener(l).build()) {
      List<DeliveryOutcome> out = engine.onCommit(event(MutationContext.empty())).completion().toCompletableFuture()
          .get(5, TimeUnit.SECONDS);
      assertThat(out).singleElement().satisfies(o -> {
        assertThat(o.status()).isEqualTo(DeliveryOutcome.Status.DUPLICATE);
        assertThat(o.detail()).isEqualTo("already processed");
        assertThat(o.attempts()).isEqualTo(1);
        assertThat(o.succeeded()).isTrue();
      });
    }
    assertThat(calls).containsExactly("finished Duplicate(already processed)", "duplicate h", "completed DUPLICATE");
    assertThat(ActionResult.delivered("x")).satisfies(r -> assertThat(r.isDuplicate()).isFalse());
  }

  private static ObserversConfig config() {
    return ObserversConfig.builder().handler(HandlerConfig.builder("h").event("user.created").action("scripted")
        .retry(RetryPolicy.custom().maxAttempts(1).build()).build()).build();
  }
}

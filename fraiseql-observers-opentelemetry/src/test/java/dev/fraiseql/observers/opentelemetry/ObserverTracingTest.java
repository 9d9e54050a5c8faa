package dev.fraiseql.observers.opentelemetry;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fraiseql.observers.MutationContext;
import dev.fraiseql.observers.ObservedEvent;
import dev.fraiseql.observers.ObserverEngine;
import dev.fraiseql.observers.spi.PermanentFailureException;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Scope;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Context stamping and attempt spans with Java handlers on the in-memory backend (no servers). */
class ObserverTracingTest {
  private final InMemorySpanExporter exporter = InMemorySpanExporter.create();
  private final SdkTracerProvider provider = SdkTracerProvider.builder()
      .addSpanProcessor(SimpleSpanProcessor.create(exporter)).build();
  private final OpenTelemetrySdk otel = OpenTelemetrySdk.builder().setTracerProvider(provider).build();
  private final Tracer tracer = otel.getTracer("test");
  private final ObserverTracing tracing = ObserverTracing.create(otel);

  @AfterEach
  void close() {
    provider.close();
  }

  private static ObservedEvent user() {
    return ObservedEvent.builder().table("tb_user").operation(dev.fraiseql.observers.Operation.INSERT)
        .newRow(Map.of("id", 1)).context(MutationContext.builder().requestId("req-1").build()).build();
  }

  private SpanData only(String name) {
    List<SpanData> found = exporter.getFinishedSpanItems().stream().filter(s -> s.getName().equals(name)).toList();
    assertThat(found).as(name).hasSize(1);
    return found.get(0);
  }

  @Test
  void aProducerSpanIsMadeUnderTheCurrentSpanAndTheEventCarriesItAnExplicitTraceparentIsKept() {
    ObservedEvent e = user();
    String tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    ObservedEvent mine = e.toBuilder().context(e.context().toBuilder().attribute("traceparent", tp).build()).build();
    Span request = tracer.spanBuilder("POST /users").startSpan();
    try (Scope ignored = request.makeCurrent()) {
      assertThat(tracing.withCurrentContext(mine)).isSameAs(mine);
      ObservedEvent stamped = tracing.withCurrentContext(e);
      assertThat(stamped.id()).isEqualTo(e.id());
      assertThat(stamped.timestamp()).isEqualTo(e.timestamp());
      assertThat(stamped.context().requestId()).contains("req-1");
      SpanData producer = only("send user.created");
      assertThat(producer.getKind()).isEqualTo(io.opentelemetry.api.trace.SpanKind.PRODUCER);
      assertThat(producer.getParentSpanId()).isEqualTo(request.getSpanContext().getSpanId());
      assertThat(producer.getTraceId()).isEqualTo(request.getSpanContext().getTraceId());
      assertThat(producer.getAttributes().get(io.opentelemetry.api.common.AttributeKey.stringKey("messaging.message.id")))
          .isEqualTo(e.id().toString());
      // flags: sampled (01), and the SDK's random-trace-id flag (02) on newer SDKs
      assertThat(stamped.context().traceparent()).hasValueSatisfying(v -> assertThat(v)
          .startsWith("00-" + producer.getTraceId() + "-" + producer.getSpanId() + "-"));
      // it survives the event's JSON (the outbox, the buses)
      ObservedEvent back = ObservedEvent.fromJson(stamped.toJson());
      assertThat(Span.fromContext(tracing.producerContext(back)).getSpanContext().getSpanId())
          .isEqualTo(producer.getSpanId());
    } finally {
      request.end();
    }
  }

  @Test
  void withoutACurrentSpanTheProducerSpanStartsANewTraceThatAllAttemptsShare() throws Exception {
    String toml = """
        [[observers.handlers]]
        name = "ledger"
        event = "user.created"
        action = "handler"
        handler = "ledger"
        max_attempts = 3
        initial_delay_ms = 1
        jitter = 0.0
        """;
    java.util.concurrent.atomic.AtomicInteger calls = new java.util.concurrent.atomic.AtomicInteger();
    try (ObserverEngine engine = tracing.wrap(ObserverEngine.builder().configToml(toml).listener(tracing)
        .handler("ledger", e -> {
          if (calls.incrementAndGet() == 1) {
            throw new IllegalStateException("once");
          }
        }).build())) {
      assertThat(Span.current().getSpanContext().isValid()).isFalse();
      engine.onCommit(user()).completion().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
    SpanData producer = only("send user.created");
    assertThat(producer.getParentSpanContext().isValid()).as("a root span").isFalse();
    List<SpanData> attempts = exporter.getFinishedSpanItems().stream().filter(s -> s.getName().equals("process ledger")).toList();
    assertThat(attempts).hasSize(2).allSatisfy(s -> {
      assertThat(s.getTraceId()).isEqualTo(producer.getTraceId());
      assertThat(s.getParentSpanId()).isEqualTo(producer.getSpanId());
    });
  }

  @Test
  void theParentsTraceStateTravelsWithTheProducerSpan() {
    SpanContext remote = SpanContext.createFromRemoteParent("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7",
        io.opentelemetry.api.trace.TraceFlags.getSampled(),
        io.opentelemetry.api.trace.TraceState.builder().put("rojo", "00f067aa0ba902b7").build());
    ObservedEvent stamped;
    try (Scope ignored = io.opentelemetry.context.Context.root().with(Span.wrap(remote)).makeCurrent()) {
      stamped = tracing.withCurrentContext(user());
    }
    SpanData producer = only("send user.created");
    assertThat(producer.getParentSpanId()).isEqualTo("00f067aa0ba902b7");
    assertThat(stamped.context().traceparent())
        .contains("00-4bf92f3577b34da6a3ce929d0e0e4736-" + producer.getSpanId() + "-01");
    assertThat(stamped.context().tracestate()).contains("rojo=00f067aa0ba902b7");
  }

  @Test
  void withoutAnSdkTheEventIsUnchanged() {
    ObserverTracing noop = ObserverTracing.create(io.opentelemetry.api.OpenTelemetry.noop());
    ObservedEvent e = user();
    assertThat(noop.withCurrentContext(e)).isSameAs(e);
  }

  @Test
  void aJavaHandlerRunsInsideItsAttemptSpanAndAFailureIsRecorded() throws Exception {
    List<SpanContext> seen = new CopyOnWriteArrayList<>();
    String toml = """
        [[observers.handlers]]
        name = "ledger"
        event = "user.created"
        action = "handler"
        handler = "ledger"
        max_attempts = 1
        """;
    try (ObserverEngine engine = tracing.wrap(ObserverEngine.builder().configToml(toml).listener(tracing)
        .handler("ledger", tracing.handler("ledger", e -> {
          seen.add(Span.current().getSpanContext());
          if (seen.size() == 2) {
            throw new PermanentFailureException("ledger closed");
          }
        })).build())) {
      Span producer = tracer.spanBuilder("POST /users").startSpan();
      try (Scope ignored = producer.makeCurrent()) {
        engine.onCommit(user()).completion().toCompletableFuture().get(10, TimeUnit.SECONDS);
        engine.onCommit(user()).completion().toCompletableFuture().get(10, TimeUnit.SECONDS);
      } finally {
        producer.end();
      }
      List<SpanData> attempts = exporter.getFinishedSpanItems().stream()
          .filter(s -> s.getName().equals("process ledger")).toList();
      List<SpanData> sends = exporter.getFinishedSpanItems().stream()
          .filter(s -> s.getName().equals("send user.created")).toList();
      assertThat(sends).hasSize(2).allSatisfy(s -> assertThat(s.getParentSpanId()).isEqualTo(producer.getSpanContext().getSpanId()));
      assertThat(attempts).hasSize(2).allSatisfy(s -> {
        assertThat(sends.stream().map(SpanData::getSpanId)).contains(s.getParentSpanId());
        assertThat(s.getTraceId()).isEqualTo(producer.getSpanContext().getTraceId());
      });
      assertThat(seen).extracting(SpanContext::getSpanId)
          .containsExactlyInAnyOrderElementsOf(attempts.stream().map(SpanData::getSpanId).toList());
      assertThat(attempts).filteredOn(s -> s.getStatus().getStatusCode() == StatusCode.ERROR).singleElement()
          .satisfies(s -> assertThat(s.getAttributes().get(ObserverTracing.RESULT)).isEqualTo("failed"));
      assertThat(exporter.getFinishedSpanItems()).filteredOn(s -> s.getName().equals("dead-letter ledger")).hasSize(1);
    }
  }
}

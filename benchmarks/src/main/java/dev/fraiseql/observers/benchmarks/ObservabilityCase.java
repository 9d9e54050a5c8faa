package dev.fraiseql.observers.benchmarks;

import dev.fraiseql.observers.ObservedEvent;
import dev.fraiseql.observers.ObserverEngine;
import dev.fraiseql.observers.ObserverListener;
import dev.fraiseql.observers.micrometer.ObserverMetrics;
import dev.fraiseql.observers.opentelemetry.ObserverTracing;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.LongAdder;

/**
 * observability: the core case (onCommit → router → condition → a no-op Java handler, 10 rules) with
 * the Micrometer binder attached (a Prometheus registry, percentile histograms on: the default) against
 * the same engine without it, in the same run; then with OpenTelemetry tracing on (the SDK, always
 * sampled, a batch span processor and an exporter that counts and discards; the engine wrapped by
 * {@code ObserverTracing.wrap}, so each event gets a producer span at {@code onCommit}, a new trace as
 * no span is current, and each attempt a span under it) against the same engine without.
 * Both sides run the same handler the same number of times; only the listener differs.
 */
final class ObservabilityCase implements BenchCase {
  @Override
  public String name() {
    return "observability";
  }

  @Override
  public Optional<String> unavailable() {
    return Optional.empty();
  }

  @Override
  public List<Row> run(Options o) throws Exception {
    List<Row> rows = new ArrayList<>();
    ObservedEvent[] ring = Payload.ring(4096);
    // what any listener costs in the engine (MDC scope, listener calls), to tell it from the binder's own cost
    rows.add(compare(o, "core + a no-op listener (10 rules)", ring, new ObserverListener() { }, 0.8, Map.of()));
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    ObserverMetrics metrics = ObserverMetrics.builder(registry).build();
    rows.add(compare(o, "core + micrometer binder (10 rules)", ring, metrics, 0.8,
        Map.of("registry", "prometheus", "histogram", true)));

    CountingExporter exported = new CountingExporter();
    SdkTracerProvider provider = SdkTracerProvider.builder()
        .addSpanProcessor(BatchSpanProcessor.builder(exported).build()).build();
    try {
      ObserverTracing tracing = ObserverTracing.create(OpenTelemetrySdk.builder().setTracerProvider(provider).build());
      Map<String, Object> notes = new LinkedHashMap<>();
      notes.put("sdk", "always_on sampler, batch processor, discarding exporter");
      notes.put("spans", "a producer span per onCommit (tracing.wrap) and a span per attempt");
      Row r = compare(o, "core + opentelemetry tracing (10 rules)", ring, tracing, 0.5, notes);
      provider.forceFlush().join(10, java.util.concurrent.TimeUnit.SECONDS);
      r.notes().put("spans_exported", exported.count.sum());
      r.notes().put("spans_dropped_by_the_batch_queue", "the rest (queue 2048: the SDK drops at its bound)");
      rows.add(r);
    } finally {
      provider.close();
    }
    return rows;
  }

  private static Row compare(Options o, String name, ObservedEvent[] ring, ObserverListener listener, double target,
      Map<String, Object> extra) throws Exception {
    long n = o.count(2_000_000, 2_000);
    int mask = ring.length - 1;
    LongAdder oursHandled = new LongAdder();
    LongAdder rawHandled = new LongAdder();
    try (ObserverEngine with = ObserverEngine.builder().config(CoreCase.config(10)).listener(listener)
            .handler("noop", e -> oursHandled.increment()).build();
         ObserverEngine without = ObserverEngine.builder().config(CoreCase.config(10))
            .handler("noop", e -> rawHandled.increment()).build()) {
      if (listener instanceof ObserverMetrics) {
        ((ObserverMetrics) listener).bindTo(with);
      }
      // with tracing, onCommit goes through the wrapper that makes the producer span and stamps the event
      ObserverEngine front = listener instanceof ObserverTracing ? ((ObserverTracing) listener).wrap(with) : with;
      Bench.Side ours = count -> run(front, ring, mask, count, oursHandled);
      Bench.Side raw = count -> run(without, ring, mask, count, rawHandled);
      Bench.Comparison c = Bench.compare(o, n, ours, raw);
      Map<String, Object> notes = new LinkedHashMap<>(extra);
      notes.put("rules", 10);
      notes.put("producers", CoreCase.PRODUCERS);
      notes.put("raw side", "the same engine and handler without the listener");
      return Row.ratio(name, c, target, notes);
    }
  }

  private static long run(ObserverEngine engine, ObservedEvent[] ring, int mask, long count, LongAdder handled)
      throws Exception {
    long before = handled.sum();
    Bench.drive(CoreCase.PRODUCERS, count, i -> engine.onCommit(ring[(int) (i & mask)]));
    long got = Bench.awaitCount(Bench.budget(count), () -> handled.sum() - before, count, "the no-op handler");
    Bench.await(Duration.ofSeconds(30), () -> engine.inFlight() == 0, "in-flight deliveries to end");
    return got;
  }

  /** Counts what the SDK hands it and discards it. */
  private static final class CountingExporter implements SpanExporter {
    final LongAdder count = new LongAdder();

    @Override
    public CompletableResultCode export(Collection<SpanData> spans) {
      count.add(spans.size());
      return CompletableResultCode.ofSuccess();
    }

    @Override
    public CompletableResultCode flush() {
      return CompletableResultCode.ofSuccess();
    }

    @Override
    public CompletableResultCode shutdown() {
      return CompletableResultCode.ofSuccess();
    }
  }
}

package dev.fraiseql.observers.opentelemetry;

import dev.fraiseql.observers.MutationContext;
import dev.fraiseql.observers.ObservedEvent;
import dev.fraiseql.observers.ObserverEngine;
import dev.fraiseql.observers.ObserverHandler;
import dev.fraiseql.observers.ObserverListener;
import dev.fraiseql.observers.opentelemetry.internal.TracedEngine;
import dev.fraiseql.observers.spi.ActionResult;
import dev.fraiseql.observers.spi.AttemptTrace;
import dev.fraiseql.observers.spi.DeadLetter;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.opentelemetry.context.propagation.TextMapGetter;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * OpenTelemetry tracing for the observer engine.
 *
 * <pre>{@code
 * ObserverTracing tracing = ObserverTracing.create(openTelemetry);
 * ObserverEngine engine = tracing.wrap(ObserverEngine.builder()
 *     .config(path)
 *     .listener(tracing)                                       // a span per attempt
 *     .handler("reserveInventory", tracing.handler("reserveInventory", event -> ...))  // optional
 *     .build());
 * engine.onCommit(event);                                      // carries the current trace context
 * outbox.record(connection, tracing.withCurrentContext(event)); // the same through the pg outbox
 * }</pre>
 *
 * <ul>
 *   <li><b>Propagation.</b> {@link #withCurrentContext} (and every {@code onCommit} of a
 *       {@linkplain #wrap wrapped} engine) writes the W3C {@code traceparent} / {@code tracestate} of
 *       the current context into the event's {@link MutationContext} attributes. They are part of the
 *       event's JSON, so they travel through the outbox and every bus; the webhook action sends them as
 *       headers and buses as message headers (core and webhook do that without OpenTelemetry).</li>
 *   <li><b>Spans.</b> As a listener, each attempt of each handler (and of each
 *       {@code [[observers.subscribe]]} handler) is a {@link SpanKind#CONSUMER} span
 *       {@code process <handler>}, parented to the event's {@code traceparent} (a new trace when it has
 *       none), with OpenTelemetry's messaging attributes, the attempt number, the result and, for
 *       HTTP actions, the response status code. A dead letter adds a zero-length {@code dead-letter
 *       <handler>} span to the same trace.</li>
 *   <li><b>Inside a Java handler</b>, wrapped with {@link #handler}, {@code Span.current()} is that
 *       attempt's span, so the handler's own spans (JDBC, HTTP clients instrumented by OpenTelemetry)
 *       join the trace.</li>
 * </ul>
 * As an {@link AttemptTrace}, it gives each attempt's {@code traceparent} (its span's) to the actions:
 * the webhook sends it and the publish action puts it into the published event, so the receiver's span
 * (the webhook receiver's, a subscription handler's) is a child of the attempt span.
 *
 * <p>Thread-safe. Listener calls cost a span start and end each; spans of attempts still running are
 * held in a map bounded by {@value #MAX_OPEN_SPANS} (beyond it, attempts are not traced).
 */
public final class ObserverTracing implements ObserverListener, AttemptTrace {
  /** The instrumentation scope name. */
  public static final String INSTRUMENTATION_NAME = "dev.fraiseql.observers";
  /** Attempts traced at once at most (the engine's own bound, {@code max_in_flight}, is usually lower). */
  public static final int MAX_OPEN_SPANS = 100_000;

  static final AttributeKey<String> MESSAGING_SYSTEM = AttributeKey.stringKey("messaging.system");
  static final AttributeKey<String> MESSAGING_OPERATION_TYPE = AttributeKey.stringKey("messaging.operation.type");
  static final AttributeKey<String> MESSAGING_OPERATION_NAME = AttributeKey.stringKey("messaging.operation.name");
  static final AttributeKey<String> MESSAGING_DESTINATION = AttributeKey.stringKey("messaging.destination.name");
  static final AttributeKey<String> MESSAGING_CONSUMER_GROUP = AttributeKey.stringKey("messaging.consumer.group.name");
  static final AttributeKey<String> MESSAGING_MESSAGE_ID = AttributeKey.stringKey("messaging.message.id");
  static final AttributeKey<Long> HTTP_STATUS = AttributeKey.longKey("http.response.status_code");
  static final AttributeKey<Long> HTTP_RESEND_COUNT = AttributeKey.longKey("http.request.resend_count");
  static final AttributeKey<String> ERROR_TYPE = AttributeKey.stringKey("error.type");
  /** The handler's name. */
  public static final AttributeKey<String> HANDLER = AttributeKey.stringKey("fraiseql.handler");
  /** 1 for the first attempt. */
  public static final AttributeKey<Long> ATTEMPT = AttributeKey.longKey("fraiseql.attempt");
  /** {@code delivered}, {@code duplicate}, {@code retry} or {@code failed}. */
  public static final AttributeKey<String> RESULT = AttributeKey.stringKey("fraiseql.result");
  /** The table of the mutation. */
  public static final AttributeKey<String> TABLE = AttributeKey.stringKey("fraiseql.table");
  /** A dead letter's reason. */
  public static final AttributeKey<String> REASON = AttributeKey.stringKey("fraiseql.dead_letter.reason");

  private static final W3CTraceContextPropagator W3C = W3CTraceContextPropagator.getInstance();
  /** {@code status=200} (delivered) and {@code HTTP 503 ...} (failed) in the webhook action's details. */
  private static final Pattern STATUS = Pattern.compile("(?:^|\\b)(?:status=|HTTP )(\\d{3})\\b");
  private static final TextMapGetter<Map<String, Object>> ATTRIBUTES = new TextMapGetter<>() {
    @Override
    public Iterable<String> keys(Map<String, Object> carrier) {
      return carrier.keySet();
    }

    @Override
    public String get(Map<String, Object> carrier, String key) {
      Object v = carrier == null ? null : carrier.get(key);
      return v instanceof String ? (String) v : null;
    }
  };

  private final Tracer tracer;
  private final Map<AttemptKey, Span> open = new ConcurrentHashMap<>();
  /** The span of the attempt started last on this thread (the action runs on it right after). */
  private final ThreadLocal<Running> running = new ThreadLocal<>();

  private ObserverTracing(OpenTelemetry otel) {
    this.tracer = otel.getTracer(INSTRUMENTATION_NAME);
  }

  /** Tracing through {@code otel} (its tracer provider; propagation is always W3C trace context). */
  public static ObserverTracing create(OpenTelemetry otel) {
    return new ObserverTracing(Objects.requireNonNull(otel, "otel"));
  }

  /**
   * {@code event} stamped for tracing: a {@link SpanKind#PRODUCER} span {@code send <event name>} is
   * made, a child of the current span, and its W3C {@code traceparent} / {@code tracestate} are written
   * into the event's context attributes (same id, same everything else); every attempt span of the event
   * is then that span's child. When no span is current, the producer span starts a new trace (so that
   * all attempts of the event still share one trace, under it), subject to the tracer provider's
   * sampler. An event that already carries a {@code traceparent} (a host that set it, a replayed dead
   * letter, a message received from a bus) is returned as is, with no span. The producer span ends at
   * once: it marks the hand-off of the committed event to the engine or the outbox.
   */
  public ObservedEvent withCurrentContext(ObservedEvent event) {
    return withContext(event, Context.current());
  }

  /** {@link #withCurrentContext} with an explicit parent context. */
  public ObservedEvent withContext(ObservedEvent event, Context context) {
    if (event.context().attributes().containsKey(MutationContext.TRACEPARENT)) {
      return event;
    }
    Span producer = tracer.spanBuilder("send " + event.name()).setSpanKind(SpanKind.PRODUCER).setParent(context)
        .setAttribute(MESSAGING_SYSTEM, "fraiseql")
        .setAttribute(MESSAGING_OPERATION_TYPE, "send")
        .setAttribute(MESSAGING_OPERATION_NAME, "send")
        .setAttribute(MESSAGING_DESTINATION, event.name())
        .setAttribute(MESSAGING_MESSAGE_ID, event.id().toString())
        .setAttribute(TABLE, event.table())
        .startSpan();
    try {
      SpanContext sc = producer.getSpanContext();
      if (!sc.isValid()) {
        return event; // a no-op tracer (no SDK)
      }
      // the W3C layout written directly (what the propagator writes, without its map and lookups)
      MutationContext.Builder c = event.context().toBuilder().attribute(MutationContext.TRACEPARENT,
          "00-" + sc.getTraceId() + "-" + sc.getSpanId() + "-" + sc.getTraceFlags().asHex());
      if (!sc.getTraceState().isEmpty()) {
        Map<String, String> headers = new LinkedHashMap<>(2);
        W3C.inject(context.with(producer), headers, Map::put);
        String ts = headers.get(MutationContext.TRACESTATE);
        if (ts != null && !ts.isEmpty()) {
          c.attribute(MutationContext.TRACESTATE, ts);
        }
      }
      return event.toBuilder().context(c.build()).build();
    } finally {
      producer.end();
    }
  }

  /** The producer's context an event carries ({@link Context#root()} when none). */
  public Context producerContext(ObservedEvent event) {
    Map<String, Object> attrs = event.context().attributes();
    if (!attrs.containsKey(MutationContext.TRACEPARENT)) {
      return Context.root();
    }
    if (attrs.containsKey(MutationContext.TRACESTATE)) {
      return W3C.extract(Context.root(), attrs, ATTRIBUTES);
    }
    // the common case, without the propagator's general parsing: MutationContext validated the layout
    String tp = event.context().traceparent().orElse(null);
    if (tp == null) {
      return Context.root();
    }
    SpanContext parent = SpanContext.createFromRemoteParent(tp.substring(3, 35), tp.substring(36, 52),
        io.opentelemetry.api.trace.TraceFlags.fromHex(tp, 53), io.opentelemetry.api.trace.TraceState.getDefault());
    return parent.isValid() ? Context.root().with(Span.wrap(parent)) : Context.root();
  }

  /** An engine whose {@code onCommit} stamps each event with the caller's current trace context. */
  public ObserverEngine wrap(ObserverEngine engine) {
    return new TracedEngine(Objects.requireNonNull(engine, "engine"), this::withCurrentContext);
  }

  /**
   * A Java handler that runs with its attempt's span current (when the engine runs it on the thread
   * that started the attempt, as it does for Java handlers); otherwise with a span of its own,
   * parented to the event's producer.
   */
  public ObserverHandler handler(String name, ObserverHandler handler) {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(handler, "handler");
    return event -> {
      Running r = running.get();
      if (r != null && r.event.equals(event.id()) && r.handler.equals(name)) {
        try (Scope ignored = r.span.makeCurrent()) {
          handler.handle(event);
        }
        return;
      }
      Span span = tracer.spanBuilder("process " + name).setSpanKind(SpanKind.CONSUMER)
          .setParent(producerContext(event)).setAllAttributes(io.opentelemetry.api.common.Attributes.of(HANDLER, name))
          .startSpan();
      try (Scope ignored = span.makeCurrent()) {
        handler.handle(event);
      } catch (Exception | Error e) {
        span.recordException(e);
        span.setStatus(StatusCode.ERROR);
        throw e;
      } finally {
        span.end();
      }
    };
  }

  @Override
  public void attemptStarted(ObservedEvent event, String handler, int attempt) {
    if (open.size() >= MAX_OPEN_SPANS) {
      return;
    }
    Span span = tracer.spanBuilder("process " + handler).setSpanKind(SpanKind.CONSUMER).setParent(producerContext(event))
        .setAttribute(MESSAGING_SYSTEM, "fraiseql")
        .setAttribute(MESSAGING_OPERATION_TYPE, "process")
        .setAttribute(MESSAGING_OPERATION_NAME, "deliver")
        .setAttribute(MESSAGING_DESTINATION, event.name())
        .setAttribute(MESSAGING_CONSUMER_GROUP, handler)
        .setAttribute(MESSAGING_MESSAGE_ID, event.id().toString())
        .setAttribute(HANDLER, handler)
        .setAttribute(ATTEMPT, (long) attempt)
        .setAttribute(TABLE, event.table())
        .startSpan();
    open.put(new AttemptKey(event.id(), handler, attempt), span);
    running.set(new Running(event.id(), handler, span));
  }

  @Override
  public void attemptFinished(ObservedEvent event, String handler, int attempt, ActionResult result, Duration elapsed) {
    Span span = open.remove(new AttemptKey(event.id(), handler, attempt));
    Running r = running.get();
    if (r != null && r.span == span) {
      running.remove();
    }
    if (span == null) {
      return;
    }
    String kind;
    if (result instanceof ActionResult.Delivered) {
      kind = ((ActionResult.Delivered) result).isDuplicate() ? "duplicate" : "delivered";
    } else {
      kind = result instanceof ActionResult.Failed ? "failed" : "retry";
    }
    span.setAttribute(RESULT, kind);
    Matcher m = STATUS.matcher(result.detail());
    Long status = m.find() ? Long.valueOf(m.group(1)) : null;
    if (status != null) {
      span.setAttribute(HTTP_STATUS, status);
      if (attempt > 1) {
        span.setAttribute(HTTP_RESEND_COUNT, (long) attempt - 1);
      }
    }
    if (!result.isDelivered()) {
      span.setAttribute(ERROR_TYPE, status != null ? Long.toString(status) : kind);
      span.setStatus(StatusCode.ERROR, result.detail());
    }
    span.end();
  }

  @Override
  public void deadLettered(DeadLetter letter) {
    ObservedEvent e = letter.event();
    tracer.spanBuilder("dead-letter " + letter.handler()).setSpanKind(SpanKind.INTERNAL).setParent(producerContext(e))
        .setAttribute(HANDLER, letter.handler())
        .setAttribute(MESSAGING_MESSAGE_ID, e.id().toString())
        .setAttribute(REASON, letter.reason())
        .setAttribute(ATTEMPT, (long) letter.attempts().size())
        .startSpan()
        .setStatus(StatusCode.ERROR, letter.reason())
        .end();
  }

  /**
   * The {@code traceparent} of the attempt's span while it runs (as an {@link AttemptTrace}, which the
   * engine uses because this is also its listener): the webhook sends it as its header and the publish
   * action puts it into the published event, so the receiver's span is the attempt span's child.
   */
  @Override
  public String traceparent(ObservedEvent event, String handler, int attempt) {
    Span s = open.get(new AttemptKey(event.id(), handler, attempt));
    if (s == null) {
      return null;
    }
    SpanContext c = s.getSpanContext();
    return c.isValid() ? "00-" + c.getTraceId() + "-" + c.getSpanId() + "-" + c.getTraceFlags().asHex() : null;
  }

  /** The span context an attempt in progress runs under (tests, diagnostics); invalid when none. */
  public SpanContext attemptSpanContext(UUID eventId, String handler, int attempt) {
    Span s = open.get(new AttemptKey(eventId, handler, attempt));
    return s == null ? SpanContext.getInvalid() : s.getSpanContext();
  }

  @Override
  public String toString() {
    return "ObserverTracing{" + open.size() + " attempts open}";
  }

  private record AttemptKey(UUID event, String handler, int attempt) {}

  private record Running(UUID event, String handler, Span span) {}

  /** Header names this module writes into the event's context. */
  public static List<String> fields() {
    return List.copyOf(W3C.fields());
  }
}

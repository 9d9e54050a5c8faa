package dev.fraiseql.observers.spi;

import dev.fraiseql.observers.ObservedEvent;
import dev.fraiseql.observers.internal.AttemptControl;
import dev.fraiseql.observers.internal.EventInternals;
import java.util.Objects;

/**
 * One attempt to deliver one event to one handler: what an {@link Action} is given.
 *
 * <p>{@link #payload()} and {@link #idempotencyKey()} are computed on first use (an action that reads
 * neither, such as a Java handler, never pays for them) and then kept.
 *
 * <p><b>Local waits and the attempt timeout.</b> An action that may have to wait in the process before
 * its I/O begins (for a free connection slot at its endpoint, a publish window, a pooled connection)
 * tells the engine so: {@link #markQueued()} when the wait begins, {@link #markStarted()} when the I/O
 * is handed over. Such a wait is not part of the attempt: the handler's {@code timeout_ms} does not
 * run during it and it spends no budget (the action bounds the wait itself, and documents the bound
 * and what happens at it). {@code timeout_ms} counts from {@link #markStarted()}. An attempt the
 * engine has given up on ({@link #isAbandoned()}) must not be started: {@link #markStarted()} then
 * returns false. {@link #onAbandoned} lets the action drop a queued attempt or abort its I/O when the
 * engine gives up on it. An action that never waits locally needs none of this: its timeout counts
 * from {@link Action#execute}. On a delivery built with a public constructor (no engine behind it)
 * these methods do nothing and report "not abandoned".
 */
public final class Delivery {
  static {
    AttemptControl.Factory.install(Delivery::new);
  }

  private final ObservedEvent event;
  private final String handler;
  private final int attempt;
  private byte[] payload;
  private String idempotencyKey;
  /** The engine's side of this attempt; null for a delivery built by hand. */
  private final AttemptControl control;

  /**
   * @param event the event
   * @param handler the handler's name ({@code welcome-email})
   * @param attempt 1 for the first attempt, 2 for the first retry, ...
   * @param payload the event's default JSON, shared: read it, never modify it
   * @param idempotencyKey {@code <event id>:<handler>} (see {@link #keyOf})
   */
  public Delivery(ObservedEvent event, String handler, int attempt, byte[] payload, String idempotencyKey) {
    this.event = Objects.requireNonNull(event, "event");
    this.handler = Objects.requireNonNull(handler, "handler");
    this.attempt = attempt;
    this.payload = Objects.requireNonNull(payload, "payload");
    this.idempotencyKey = Objects.requireNonNull(idempotencyKey, "idempotencyKey");
    this.control = null;
  }

  /** A delivery whose payload (the event's default JSON) and key are computed when first asked for. */
  public Delivery(ObservedEvent event, String handler, int attempt) {
    this(event, handler, attempt, null);
  }

  private Delivery(ObservedEvent event, String handler, int attempt, AttemptControl control) {
    this.event = Objects.requireNonNull(event, "event");
    this.handler = Objects.requireNonNull(handler, "handler");
    this.attempt = attempt;
    this.control = control;
  }

  /** The key for an (event, handler) pair. */
  public static String keyOf(ObservedEvent event, String handler) {
    return event.id() + ":" + handler;
  }

  /** The event. */
  public ObservedEvent event() {
    return event;
  }

  /** The handler's name ({@code welcome-email}). */
  public String handler() {
    return handler;
  }

  /** 1 for the first attempt, 2 for the first retry, ... */
  public int attempt() {
    return attempt;
  }

  /**
   * The event's default JSON, serialized once per event and shared by every delivery: read it,
   * never modify it.
   */
  public byte[] payload() {
    byte[] p = payload;
    if (p == null) {
      p = EventInternals.payload(event);
      payload = p;
    }
    return p;
  }

  /**
   * Stable for this (event, handler) pair across attempts, restarts and replays:
   * {@code <event id>:<handler>}; use it as a de-duplication id downstream.
   */
  public String idempotencyKey() {
    String k = idempotencyKey;
    if (k == null) {
      k = keyOf(event, handler);
      idempotencyKey = k;
    }
    return k;
  }

  /**
   * This attempt waits locally from now (for a free slot, a publish window, a pooled connection) until
   * {@link #markStarted()}: the handler's {@code timeout_ms} stops until then, and the wait spends no
   * budget. Call it before the attempt can be started by another thread. Returns false if the engine
   * has already given up on this attempt: then do not queue it, and complete the stage with any result
   * (it is ignored).
   */
  public boolean markQueued() {
    return control == null || control.markQueued(attempt);
  }

  /**
   * This attempt's I/O begins now (the request is handed to the client): the handler's
   * {@code timeout_ms} counts from here. Returns false if the engine has given up on this attempt
   * (the engine is closing, or its timeout had passed): then do not do the I/O, and complete the stage
   * with any result (it is ignored).
   */
  public boolean markStarted() {
    return control == null || control.markStarted(attempt);
  }

  /**
   * Whether the engine is done with this attempt: it timed out, was settled, or the delivery ended
   * (the engine closed). A result given now is ignored, and the attempt must not be sent.
   */
  public boolean isAbandoned() {
    return control != null && control.isAbandoned(attempt);
  }

  /**
   * Runs {@code hook} once if the engine gives up on this attempt before the action's stage completes
   * (its timeout passed, the engine is closing): to drop it from a local queue or abort its I/O. If the
   * attempt is already over, runs it at once on the calling thread. One hook per attempt (a later call
   * replaces it). It runs on an engine thread: keep it short and non-blocking, and harmless if the
   * attempt has completed meanwhile.
   */
  public void onAbandoned(Runnable hook) {
    Objects.requireNonNull(hook, "hook");
    if (control != null) {
      control.onAbandoned(attempt, hook);
    }
  }

  /**
   * The W3C {@code traceparent} this attempt carries to its receiver: its own span's, when the engine
   * has an {@link AttemptTrace} (OpenTelemetry tracing on), else the event's
   * ({@link dev.fraiseql.observers.MutationContext#traceparent()}); empty when neither. Always
   * well-formed. The webhook action sends it as the {@code traceparent} header and the publish action
   * puts it into the published event's context, so that the receiver's span is the attempt's child.
   */
  public java.util.Optional<String> traceparent() {
    if (control != null) {
      String tp = control.traceparent(attempt);
      if (tp != null && isTraceparent(tp)) {
        return java.util.Optional.of(tp);
      }
    }
    return event.context().attributes().isEmpty() ? java.util.Optional.empty() : event.context().traceparent();
  }

  /** {@code 00-<32 lower hex>-<16 lower hex>-<2 lower hex>}, ids not all zero. */
  private static boolean isTraceparent(String v) {
    if (v.length() != 55 || !v.startsWith("00-") || v.charAt(35) != '-' || v.charAt(52) != '-') {
      return false;
    }
    boolean traceZero = true;
    boolean spanZero = true;
    for (int i = 3; i < 55; i++) {
      if (i == 35 || i == 52) {
        continue;
      }
      char c = v.charAt(i);
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
        return false;
      }
      if (c != '0') {
        if (i < 35) {
          traceZero = false;
        } else if (i < 52) {
          spanZero = false;
        }
      }
    }
    return !traceZero && !spanZero;
  }

  /**
   * The W3C {@code tracestate} that goes with {@link #traceparent()}: the event's (a span keeps its
   * parent's trace state).
   */
  public java.util.Optional<String> tracestate() {
    return event.context().attributes().isEmpty() ? java.util.Optional.empty() : event.context().tracestate();
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof Delivery)) {
      return false;
    }
    Delivery d = (Delivery) o;
    return attempt == d.attempt && event.equals(d.event) && handler.equals(d.handler);
  }

  @Override
  public int hashCode() {
    return Objects.hash(event.id(), handler, attempt);
  }

  @Override
  public String toString() {
    return "Delivery{" + event + " → " + handler + " attempt " + attempt + "}";
  }
}

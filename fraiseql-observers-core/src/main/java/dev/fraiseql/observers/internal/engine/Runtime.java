package dev.fraiseql.observers.internal.engine;

import dev.fraiseql.observers.ObservedEvent;
import dev.fraiseql.observers.config.CheckpointStrategy;
import dev.fraiseql.observers.internal.LogThrottle;
import dev.fraiseql.observers.internal.memory.InMemoryDeadLetterStore;
import dev.fraiseql.observers.spi.DeadLetter;
import dev.fraiseql.observers.spi.DeadLetterStore;
import dev.fraiseql.observers.spi.IdempotencyStore;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/** What every delivery shares: threads, clock, stores, listeners, counters. */
final class Runtime {
  private static final Logger LOG = LoggerFactory.getLogger("dev.fraiseql.observers");

  /** MDC keys set while a delivery logs. */
  static final String MDC_REQUEST_ID = "fraiseql.request_id";
  static final String MDC_EVENT_ID = "fraiseql.event_id";
  static final String MDC_HANDLER = "fraiseql.handler";
  /** The producer's trace and span ids (from the event's {@code traceparent}), OpenTelemetry's MDC key names. */
  static final String MDC_TRACE_ID = "trace_id";
  static final String MDC_SPAN_ID = "span_id";

  final Executor executor;
  final ScheduledExecutorService scheduler;
  final Clock clock;
  /** Whether {@link #clock} is the system clock (then engine time is System.nanoTime()). */
  private final boolean systemClock;
  final Listeners listeners;
  final DeadLetterStore deadLetters;
  final IdempotencyStore idempotency;
  final boolean effectivelyOnce;
  final Duration claimTtl;
  final AtomicLong completedWhileClosing = new AtomicLong();
  final TaskSet tasks = new TaskSet();
  /**
   * The engine's own queue to its pool, or null when the host supplied the executor. With it, a
   * delivery joins {@link #tasks} when a worker first runs it (on that worker's stripe, so the add
   * and the usual remove on the same thread touch no other thread's cache lines); until then the
   * queue holds it and {@link #unfinishedTasks()} finds it there. With a host executor a delivery
   * joins at dispatch, since the host's queue cannot be searched.
   */
  final Drainers drainers;
  /** Thins the WARN lines of overload dead letters (one per second, with a count). */
  final LogThrottle overloadLog = new LogThrottle(1_000_000_000L, System.nanoTime());
  final InMemoryDeadLetterStore fallbackDeadLetters = new InMemoryDeadLetterStore(10_000);
  /** Per handler: thin the WARN lines of failed attempts and of dead letters (one per second, with a count). */
  private final java.util.concurrent.ConcurrentHashMap<String, LogThrottle> retryLogs = new java.util.concurrent.ConcurrentHashMap<>();
  private final java.util.concurrent.ConcurrentHashMap<String, LogThrottle> deadLetterLogs = new java.util.concurrent.ConcurrentHashMap<>();
  volatile boolean closing;
  /** Set while close() dead-letters what did not finish in time. */
  volatile boolean aborting;
  /** The executor, falling back to the calling thread when it rejects (never loses a continuation). */
  final Executor safeExecutor;
  /** The per-key orders of the handlers with {@code ordering = "key"}: close() dead-letters what waits there. */
  private final java.util.List<KeyOrder> keyOrders = new java.util.concurrent.CopyOnWriteArrayList<>();

  Runtime(Executor executor, ScheduledExecutorService scheduler, Clock clock, Listeners listeners,
      DeadLetterStore deadLetters, IdempotencyStore idempotency, CheckpointStrategy checkpoint, Duration claimTtl,
      Drainers drainers) {
    this.executor = executor;
    this.scheduler = scheduler;
    this.clock = clock;
    this.drainers = drainers;
    this.systemClock = clock.getClass() == Clock.systemUTC().getClass();
    this.listeners = listeners;
    this.deadLetters = deadLetters;
    this.idempotency = idempotency;
    this.effectivelyOnce = checkpoint == CheckpointStrategy.EFFECTIVELY_ONCE;
    this.claimTtl = claimTtl;
    this.safeExecutor = command -> {
      try {
        executor.execute(command);
      } catch (java.util.concurrent.RejectedExecutionException e) {
        command.run();
      }
    };
  }

  /**
   * How often attempts are checked against their timeout: a tenth of the shortest {@code timeout_ms}
   * (so an attempt ends at most 10% late), between 10 ms and 1 s.
   */
  static long sweepIntervalMillis(java.util.Collection<HandlerRuntime> handlers) {
    long shortest = Long.MAX_VALUE;
    for (HandlerRuntime h : handlers) {
      shortest = Math.min(shortest, h.retry().attemptTimeout().toMillis());
    }
    return Math.max(10, Math.min(1000, shortest / 10));
  }

  /** Settles every attempt that is past its timeout; reports the tail of thinned log lines. */
  void sweepTimeouts() {
    tasks.expireOverdue(nanos());
    long now = System.nanoTime();
    long held = overloadLog.flush(now);
    if (held > 0) {
      LOG.warn("[observer] {} more deliveries were dead-lettered because the engine was overloaded (max_in_flight "
          + "reached) since the last such line; each is in the dead-letter store (lines per event at DEBUG)", held);
    }
    if (!retryLogs.isEmpty()) {
      retryLogs.forEach((handler, log) -> {
        long h = log.flush(now);
        if (h > 0) {
          LOG.warn("[observer] {}: {} more failed attempts since the last such line, each retried per the handler's "
              + "budget (lines per attempt at DEBUG)", handler, h);
        }
      });
    }
    if (!deadLetterLogs.isEmpty()) {
      deadLetterLogs.forEach((handler, log) -> {
        long h = log.flush(now);
        if (h > 0) {
          LOG.warn("[observer] {}: {} more deliveries were dead-lettered since the last such line; each is in the "
              + "dead-letter store (lines per event at DEBUG)", handler, h);
        }
      });
    }
  }

  /** The throttle of a handler's "attempt n/m failed" WARN lines. */
  LogThrottle retryLog(String handler) {
    LogThrottle t = retryLogs.get(handler);
    return t != null ? t : retryLogs.computeIfAbsent(handler, h -> new LogThrottle(1_000_000_000L, System.nanoTime()));
  }

  /** The throttle of a handler's "dead-lettered event" WARN lines (overload has its own, {@link #overloadLog}). */
  LogThrottle deadLetterLog(String handler) {
    LogThrottle t = deadLetterLogs.get(handler);
    return t != null ? t : deadLetterLogs.computeIfAbsent(handler, h -> new LogThrottle(1_000_000_000L, System.nanoTime()));
  }

  /**
   * The wait before attempt {@code n + 1} of {@code h} after result {@code r}: the delay the remote
   * asked for (capped at the handler's maximum), else the handler's backoff.
   */
  java.time.Duration retryDelay(HandlerRuntime h, dev.fraiseql.observers.spi.ActionResult r, int n) {
    if (r instanceof dev.fraiseql.observers.spi.ActionResult.Retry) {
      java.util.Optional<java.time.Duration> asked = ((dev.fraiseql.observers.spi.ActionResult.Retry) r).after();
      if (asked.isPresent()) {
        return h.retry().capRequested(asked.get());
      }
    }
    return h.retry().delayAfter(Math.max(1, n), random());
  }

  /** The wait before checking again on a delivery another worker holds: the backoff, at most the claim TTL. */
  java.time.Duration busyDelay(HandlerRuntime h, int n) {
    java.time.Duration d = h.retry().delayAfter(Math.max(1, n), random());
    return d.compareTo(claimTtl) > 0 ? claimTtl : d;
  }

  /** A new per-key order for a handler with {@code ordering = "key"}; null for {@code "none"}. */
  KeyOrder keyOrder(dev.fraiseql.observers.config.Ordering ordering, java.util.Optional<String> keyPath) {
    if (ordering != dev.fraiseql.observers.config.Ordering.KEY) {
      return null;
    }
    KeyOrder o = new KeyOrder(dev.fraiseql.observers.internal.condition.OrderingKey.compile(keyPath));
    keyOrders.add(o);
    return o;
  }

  /**
   * Every delivery that has not ended: those in {@link #tasks}, those waiting for their ordering key
   * and those still waiting in the engine's queue (taken out of it: only for close(), once it gives up waiting). Each once.
   */
  java.util.List<DeliveryTask> unfinishedTasks() {
    java.util.Set<DeliveryTask> out = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
    if (drainers != null) {
      for (Runnable r : drainers.takeQueued()) {
        if (r instanceof DeliveryTask) {
          DeliveryTask t = (DeliveryTask) r;
          tasks.add(t, TaskSet.stripeOf(t)); // so that ending it counts it as no longer in flight
          out.add(t);
        }
      }
    }
    for (KeyOrder o : keyOrders) {
      for (DeliveryTask t : o.waiting()) {
        tasks.add(t, TaskSet.stripeOf(t)); // a no-op if it joined at dispatch (host executor)
        out.add(t);
      }
    }
    out.addAll(tasks.snapshot());
    return new java.util.ArrayList<>(out);
  }

  /**
   * Engine time in nanoseconds, for attempt deadlines and durations. With the system clock it is
   * {@link System#nanoTime()} (monotonic, and one clock read where a wall-clock and a monotonic read
   * were two); with a clock the host supplied (tests drive a virtual one) it is that clock's millis
   * × 10<sup>6</sup>, so moving that clock moves timeouts.
   */
  long nanos() {
    return systemClock ? System.nanoTime() : clock.millis() * 1_000_000L;
  }

  /** The wall-clock time (epoch millis) at which engine time was {@code nanos}: for attempt records. */
  long wallMillisAt(long nanos) {
    return systemClock ? clock.millis() - (System.nanoTime() - nanos) / 1_000_000L : nanos / 1_000_000L;
  }

  /** An attempt timeout in engine nanoseconds, saturating (a timeout of centuries stays far away). */
  static long timeoutNanos(java.time.Duration timeout) {
    return timeout.compareTo(java.time.Duration.ofDays(365L * 100)) > 0 ? Long.MAX_VALUE / 4 : timeout.toNanos();
  }

  Logger log() {
    return LOG;
  }

  double random() {
    return ThreadLocalRandom.current().nextDouble();
  }

  /** Stores a dead letter; if the store fails, keeps it in a bounded in-memory fallback and says so at ERROR. */
  void storeDeadLetter(DeadLetter letter) {
    try {
      deadLetters.add(letter);
    } catch (RuntimeException e) {
      fallbackDeadLetters.add(letter);
      LOG.error("[observer] {}: the dead-letter store failed ({}); dead letter {} for event {} kept in memory only "
          + "(listed by deadLetters(), lost on restart)", letter.handler(), e.toString(), letter.id(), letter.event().id());
    }
    listeners.deadLettered(letter);
  }

  /** Sets the MDC for one event; returns a handle that restores it. */
  static MdcScope mdc(ObservedEvent e, String handler) {
    return new MdcScope(e, handler);
  }

  /** Restores the MDC keys it set. */
  static final class MdcScope implements AutoCloseable {
    private final String oldRequest;
    private final String oldEvent;
    private final String oldHandler;
    /** Whether this scope set the trace keys (only then are they restored). */
    private final boolean traced;
    private String oldTrace;
    private String oldSpan;

    MdcScope(ObservedEvent e, String handler) {
      oldRequest = MDC.get(MDC_REQUEST_ID);
      oldEvent = MDC.get(MDC_EVENT_ID);
      oldHandler = MDC.get(MDC_HANDLER);
      put(MDC_REQUEST_ID, e.context().requestId().orElse(null));
      put(MDC_EVENT_ID, e.id().toString());
      put(MDC_HANDLER, handler);
      String tp = e.context().attributes().isEmpty() ? null : e.context().traceparent().orElse(null);
      traced = tp != null;
      if (traced) {
        oldTrace = MDC.get(MDC_TRACE_ID);
        oldSpan = MDC.get(MDC_SPAN_ID);
        MDC.put(MDC_TRACE_ID, tp.substring(3, 35));
        MDC.put(MDC_SPAN_ID, tp.substring(36, 52));
      }
    }

    private static void put(String k, String v) {
      if (v == null) {
        MDC.remove(k);
      } else {
        MDC.put(k, v);
      }
    }

    @Override
    public void close() {
      put(MDC_REQUEST_ID, oldRequest);
      put(MDC_EVENT_ID, oldEvent);
      put(MDC_HANDLER, oldHandler);
      if (traced) {
        put(MDC_TRACE_ID, oldTrace);
        put(MDC_SPAN_ID, oldSpan);
      }
    }
  }

  /** " [req_01HV3...]" when the event carries a request id, so one mutation can be grepped. */
  static String req(ObservedEvent e) {
    return e.context().requestId().map(r -> " [" + r + "]").orElse("");
  }

  /** The name an event goes by in logs: its mutation ({@code createUser}) or its event name. */
  static String label(ObservedEvent e) {
    return e.mutation().orElse(e.name());
  }
}

package dev.fraiseql.observers.internal.engine;

import dev.fraiseql.observers.DeliveryOutcome;
import dev.fraiseql.observers.ObservedEvent;
import dev.fraiseql.observers.internal.EventInternals;
import dev.fraiseql.observers.internal.Uuid7;
import dev.fraiseql.observers.spi.ActionResult;
import dev.fraiseql.observers.spi.AttemptRecord;
import dev.fraiseql.observers.spi.DeadLetter;
import dev.fraiseql.observers.spi.Delivery;
import dev.fraiseql.observers.spi.IdempotencyStore;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One event × one handler, from the first attempt to delivered / duplicate / dead-lettered. Retries
 * wait on the scheduler, never on a sleeping thread. Exactly one of the end states wins (CAS).
 */
final class DeliveryTask {
  private final Runtime rt;
  final HandlerRuntime handler;
  final ObservedEvent event;
  /** Serialized and keyed lazily, on the worker: a Java handler reads neither. */
  private byte[] payload;
  private String key;
  private final Runnable onEnd;
  final CompletableFuture<DeliveryOutcome> outcome = new CompletableFuture<>();
  private final List<AttemptRecord> attempts = new ArrayList<>();
  private final AtomicBoolean finished = new AtomicBoolean();
  private final long startNanos = System.nanoTime();
  private volatile int attempt;
  private volatile ScheduledFuture<?> pendingRetry;
  /** The attempt in progress and when it times out (engine clock), for the sweeper. */
  private volatile CompletableFuture<ActionResult> running;
  private volatile long runningDeadlineMillis;
  /** False when the delivery never got room (overload): it holds no permit to give back. */
  private volatile boolean admitted = true;

  DeliveryTask(Runtime rt, HandlerRuntime handler, ObservedEvent event, Runnable onEnd) {
    this.rt = rt;
    this.handler = handler;
    this.event = event;
    this.onEnd = onEnd;
  }

  /** Queues the first attempt on the executor. */
  void start() {
    rt.tasks.add(this);
    submit();
  }

  private void submit() {
    try {
      rt.executor.execute(this::runAttempt);
    } catch (RejectedExecutionException e) {
      // The host's executor is saturated or shut down: try again shortly rather than lose it.
      if (!finished.get()) {
        pendingRetry = rt.scheduler.schedule(this::submit, 100, TimeUnit.MILLISECONDS);
      }
    }
  }

  private void runAttempt() {
    if (finished.get()) {
      return;
    }
    int n = ++attempt;
    if (rt.effectivelyOnce && !handler.action().recordsIdempotencyItself()) {
      rt.idempotency.claim(event.id().toString(), handler.name(), rt.claimTtl).whenCompleteAsync((claim, ex) -> {
        if (ex != null) {
          onResult(n, rt.clock.instant(), 0, ActionResult.retry("idempotency store unavailable: " + Attempts.fromThrowable(ex).detail()), false);
        } else if (claim == IdempotencyStore.Claim.DONE) {
          finish(DeliveryOutcome.Status.DUPLICATE, n - 1, "already delivered (effectively_once)");
        } else if (claim == IdempotencyStore.Claim.BUSY) {
          waitForOtherHolder(n);
        } else {
          execute(n, true);
        }
      }, rt.safeExecutor);
    } else {
      execute(n, false);
    }
  }

  /**
   * Another worker holds a live claim on this (event, handler): a duplicate running concurrently. It
   * will complete (we then see DONE), release (we claim) or die (its claim expires): check again
   * later without spending this delivery's budget.
   */
  private void waitForOtherHolder(int n) {
    attempt = n - 1;
    Duration delay = rt.busyDelay(handler, n);
    try (Runtime.MdcScope ignored = Runtime.mdc(event, handler.name())) {
      rt.log().debug("[observer] {}: event {} is being delivered by another worker; checking again in {}ms{}",
          handler.name(), event.id(), delay.toMillis(), Runtime.req(event));
    }
    pendingRetry = rt.scheduler.schedule(this::submit, delay.toMillis(), TimeUnit.MILLISECONDS);
    if (finished.get()) {
      pendingRetry.cancel(false);
    }
  }

  private void execute(int n, boolean claimed) {
    Instant startedAt = rt.clock.instant();
    long t0 = System.nanoTime();
    if (rt.log().isDebugEnabled() || !rt.listeners.isEmpty()) {
      try (Runtime.MdcScope ignored = Runtime.mdc(event, handler.name())) {
        if (rt.log().isDebugEnabled()) {
          rt.log().debug("[observer] {}: dispatching {}{}{}", handler.name(), handler.action().describe(),
              n > 1 ? " (attempt " + n + "/" + handler.retry().maxAttempts() + ")" : "", Runtime.req(event));
        }
        rt.listeners.attemptStarted(event, handler.name(), n);
      }
    }
    if (payload == null) {
      payload = EventInternals.payload(event);
      key = Delivery.keyOf(event, handler.name());
    }
    Delivery delivery = new Delivery(event, handler.name(), n, payload, key);
    CompletableFuture<ActionResult> result = new CompletableFuture<>();
    Thread self = Thread.currentThread();
    boolean[] onThisCall = {true};
    result.thenAccept(r -> {
      running = null;
      if (Thread.currentThread() == self && onThisCall[0]) {
        // answered on this worker while execute() ran: settle here, no second executor hop
        onResult(n, startedAt, System.nanoTime() - t0, r, claimed);
      } else {
        rt.safeExecutor.execute(() -> onResult(n, startedAt, System.nanoTime() - t0, r, claimed));
      }
    });
    // The attempt timeout: no timer per attempt; the engine's sweeper completes overdue attempts
    // (see expireIfOverdue), even while a blocking handler still holds its thread.
    runningDeadlineMillis = rt.clock.millis() + handler.retry().attemptTimeout().toMillis();
    running = result;
    CompletionStage<ActionResult> stage;
    try {
      stage = handler.action().execute(delivery);
      if (stage == null) {
        stage = CompletableFuture.completedFuture(ActionResult.failed("action returned no result (a bug in the action)"));
      }
    } catch (Throwable t) {
      stage = CompletableFuture.failedFuture(t);
    }
    stage.whenComplete((r, ex) -> result.complete(r != null ? r : Attempts.fromThrowable(ex)));
    onThisCall[0] = false;
  }

  private void onResult(int n, Instant startedAt, long elapsedNanos, ActionResult r, boolean claimed) {
    Duration elapsed = Duration.ofNanos(elapsedNanos);
    synchronized (attempts) {
      attempts.add(new AttemptRecord(n, startedAt, elapsed, r.isDelivered() ? "delivered" + detail(r) : r.toString()));
    }
    rt.listeners.attemptFinished(event, handler.name(), n, r, elapsed);
    if (finished.get()) {
      return; // dead-lettered at shutdown while this attempt ran
    }
    if (r.isDelivered()) {
      if (claimed) {
        rt.idempotency.complete(event.id().toString(), handler.name()).whenComplete((v, ex) -> {
          if (ex != null) {
            rt.log().warn("[observer] {}: delivered event {} but could not record its idempotency key ({}); "
                + "a redelivery may run it again", handler.name(), event.id(), ex.toString());
          }
        });
      }
      if (rt.log().isDebugEnabled()) {
        try (Runtime.MdcScope ignored = Runtime.mdc(event, handler.name())) {
          rt.log().debug("[observer] {}: completed in {}ms{}{}", handler.name(), elapsed.toMillis(),
              r.detail().isEmpty() ? "" : " (" + r.detail() + ")", Runtime.req(event));
        }
      }
      finish(DeliveryOutcome.Status.DELIVERED, n, r.detail());
      return;
    }
    if (claimed) {
      rt.idempotency.release(event.id().toString(), handler.name());
    }
    int max = handler.retry().maxAttempts();
    if (r instanceof ActionResult.Failed) {
      deadLetter("permanent failure: " + r.detail());
    } else if (n >= max) {
      deadLetter("budget spent after " + n + " attempt" + (n == 1 ? "" : "s") + ": " + r.detail());
    } else {
      Duration delay = rt.retryDelay(handler, r, n);
      try (Runtime.MdcScope ignored = Runtime.mdc(event, handler.name())) {
        rt.log().warn("[observer] {}: attempt {}/{} failed in {}ms ({}); retrying in {}ms{}", handler.name(), n, max,
            elapsed.toMillis(), r.detail(), delay.toMillis(), Runtime.req(event));
      }
      rt.listeners.retryScheduled(event, handler.name(), n + 1, delay);
      pendingRetry = rt.scheduler.schedule(this::submit, delay.toMillis(), TimeUnit.MILLISECONDS);
      if (finished.get()) {
        pendingRetry.cancel(false);
      }
    }
  }

  private static String detail(ActionResult r) {
    return r.detail().isEmpty() ? "" : " (" + r.detail() + ")";
  }

  /**
   * Called by the engine's sweeper: completes the running attempt as a retryable timeout once it is
   * past {@code timeout_ms}. A result arriving later is ignored (the attempt already counted).
   */
  void expireIfOverdue(long nowMillis) {
    CompletableFuture<ActionResult> f = running;
    if (f != null && !f.isDone() && nowMillis >= runningDeadlineMillis) {
      String why = "timed out after " + handler.retry().attemptTimeout().toMillis() + "ms";
      rt.safeExecutor.execute(() -> f.complete(ActionResult.retry(why)));
    }
  }

  /** Dead-letters a delivery that found no room under the in-flight bound. */
  void deadLetterWithoutRoom(String reason) {
    admitted = false;
    deadLetter(reason);
  }

  /** Dead-letters it now (budget spent, permanent failure, overload or shutdown), unless it already ended. */
  void deadLetter(String reason) {
    if (!finished.compareAndSet(false, true)) {
      return;
    }
    ScheduledFuture<?> retry = pendingRetry;
    if (retry != null) {
      retry.cancel(false);
    }
    List<AttemptRecord> history;
    synchronized (attempts) {
      history = List.copyOf(attempts);
    }
    DeadLetter letter = new DeadLetter(Uuid7.next().toString(), event, handler.name(), handler.subject(), reason,
        history, rt.clock.instant());
    try (Runtime.MdcScope ignored = Runtime.mdc(event, handler.name())) {
      rt.log().warn("[observer] {}: dead-lettered event {} ({}){}", handler.name(), event.id(), reason, Runtime.req(event));
    }
    rt.storeDeadLetter(letter);
    complete(new DeliveryOutcome(handler.name(), DeliveryOutcome.Status.DEAD_LETTERED, history.size(), reason, elapsed()));
  }

  private void finish(DeliveryOutcome.Status status, int attemptsMade, String detail) {
    if (!finished.compareAndSet(false, true)) {
      return;
    }
    if (status == DeliveryOutcome.Status.DUPLICATE) {
      rt.listeners.duplicateSkipped(event, handler.name());
      try (Runtime.MdcScope ignored = Runtime.mdc(event, handler.name())) {
        rt.log().debug("[observer] {}: skipped duplicate of event {}{}", handler.name(), event.id(), Runtime.req(event));
      }
    }
    complete(new DeliveryOutcome(handler.name(), status, attemptsMade, detail, elapsed()));
  }

  private void complete(DeliveryOutcome o) {
    rt.tasks.remove(this);
    if (rt.closing && !rt.aborting) {
      rt.completedWhileClosing.incrementAndGet();
    }
    try {
      if (admitted) {
        onEnd.run();
      }
    } finally {
      rt.listeners.completed(event, o);
      outcome.complete(o);
    }
  }

  private Duration elapsed() {
    return Duration.ofNanos(System.nanoTime() - startNanos);
  }

  String describe() {
    return handler.name() + " ← " + event.name() + " " + event.id() + " (" + attempt + " attempt" + (attempt == 1 ? "" : "s") + ")";
  }
}

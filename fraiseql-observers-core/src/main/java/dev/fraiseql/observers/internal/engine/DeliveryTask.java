package dev.fraiseql.observers.internal.engine;

import dev.fraiseql.observers.DeliveryOutcome;
import dev.fraiseql.observers.ObservedEvent;
import dev.fraiseql.observers.internal.AttemptControl;
import dev.fraiseql.observers.spi.ActionResult;
import dev.fraiseql.observers.spi.AttemptRecord;
import dev.fraiseql.observers.spi.Delivery;
import dev.fraiseql.observers.spi.IdempotencyStore;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * One event × one handler, from the first attempt to delivered / duplicate / dead-lettered. Retries
 * wait on the scheduler, never on a sleeping thread. Exactly one of the end states wins (CAS).
 *
 * <p>This class is the attempt stage and the end states; the other stages of DESIGN.md's flow are
 * their own classes: {@link Checkpoint} (effectively-once claims), {@link RetryScheduling} (the wait
 * before the next attempt), {@link DeadLettering} (the letter, its log line, the store) and, for a
 * handler with {@code ordering = "key"}, {@link KeyOrder} (a delivery starts when its key is free and
 * frees it when it ends).
 *
 * <p>Kept lean because one is built per matched handler per event: the attempt that answers on its
 * worker thread settles there (no future, no second hop); the payload and the idempotency key are
 * computed only if the action reads them; attempt records are kept only for attempts that did not
 * deliver (a dead letter's history); the outcome future exists only if someone asks for it.
 *
 * <p>An action may wait locally before its I/O (a free slot at its endpoint): it says so through its
 * {@link Delivery} ({@link AttemptControl}); the attempt's timeout stops while it waits and restarts
 * when the I/O is handed over, and an attempt the engine gave up on is reported as such, so that it is
 * never sent afterwards.
 */
final class DeliveryTask implements Runnable, AttemptControl {
  private static final VarHandle ENDED;
  private static final VarHandle LIVE;
  private static final VarHandle WAITER;
  private static final VarHandle HOOK;
  /** In {@link #live}: the attempt number. */
  private static final long NUMBER = 0xFFFF_FFFFL;
  /** In {@link #live}: the attempt waits locally (its timeout does not run). */
  private static final long QUEUED = 1L << 40;
  /** In {@link #live}: the attempt's clock was restarted when its I/O began (so a stale read of the first deadline cannot expire it). */
  private static final long RESTARTED = 1L << 41;

  static {
    try {
      MethodHandles.Lookup l = MethodHandles.lookup();
      ENDED = l.findVarHandle(DeliveryTask.class, "ended", int.class);
      LIVE = l.findVarHandle(DeliveryTask.class, "live", long.class);
      WAITER = l.findVarHandle(DeliveryTask.class, "waiter", CompletableFuture.class);
      HOOK = l.findVarHandle(DeliveryTask.class, "abandonHook", Runnable.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private final Runtime rt;
  final HandlerRuntime handler;
  final ObservedEvent event;
  /** When it was dispatched, in engine time ({@link Runtime#nanos()}). */
  private final long startNanos;
  /** 1 once an end state (delivered, duplicate, dead-lettered) has won. */
  private volatile int ended;
  /**
   * The number of the attempt running now (low 32 bits, with the {@link #QUEUED} and {@link #RESTARTED}
   * flags), 0 between attempts: whoever CASes it to 0 settles that attempt.
   */
  private volatile long live;
  /**
   * When the running attempt started and when it times out (engine time, {@link Runtime#nanos()}), and
   * whether it holds an idempotency claim (released if it times out): plain fields, written before
   * {@link #live} and read after it.
   */
  private long liveStartNanos;
  /** When the running attempt began to wait locally ({@link #markQueued}), engine time; written before {@link #live}. */
  private long liveQueuedNanos;
  private long liveDeadlineNanos;
  private boolean liveClaimed;
  /** What the action asked to run if the engine gives up on attempt {@link #hookAttempt} (written before the hook). */
  private volatile Runnable abandonHook;
  private int hookAttempt;
  private volatile int attempt;
  private volatile ScheduledFuture<?> pendingRetry;
  /** Attempts that did not deliver, for a dead letter's history; null until the first one. */
  private List<AttemptRecord> failures;
  /** The end, once reached; and the future someone asked for, if anyone did. */
  private volatile DeliveryOutcome result;
  private volatile CompletableFuture<DeliveryOutcome> waiter;
  /** TaskSet links, guarded by the stripe's monitor; stripe is -1 when not in the set. */
  int stripe = -1;
  DeliveryTask prev;
  DeliveryTask next;
  /** The ordering key ({@code ordering = "key"}), or null for an unordered handler. */
  final Object orderKey;
  /** {@link KeyOrder}'s out-parameters (plain: written and read by one thread inside one call). */
  boolean keyTaken;
  DeliveryTask successor;

  DeliveryTask(Runtime rt, HandlerRuntime handler, ObservedEvent event) {
    this.rt = rt;
    this.handler = handler;
    this.event = event;
    this.startNanos = rt.nanos();
    KeyOrder order = handler.order();
    this.orderKey = order == null ? null : order.keyOf(event);
  }

  /**
   * Queues the first attempt on the executor. On the engine's own queue the worker that first runs
   * it tracks it (see {@link Runtime#drainers}); on a host's executor it is tracked now.
   */
  void start() {
    if (rt.drainers == null) {
      rt.tasks.add(this, TaskSet.stripeOf(this));
    }
    if (orderKey != null && !handler.order().acquire(this)) {
      return; // another delivery of its key is in flight: it starts this one when it ends
    }
    submit();
  }

  boolean isEnded() {
    return ended != 0;
  }

  private void submit() {
    try {
      rt.executor.execute(this);
    } catch (RejectedExecutionException e) {
      // The host's executor is saturated or shut down: try again shortly rather than lose it.
      if (ended == 0) {
        pendingRetry = rt.scheduler.schedule(this::submit, 100, TimeUnit.MILLISECONDS);
      }
    }
  }

  /** One attempt (the executor's entry point). */
  @Override
  public void run() {
    if (ended != 0) {
      return;
    }
    if (rt.drainers != null && attempt == 0) {
      rt.tasks.add(this, TaskSet.stripeOfCurrentThread()); // a no-op if close() already added it
      if (rt.aborting) {
        // close() gave up waiting and may have looked at the set just before we joined it
        deadLetter("shutdown: the engine closed before this delivery finished");
        return;
      }
    }
    int n = ++attempt;
    if (Checkpoint.guards(rt, handler)) {
      Checkpoint.claim(rt, event, handler).whenCompleteAsync((claim, ex) -> {
        if (ex != null) {
          long now = rt.nanos();
          rt.listeners.attemptStarted(event, handler.name(), n); // every attemptFinished has its attemptStarted
          onResult(n, now, now, ActionResult.retry("idempotency store unavailable: " + Attempts.fromThrowable(ex).detail()), false);
        } else if (claim == IdempotencyStore.Claim.DONE) {
          finish(DeliveryOutcome.Status.DUPLICATE, n - 1, "already delivered (effectively_once)", rt.nanos());
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
    pendingRetry = RetryScheduling.scheduleBusy(rt, event, handler, n, this::submit);
    if (ended != 0) {
      pendingRetry.cancel(false);
    }
  }

  @SuppressWarnings("unchecked")
  private void execute(int n, boolean claimed) {
    long t0 = rt.nanos();
    if (rt.log().isDebugEnabled() || !rt.listeners.isEmpty()) {
      try (Runtime.MdcScope ignored = Runtime.mdc(event, handler.name())) {
        if (rt.log().isDebugEnabled()) {
          rt.log().debug("[observer] {}: dispatching {}{}{}", handler.name(), handler.action().describe(),
              n > 1 ? " (attempt " + n + "/" + handler.retry().maxAttempts() + ")" : "", Runtime.req(event));
        }
        rt.listeners.attemptStarted(event, handler.name(), n);
      }
    }
    Delivery delivery = AttemptControl.delivery(event, handler.name(), n, this);
    // The attempt timeout: no timer per attempt; the engine's sweeper settles overdue attempts
    // (see expireIfOverdue), even while a blocking handler still holds its thread. An action that
    // waits locally first stops it (markQueued) and restarts it when its I/O begins (markStarted).
    liveStartNanos = t0;
    liveDeadlineNanos = t0 + Runtime.timeoutNanos(handler.retry().attemptTimeout());
    liveClaimed = claimed;
    live = n;
    if (handler.action() instanceof SyncAction) {
      ActionResult r;
      try {
        r = ((SyncAction) handler.action()).executeNow(delivery);
      } catch (Throwable t) {
        r = Attempts.fromThrowable(t);
      }
      settleHere(n, r, claimed);
      return;
    }
    CompletionStage<ActionResult> stage;
    try {
      stage = handler.action().execute(delivery);
      if (stage == null) {
        stage = CompletableFuture.completedFuture(null);
      }
    } catch (Throwable t) {
      stage = CompletableFuture.failedFuture(t);
    }
    if (stage instanceof CompletableFuture && ((CompletableFuture<ActionResult>) stage).isDone()) {
      // answered on this worker: settle here, no second executor hop
      ActionResult r;
      try {
        r = ((CompletableFuture<ActionResult>) stage).join();
      } catch (RuntimeException ex) {
        r = Attempts.fromThrowable(ex);
      }
      settleHere(n, r, claimed);
      return;
    }
    stage.whenComplete((r, ex) -> {
      if (settle(n)) {
        ActionResult res = ex != null ? Attempts.fromThrowable(ex)
            : r != null ? r : ActionResult.failed("action returned no result (a bug in the action)");
        long end = rt.nanos();
        long start = liveStartNanos; // written before the live value settle() read: the hand-off, if the action waited
        if (res.isDelivered() && !claimed && waiter == null && rt.listeners.isEmpty()) {
          // the common end runs nothing that could block (no listener, no idempotency record, no
          // retry, no dead letter, nobody's callback): end it on the thread that answered, which
          // saves a hand-off (a wake-up and a park) per delivery
          onResult(n, start, end, res, false);
        } else {
          rt.safeExecutor.execute(() -> onResult(n, start, end, res, claimed));
        }
      }
    });
  }

  /** Settles attempt {@code n} on this thread, unless the sweeper already timed it out. */
  private void settleHere(int n, ActionResult r, boolean claimed) {
    if (settle(n)) {
      onResult(n, liveStartNanos, rt.nanos(),
          r != null ? r : ActionResult.failed("action returned no result (a bug in the action)"), claimed);
    }
  }

  /** Takes attempt {@code n} out of {@link #live} (whatever its flags); false if it is no longer running. */
  private boolean settle(int n) {
    for (;;) {
      long cur = live;
      if (cur == 0 || (cur & NUMBER) != n) {
        return false;
      }
      if (LIVE.compareAndSet(this, cur, 0L)) {
        if (abandonHook != null) {
          abandonHook = null; // answered: the action's hook has nothing left to do
        }
        if ((cur & QUEUED) != 0) {
          dequeued(n, true); // answered while still waiting: it left the action's queue unsent
        }
        return true;
      }
    }
  }

  @Override
  public boolean markQueued(int n) {
    // only from the first state: once started (or settled, or expired) an attempt cannot go back to waiting
    if (ended != 0 || live != n) {
      return false;
    }
    liveQueuedNanos = rt.nanos();
    if (!LIVE.compareAndSet(this, (long) n, n | QUEUED)) {
      return false;
    }
    if (!rt.listeners.isEmpty()) {
      rt.listeners.attemptQueued(event, handler.name(), n);
    }
    return true;
  }

  /** Tells the listeners that attempt {@code n} stopped waiting locally (started, or left unsent). */
  private void dequeued(int n, boolean abandoned) {
    if (!rt.listeners.isEmpty()) {
      rt.listeners.attemptDequeued(event, handler.name(), n, Duration.ofNanos(Math.max(0, rt.nanos() - liveQueuedNanos)),
          abandoned);
    }
  }

  @Override
  public boolean markStarted(int n) {
    for (;;) {
      long cur = live;
      if (ended != 0 || cur == 0 || (cur & NUMBER) != n) {
        return false;
      }
      long now = rt.nanos();
      liveStartNanos = now;
      liveDeadlineNanos = now + Runtime.timeoutNanos(handler.retry().attemptTimeout());
      if (LIVE.compareAndSet(this, cur, n | RESTARTED)) {
        if ((cur & QUEUED) != 0) {
          dequeued(n, false);
        }
        return true;
      }
    }
  }

  @Override
  public boolean isAbandoned(int n) {
    long cur = live;
    return ended != 0 || cur == 0 || (cur & NUMBER) != n;
  }

  @Override
  public String traceparent(int n) {
    dev.fraiseql.observers.spi.AttemptTrace t = rt.listeners.trace;
    if (t == null) {
      return null;
    }
    try {
      return t.traceparent(event, handler.name(), n);
    } catch (RuntimeException e) {
      rt.log().debug("[observer] {}: the attempt trace threw: {}", handler.name(), e.toString());
      return null;
    }
  }

  @Override
  public void onAbandoned(int n, Runnable hook) {
    hookAttempt = n;
    abandonHook = hook;
    if (isAbandoned(n)) {
      runHook(n, false);
    }
  }

  /** Runs the action's hook for attempt {@code n}, if it set one (on the executor, or here). */
  private void runHook(int n, boolean async) {
    Runnable h = (Runnable) HOOK.getAndSet(this, null);
    if (h == null || hookAttempt != n) {
      return;
    }
    if (async) {
      rt.safeExecutor.execute(() -> runQuietly(h));
    } else {
      runQuietly(h);
    }
  }

  private void runQuietly(Runnable h) {
    try {
      h.run();
    } catch (RuntimeException e) {
      rt.log().debug("[observer] {}: the action's abandon hook failed: {}", handler.name(), e.toString());
    }
  }

  /** Attempt {@code n}, started at {@code t0} and answered at {@code end} (engine time), gave {@code r}. */
  private void onResult(int n, long t0, long end, ActionResult r, boolean claimed) {
    long elapsedNanos = end - t0;
    if (!r.isDelivered()) {
      AttemptRecord rec = new AttemptRecord(n, Instant.ofEpochMilli(rt.wallMillisAt(t0)), Duration.ofNanos(elapsedNanos), r.toString());
      synchronized (this) {
        if (failures == null) {
          failures = new ArrayList<>(4);
        }
        failures.add(rec);
      }
    }
    if (!rt.listeners.isEmpty()) {
      rt.listeners.attemptFinished(event, handler.name(), n, r, Duration.ofNanos(elapsedNanos));
    }
    if (ended != 0) {
      return; // dead-lettered at shutdown while this attempt ran
    }
    if (r.isDelivered()) {
      if (claimed) {
        Checkpoint.complete(rt, event, handler);
      }
      if (rt.log().isDebugEnabled()) {
        try (Runtime.MdcScope ignored = Runtime.mdc(event, handler.name())) {
          rt.log().debug("[observer] {}: completed in {}ms{}{}", handler.name(), elapsedNanos / 1_000_000,
              r.detail().isEmpty() ? "" : " (" + r.detail() + ")", Runtime.req(event));
        }
      }
      finish(isDuplicate(r) ? DeliveryOutcome.Status.DUPLICATE : DeliveryOutcome.Status.DELIVERED, n, r.detail(), end);
      return;
    }
    if (claimed) {
      Checkpoint.release(rt, event, handler);
    }
    if (r instanceof ActionResult.Failed) {
      deadLetter("permanent failure: " + r.detail());
    } else if (n >= handler.retry().maxAttempts()) {
      deadLetter("budget spent after " + n + " attempt" + (n == 1 ? "" : "s") + ": " + r.detail());
    } else {
      pendingRetry = RetryScheduling.schedule(rt, event, handler, n, elapsedNanos, r, this::submit);
      if (ended != 0) {
        pendingRetry.cancel(false);
      }
    }
  }

  /** A delivered result that found the effect already there (a SQL action's key, a bus's de-duplication). */
  static boolean isDuplicate(ActionResult r) {
    return r instanceof ActionResult.Delivered && ((ActionResult.Delivered) r).isDuplicate();
  }

  /** Whether an attempt is running past its deadline (a cheap pre-check for the sweeper); never while it waits locally. */
  boolean isOverdue(long nowNanos) {
    long cur = live;
    return cur != 0 && (cur & QUEUED) == 0 && nowNanos - liveDeadlineNanos >= 0;
  }

  /**
   * Called by the engine's sweeper: settles the running attempt as a retryable timeout once it is
   * past {@code timeout_ms} (counted from its hand-off, if the action waited locally first). A result
   * arriving later is ignored (the attempt already counted); the action's abandon hook, if any, runs.
   */
  void expireIfOverdue(long nowNanos) {
    long cur = live; // read first: execute() and markStarted() write the times and the claim flag before it
    boolean claimed = liveClaimed;
    long t0 = liveStartNanos;
    if (cur != 0 && (cur & QUEUED) == 0 && nowNanos - liveDeadlineNanos >= 0 && LIVE.compareAndSet(this, cur, 0L)) {
      int n = (int) (cur & NUMBER);
      runHook(n, true);
      ActionResult r = ActionResult.retry("timed out after " + handler.retry().attemptTimeout().toMillis() + "ms");
      rt.safeExecutor.execute(() -> onResult(n, t0, nowNanos, r, claimed));
    }
  }

  /** Dead-letters it now (budget spent, permanent failure or shutdown), unless it already ended. */
  void deadLetter(String reason) {
    deadLetter(reason, false);
  }

  /**
   * Dead-letters it because the engine had no room for it. Stored like any other; its WARN line is
   * thinned by {@link dev.fraiseql.observers.internal.LogThrottle} so that an overload does not also flood the log.
   */
  void deadLetterOverloaded(String reason) {
    deadLetter(reason, true);
  }

  private void deadLetter(String reason, boolean overload) {
    if (!ENDED.compareAndSet(this, 0, 1)) {
      return;
    }
    ScheduledFuture<?> retry = pendingRetry;
    if (retry != null) {
      retry.cancel(false);
    }
    long cur = live;
    if (cur != 0) {
      runHook((int) (cur & NUMBER), true); // an attempt still running or waiting (shutdown): the action drops it
    }
    List<AttemptRecord> history;
    synchronized (this) {
      history = failures == null ? List.of() : List.copyOf(failures);
    }
    DeadLettering.store(rt, event, handler, reason, history, overload);
    complete(new DeliveryOutcome(handler.name(), DeliveryOutcome.Status.DEAD_LETTERED, history.size(), reason,
        elapsedAt(rt.nanos())));
  }

  private void finish(DeliveryOutcome.Status status, int attemptsMade, String detail, long endNanos) {
    if (!ENDED.compareAndSet(this, 0, 1)) {
      return;
    }
    if (status == DeliveryOutcome.Status.DUPLICATE) {
      rt.listeners.duplicateSkipped(event, handler.name());
      try (Runtime.MdcScope ignored = Runtime.mdc(event, handler.name())) {
        rt.log().debug("[observer] {}: skipped duplicate of event {}{}", handler.name(), event.id(), Runtime.req(event));
      }
    }
    complete(new DeliveryOutcome(handler.name(), status, attemptsMade, detail, elapsedAt(endNanos)));
  }

  /** Ends it: leaves the task set (which counts it as no longer in flight), then tells whoever waits. */
  private void complete(DeliveryOutcome o) {
    rt.tasks.remove(this);
    if (rt.closing && !rt.aborting) {
      rt.completedWhileClosing.incrementAndGet();
    }
    try {
      rt.listeners.completed(event, o);
    } finally {
      result = o;
      CompletableFuture<DeliveryOutcome> w = waiter;
      try {
        if (w != null) {
          w.complete(o);
        }
      } finally {
        if (orderKey != null) {
          DeliveryTask next = handler.order().release(this);
          if (next != null) {
            next.submit(); // the key's next delivery, in dispatch order
          }
        }
      }
    }
  }

  /** The outcome, as a future; created on the first call, so deliveries nobody waits for need none. */
  @SuppressWarnings("unchecked")
  CompletableFuture<DeliveryOutcome> outcome() {
    CompletableFuture<DeliveryOutcome> w = waiter;
    if (w != null) {
      return w;
    }
    DeliveryOutcome o = result;
    if (o != null) {
      return CompletableFuture.completedFuture(o);
    }
    CompletableFuture<DeliveryOutcome> mine = new CompletableFuture<>();
    if (!WAITER.compareAndSet(this, null, mine)) {
      return waiter;
    }
    o = result; // complete() writes result before it reads waiter: one of us sees the other
    if (o != null) {
      mine.complete(o);
    }
    return mine;
  }

  private Duration elapsedAt(long endNanos) {
    return Duration.ofNanos(endNanos - startNanos);
  }

  String describe() {
    return handler.name() + " ← " + event.name() + " " + event.id() + " (" + attempt + " attempt" + (attempt == 1 ? "" : "s") + ")";
  }
}

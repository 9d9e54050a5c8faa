package dev.fraiseql.observers.webhook.internal;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;

/**
 * Bounds the requests in flight to one endpoint without blocking any thread and without handing
 * tasks to another thread: a task runs at once on the caller's thread when a permit is free,
 * otherwise it waits in a queue and runs on the thread that releases a permit (the thread that saw a
 * response arrive), after that response was handled. Each started task must call {@link #release()}
 * exactly once when its request is over.
 *
 * <p>The queue has no length limit of its own: the engine gives each delivery at most one attempt at
 * a time, so it holds at most one task per delivery in flight ({@code max_in_flight} bounds it, and
 * the engine's overflow policy governs intake). A task waits at most {@code maxWaitNanos} (0: no
 * limit): then it is taken out and told ({@link Task#expired}); one timer per limiter, armed only while
 * tasks wait, enforces it. A task can also be dropped while it waits ({@link #drop}): the engine gave up
 * on it. A task that was dropped or expired never runs; one that started is never dropped or expired.
 *
 * <p>A task that releases its permit before returning (it failed before sending) does not recurse:
 * the thread already draining picks the next one up in its loop, so the stack stays flat however
 * many queued tasks fail that way in a row.
 */
final class EndpointLimiter {
  /** Set while this thread runs queued tasks: a release inside one only frees the permit. */
  private static final ThreadLocal<boolean[]> DRAINING = ThreadLocal.withInitial(() -> new boolean[1]);

  /** A request: waits, then starts (with a permit), or leaves the queue unstarted. */
  abstract static class Task {
    private static final AtomicIntegerFieldUpdater<Task> STATE =
        AtomicIntegerFieldUpdater.newUpdater(Task.class, "state");
    private static final int NEW = 0;
    private static final int STARTED = 1;
    private static final int GONE = 2;
    private volatile int state;
    /** When it joined the queue (System.nanoTime()); set before it is queued. */
    long queuedAt;

    /** Runs the request; called once, with a permit held. */
    abstract void start();

    /** Called when it is queued (before any thread can start it); false if it must not wait (it then completes itself). */
    abstract boolean queued();

    /** Called once if it waited {@code waitedNanos} without getting a permit; it never starts. */
    abstract void expired(long waitedNanos, int stillWaiting);

    boolean waiting() {
      return state == NEW;
    }

    private boolean tryStart() {
      return STATE.compareAndSet(this, NEW, STARTED);
    }

    private boolean tryRemove() {
      return STATE.compareAndSet(this, NEW, GONE);
    }
  }

  private final Semaphore permits;
  private final int maxConcurrency;
  private final ConcurrentLinkedQueue<Task> waiting = new ConcurrentLinkedQueue<>();
  private final AtomicInteger queued = new AtomicInteger();
  private final long maxWaitNanos;
  private final AtomicBoolean timerArmed = new AtomicBoolean();

  /**
   * @param maxConcurrency permits (requests in flight at once)
   * @param maxWaitNanos how long a task may wait for a permit; 0 for no limit
   */
  EndpointLimiter(int maxConcurrency, long maxWaitNanos) {
    this.permits = new Semaphore(maxConcurrency);
    this.maxConcurrency = maxConcurrency;
    this.maxWaitNanos = maxWaitNanos;
  }

  /**
   * Runs {@code task} now on the calling thread (an engine worker) when a permit is free and nobody
   * is waiting, else queues it (it then starts on the thread that frees a permit). Returns true if it
   * was queued.
   */
  boolean submit(Task task) {
    if (waiting.isEmpty() && permits.tryAcquire()) {
      if (!task.tryStart()) {
        permits.release(); // dropped before it was submitted
        return false;
      }
      task.start();
      return false;
    }
    task.queuedAt = System.nanoTime();
    if (!task.waiting() || !task.queued()) {
      return false;
    }
    queued.incrementAndGet();
    waiting.add(task);
    if (!task.waiting() && waiting.remove(task)) {
      queued.decrementAndGet(); // dropped while it joined
    }
    if (maxWaitNanos > 0) {
      armTimer();
    }
    drain();
    return true;
  }

  /** Ends a started task's hold on its permit; the next waiting task starts on this thread. */
  void release() {
    permits.release();
    drain();
  }

  /** Takes a waiting task out of the queue unstarted; false if it already started (or left). */
  boolean drop(Task task) {
    if (!task.tryRemove()) {
      return false;
    }
    if (waiting.remove(task)) {
      queued.decrementAndGet();
    }
    return true;
  }

  /** Tasks waiting for a permit now (a task that left unstarted may count until it is taken out of the queue). */
  int queued() {
    return queued.get();
  }

  /** Requests in flight now. */
  int inFlight() {
    return maxConcurrency - permits.availablePermits();
  }

  int maxConcurrency() {
    return maxConcurrency;
  }

  /** How long the oldest waiting task has waited, in nanoseconds (0 if none waits). */
  long oldestWaitNanos() {
    for (Task t : waiting) {
      if (t.waiting()) {
        return Math.max(0, System.nanoTime() - t.queuedAt);
      }
    }
    return 0;
  }

  private void drain() {
    boolean[] draining = DRAINING.get();
    if (draining[0]) {
      return; // the loop below, further up this thread's stack, takes the next task
    }
    draining[0] = true;
    try {
      while (!waiting.isEmpty() && permits.tryAcquire()) {
        Task next = waiting.poll();
        if (next != null) {
          queued.decrementAndGet();
        }
        if (next == null || !next.tryStart()) {
          permits.release(); // gone meanwhile (expired or dropped)
          continue;
        }
        next.start();
      }
    } finally {
      draining[0] = false;
    }
  }

  /** One timer per limiter while tasks wait: due when the oldest one reaches its limit. */
  private void armTimer() {
    if (timerArmed.get() || !timerArmed.compareAndSet(false, true)) {
      return;
    }
    Task head = null;
    for (Task t : waiting) {
      if (t.waiting()) {
        head = t;
        break;
      }
    }
    if (head == null) {
      timerArmed.set(false);
      if (!waiting.isEmpty()) {
        armTimer(); // a task joined between the look and the reset
      }
      return;
    }
    long delay = Math.max(1_000_000L, head.queuedAt + maxWaitNanos - System.nanoTime());
    // CompletableFuture's own delay thread (a JDK daemon), no thread of ours; one timer per limiter at a time
    CompletableFuture.delayedExecutor(delay, TimeUnit.NANOSECONDS, Runnable::run).execute(this::expireOverdue);
  }

  /** Takes out every task that has waited its limit, oldest first, and re-arms the timer if any still wait. */
  private void expireOverdue() {
    timerArmed.set(false);
    long now = System.nanoTime();
    for (Task t : waiting) { // weakly consistent: tasks that started or left meanwhile are skipped
      if (!t.waiting()) {
        continue;
      }
      if (now - t.queuedAt < maxWaitNanos) {
        break; // the queue is in arrival order: the others waited less
      }
      if (t.tryRemove()) {
        if (waiting.remove(t)) { // near the head: a short walk
          queued.decrementAndGet();
        }
        t.expired(now - t.queuedAt, queued.get());
      }
    }
    if (!waiting.isEmpty()) {
      armTimer();
    }
  }
}

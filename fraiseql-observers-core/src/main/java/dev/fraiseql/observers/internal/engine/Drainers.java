package dev.fraiseql.observers.internal.engine;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * Hands deliveries to the engine's own pool through one lock-free queue drained by at most
 * {@code width} drainer tasks, instead of one executor task per delivery.
 *
 * <p>Under load every drainer is busy and a hand-off is one CAS on the queue: no executor lock, no
 * thread wake-up per delivery. A drainer takes one delivery at a time and, when more are waiting
 * and fewer than {@code width} drainers run, starts another before running it, so a slow or blocking
 * handler holds one drainer and never the deliveries queued behind it (up to {@code width} of them
 * can block at once, exactly like a fixed pool of that size). A drainer yields its thread after
 * {@link #BATCH} deliveries so other work on the pool gets a turn.
 */
final class Drainers {
  static final int BATCH = 256;
  static final int IDLE_POLLS = 2;
  static final long IDLE_POLL_NANOS = 50_000;
  private final ConcurrentLinkedQueue<Runnable> queue = new ConcurrentLinkedQueue<>();
  private final AtomicInteger active = new AtomicInteger();
  private final Executor executor;
  private final ScheduledExecutorService retry;
  private final int width;
  private final Runnable drainer = this::drain;

  Drainers(Executor executor, int width, ScheduledExecutorService retry) {
    this.executor = executor;
    this.retry = retry;
    this.width = width;
  }

  /** Queues a delivery's next step; a drainer runs it. */
  void execute(Runnable task) {
    queue.offer(task);
    if (active.get() < width) {
      startOne();
    }
  }

  private void startOne() {
    for (;;) {
      int a = active.get();
      if (a >= width) {
        return;
      }
      if (active.compareAndSet(a, a + 1)) {
        try {
          executor.execute(drainer);
        } catch (RejectedExecutionException e) {
          active.decrementAndGet();
          if (a == 0) {
            // nobody drains now (the pool is saturated or closing): try again shortly, never strand the queue
            try {
              retry.schedule(this::startOne, 100, TimeUnit.MILLISECONDS);
            } catch (RejectedExecutionException closed) {
              // the engine is closed: close() dead-letters what did not finish
            }
          }
        }
        return;
      }
    }
  }

  private void drain() {
    for (int i = 0; i < BATCH; i++) {
      Runnable t = queue.poll();
      for (int idle = 0; t == null && idle < IDLE_POLLS; idle++) {
        // linger briefly before giving the thread back: under a steady stream the next delivery is
        // usually microseconds away, and waiting here (a timed park) is cheaper than being
        // restarted through the executor (a lock and a wake-up paid by the caller of onCommit)
        LockSupport.parkNanos(IDLE_POLL_NANOS);
        t = queue.poll();
      }
      if (t == null) {
        active.decrementAndGet();
        // a task offered after our poll may have seen us as active: look once more
        if (!queue.isEmpty()) {
          startOne();
        }
        return;
      }
      if (active.get() < width && !queue.isEmpty()) {
        startOne();
      }
      try {
        t.run();
      } catch (Throwable ex) {
        // tasks settle their own failures; never let one kill the drainer (and strand the queue)
        Thread.currentThread().getUncaughtExceptionHandler().uncaughtException(Thread.currentThread(), ex);
      }
    }
    // yield the thread, keep our slot
    try {
      executor.execute(drainer);
    } catch (RejectedExecutionException e) {
      active.decrementAndGet();
      startOne();
    }
  }

  /** Takes everything still waiting (for close(), once it stops waiting for deliveries to end). */
  java.util.List<Runnable> takeQueued() {
    java.util.List<Runnable> out = new java.util.ArrayList<>();
    for (Runnable r = queue.poll(); r != null; r = queue.poll()) {
      out.add(r);
    }
    return out;
  }

  /** Deliveries waiting for a drainer. */
  int queued() {
    return queue.size();
  }
}

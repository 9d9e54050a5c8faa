package dev.fraiseql.observers.webhook.internal;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Bounds the requests in flight to one endpoint without blocking any thread and without handing
 * tasks to another thread: a task runs at once on the caller's thread when a permit is free,
 * otherwise it waits in a queue of at most {@code maxQueued} tasks and runs on the thread that
 * releases a permit (the thread that saw a response arrive), after that response was handled. Each
 * task must call {@link #release()} exactly once when its request is over.
 *
 * <p>A task that releases its permit before returning (it failed before sending) does not recurse:
 * the thread already draining picks the next one up in its loop, so the stack stays flat however
 * many queued tasks fail that way in a row.
 */
final class EndpointLimiter {
  /** Set while this thread runs queued tasks: a release inside one only frees the permit. */
  private static final ThreadLocal<boolean[]> DRAINING = ThreadLocal.withInitial(() -> new boolean[1]);

  private final Semaphore permits;
  private final ConcurrentLinkedQueue<Runnable> waiting = new ConcurrentLinkedQueue<>();
  private final AtomicInteger queued = new AtomicInteger();
  private final int maxQueued;

  EndpointLimiter(int maxConcurrency, int maxQueued) {
    this.permits = new Semaphore(maxConcurrency);
    this.maxQueued = maxQueued;
  }

  /**
   * Runs {@code task} now on the calling thread (an engine worker) when a permit is free and nobody
   * is waiting, else queues it; false when the queue is full (the caller reports the endpoint as busy).
   */
  boolean submit(Runnable task) {
    if (waiting.isEmpty() && permits.tryAcquire()) {
      task.run();
      return true;
    }
    if (queued.incrementAndGet() > maxQueued) {
      queued.decrementAndGet();
      return false;
    }
    waiting.add(task);
    drain();
    return true;
  }

  void release() {
    permits.release();
    drain();
  }

  int queued() {
    return queued.get();
  }

  private void drain() {
    boolean[] draining = DRAINING.get();
    if (draining[0]) {
      return; // the loop below, further up this thread's stack, takes the next task
    }
    draining[0] = true;
    try {
      while (!waiting.isEmpty() && permits.tryAcquire()) {
        Runnable next = waiting.poll();
        if (next == null) {
          permits.release();
          continue;
        }
        queued.decrementAndGet();
        next.run();
      }
    } finally {
      draining[0] = false;
    }
  }
}

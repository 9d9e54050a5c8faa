package dev.fraiseql.observers.webhook.internal;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Bounds the requests in flight to one endpoint without blocking the caller: a task runs at once on
 * the caller's thread when a permit is free (no hand-off), otherwise it waits in a queue of at most
 * {@code maxQueued} tasks and runs on {@code executor} when a request ends. Each task must call {@link #release()} exactly once when its request is over.
 */
final class EndpointLimiter {
  private final Semaphore permits;
  private final ConcurrentLinkedQueue<Runnable> waiting = new ConcurrentLinkedQueue<>();
  private final AtomicInteger queued = new AtomicInteger();
  private final int maxQueued;
  private final Executor executor;

  EndpointLimiter(int maxConcurrency, int maxQueued, Executor executor) {
    this.permits = new Semaphore(maxConcurrency);
    this.maxQueued = maxQueued;
    this.executor = executor;
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
    while (!waiting.isEmpty() && permits.tryAcquire()) {
      Runnable next = waiting.poll();
      if (next == null) {
        permits.release();
        continue;
      }
      queued.decrementAndGet();
      try {
        executor.execute(next);
      } catch (RuntimeException rejected) {
        // The executor is shut down (engine closing): run here so the task can complete its future.
        next.run();
      }
    }
  }
}

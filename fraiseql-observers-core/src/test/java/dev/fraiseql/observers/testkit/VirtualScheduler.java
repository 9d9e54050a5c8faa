package dev.fraiseql.observers.testkit;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.PriorityQueue;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Delayed;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A {@link ScheduledExecutorService} on virtual time, for deterministic tests of retries and
 * timeouts: nothing runs until {@link #advance(Duration)}; {@link #execute(Runnable)} runs at once on
 * the caller. {@link #delays()} records every delay asked for. {@link #clock()} follows virtual time.
 */
public final class VirtualScheduler extends AbstractExecutorService implements ScheduledExecutorService {
  private final Object lock = new Object();
  private final PriorityQueue<Task<?>> queue = new PriorityQueue<>(
      (a, b) -> a.due != b.due ? Long.compare(a.due, b.due) : Long.compare(a.order, b.order));
  private final List<Duration> delays = Collections.synchronizedList(new ArrayList<>());
  private final AtomicLong seq = new AtomicLong();
  private final Instant epoch = Instant.parse("2026-02-25T10:00:00Z");
  private volatile long nowNanos;
  private volatile boolean shutdown;

  public Clock clock() {
    return new Clock() {
      @Override
      public ZoneOffset getZone() {
        return ZoneOffset.UTC;
      }

      @Override
      public Clock withZone(java.time.ZoneId zone) {
        return this;
      }

      @Override
      public Instant instant() {
        return epoch.plusNanos(nowNanos);
      }
    };
  }

  /** Virtual time elapsed since the start. */
  public Duration now() {
    return Duration.ofNanos(nowNanos);
  }

  /** Every delay passed to schedule(), in order (including attempt timeouts). */
  public List<Duration> delays() {
    synchronized (delays) {
      return List.copyOf(delays);
    }
  }

  /** Tasks waiting. */
  public int pending() {
    synchronized (lock) {
      return (int) queue.stream().filter(t -> !t.isCancelled()).count();
    }
  }

  /** Moves virtual time forward by {@code d}, running every task that falls due, in time order. */
  public void advance(Duration d) {
    long target = nowNanos + d.toNanos();
    while (true) {
      Task<?> next;
      synchronized (lock) {
        next = queue.peek();
        if (next == null || next.due > target) {
          break;
        }
        queue.poll();
      }
      if (next.due > nowNanos) {
        nowNanos = next.due;
      }
      next.run();
    }
    nowNanos = target;
  }

  /** Runs whatever is due now (delay 0) without moving time. */
  public void runDue() {
    advance(Duration.ZERO);
  }

  private final class Task<V> implements ScheduledFuture<V>, Runnable {
    final long due;
    final long order = seq.incrementAndGet();
    final Callable<V> body;
    final long period;
    final CompletableFuture<V> result = new CompletableFuture<>();
    long nextDue;

    Task(long due, Callable<V> body, long period) {
      this.due = due;
      this.body = body;
      this.period = period;
      this.nextDue = due;
    }

    @Override
    public void run() {
      if (result.isDone()) {
        return;
      }
      try {
        V v = body.call();
        if (period > 0) {
          synchronized (lock) {
            queue.add(new Task<>(nowNanos + period, body, period));
          }
        } else {
          result.complete(v);
        }
      } catch (Throwable t) {
        result.completeExceptionally(t);
      }
    }

    @Override
    public long getDelay(TimeUnit unit) {
      return unit.convert(due - nowNanos, TimeUnit.NANOSECONDS);
    }

    @Override
    public int compareTo(Delayed o) {
      return Long.compare(getDelay(TimeUnit.NANOSECONDS), o.getDelay(TimeUnit.NANOSECONDS));
    }

    @Override
    public boolean cancel(boolean mayInterrupt) {
      return result.cancel(mayInterrupt);
    }

    @Override
    public boolean isCancelled() {
      return result.isCancelled();
    }

    @Override
    public boolean isDone() {
      return result.isDone();
    }

    @Override
    public V get() throws InterruptedException, ExecutionException {
      return result.get();
    }

    @Override
    public V get(long timeout, TimeUnit unit) throws InterruptedException, ExecutionException, TimeoutException {
      return result.get(timeout, unit);
    }
  }

  private <V> ScheduledFuture<V> add(long delayNanos, Callable<V> body, long period) {
    delays.add(Duration.ofNanos(delayNanos));
    Task<V> t = new Task<>(nowNanos + Math.max(0, delayNanos), body, period);
    synchronized (lock) {
      queue.add(t);
    }
    return t;
  }

  @Override
  public ScheduledFuture<?> schedule(Runnable command, long delay, TimeUnit unit) {
    return add(unit.toNanos(delay), () -> {
      command.run();
      return null;
    }, 0);
  }

  @Override
  public <V> ScheduledFuture<V> schedule(Callable<V> callable, long delay, TimeUnit unit) {
    return add(unit.toNanos(delay), callable, 0);
  }

  @Override
  public ScheduledFuture<?> scheduleAtFixedRate(Runnable command, long initialDelay, long period, TimeUnit unit) {
    return add(unit.toNanos(initialDelay), () -> {
      command.run();
      return null;
    }, unit.toNanos(period));
  }

  @Override
  public ScheduledFuture<?> scheduleWithFixedDelay(Runnable command, long initialDelay, long delay, TimeUnit unit) {
    return scheduleAtFixedRate(command, initialDelay, delay, unit);
  }

  @Override
  public void execute(Runnable command) {
    command.run();
  }

  @Override
  public void shutdown() {
    shutdown = true;
  }

  @Override
  public List<Runnable> shutdownNow() {
    shutdown = true;
    return List.of();
  }

  @Override
  public boolean isShutdown() {
    return shutdown;
  }

  @Override
  public boolean isTerminated() {
    return shutdown;
  }

  @Override
  public boolean awaitTermination(long timeout, TimeUnit unit) {
    return true;
  }
}

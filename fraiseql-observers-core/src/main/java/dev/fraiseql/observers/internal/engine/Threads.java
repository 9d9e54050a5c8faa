package dev.fraiseql.observers.internal.engine;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/** The engine's own threads, when the host gives none: daemon, named, bounded. */
final class Threads {
  /** Worker threads: enough for blocking actions (Java handlers, JDBC) without starving async ones. */
  static final int WORKERS = Math.max(8, 4 * java.lang.Runtime.getRuntime().availableProcessors());

  private Threads() {}

  static ThreadFactory named(String prefix) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, prefix + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }

  /**
   * A fixed pool; its queue is unbounded but only ever holds deliveries admitted under
   * {@code max_in_flight}, so it is bounded by that.
   */
  static ExecutorService executor() {
    ThreadPoolExecutor pool = new ThreadPoolExecutor(WORKERS, WORKERS, 60, TimeUnit.SECONDS,
        new LinkedBlockingQueue<>(), named("fraiseql-observer"));
    pool.allowCoreThreadTimeOut(true);
    return pool;
  }

  static ScheduledExecutorService scheduler() {
    ScheduledThreadPoolExecutor s = new ScheduledThreadPoolExecutor(1, named("fraiseql-observer-scheduler"));
    s.setRemoveOnCancelPolicy(true);
    s.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
    return s;
  }
}

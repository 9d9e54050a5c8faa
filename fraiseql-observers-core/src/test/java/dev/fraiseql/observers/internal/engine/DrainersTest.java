package dev.fraiseql.observers.internal.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class DrainersTest {
  private final ExecutorService pool = Executors.newFixedThreadPool(4);
  private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();

  @AfterEach
  void stop() {
    pool.shutdownNow();
    scheduler.shutdownNow();
  }

  @Test
  void runsEveryTaskFromManyProducersAndNeverMoreThanWidthAtOnce() throws Exception {
    Drainers d = new Drainers(pool, 3, scheduler);
    LongAdder ran = new LongAdder();
    AtomicInteger running = new AtomicInteger();
    AtomicInteger peak = new AtomicInteger();
    int producers = 4;
    int each = 250_000;
    Thread[] ts = new Thread[producers];
    for (int p = 0; p < producers; p++) {
      ts[p] = new Thread(() -> {
        for (int i = 0; i < each; i++) {
          d.execute(() -> {
            peak.accumulateAndGet(running.incrementAndGet(), Math::max);
            ran.increment();
            running.decrementAndGet();
          });
        }
      });
      ts[p].start();
    }
    for (Thread t : ts) {
      t.join();
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (ran.sum() < (long) producers * each && System.nanoTime() < deadline) {
      Thread.sleep(5);
    }
    assertThat(ran.sum()).isEqualTo((long) producers * each);
    assertThat(peak.get()).isBetween(1, 3);
    assertThat(d.queued()).isZero();
  }

  @Test
  void aBlockedTaskHoldsOneDrainerAndNotTheTasksBehindIt() throws Exception {
    Drainers d = new Drainers(pool, 2, scheduler);
    CountDownLatch release = new CountDownLatch(1);
    CountDownLatch blocked = new CountDownLatch(1);
    d.execute(() -> {
      blocked.countDown();
      try {
        release.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
    assertThat(blocked.await(5, TimeUnit.SECONDS)).isTrue();
    CountDownLatch others = new CountDownLatch(100);
    for (int i = 0; i < 100; i++) {
      d.execute(others::countDown);
    }
    assertThat(others.await(5, TimeUnit.SECONDS)).as("tasks queued behind a blocked one still run").isTrue();
    release.countDown();
  }

  @Test
  void aTaskThatThrowsDoesNotStrandTheQueue() throws Exception {
    Drainers d = new Drainers(pool, 1, scheduler);
    CountDownLatch after = new CountDownLatch(10);
    Thread.UncaughtExceptionHandler quiet = (t, e) -> { };
    d.execute(() -> Thread.currentThread().setUncaughtExceptionHandler(quiet));
    d.execute(() -> {
      throw new IllegalStateException("boom");
    });
    for (int i = 0; i < 10; i++) {
      d.execute(after::countDown);
    }
    assertThat(after.await(5, TimeUnit.SECONDS)).isTrue();
  }

  @Test
  void whenThePoolRejectsItRetriesLaterInsteadOfLosingTasks() throws Exception {
    ExecutorService small = new java.util.concurrent.ThreadPoolExecutor(1, 1, 0, TimeUnit.SECONDS,
        new java.util.concurrent.SynchronousQueue<>());
    try {
      CountDownLatch hold = new CountDownLatch(1);
      small.execute(() -> {
        try {
          hold.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      });
      Drainers d = new Drainers(small, 1, scheduler);
      CountDownLatch ran = new CountDownLatch(1);
      d.execute(ran::countDown); // rejected now: the only thread is busy
      assertThat(ran.await(50, TimeUnit.MILLISECONDS)).isFalse();
      hold.countDown();
      assertThat(ran.await(5, TimeUnit.SECONDS)).as("started by the scheduled retry").isTrue();
    } finally {
      small.shutdownNow();
    }
  }
}

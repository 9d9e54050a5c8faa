package dev.fraiseql.observers.benchmarks;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;

/** Shared measuring machinery: producers, deadlines, rounds, percentiles. */
final class Bench {
  private Bench() {}

  /** One operation of a producer: index {@code i} of the run. */
  @FunctionalInterface
  interface Op {
    void run(long i) throws Exception;
  }

  /** One side of a comparison: runs {@code n} operations to completion and says what its receiver counted. */
  @FunctionalInterface
  interface Side {
    /** Runs n operations; returns what the receiver counted for them (must equal n). Timed by the caller. */
    long run(long n) throws Exception;

    /** Untimed preparation before each run (truncating a table, deleting a stream). */
    default void prepare() throws Exception {}
  }

  /** Untimed work before a run. */
  @FunctionalInterface
  interface Prepare {
    void run() throws Exception;
  }

  /** A side with an untimed preparation step before each run. */
  static Side prepared(Prepare prepare, Side side) {
    return new Side() {
      @Override
      public long run(long n) throws Exception {
        return side.run(n);
      }

      @Override
      public void prepare() throws Exception {
        prepare.run();
      }
    };
  }

  /**
   * The result of paired rounds: each measured round runs our side and the raw side next to each other
   * (alternating which goes first), so both see the same machine load; the ratio reported is the median
   * of the per-pair ratios, with their minimum and maximum.
   *
   * @param ours median throughput of our side over the rounds (ops/s)
   * @param raw median throughput of the raw side over the rounds (ops/s)
   * @param ratio median of the per-pair ratios ours/raw
   * @param ratioMin smallest per-pair ratio
   * @param ratioMax largest per-pair ratio
   * @param pairs number of measured pairs
   * @param sent operations each side sent over the measured rounds
   * @param oursReceived what our side's receiver counted over the measured rounds
   * @param rawReceived what the raw side's receiver counted over the measured rounds
   */
  record Comparison(double ours, double raw, double ratio, double ratioMin, double ratioMax, int pairs, long sent,
      long oursReceived, long rawReceived) {}

  /** Runs {@code n} operations split over {@code producers} threads; returns when all have been issued. */
  static void drive(int producers, long n, Op op) throws Exception {
    if (producers <= 1) {
      for (long i = 0; i < n; i++) {
        op.run(i);
      }
      return;
    }
    AtomicReference<Throwable> failure = new AtomicReference<>();
    List<Thread> threads = new ArrayList<>();
    for (int p = 0; p < producers; p++) {
      final int me = p;
      Thread t = new Thread(() -> {
        try {
          for (long i = me; i < n; i += producers) {
            op.run(i);
          }
        } catch (Throwable e) {
          failure.compareAndSet(null, e);
        }
      }, "bench-producer-" + p);
      t.start();
      threads.add(t);
    }
    for (Thread t : threads) {
      t.join();
    }
    if (failure.get() != null) {
      throw new IllegalStateException("a producer failed: " + failure.get(), failure.get());
    }
  }

  /** Waits until {@code done} holds, polling every 200 µs; throws naming {@code what} at the deadline. */
  static void await(Duration timeout, BooleanSupplier done, String what) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!done.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("timed out after " + timeout.toSeconds() + "s waiting for " + what);
      }
      LockSupport.parkNanos(200_000);
    }
  }

  /** Waits until {@code done} holds, polling every 20 ms (for checks that cost a round trip). */
  static void awaitSlowly(Duration timeout, BooleanSupplier done, String what) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!done.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("timed out after " + timeout.toSeconds() + "s waiting for " + what);
      }
      LockSupport.parkNanos(20_000_000);
    }
  }

  /** Waits until {@code counter} reaches {@code target}; throws with the count reached at the deadline. */
  static long awaitCount(Duration timeout, LongSupplier counter, long target, String what) {
    long deadline = System.nanoTime() + timeout.toNanos();
    long c;
    while ((c = counter.getAsLong()) < target) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("timed out after " + timeout.toSeconds() + "s: " + what + " counted " + c
            + " of " + target);
      }
      LockSupport.parkNanos(200_000);
    }
    return c;
  }

  /**
   * Warms both sides up, then runs {@code rounds} measured pairs of {@code n} operations per side: in each
   * pair our round and the raw round run back to back (alternating which goes first), and the pair's
   * ratio is ours/raw of those two rounds. Returns the median throughput of each side and the median,
   * minimum and maximum of the per-pair ratios.
   */
  static Comparison compare(Options o, long n, Side ours, Side raw) throws Exception {
    String only = System.getProperty("bench.only", "");
    if (!only.isEmpty()) {
      // profiling aid (-Dbench.only=ours|raw): the other side does nothing, so its rate and the ratio mean nothing
      System.err.println("bench.only=" + only + ": only that side runs; ignore the ratios");
      Side skip = count -> count;
      ours = "ours".equals(only) ? ours : skip;
      raw = "raw".equals(only) ? raw : skip;
    }
    long warm = o.warmup(n);
    ours.prepare();
    check("warm-up (ours)", warm, ours.run(warm));
    raw.prepare();
    check("warm-up (raw)", warm, raw.run(warm));
    int rounds = o.rounds();
    double[] a = new double[rounds];
    double[] b = new double[rounds];
    double[] ratios = new double[rounds];
    long oursGot = 0;
    long rawGot = 0;
    for (int r = 0; r < rounds; r++) {
      long[] x;
      long[] y;
      if (r % 2 == 0) {
        x = timed(ours, n);
        y = timed(raw, n);
      } else {
        y = timed(raw, n);
        x = timed(ours, n);
      }
      a[r] = opsPerSec(n, x[0]);
      b[r] = opsPerSec(n, y[0]);
      ratios[r] = a[r] / b[r];
      oursGot += x[1];
      rawGot += y[1];
    }
    double[] sorted = ratios.clone();
    Arrays.sort(sorted);
    return new Comparison(median(a), median(b), median(ratios), sorted[0], sorted[rounds - 1], rounds, n * rounds,
        oursGot, rawGot);
  }

  /** Runs one side once; returns {elapsed nanos, received}. */
  static long[] timed(Side side, long n) throws Exception {
    side.prepare();
    System.gc();
    long t0 = System.nanoTime();
    long got = side.run(n);
    long elapsed = System.nanoTime() - t0;
    return new long[] {elapsed, got};
  }

  static void check(String what, long sent, long got) {
    if (got != sent) {
      throw new IllegalStateException(what + ": sent " + sent + " but the receiver counted " + got);
    }
  }

  static double opsPerSec(long n, long nanos) {
    return n * 1e9 / Math.max(1, nanos);
  }

  static double median(double[] v) {
    double[] s = v.clone();
    Arrays.sort(s);
    int m = s.length / 2;
    return s.length % 2 == 1 ? s[m] : (s[m - 1] + s[m]) / 2;
  }

  /** The {@code q} quantile (0..1) of sorted {@code v}, nearest-rank. */
  static long percentile(long[] sorted, double q) {
    if (sorted.length == 0) {
      return 0;
    }
    int idx = (int) Math.ceil(q * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, idx))];
  }

  /** Timeout for one run of n operations: generous, so only a lost message trips it. */
  static Duration budget(long n) {
    return Duration.ofSeconds(60 + n / 2_000);
  }
}

package dev.fraiseql.observers.benchmarks;

import dev.fraiseql.observers.ObservedEvent;
import dev.fraiseql.observers.ObserverEngine;
import dev.fraiseql.observers.config.HandlerConfig;
import dev.fraiseql.observers.config.ObserversConfig;
import dev.fraiseql.observers.config.Settings;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;

/**
 * core: {@code onCommit} → router → condition → a no-op Java handler, with 10 and with 10,000 rules
 * (every rule has a condition; exactly one rule, whose condition is true, matches the order event, the
 * others listen to other events), against a bare hand-off of the same events to an executor of the same
 * size as the engine's default one. Plus the latency of the {@code onCommit} call itself.
 */
final class CoreCase implements BenchCase {
  static final int PRODUCERS = 2;
  /** The engine's default worker count (see its Threads.executor()). */
  static final int WORKERS = Math.max(8, 4 * Runtime.getRuntime().availableProcessors());

  @Override
  public String name() {
    return "core";
  }

  @Override
  public Optional<String> unavailable() {
    return Optional.empty();
  }

  /**
   * {@code rules} handlers, built in code (a 10,000-rule TOML file would exceed the loader's 1 MiB
   * limit): rule 0 fires on order.created with a true condition, the rest on other events, each with
   * its own condition.
   */
  static ObserversConfig config(int rules) {
    ObserversConfig.Builder b = ObserversConfig.builder();
    Settings noop = Settings.of("observers.handlers", Map.of("handler", "noop"));
    for (int i = 0; i < rules; i++) {
      HandlerConfig.Builder h = HandlerConfig.builder("rule-" + i).action("handler").settings(noop);
      if (i == 0) {
        h.event(Payload.EVENT_NAME).condition("total > 100 && status == 'pending'");
      } else {
        h.event("entity" + i + ".created").condition("total > " + i + " && status == 'pending'");
      }
      b.handler(h.build());
    }
    return b.build();
  }

  @Override
  public List<Row> run(Options o) throws Exception {
    List<Row> rows = new ArrayList<>();
    for (int rules : new int[] {10, 10_000}) {
      rows.add(runWith(o, rules));
    }
    return rows;
  }

  private Row runWith(Options o, int rules) throws Exception {
    // 2 M per round: at millions per second a shorter round (400 k was ~0.05 s for the raw side)
    // measured scheduling luck more than the path, and its ratio swung 0.2-0.8 between runs
    long n = o.count(2_000_000, 2_000);
    ObservedEvent[] ring = Payload.ring(4096);
    int mask = ring.length - 1;
    LongAdder oursHandled = new LongAdder();
    LongAdder rawHandled = new LongAdder();
    ThreadPoolExecutor pool = new ThreadPoolExecutor(WORKERS, WORKERS, 60, TimeUnit.SECONDS, new LinkedBlockingQueue<>(),
        named("bench-raw"));
    try (ObserverEngine engine = ObserverEngine.builder().config(config(rules))
        .handler("noop", e -> oursHandled.increment()).build()) {
      Bench.Side ours = count -> {
        long before = oursHandled.sum();
        Bench.drive(PRODUCERS, count, i -> engine.onCommit(ring[(int) (i & mask)]));
        long got = Bench.awaitCount(Bench.budget(count), () -> oursHandled.sum() - before, count, "the no-op handler") ;
        Bench.await(Duration.ofSeconds(30), () -> engine.inFlight() == 0, "in-flight deliveries to end");
        return got;
      };
      Bench.Side raw = count -> {
        long before = rawHandled.sum();
        Bench.drive(PRODUCERS, count, i -> {
          ObservedEvent e = ring[(int) (i & mask)];
          pool.execute(() -> noop(rawHandled, e));
        });
        return Bench.awaitCount(Bench.budget(count), () -> rawHandled.sum() - before, count, "the raw executor");
      };
      Bench.Comparison c = Bench.compare(o, n, ours, raw);
      Map<String, Object> notes = new LinkedHashMap<>();
      notes.put("rules", rules);
      notes.put("producers", PRODUCERS);
      notes.put("workers", WORKERS);
      notes.putAll(latency(o, engine, ring, oursHandled));
      return Row.ratio("core (" + String.format("%,d", rules) + " rules)", c, 0.5, notes);
    } finally {
      pool.shutdownNow();
    }
  }

  private static void noop(LongAdder counter, ObservedEvent e) {
    if (e != null) {
      counter.increment();
    }
  }

  /**
   * The onCommit call's own latency: one producer, bursts of 64 calls, each burst issued only once the
   * engine has fewer than 1,000 deliveries pending, so the call never waits on the in-flight bound.
   */
  private static Map<String, Object> latency(Options o, ObserverEngine engine, ObservedEvent[] ring, LongAdder handled) {
    int calls = (int) o.count(200_000, 1_000);
    long[] nanos = new long[calls];
    long before = handled.sum();
    int mask = ring.length - 1;
    for (int i = 0; i < calls; i++) {
      if ((i & 63) == 0) {
        while (engine.inFlight() > 1_000) {
          LockSupport.parkNanos(20_000);
        }
      }
      ObservedEvent e = ring[i & mask];
      long t0 = System.nanoTime();
      engine.onCommit(e);
      nanos[i] = System.nanoTime() - t0;
    }
    Bench.awaitCount(Bench.budget(calls), () -> handled.sum() - before, calls, "the no-op handler (latency phase)");
    Arrays.sort(nanos);
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("onCommit_p50_us", micros(Bench.percentile(nanos, 0.50)));
    m.put("onCommit_p99_us", micros(Bench.percentile(nanos, 0.99)));
    m.put("onCommit_p999_us", micros(Bench.percentile(nanos, 0.999)));
    m.put("latency_calls", calls);
    return m;
  }

  private static double micros(long nanos) {
    return Math.round(nanos / 10.0) / 100.0;
  }

  static java.util.concurrent.ThreadFactory named(String prefix) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, prefix + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }
}

package dev.fraiseql.observers.benchmarks;

import dev.fraiseql.observers.ObservedEvent;
import dev.fraiseql.observers.ObserverEngine;
import dev.fraiseql.observers.ObserverListener;
import dev.fraiseql.observers.ObserverOverloadedException;
import dev.fraiseql.observers.spi.DeadLetter;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;

/**
 * memory: a million events through a slow handler (about 50 µs per event, on the engine's default
 * workers) under {@code max_in_flight = 10000}, once per overflow policy. A sampler reads the used heap
 * (MemoryMXBean) and {@code engine.inFlight()} every 10 ms; the row reports the peak heap and checks that
 * in-flight deliveries never exceeded the bound and that delivered + rejected + dead-lettered equals sent.
 * Half-way through, one producer forces a GC and records the live heap with the bound full (the peak is
 * mostly young garbage, so it depends on the heap size; the live figure does not).
 * There is no raw side.
 */
final class MemoryCase implements BenchCase {
  static final int BOUND = 10_000;
  static final long SLOW_NANOS = 50_000;

  @Override
  public String name() {
    return "memory";
  }

  @Override
  public Optional<String> unavailable() {
    return Optional.empty();
  }

  @Override
  public List<Row> run(Options o) throws Exception {
    List<Row> rows = new ArrayList<>();
    for (String policy : List.of("block", "reject", "dead_letter")) {
      rows.add(runWith(o, policy));
    }
    return rows;
  }

  private Row runWith(Options o, String policy) throws Exception {
    long n = o.count(1_000_000, 2_000);
    int bound = o.smoke() ? 100 : BOUND;
    ObservedEvent[] ring = Payload.ring(4096);
    int mask = ring.length - 1;
    LongAdder delivered = new LongAdder();
    LongAdder rejected = new LongAdder();
    LongAdder deadLettered = new LongAdder();
    String toml = "[observers]\nbackend = \"in-memory\"\nmax_in_flight = " + bound + "\noverflow_policy = \"" + policy
        + "\"\noverflow_timeout_ms = 30000\n\n[[observers.handlers]]\nname = \"slow\"\nevent = \"order.created\"\n"
        + "action = \"handler\"\nhandler = \"slow\"\nmax_attempts = 1\ntimeout_ms = 60000\n";
    ObserverListener counter = new ObserverListener() {
      @Override
      public void deadLettered(DeadLetter letter) {
        deadLettered.increment();
      }
    };
    MemoryMXBean mem = ManagementFactory.getMemoryMXBean();
    System.gc();
    long baseline = mem.getHeapMemoryUsage().getUsed();
    AtomicLong peakHeap = new AtomicLong(baseline);
    AtomicInteger peakInFlight = new AtomicInteger();
    AtomicBoolean sampling = new AtomicBoolean(true);
    AtomicLong liveAtHalf = new AtomicLong(-1);
    AtomicInteger inFlightAtHalf = new AtomicInteger(-1);
    long elapsed;
    try (ObserverEngine engine = ObserverEngine.builder().configToml(toml).listener(counter)
        .handler("slow", e -> {
          LockSupport.parkNanos(SLOW_NANOS);
          delivered.increment();
        }).build()) {
      Thread sampler = new Thread(() -> {
        while (sampling.get()) {
          peakHeap.accumulateAndGet(mem.getHeapMemoryUsage().getUsed(), Math::max);
          peakInFlight.accumulateAndGet(engine.inFlight(), Math::max);
          LockSupport.parkNanos(10_000_000);
        }
      }, "bench-heap-sampler");
      sampler.setDaemon(true);
      sampler.start();
      long t0 = System.nanoTime();
      Bench.drive(CoreCase.PRODUCERS, n, i -> {
        try {
          engine.onCommit(ring[(int) (i & mask)]);
        } catch (ObserverOverloadedException e) {
          rejected.increment();
        }
        if ((i & 255) == 0) {
          peakInFlight.accumulateAndGet(engine.inFlight(), Math::max);
        }
        if (i == n / 2) {
          // half-way, with the bound full: what is actually live (the rest of the peak is uncollected garbage)
          inFlightAtHalf.set(engine.inFlight());
          System.gc();
          liveAtHalf.set(mem.getHeapMemoryUsage().getUsed());
        }
      });
      Bench.awaitCount(Bench.budget(n), () -> delivered.sum() + rejected.sum() + deadLettered.sum(), n,
          "memory (" + policy + ")");
      Bench.await(Duration.ofSeconds(30), () -> engine.inFlight() == 0, "in-flight deliveries to end");
      elapsed = System.nanoTime() - t0;
      sampling.set(false);
      sampler.join();
    }
    long got = delivered.sum() + rejected.sum() + deadLettered.sum();
    Map<String, Object> notes = new LinkedHashMap<>();
    notes.put("policy", policy);
    notes.put("max_in_flight", bound);
    notes.put("peak_in_flight_seen", peakInFlight.get());
    notes.put("peak_heap_mb", peakHeap.get() >> 20);
    notes.put("baseline_heap_mb", baseline >> 20);
    notes.put("live_heap_half_way_mb", liveAtHalf.get() >> 20);
    notes.put("in_flight_half_way", inFlightAtHalf.get());
    notes.put("max_heap_mb", Runtime.getRuntime().maxMemory() >> 20);
    notes.put("delivered", delivered.sum());
    notes.put("rejected", rejected.sum());
    notes.put("dead_lettered", deadLettered.sum());
    boolean ok = peakInFlight.get() <= bound && got == n;
    return Row.single("memory (" + policy + ")", Bench.opsPerSec(n, elapsed), n, got, ok, notes);
  }
}

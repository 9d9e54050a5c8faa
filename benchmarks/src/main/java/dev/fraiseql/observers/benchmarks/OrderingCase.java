package dev.fraiseql.observers.benchmarks;

import dev.fraiseql.observers.MutationContext;
import dev.fraiseql.observers.ObservedEvent;
import dev.fraiseql.observers.ObserverEngine;
import dev.fraiseql.observers.Operation;
import dev.fraiseql.observers.config.HandlerConfig;
import dev.fraiseql.observers.config.ObserversConfig;
import dev.fraiseql.observers.config.Ordering;
import dev.fraiseql.observers.config.Settings;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.LongAdder;

/**
 * ordering: the same no-op Java handler with {@code ordering = "key"} (ours) and with the default
 * {@code ordering = "none"} (the raw side), events spread over 1,000 keys (the row's id): what the
 * per-key order costs. Then every event on one key, which is serial by definition: reported, no target.
 */
final class OrderingCase implements BenchCase {
  static final int KEYS = 1_000;

  @Override
  public String name() {
    return "ordering";
  }

  @Override
  public Optional<String> unavailable() {
    return Optional.empty();
  }

  static ObserversConfig config(Ordering ordering) {
    Settings noop = Settings.of("observers.handlers", Map.of("handler", "noop"));
    return ObserversConfig.builder().handler(HandlerConfig.builder("projection").event(Payload.EVENT_NAME)
        .action("handler").settings(noop).ordering(ordering).build()).build();
  }

  /** {@code size} order events whose ids (the default ordering key) cycle over {@code keys} values. */
  static ObservedEvent[] events(int size, int keys) {
    ObservedEvent[] out = new ObservedEvent[size];
    for (int i = 0; i < size; i++) {
      Map<String, Object> row = new LinkedHashMap<>();
      row.put("id", "order-" + (i % keys));
      row.put("seq", i / keys);
      row.put("status", "pending");
      out[i] = ObservedEvent.builder().operation(Operation.INSERT).table(Payload.TABLE).mutation("createOrder")
          .newRow(row).context(MutationContext.empty()).build();
    }
    return out;
  }

  @Override
  public List<Row> run(Options o) throws Exception {
    List<Row> rows = new ArrayList<>();
    rows.add(runWith(o, KEYS, o.count(1_000_000, 2_000), 0.7));
    // one key: every delivery waits for the one before it; the figure is reported, not judged
    rows.add(runWith(o, 1, o.count(200_000, 1_000), 0.0));
    return rows;
  }

  private Row runWith(Options o, int keys, long n, double target) throws Exception {
    ObservedEvent[] ring = events(keys == 1 ? 1_024 : 4 * keys, keys);
    LongAdder orderedHandled = new LongAdder();
    LongAdder unorderedHandled = new LongAdder();
    try (ObserverEngine ordered = ObserverEngine.builder().config(config(Ordering.KEY))
            .handler("noop", e -> orderedHandled.increment()).build();
        ObserverEngine unordered = ObserverEngine.builder().config(config(Ordering.NONE))
            .handler("noop", e -> unorderedHandled.increment()).build()) {
      Bench.Comparison c = Bench.compare(o, n, side(ordered, ring, orderedHandled, "the ordered handler"),
          side(unordered, ring, unorderedHandled, "the unordered handler"));
      Map<String, Object> notes = new LinkedHashMap<>();
      notes.put("keys", keys);
      notes.put("producers", CoreCase.PRODUCERS);
      notes.put("raw side", "the same handler with ordering = \"none\"");
      if (keys == 1) {
        notes.put("note", "one key is serial by definition; no target");
      }
      return Row.ratio("ordering (" + String.format("%,d", keys) + (keys == 1 ? " key" : " keys")
          + ", ordered vs unordered)", c, target, notes);
    }
  }

  private static Bench.Side side(ObserverEngine engine, ObservedEvent[] ring, LongAdder handled, String what) {
    return count -> {
      long before = handled.sum();
      Bench.drive(CoreCase.PRODUCERS, count, i -> engine.onCommit(ring[(int) (i % ring.length)]));
      long got = Bench.awaitCount(Bench.budget(count), () -> handled.sum() - before, count, what);
      Bench.await(Duration.ofSeconds(30), () -> engine.inFlight() == 0, "in-flight deliveries to end");
      return got;
    };
  }
}

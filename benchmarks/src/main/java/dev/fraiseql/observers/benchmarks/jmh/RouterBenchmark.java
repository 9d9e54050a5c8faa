package dev.fraiseql.observers.benchmarks.jmh;

import dev.fraiseql.observers.Dispatch;
import dev.fraiseql.observers.ObservedEvent;
import dev.fraiseql.observers.ObserverEngine;
import dev.fraiseql.observers.Operation;
import dev.fraiseql.observers.config.HandlerConfig;
import dev.fraiseql.observers.config.ObserversConfig;
import dev.fraiseql.observers.config.Settings;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Field;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The router's match with 10 and 10,000 rules (each rule on its own event name with a condition; the
 * order event matches one of them): {@code match} calls the engine's compiled router directly (through
 * a method handle: it is internal), {@code onCommitNoMatch} goes through the public {@code onCommit}
 * with an event no rule listens to (match + an empty dispatch handle, no delivery).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class RouterBenchmark {
  @Param({"10", "10000"})
  public int rules;

  private ObserverEngine engine;
  private Object router;
  private MethodHandle match;
  private ObservedEvent order;
  private ObservedEvent unmatched;

  @Setup(Level.Trial)
  public void setUp() throws Exception {
    ObserversConfig.Builder b = ObserversConfig.builder();
    Settings noop = Settings.of("observers.handlers", Map.of("handler", "noop"));
    for (int i = 0; i < rules; i++) {
      b.handler(HandlerConfig.builder("rule-" + i).action("handler").settings(noop)
          .event(i == 0 ? "order.created" : "entity" + i + ".created")
          .condition("total > " + i + " && status == 'pending'").build());
    }
    engine = ObserverEngine.builder().config(b.build()).handler("noop", e -> { }).build();
    Field f = engine.getClass().getDeclaredField("router");
    f.setAccessible(true);
    router = f.get(engine);
    java.lang.reflect.Method m = router.getClass().getDeclaredMethod("match", ObservedEvent.class);
    m.setAccessible(true);
    match = MethodHandles.lookup().unreflect(m).asType(MethodType.methodType(Object.class, Object.class, ObservedEvent.class));
    order = Events.order();
    unmatched = ObservedEvent.builder().operation(Operation.INSERT).table("tb_audit").newRow(Map.of("id", 1)).build();
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    engine.close();
  }

  @Benchmark
  public Object match() throws Throwable {
    return match.invokeExact(router, order);
  }

  @Benchmark
  public Dispatch onCommitNoMatch() {
    return engine.onCommit(unmatched);
  }
}

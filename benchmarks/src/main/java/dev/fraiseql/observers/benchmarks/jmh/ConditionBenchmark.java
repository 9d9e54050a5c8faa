package dev.fraiseql.observers.benchmarks.jmh;

import dev.fraiseql.observers.ObservedEvent;
import dev.fraiseql.observers.internal.condition.Condition;
import dev.fraiseql.observers.internal.condition.ConditionCompiler;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/** Evaluation of compiled conditions against the order event (compilation happens once, at load). */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class ConditionBenchmark {
  private ObservedEvent event;
  private Condition simple;
  private Condition compound;
  private Condition nested;

  @Setup
  public void setUp() {
    event = Events.order();
    simple = ConditionCompiler.compile("status == 'pending'");
    compound = ConditionCompiler.compile("total > 100 && status == 'pending'");
    nested = ConditionCompiler.compile("(items.0.sku == 'SKU-1001' || total >= 1000) && NOT (status == 'cancelled')"
        + " && context.event_name == 'order.created'");
  }

  @Benchmark
  public boolean simple() {
    return simple.test(event);
  }

  @Benchmark
  public boolean compound() {
    return compound.test(event);
  }

  @Benchmark
  public boolean nested() {
    return nested.test(event);
  }
}

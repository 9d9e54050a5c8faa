package dev.fraiseql.observers.benchmarks.jmh;

import dev.fraiseql.observers.ObservedEvent;
import dev.fraiseql.observers.internal.EventJson;
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

/**
 * The event's default JSON: {@code write} serializes the order event (what the engine does once per
 * event), {@code buildAndSerialize} includes building the event (deep copy of the row, UUID v7 id),
 * {@code read} parses it back (what a subscriber does).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class SerializationBenchmark {
  private ObservedEvent event;
  private byte[] json;

  @Setup
  public void setUp() {
    event = Events.order();
    json = event.toJson();
  }

  @Benchmark
  public byte[] write() {
    return EventJson.write(event);
  }

  @Benchmark
  public byte[] buildAndSerialize() {
    return Events.order().toJson();
  }

  @Benchmark
  public ObservedEvent read() {
    return ObservedEvent.fromJson(json);
  }
}

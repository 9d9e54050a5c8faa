package dev.fraiseql.observers.opentelemetry.internal;

import dev.fraiseql.observers.CloseReport;
import dev.fraiseql.observers.DeadLetters;
import dev.fraiseql.observers.Dispatch;
import dev.fraiseql.observers.ObservedEvent;
import dev.fraiseql.observers.ObserverEngine;
import dev.fraiseql.observers.config.ObserversConfig;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;

/** An engine whose {@code onCommit} first stamps each event with the caller's trace context. */
public final class TracedEngine implements ObserverEngine {
  private final ObserverEngine engine;
  private final UnaryOperator<ObservedEvent> stamp;

  public TracedEngine(ObserverEngine engine, UnaryOperator<ObservedEvent> stamp) {
    this.engine = engine;
    this.stamp = stamp;
  }

  @Override
  public Dispatch onCommit(ObservedEvent event) {
    return engine.onCommit(stamp.apply(event));
  }

  @Override
  public List<Dispatch> onCommit(List<ObservedEvent> events) {
    List<ObservedEvent> stamped = new ArrayList<>(events.size());
    for (ObservedEvent e : events) {
      stamped.add(stamp.apply(e));
    }
    return engine.onCommit(stamped);
  }

  @Override
  public DeadLetters deadLetters() {
    return engine.deadLetters();
  }

  @Override
  public ObserversConfig config() {
    return engine.config();
  }

  @Override
  public int inFlight() {
    return engine.inFlight();
  }

  @Override
  public java.util.OptionalLong subscriptionLag(String handler) {
    return engine.subscriptionLag(handler);
  }

  @Override
  public dev.fraiseql.observers.BackendHealth health() {
    return engine.health();
  }

  @Override
  public CloseReport shutdown(Duration timeout) {
    return engine.shutdown(timeout);
  }

  @Override
  public void close() {
    engine.close();
  }

  @Override
  public String toString() {
    return "traced " + engine;
  }
}

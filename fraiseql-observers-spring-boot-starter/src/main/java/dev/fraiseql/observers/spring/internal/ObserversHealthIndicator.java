package dev.fraiseql.observers.spring.internal;

import dev.fraiseql.observers.ObserverEngine;
import org.springframework.boot.health.contributor.AbstractHealthIndicator;
import org.springframework.boot.health.contributor.Health;

/**
 * {@code observers} health: UP with in-flight and dead-letter counts; DOWN when the dead-letter store
 * cannot be read (a PostgreSQL or Redis store that is unreachable).
 */
public final class ObserversHealthIndicator extends AbstractHealthIndicator {
  private final ObserverEngine engine;

  public ObserversHealthIndicator(ObserverEngine engine) {
    super("[observer] health check failed");
    this.engine = engine;
  }

  @Override
  protected void doHealthCheck(Health.Builder builder) {
    long deadLetters = engine.deadLetters().count();
    builder.up().withDetail("backend", engine.config().backend()).withDetail("inFlight", engine.inFlight())
        .withDetail("deadLetters", deadLetters);
  }
}

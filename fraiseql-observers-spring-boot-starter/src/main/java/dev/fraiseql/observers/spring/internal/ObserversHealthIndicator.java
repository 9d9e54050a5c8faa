package dev.fraiseql.observers.spring.internal;

import dev.fraiseql.observers.BackendHealth;
import dev.fraiseql.observers.ObserverEngine;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.boot.health.contributor.AbstractHealthIndicator;
import org.springframework.boot.health.contributor.Health;

/**
 * {@code observers} health: the backend's ({@link ObserverEngine#health()}: DOWN when the bus is not
 * reachable), plus the outbox relay's liveness and backlog when the starter runs a relay; details
 * hold the backend's, the in-flight count and the dead-letter count. DOWN as well when the
 * dead-letter store cannot be read.
 */
public final class ObserversHealthIndicator extends AbstractHealthIndicator {
  private final ObserverEngine engine;
  private final List<HealthPart> parts;

  public ObserversHealthIndicator(ObserverEngine engine) {
    this(engine, List.of());
  }

  public ObserversHealthIndicator(ObserverEngine engine, List<HealthPart> parts) {
    super("[observer] health check failed");
    this.engine = engine;
    this.parts = List.copyOf(parts);
  }

  @Override
  protected void doHealthCheck(Health.Builder builder) {
    BackendHealth backend = engine.health();
    Map<String, Object> details = new LinkedHashMap<>(backend.details());
    boolean up = backend.status() != BackendHealth.Status.DOWN;
    for (HealthPart part : parts) {
      up &= part.contribute(details);
    }
    details.put("inFlight", engine.inFlight());
    try {
      details.put("deadLetters", engine.deadLetters().count());
    } catch (RuntimeException e) {
      up = false;
      details.put("deadLettersError", BackendHealth.down(e.toString(), Map.of()).details().get("error"));
    }
    if (!up) {
      builder.down();
    } else if (backend.status() == BackendHealth.Status.UNKNOWN) {
      builder.unknown();
    } else {
      builder.up();
    }
    builder.withDetails(details);
  }
}

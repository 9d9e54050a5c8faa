package dev.fraiseql.observers.spring.internal;

import java.util.Map;

/** A part of the {@code observers} health besides the backend: the outbox relay, for instance. */
public interface HealthPart {
  /**
   * Adds this part's details to {@code details} (no secret in them).
   *
   * @return false when this part is DOWN
   */
  boolean contribute(Map<String, Object> details);
}

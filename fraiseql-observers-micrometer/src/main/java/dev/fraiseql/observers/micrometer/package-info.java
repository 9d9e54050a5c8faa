/**
 * Micrometer metrics for the observer engine: {@link dev.fraiseql.observers.micrometer.ObserverMetrics}
 * is an {@link dev.fraiseql.observers.ObserverListener} that counts deliveries by handler, action and
 * outcome, times attempts, and binds gauges for the engine's in-flight and queued deliveries, its stored
 * dead letters and, when given one, an outbox's backlog.
 */
package dev.fraiseql.observers.micrometer;

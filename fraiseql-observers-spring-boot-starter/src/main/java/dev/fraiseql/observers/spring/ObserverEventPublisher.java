package dev.fraiseql.observers.spring;

import dev.fraiseql.observers.ObservedEvent;

/**
 * Publishes an event from application code. Inside a Spring-managed transaction the event is held
 * until the transaction commits and then handed to the engine (a rollback drops it); with
 * {@code fraiseql.observers.outbox.enabled=true} and the pg module present it is instead written to the
 * outbox on the transaction's own connection, so it commits or rolls back with the data. Outside a
 * transaction it is dispatched at once.
 *
 * <p>An event with an empty {@link dev.fraiseql.observers.MutationContext} receives the current web
 * request's context (request id, tenant, user). Spring's own {@code ApplicationEventPublisher} works too:
 * {@code publisher.publishEvent(observedEvent)} ends up here.
 */
public interface ObserverEventPublisher {
  void publish(ObservedEvent event);
}

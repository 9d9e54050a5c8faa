package dev.fraiseql.observers.spi;

import dev.fraiseql.observers.ObservedEvent;

/**
 * One attempt to deliver one event to one handler: what an {@link Action} is given.
 *
 * @param event the event
 * @param handler the handler's name ({@code welcome-email})
 * @param attempt 1 for the first attempt, 2 for the first retry, ...
 * @param payload the event's default JSON, serialized once per event and shared by every delivery:
 *     read it, never modify it
 * @param idempotencyKey stable for this (event, handler) pair across attempts, restarts and replays:
 *     {@code <event id>:<handler>}; use it as a de-duplication id downstream
 */
public record Delivery(ObservedEvent event, String handler, int attempt, byte[] payload, String idempotencyKey) {

  /** The key for an (event, handler) pair. */
  public static String keyOf(ObservedEvent event, String handler) {
    return event.id() + ":" + handler;
  }

  @Override
  public String toString() {
    return "Delivery{" + event + " → " + handler + " attempt " + attempt + "}";
  }
}

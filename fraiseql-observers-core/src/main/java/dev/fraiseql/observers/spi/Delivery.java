package dev.fraiseql.observers.spi;

import dev.fraiseql.observers.ObservedEvent;
import dev.fraiseql.observers.internal.EventInternals;
import java.util.Objects;

/**
 * One attempt to deliver one event to one handler: what an {@link Action} is given.
 *
 * <p>{@link #payload()} and {@link #idempotencyKey()} are computed on first use (an action that reads
 * neither, such as a Java handler, never pays for them) and then kept.
 */
public final class Delivery {
  private final ObservedEvent event;
  private final String handler;
  private final int attempt;
  private byte[] payload;
  private String idempotencyKey;

  /**
   * @param event the event
   * @param handler the handler's name ({@code welcome-email})
   * @param attempt 1 for the first attempt, 2 for the first retry, ...
   * @param payload the event's default JSON, shared: read it, never modify it
   * @param idempotencyKey {@code <event id>:<handler>} (see {@link #keyOf})
   */
  public Delivery(ObservedEvent event, String handler, int attempt, byte[] payload, String idempotencyKey) {
    this.event = Objects.requireNonNull(event, "event");
    this.handler = Objects.requireNonNull(handler, "handler");
    this.attempt = attempt;
    this.payload = Objects.requireNonNull(payload, "payload");
    this.idempotencyKey = Objects.requireNonNull(idempotencyKey, "idempotencyKey");
  }

  /** A delivery whose payload (the event's default JSON) and key are computed when first asked for. */
  public Delivery(ObservedEvent event, String handler, int attempt) {
    this.event = Objects.requireNonNull(event, "event");
    this.handler = Objects.requireNonNull(handler, "handler");
    this.attempt = attempt;
  }

  /** The key for an (event, handler) pair. */
  public static String keyOf(ObservedEvent event, String handler) {
    return event.id() + ":" + handler;
  }

  /** The event. */
  public ObservedEvent event() {
    return event;
  }

  /** The handler's name ({@code welcome-email}). */
  public String handler() {
    return handler;
  }

  /** 1 for the first attempt, 2 for the first retry, ... */
  public int attempt() {
    return attempt;
  }

  /**
   * The event's default JSON, serialized once per event and shared by every delivery: read it,
   * never modify it.
   */
  public byte[] payload() {
    byte[] p = payload;
    if (p == null) {
      p = EventInternals.payload(event);
      payload = p;
    }
    return p;
  }

  /**
   * Stable for this (event, handler) pair across attempts, restarts and replays:
   * {@code <event id>:<handler>}; use it as a de-duplication id downstream.
   */
  public String idempotencyKey() {
    String k = idempotencyKey;
    if (k == null) {
      k = keyOf(event, handler);
      idempotencyKey = k;
    }
    return k;
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof Delivery)) {
      return false;
    }
    Delivery d = (Delivery) o;
    return attempt == d.attempt && event.equals(d.event) && handler.equals(d.handler);
  }

  @Override
  public int hashCode() {
    return Objects.hash(event.id(), handler, attempt);
  }

  @Override
  public String toString() {
    return "Delivery{" + event + " → " + handler + " attempt " + attempt + "}";
  }
}

package dev.fraiseql.observers.internal;

import dev.fraiseql.observers.ObservedEvent;
import java.util.function.Function;

/** Gives the library's own packages the cached, shared payload of an event without a copy. */
public final class EventInternals {
  private static volatile Function<ObservedEvent, byte[]> payload;

  private EventInternals() {}

  /** Called once by {@link ObservedEvent}'s static initializer. */
  public static void install(Function<ObservedEvent, byte[]> access) {
    payload = access;
  }

  /** The event's cached JSON; shared, never to be modified. */
  public static byte[] payload(ObservedEvent event) {
    Function<ObservedEvent, byte[]> p = payload;
    if (p == null) {
      // ObservedEvent's class initializer has necessarily run if an instance exists.
      throw new IllegalStateException("ObservedEvent not initialised");
    }
    return p.apply(event);
  }
}

package dev.fraiseql.observers.internal;

import dev.fraiseql.observers.ObservedEvent;
import java.util.function.BiConsumer;
import java.util.function.Function;

/** Gives the library's own packages the cached, shared payload of an event without a copy. */
public final class EventInternals {
  private static volatile Function<ObservedEvent, byte[]> payload;
  private static volatile BiConsumer<ObservedEvent, byte[]> keep;

  private EventInternals() {}

  /** Called once by {@link ObservedEvent}'s static initializer. */
  public static void install(Function<ObservedEvent, byte[]> access, BiConsumer<ObservedEvent, byte[]> keepAccess) {
    payload = access;
    keep = keepAccess;
  }

  /** Sets a fresh event's cached JSON (bytes the caller owns and will not modify). */
  public static void keepPayload(ObservedEvent event, byte[] json) {
    keep.accept(event, json);
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

package dev.fraiseql.observers.internal;

import dev.fraiseql.observers.ObservedEvent;
import dev.fraiseql.observers.spi.Delivery;

/**
 * The engine's side of one delivery's attempts, reached through {@link Delivery#markQueued()},
 * {@link Delivery#markStarted()}, {@link Delivery#isAbandoned()} and {@link Delivery#onAbandoned}.
 * Each call names the attempt it is about, so that one object serves every attempt of a delivery
 * (no allocation per attempt) and a late call about an earlier attempt cannot touch the current one.
 */
public interface AttemptControl {

  /** Attempt {@code attempt} waits locally from now: its timeout stops. False if the engine gave up on it. */
  boolean markQueued(int attempt);

  /** Attempt {@code attempt}'s I/O begins now: its timeout counts from here. False if the engine gave up on it. */
  boolean markStarted(int attempt);

  /** Whether attempt {@code attempt} is over for the engine (timed out, settled, or the delivery ended). */
  boolean isAbandoned(int attempt);

  /** Runs {@code hook} once if the engine gives up on attempt {@code attempt}; at once if it is already over. */
  void onAbandoned(int attempt, Runnable hook);

  /** The W3C traceparent of attempt {@code attempt}'s span, from the engine's {@code AttemptTrace}; null when none. */
  default String traceparent(int attempt) {
    return null;
  }

  /** Creates the {@link Delivery} of one attempt bound to a control (the engine's only way to build one). */
  static Delivery delivery(ObservedEvent event, String handler, int attempt, AttemptControl control) {
    return Factory.create(event, handler, attempt, control);
  }

  /** Holds the constructor {@link Delivery} hands over from its static initializer. */
  final class Factory {
    /** The constructor of a controlled delivery. */
    @FunctionalInterface
    public interface Maker {
      Delivery make(ObservedEvent event, String handler, int attempt, AttemptControl control);
    }

    private static volatile Maker maker;

    private Factory() {}

    /** Called once, by {@link Delivery}'s static initializer. */
    public static void install(Maker m) {
      maker = m;
    }

    static Delivery create(ObservedEvent event, String handler, int attempt, AttemptControl control) {
      Maker m = maker;
      if (m == null) {
        try {
          Class.forName(Delivery.class.getName(), true, Delivery.class.getClassLoader());
        } catch (ClassNotFoundException e) {
          throw new IllegalStateException(e);
        }
        m = maker;
      }
      return m.make(event, handler, attempt, control);
    }
  }
}

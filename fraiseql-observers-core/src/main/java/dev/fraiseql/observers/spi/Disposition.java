package dev.fraiseql.observers.spi;

import java.time.Duration;
import java.util.Objects;

/**
 * What a bus does with an inbound message once the engine has handled it: acknowledge it, redeliver
 * it after a delay, or terminate it (it was dead-lettered; never redeliver). The engine decides from
 * the handler's retry budget and {@link InboundMessage#deliveryCount()}; the bus only carries it out.
 */
public abstract class Disposition {
  private static final Disposition ACK = new Ack();
  private static final Disposition TERM = new Term();

  private Disposition() {}

  public static Disposition ack() {
    return ACK;
  }

  public static Disposition redeliverAfter(Duration delay) {
    return new Redeliver(delay);
  }

  public static Disposition term() {
    return TERM;
  }

  /** Handled: remove it. */
  public static final class Ack extends Disposition {
    private Ack() {}

    @Override
    public String toString() {
      return "ack";
    }
  }

  /** Failed, budget left: deliver it again after {@link #delay()} (NATS nak with delay, Redis: leave pending). */
  public static final class Redeliver extends Disposition {
    private final Duration delay;

    private Redeliver(Duration delay) {
      this.delay = Objects.requireNonNull(delay, "delay");
    }

    public Duration delay() {
      return delay;
    }

    @Override
    public String toString() {
      return "redeliver after " + delay.toMillis() + "ms";
    }
  }

  /** Dead-lettered already: never deliver it again (NATS term, Redis XACK). */
  public static final class Term extends Disposition {
    private Term() {}

    @Override
    public String toString() {
      return "term";
    }
  }
}

package dev.fraiseql.observers;

import java.time.Duration;

/**
 * How one handler's delivery of one event ended.
 *
 * @param handler the handler's name
 * @param status how it ended
 * @param attempts attempts made (0 when skipped or rejected)
 * @param detail the last attempt's detail ({@code status=200}) or the reason; never a secret
 * @param elapsed from dispatch to the end, retries included
 */
public record DeliveryOutcome(String handler, Status status, int attempts, String detail, Duration elapsed) {

  /** How a delivery ended. */
  public enum Status {
    /** The action succeeded. */
    DELIVERED,
    /** The condition did not hold for this event: nothing to do. */
    SKIPPED,
    /** Effectively-once: this (event, handler) was already delivered; not run again. */
    DUPLICATE,
    /** Budget spent, permanent failure, overload or shutdown: it is in the dead-letter store. */
    DEAD_LETTERED
  }

  public boolean succeeded() {
    return status != Status.DEAD_LETTERED;
  }
}

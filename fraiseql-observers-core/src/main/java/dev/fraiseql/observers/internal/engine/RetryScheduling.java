package dev.fraiseql.observers.internal.engine;

import dev.fraiseql.observers.ObservedEvent;
import dev.fraiseql.observers.spi.ActionResult;
import java.time.Duration;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The retry-scheduling stage: after a retryable failure with budget left, says so (a WARN line per
 * handler per second, the rest at DEBUG), tells the listeners and puts the next attempt on the shared
 * scheduler (no sleeping thread). A delivery with {@code ordering = "key"} keeps its key meanwhile.
 */
final class RetryScheduling {
  private RetryScheduling() {}

  /**
   * Schedules {@code next} after attempt {@code n} of {@code handler} failed with {@code r} in
   * {@code elapsedNanos}; returns the scheduled attempt.
   */
  static ScheduledFuture<?> schedule(Runtime rt, ObservedEvent event, HandlerRuntime handler, int n, long elapsedNanos,
      ActionResult r, Runnable next) {
    int max = handler.retry().maxAttempts();
    Duration delay = rt.retryDelay(handler, r, n);
    try (Runtime.MdcScope ignored = Runtime.mdc(event, handler.name())) {
      // one WARN line per handler per second (with the count held back), the others at DEBUG: a
      // receiver failing thousands of attempts must not write a WARN line for each
      long heldBack = rt.retryLog(handler.name()).admit(System.nanoTime());
      if (heldBack < 0) {
        rt.log().debug("[observer] {}: attempt {}/{} failed in {}ms ({}); retrying in {}ms{}", handler.name(), n, max,
            elapsedNanos / 1_000_000, r.detail(), delay.toMillis(), Runtime.req(event));
      } else {
        rt.log().warn("[observer] {}: attempt {}/{} failed in {}ms ({}); retrying in {}ms{}{}", handler.name(), n, max,
            elapsedNanos / 1_000_000, r.detail(), delay.toMillis(), Runtime.req(event),
            heldBack == 0 ? "" : "; " + heldBack + " more failed attempts of " + handler.name()
                + " since the last such line (lines per attempt at DEBUG)");
      }
    }
    rt.listeners.retryScheduled(event, handler.name(), n + 1, delay);
    return rt.scheduler.schedule(next, delay.toMillis(), TimeUnit.MILLISECONDS);
  }

  /**
   * Another worker holds a live claim on this (event, handler): schedules {@code next} after the
   * backoff (at most the claim TTL) without spending the budget.
   */
  static ScheduledFuture<?> scheduleBusy(Runtime rt, ObservedEvent event, HandlerRuntime handler, int n, Runnable next) {
    Duration delay = rt.busyDelay(handler, n);
    try (Runtime.MdcScope ignored = Runtime.mdc(event, handler.name())) {
      rt.log().debug("[observer] {}: event {} is being delivered by another worker; checking again in {}ms{}",
          handler.name(), event.id(), delay.toMillis(), Runtime.req(event));
    }
    return rt.scheduler.schedule(next, delay.toMillis(), TimeUnit.MILLISECONDS);
  }
}

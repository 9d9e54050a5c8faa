package dev.fraiseql.observers.nats.internal;

import dev.fraiseql.observers.config.HandlerConfig;
import dev.fraiseql.observers.config.ObserversConfig;
import dev.fraiseql.observers.config.RetryPolicy;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * JetStream de-duplicates a {@code Nats-Msg-Id} only within the stream's duplicate window: a publish
 * retried later than that, after an attempt whose acknowledgement was lost, is stored twice. This
 * warns at start-up about publish handlers whose retries can outlast the window.
 */
public final class RetryHorizon {
  private static final Logger log = LoggerFactory.getLogger(RetryHorizon.class);

  private RetryHorizon() {}

  /** The longest time from a handler's first attempt to the start of its last one, each attempt timing out. */
  public static Duration of(RetryPolicy p, Duration attemptTimeout) {
    Duration total = Duration.ZERO;
    Duration perAttempt = attemptTimeout.compareTo(p.attemptTimeout()) < 0 ? attemptTimeout : p.attemptTimeout();
    for (int attempt = 1; attempt < p.maxAttempts(); attempt++) {
      long base = p.baseDelayAfter(attempt).toMillis();
      long withJitter = Math.min(p.maxDelay().toMillis(), Math.round(base * (1 + p.jitter())));
      total = total.plus(perAttempt).plusMillis(withJitter);
    }
    return total;
  }

  /** Logs a warning for each publish handler whose retry horizon is longer than the duplicate window. */
  public static void warnIfLongerThanDuplicateWindow(ObserversConfig config, NatsSettings settings) {
    for (HandlerConfig h : config.handlers()) {
      if (!"publish".equals(h.action())) {
        continue;
      }
      Duration horizon = of(h.retry(), settings.publishTimeout);
      if (horizon.compareTo(settings.duplicateWindow) > 0) {
        log.warn("[observer] {}: its retries can span {}s, longer than the JetStream duplicate window of {}s: a publish "
            + "retried after that may be stored twice. Raise duplicate_window_ms in [observers.nats] to at least {}",
            h.name(), horizon.toSeconds(), settings.duplicateWindow.toSeconds(), horizon.toMillis());
      }
    }
  }
}

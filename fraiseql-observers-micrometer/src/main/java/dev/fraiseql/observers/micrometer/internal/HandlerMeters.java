package dev.fraiseql.observers.micrometer.internal;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One handler's meters, resolved once so that the engine's threads only increment: the five outcome
 * counters are registered at once (a series at 0 is there for {@code increase()} from the start); the
 * attempt timers, which carry a histogram, only when their result first happens. The local-wait meters
 * (attempts waiting for a slot at the handler's endpoint, abandoned waits, the time waited) likewise:
 * the gauge and the counter at once, the timer on the first wait.
 */
public final class HandlerMeters {
  /** Outcome tag values. */
  public static final String DELIVERED = "delivered";
  public static final String RETRIED = "retried";
  public static final String DEAD_LETTERED = "dead_lettered";
  public static final String DUPLICATE = "duplicate";
  public static final String SKIPPED = "skipped";
  /** Attempt result tag values. */
  public static final String RESULT_DELIVERED = "delivered";
  public static final String RESULT_DUPLICATE = "duplicate";
  public static final String RESULT_RETRY = "retry";
  public static final String RESULT_FAILED = "failed";

  private final MeterRegistry registry;
  private final String attemptsName;
  private final Tags tags;
  private final double[] percentiles;
  private final boolean histogram;
  public final Counter delivered;
  public final Counter retried;
  public final Counter deadLettered;
  public final Counter duplicate;
  public final Counter skipped;
  private volatile Timer deliveredTimer;
  private volatile Timer duplicateTimer;
  private volatile Timer retryTimer;
  private volatile Timer failedTimer;
  /** Attempts of this handler waiting locally now (a free slot at the endpoint, a publish window, a pooled connection). */
  public final AtomicInteger waiting = new AtomicInteger();
  /** Local waits that ended unsent (queue bound passed, or the engine gave up on the attempt). */
  public final Counter abandoned;
  private final String queueWaitName;
  private volatile Timer queueWait;

  public HandlerMeters(MeterRegistry registry, String deliveriesName, String attemptsName, Tags tags, double[] percentiles,
      boolean histogram) {
    this(registry, deliveriesName, attemptsName, null, null, null, tags, percentiles, histogram);
  }

  /**
   * @param waitingName the gauge of attempts waiting locally (null: not registered)
   * @param abandonedName the counter of waits that ended unsent
   * @param queueWaitName the timer of local waits
   */
  public HandlerMeters(MeterRegistry registry, String deliveriesName, String attemptsName, String waitingName,
      String abandonedName, String queueWaitName, Tags tags, double[] percentiles, boolean histogram) {
    this.registry = registry;
    this.attemptsName = attemptsName;
    this.tags = tags;
    this.percentiles = percentiles;
    this.histogram = histogram;
    delivered = counter(deliveriesName, DELIVERED);
    retried = counter(deliveriesName, RETRIED);
    deadLettered = counter(deliveriesName, DEAD_LETTERED);
    duplicate = counter(deliveriesName, DUPLICATE);
    skipped = counter(deliveriesName, SKIPPED);
    this.queueWaitName = queueWaitName;
    if (waitingName != null) {
      Gauge.builder(waitingName, waiting, AtomicInteger::get).tags(tags)
          .description("Attempts waiting locally before their I/O (a free slot at the endpoint, a publish window, "
              + "a pooled connection); not attempts yet: no budget spent, timeout_ms not running")
          .register(registry);
      abandoned = Counter.builder(abandonedName).tags(tags)
          .description("Local waits that ended without the request being sent (the action's queue bound passed, "
              + "or the engine gave up on the attempt)")
          .register(registry);
    } else {
      abandoned = null;
    }
  }

  /** Records one local wait that ended (started or abandoned). */
  public void waited(long nanos, boolean wasAbandoned) {
    waiting.decrementAndGet();
    if (wasAbandoned && abandoned != null) {
      abandoned.increment();
    }
    Timer t = queueWait;
    if (t == null) {
      Timer.Builder b = Timer.builder(queueWaitName)
          .description("Time an attempt waited locally before its I/O (or before leaving the queue unsent)").tags(tags);
      if (histogram) {
        b.publishPercentileHistogram().minimumExpectedValue(Duration.ofMillis(1)).maximumExpectedValue(Duration.ofMinutes(1));
      }
      t = queueWait = b.register(registry);
    }
    t.record(nanos, TimeUnit.NANOSECONDS);
  }

  private Counter counter(String name, String outcome) {
    return Counter.builder(name).description("Deliveries of events to observer handlers, by how they ended "
            + "(retried counts each retry scheduled)")
        .tags(tags).tag("outcome", outcome).register(registry);
  }

  /** Records one attempt's duration under its result. */
  public void attempt(String result, long nanos) {
    Timer t;
    switch (result) {
      case RESULT_DELIVERED:
        t = deliveredTimer;
        if (t == null) {
          t = deliveredTimer = timer(result);
        }
        break;
      case RESULT_DUPLICATE:
        t = duplicateTimer;
        if (t == null) {
          t = duplicateTimer = timer(result);
        }
        break;
      case RESULT_RETRY:
        t = retryTimer;
        if (t == null) {
          t = retryTimer = timer(result);
        }
        break;
      default:
        t = failedTimer;
        if (t == null) {
          t = failedTimer = timer(result);
        }
    }
    t.record(nanos, TimeUnit.NANOSECONDS);
  }

  private Timer timer(String result) {
    // registering twice returns the same timer, so a race here is harmless
    Timer.Builder b = Timer.builder(attemptsName).description("Duration of one attempt of an observer handler's action")
        .tags(tags).tag("result", result);
    if (histogram) {
      b.publishPercentileHistogram().minimumExpectedValue(Duration.ofMillis(1)).maximumExpectedValue(Duration.ofMinutes(1));
    }
    if (percentiles.length > 0) {
      b.publishPercentiles(percentiles);
    }
    return b.register(registry);
  }
}

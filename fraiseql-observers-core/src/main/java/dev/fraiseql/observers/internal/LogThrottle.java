package dev.fraiseql.observers.internal;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Keeps a repeated condition from becoming a log storm: of the occurrences, at most one per
 * {@code interval} is logged in full, and that line carries how many were held back since the last
 * one. Used for overload dead letters (the engine), dropped in-memory dead letters and forgotten
 * in-memory idempotency keys. Only the log is thinned: callers still count and store every
 * occurrence. Times are in any one unit (nanoseconds of {@code System.nanoTime()}, a clock's
 * milliseconds), the same for the interval and every call. Thread-safe.
 *
 * <p>A time more than one interval <em>before</em> the last line (a clock stepped back) counts as
 * due, so lines do not stop for the length of the step; smaller differences backwards (threads
 * reading a monotonic time a little apart) do not.
 */
public final class LogThrottle {
  private final long interval;
  private final AtomicLong lastLogged;
  private final AtomicLong suppressed = new AtomicLong();

  /** The first occurrence at or after {@code now} is logged. */
  public LogThrottle(long interval, long now) {
    this.interval = interval;
    this.lastLogged = new AtomicLong(now - interval);
  }

  /**
   * One occurrence at {@code now}: returns how many were held back since the last full line if this
   * one is to be logged in full (0 or more), or -1 if it is held back.
   */
  public long admit(long now) {
    long last = lastLogged.get();
    if (due(now, last) && lastLogged.compareAndSet(last, now)) {
      return suppressed.getAndSet(0);
    }
    suppressed.incrementAndGet();
    return -1;
  }

  /**
   * Called periodically: once a full interval has passed since the last line, returns how many were
   * held back (and starts a new interval) so that the tail of a burst is reported too; else 0.
   */
  public long flush(long now) {
    if (suppressed.get() == 0) {
      return 0;
    }
    long last = lastLogged.get();
    if (due(now, last) && lastLogged.compareAndSet(last, now)) {
      return suppressed.getAndSet(0);
    }
    return 0;
  }

  private boolean due(long now, long last) {
    long d = now - last;
    return d >= interval || d < -interval;
  }
}

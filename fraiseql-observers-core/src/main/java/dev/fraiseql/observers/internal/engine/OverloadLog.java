package dev.fraiseql.observers.internal.engine;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Keeps an overload from becoming a log storm: of the deliveries dead-lettered because the engine was
 * full ({@code overflow_policy = "dead_letter"}, or {@code "block"} that found no room), at most one
 * per {@link #EVERY_NANOS} is logged in full at WARN; the line carries how many were dead-lettered
 * since the last one. The rest are logged at DEBUG. Every one of them is still stored as a dead letter
 * and reported to listeners: only the log is thinned.
 */
final class OverloadLog {
  static final long EVERY_NANOS = 1_000_000_000L;
  private final AtomicLong lastLogged;
  private final AtomicLong suppressed = new AtomicLong();

  OverloadLog(long nowNanos) {
    lastLogged = new AtomicLong(nowNanos - EVERY_NANOS);
  }

  /**
   * One overload dead letter at {@code nowNanos}: returns how many were held back since the last
   * full line if this one is to be logged in full (0 or more), or -1 if it goes to DEBUG.
   */
  long admit(long nowNanos) {
    long last = lastLogged.get();
    if (nowNanos - last >= EVERY_NANOS && lastLogged.compareAndSet(last, nowNanos)) {
      return suppressed.getAndSet(0);
    }
    suppressed.incrementAndGet();
    return -1;
  }

  /**
   * Called periodically: once a full interval has passed since the last line, returns how many were
   * held back (and starts a new interval) so that the tail of a burst is reported too; else 0.
   */
  long flush(long nowNanos) {
    if (suppressed.get() == 0) {
      return 0;
    }
    long last = lastLogged.get();
    if (nowNanos - last >= EVERY_NANOS && lastLogged.compareAndSet(last, nowNanos)) {
      return suppressed.getAndSet(0);
    }
    return 0;
  }
}

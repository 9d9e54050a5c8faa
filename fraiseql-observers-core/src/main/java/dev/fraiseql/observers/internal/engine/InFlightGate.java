package dev.fraiseql.observers.internal.engine;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongSupplier;

/**
 * The in-flight bound ({@code max_in_flight}) without one hot counter shared by producers and
 * workers: deliveries admitted are counted by the callers of {@code onCommit} ({@link #acquired}, one
 * CAS), deliveries ended by the {@link TaskSet} stripes they leave (under the stripe's monitor, which
 * removal takes anyway); in flight is the difference. A caller re-reads the ended count only when
 * its last view of it says the bound is reached (the view is only ever stale towards "more in
 * flight", so the bound is never exceeded). Ending a delivery costs nothing here.
 *
 * <p>A caller that waits for room ({@code overflow_policy = "block"}) checks again every
 * {@link #WAIT_POLL_NANOS}: ending deliveries never pays for waking it, and with the bound's worth
 * of deliveries queued the workers stay busy while it sleeps.
 */
final class InFlightGate {
  static final long WAIT_POLL_NANOS = 100_000;
  private final int max;
  private final AtomicLong acquired = new AtomicLong();
  private final LongSupplier released;
  /** A recent value of released; only ever behind it. */
  private volatile long releasedSeen;

  /** @param released how many admitted deliveries have ended so far (monotonic) */
  InFlightGate(int max, LongSupplier released) {
    this.max = max;
    this.released = released;
  }

  /** Deliveries admitted and not ended, now. */
  int inFlight() {
    return (int) Math.max(0, acquired.get() - released.getAsLong());
  }

  /** Takes room for {@code n} deliveries if there is some now. */
  boolean tryAcquire(int n) {
    if (n > max) {
      return false;
    }
    long seen = releasedSeen;
    boolean fresh = false;
    for (;;) {
      long a = acquired.get();
      if (a + n - seen > max) {
        if (fresh) {
          return false;
        }
        seen = released.getAsLong();
        releasedSeen = seen;
        fresh = true;
        continue;
      }
      if (acquired.compareAndSet(a, a + n)) {
        return true;
      }
    }
  }

  /** Takes room for {@code n} deliveries, waiting up to the timeout for it. */
  boolean acquire(int n, long timeoutMillis) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
    while (!tryAcquire(n)) {
      if (n > max || System.nanoTime() - deadline >= 0) {
        return false;
      }
      LockSupport.parkNanos(this, WAIT_POLL_NANOS);
      if (Thread.interrupted()) {
        throw new InterruptedException();
      }
    }
    return true;
  }

  /** Counts a delivery that does not wait for room (a replay the host asked for). */
  void forceAcquire() {
    acquired.incrementAndGet();
  }
}

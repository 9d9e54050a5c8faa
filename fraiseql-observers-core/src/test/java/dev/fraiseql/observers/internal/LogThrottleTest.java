package dev.fraiseql.observers.internal;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class LogThrottleTest {
  private static final long S = 1_000_000_000L;

  @Test
  void theFirstOfABurstIsLoggedThenOneLinePerSecondCarriesTheCountHeldBack() {
    long t = 1_000 * S;
    LogThrottle log = new LogThrottle(S, t);
    assertThat(log.admit(t)).as("first: logged, nothing held back").isZero();
    for (int i = 1; i <= 499; i++) {
      assertThat(log.admit(t + i * (S / 1000))).as("within the second: held back").isEqualTo(-1);
    }
    assertThat(log.flush(t + S / 2)).as("the sweeper waits for the interval to pass").isZero();
    assertThat(log.admit(t + S)).as("a second later: logged with the 499 held back").isEqualTo(499);
    assertThat(log.admit(t + S + 1)).isEqualTo(-1);
    assertThat(log.admit(t + S + 2)).isEqualTo(-1);
    assertThat(log.flush(t + 2 * S)).as("the tail of the burst is reported by the sweeper").isEqualTo(2);
    assertThat(log.flush(t + 3 * S)).as("and only once").isZero();
    assertThat(log.admit(t + 10 * S)).as("a later overload starts a new burst").isZero();
  }

  @Test
  void aClockSteppedBackByMoreThanAnIntervalIsDueButThreadsReadingALittleApartAreNot() {
    long t = 1_000 * S;
    LogThrottle log = new LogThrottle(S, t);
    assertThat(log.admit(t)).isZero();
    assertThat(log.admit(t - S / 1000)).as("a reading a little older than the last line: held back").isEqualTo(-1);
    assertThat(log.admit(t - 5 * S)).as("a clock stepped back 5 intervals: logged at once").isEqualTo(1);
    assertThat(log.admit(t - 5 * S + 1)).isEqualTo(-1);
  }

  @Test
  void concurrentDeadLettersAreEachCountedOnce() throws Exception {
    LogThrottle log = new LogThrottle(S, 0);
    java.util.concurrent.atomic.AtomicLong reported = new java.util.concurrent.atomic.AtomicLong();
    java.util.concurrent.atomic.AtomicLong clock = new java.util.concurrent.atomic.AtomicLong();
    Thread[] threads = new Thread[4];
    for (int p = 0; p < threads.length; p++) {
      threads[p] = new Thread(() -> {
        for (int i = 0; i < 100_000; i++) {
          long r = log.admit(clock.addAndGet(S / 20_000));
          if (r >= 0) {
            reported.addAndGet(1 + r);
          }
        }
      });
      threads[p].start();
    }
    for (Thread th : threads) {
      th.join();
    }
    reported.addAndGet(log.flush(clock.get() + 2 * S));
    assertThat(reported.get()).isEqualTo(400_000);
  }
}

package dev.fraiseql.observers.internal;

import java.security.SecureRandom;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;

/**
 * RFC 9562 version 7 UUIDs: 48 bits of Unix milliseconds, then random bits. Ids made by one JVM are
 * strictly increasing: within one millisecond a 12-bit counter (rand_a) orders them.
 */
public final class Uuid7 {
  private static final SecureRandom RANDOM = new SecureRandom();
  /** (millis << 12) | counter of the last id. */
  private static final AtomicLong LAST = new AtomicLong();

  private Uuid7() {}

  public static UUID next() {
    long now = System.currentTimeMillis();
    long stamp;
    while (true) {
      long last = LAST.get();
      long candidate = now << 12;
      if (candidate <= last) {
        candidate = last + 1; // same (or earlier) millisecond: bump the counter, spilling into the clock
      }
      if (LAST.compareAndSet(last, candidate)) {
        stamp = candidate;
        break;
      }
    }
    long millis = stamp >>> 12;
    long counter = stamp & 0xFFF;
    long msb = (millis << 16) | 0x7000L | counter;
    long lsb = (RANDOM.nextLong() & 0x3FFFFFFFFFFFFFFFL) | 0x8000000000000000L;
    return new UUID(msb, lsb);
  }
}

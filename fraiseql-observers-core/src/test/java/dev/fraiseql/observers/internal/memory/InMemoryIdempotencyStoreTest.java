package dev.fraiseql.observers.internal.memory;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fraiseql.observers.spi.IdempotencyStore.Claim;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class InMemoryIdempotencyStoreTest {
  private static final Pattern EVICT_LINE = Pattern.compile(
      "in-memory idempotency store holds 100 keys: forgot the oldest completed key \\((\\d+) since the last such line, (\\d+) in all\\)");

  /** A clock the test moves. */
  private static final class TestClock extends Clock {
    final AtomicLong millis = new AtomicLong(Instant.parse("2026-11-24T10:00:00Z").toEpochMilli());

    @Override
    public ZoneOffset getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return Instant.ofEpochMilli(millis.get());
    }
  }

  /**
   * At the capacity every completion forgets the oldest completed key: that is logged the first time,
   * then at most once a minute (engine clock) with the count since the last line, and the counts add
   * up to every key forgotten. Keys still kept answer DONE; forgotten ones can be claimed again.
   */
  @Test
  void forgettingKeysAtTheCapacityIsLoggedOnceAMinuteWithCountsThatAddUp() throws Exception {
    TestClock clock = new TestClock();
    InMemoryIdempotencyStore store = new InMemoryIdempotencyStore(100, clock);
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    PrintStream stderr = System.err;
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    try {
      for (int minute = 0; minute < 3; minute++) {
        for (int i = 0; i < 20_000; i++) {
          String key = "k-" + minute + "-" + i;
          assertThat(store.claim(key, "ship", Duration.ofMinutes(1)).toCompletableFuture().join()).isEqualTo(Claim.CLAIMED);
          store.complete(key, "ship").toCompletableFuture().join();
          clock.millis.addAndGet(1); // 20 s of engine time per minute's loop: three lines in all
        }
        clock.millis.addAndGet(40_000);
      }
    } finally {
      System.setErr(stderr);
    }
    long sum = 0;
    long lastInAll = 0;
    int lines = 0;
    Matcher m = EVICT_LINE.matcher(err.toString(StandardCharsets.UTF_8));
    while (m.find()) {
      lines++;
      sum += Long.parseLong(m.group(1));
      lastInAll = Long.parseLong(m.group(2));
    }
    assertThat(store.evicted()).isEqualTo(60_000 - 100);
    assertThat(store.size()).isEqualTo(100);
    assertThat(lines).as("eviction lines: the first, then one a minute").isEqualTo(3);
    // the lines written so far account for every key forgotten up to the last line
    assertThat(sum).isEqualTo(lastInAll);
    assertThat(lastInAll).isBetween(40_000L - 100, 60_000L - 100);
    assertThat(store.claim("k-2-19999", "ship", Duration.ofMinutes(1)).toCompletableFuture().join()).isEqualTo(Claim.DONE);
    assertThat(store.claim("k-0-0", "ship", Duration.ofMinutes(1)).toCompletableFuture().join()).isEqualTo(Claim.CLAIMED);
  }
}

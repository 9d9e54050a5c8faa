package dev.fraiseql.observers.internal.memory;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fraiseql.observers.spi.IdempotencyStore.Claim;
import dev.fraiseql.observers.testkit.CapturedStderr;
import dev.fraiseql.observers.testkit.VirtualScheduler;
import java.time.Duration;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class InMemoryIdempotencyStoreTest {
  private static final Pattern EVICT_LINE = Pattern.compile(
      "in-memory idempotency store holds 100 keys: forgot the oldest completed key \\((\\d+) since the last such line, (\\d+) in all\\)");

  /**
   * At the capacity every completion forgets the oldest completed key: that is logged the first time,
   * then at most once a minute (engine clock) with the count since the last line, and the counts add
   * up to every key forgotten. Keys still kept answer DONE; forgotten ones can be claimed again.
   */
  @Test
  void forgettingKeysAtTheCapacityIsLoggedOnceAMinuteWithCountsThatAddUp() throws Exception {
    VirtualScheduler time = new VirtualScheduler();
    InMemoryIdempotencyStore store = new InMemoryIdempotencyStore(100, time.clock());
    String err = CapturedStderr.during(() -> {
      for (int minute = 0; minute < 3; minute++) {
        for (int i = 0; i < 20_000; i++) {
          String key = "k-" + minute + "-" + i;
          assertThat(store.claim(key, "ship", Duration.ofMinutes(1)).toCompletableFuture().join()).isEqualTo(Claim.CLAIMED);
          store.complete(key, "ship").toCompletableFuture().join();
          time.advance(Duration.ofMillis(1)); // 20 s of engine time per minute's loop: three lines in all
        }
        time.advance(Duration.ofSeconds(40));
      }
    });
    CapturedStderr.Counts lines = CapturedStderr.Counts.of(EVICT_LINE, err);
    assertThat(store.evicted()).isEqualTo(60_000 - 100);
    assertThat(store.size()).isEqualTo(100);
    assertThat(lines.lines()).as("eviction lines: the first, then one a minute").isEqualTo(3);
    // the lines written so far account for every key forgotten up to the last line
    assertThat(lines.sinceSum()).isEqualTo(lines.lastInAll());
    assertThat(lines.lastInAll()).isBetween(40_000L - 100, 60_000L - 100);
    assertThat(store.claim("k-2-19999", "ship", Duration.ofMinutes(1)).toCompletableFuture().join()).isEqualTo(Claim.DONE);
    assertThat(store.claim("k-0-0", "ship", Duration.ofMinutes(1)).toCompletableFuture().join()).isEqualTo(Claim.CLAIMED);
  }
}

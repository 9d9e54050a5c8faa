package dev.fraiseql.observers.internal.memory;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fraiseql.observers.ObservedEvent;
import dev.fraiseql.observers.spi.DeadLetter;
import dev.fraiseql.observers.spi.DeadLetterQuery;
import dev.fraiseql.observers.testkit.CapturedStderr;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class InMemoryDeadLetterStoreTest {
  private static final Pattern DROP_LINE = Pattern.compile(
      "in-memory dead-letter store is full .*?; (\\d+) dropped since the last such line, (\\d+) in all\\.");

  private static DeadLetter letter(int i) {
    ObservedEvent e = ObservedEvent.insert("tb_order", Map.of("id", i));
    return new DeadLetter("dl-" + i, e, "ship", Optional.empty(), "budget spent", List.of(), Instant.EPOCH);
  }

  /**
   * A burst of drops is a few WARN lines (the first drop, then at most one a second), and their
   * counts add up to every drop; the store keeps the newest letters and counts every drop exactly.
   */
  @Test
  void aBurstOfDropsIsAFewLinesWhoseCountsAddUpToEveryDrop() throws Exception {
    InMemoryDeadLetterStore store = new InMemoryDeadLetterStore(10);
    long t0 = System.nanoTime();
    String err = CapturedStderr.during(() -> {
      for (int i = 0; i < 300_000; i++) {
        store.add(letter(i));
      }
      Thread.sleep(1_100); // the next drop is more than a second after the last line: it is written
      store.add(letter(300_000));
    });
    long seconds = (System.nanoTime() - t0) / 1_000_000_000L;
    CapturedStderr.Counts lines = CapturedStderr.Counts.of(DROP_LINE, err);
    long drops = 300_001 - 10;
    assertThat(store.dropped()).isEqualTo(drops);
    assertThat(store.count()).isEqualTo(10);
    assertThat(store.list(DeadLetterQuery.all()).get(0).id()).isEqualTo("dl-300000");
    assertThat(lines.lines()).as("drop lines").isBetween(2, (int) seconds + 2);
    assertThat(lines.sinceSum()).as("drops accounted for by the lines").isEqualTo(drops);
    assertThat(lines.lastInAll()).isEqualTo(drops);
  }
}

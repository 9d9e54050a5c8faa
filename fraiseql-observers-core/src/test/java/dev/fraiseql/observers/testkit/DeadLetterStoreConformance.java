package dev.fraiseql.observers.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fraiseql.observers.MutationContext;
import dev.fraiseql.observers.ObservedEvent;
import dev.fraiseql.observers.Operation;
import dev.fraiseql.observers.spi.AttemptRecord;
import dev.fraiseql.observers.spi.DeadLetter;
import dev.fraiseql.observers.spi.DeadLetterQuery;
import dev.fraiseql.observers.spi.DeadLetterStore;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * The conformance kit every {@link DeadLetterStore} runs. {@link #createStore()} must return a store
 * that starts empty (use a unique table, key prefix...); {@link #reopen(DeadLetterStore)} a second
 * instance over the same storage (for durability), or the same instance for memory stores.
 */
public abstract class DeadLetterStoreConformance {

  protected abstract DeadLetterStore createStore() throws Exception;

  /** A new store instance over the same storage (a restart); memory stores return {@code store}. */
  protected DeadLetterStore reopen(DeadLetterStore store) throws Exception {
    return store;
  }

  protected static DeadLetter letter(String handler, Instant at, String reason, String error) {
    ObservedEvent e = ObservedEvent.builder().operation(Operation.UPDATE).table("tb_post").mutation("publishPost")
        .timestamp(Instant.parse("2026-02-25T10:00:00Z"))
        .newRow(Map.of("id", 7, "status", "published", "tags", List.of("a", "b")))
        .oldRow(Map.of("id", 7, "status", "draft"))
        .context(MutationContext.builder().userId("u-1").tenantId("t-9").requestId("req_01HV3KQBN7").build()).build();
    return new DeadLetter(UUID.randomUUID().toString(), e, handler, Optional.empty(), reason,
        List.of(new AttemptRecord(1, at.minusSeconds(2), Duration.ofMillis(12), "Retry(HTTP 503: " + error + ")"),
            new AttemptRecord(2, at.minusSeconds(1), Duration.ofMillis(15), "Retry(HTTP 503: " + error + ")")),
        at);
  }

  @Test
  public void storesAndReadsBackEveryField() throws Exception {
    DeadLetterStore store = createStore();
    DeadLetter d = new DeadLetter(UUID.randomUUID().toString(), letter("h", Instant.parse("2026-02-25T10:00:05Z"), "budget spent", "down").event(),
        "h", Optional.of("fraiseql.post.updated"), "budget spent after 2 attempts", letter("h", Instant.parse("2026-02-25T10:00:05Z"), "r", "down").attempts(),
        Instant.parse("2026-02-25T10:00:05Z"));
    store.add(d);
    DeadLetter back = reopen(store).get(d.id()).orElseThrow();
    assertThat(back.id()).isEqualTo(d.id());
    assertThat(back.handler()).isEqualTo("h");
    assertThat(back.subject()).contains("fraiseql.post.updated");
    assertThat(back.reason()).isEqualTo("budget spent after 2 attempts");
    assertThat(back.deadLetteredAt()).isEqualTo(d.deadLetteredAt());
    assertThat(back.event()).isEqualTo(d.event());
    assertThat(back.event().toJsonString()).isEqualTo(d.event().toJsonString());
    assertThat(back.attempts()).hasSize(2);
    assertThat(back.attempts().get(1).attempt()).isEqualTo(2);
    assertThat(back.attempts().get(1).outcome()).isEqualTo("Retry(HTTP 503: down)");
    assertThat(back.attempts().get(1).elapsed()).isEqualTo(Duration.ofMillis(15));
    assertThat(back.attempts().get(0).startedAt()).isEqualTo(d.attempts().get(0).startedAt());
  }

  @Test
  public void listsNewestFirstWithFilters() throws Exception {
    DeadLetterStore store = createStore();
    Instant t0 = Instant.parse("2026-02-25T10:00:00Z");
    DeadLetter a = letter("welcome-email", t0.plusSeconds(1), "budget spent", "smtp down");
    DeadLetter b = letter("signup-event", t0.plusSeconds(2), "permanent failure", "HTTP 400 bad request");
    DeadLetter c = letter("welcome-email", t0.plusSeconds(3), "budget spent", "timeout");
    store.add(a);
    store.add(b);
    store.add(c);
    DeadLetterStore s = reopen(store);
    assertThat(s.count()).isEqualTo(3);
    assertThat(s.list(DeadLetterQuery.all())).extracting(DeadLetter::id).containsExactly(c.id(), b.id(), a.id());
    assertThat(s.list(DeadLetterQuery.all().handler("welcome-email"))).extracting(DeadLetter::id).containsExactly(c.id(), a.id());
    assertThat(s.list(DeadLetterQuery.all().since(t0.plusSeconds(2)))).extracting(DeadLetter::id).containsExactly(c.id(), b.id());
    assertThat(s.list(DeadLetterQuery.all().until(t0.plusSeconds(2)))).extracting(DeadLetter::id).containsExactly(b.id(), a.id());
    assertThat(s.list(DeadLetterQuery.all().errorContains("smtp"))).extracting(DeadLetter::id).containsExactly(a.id());
    assertThat(s.list(DeadLetterQuery.all().errorContains("PERMANENT"))).extracting(DeadLetter::id).containsExactly(b.id());
    assertThat(s.list(DeadLetterQuery.all().limit(1))).extracting(DeadLetter::id).containsExactly(c.id());
  }

  @Test
  public void removesOneAndCounts() throws Exception {
    DeadLetterStore store = createStore();
    DeadLetter a = letter("h", Instant.parse("2026-02-25T10:00:01Z"), "r", "e");
    DeadLetter b = letter("h", Instant.parse("2026-02-25T10:00:02Z"), "r", "e");
    store.add(a);
    store.add(b);
    assertThat(store.remove(a.id())).isTrue();
    assertThat(store.remove(a.id())).isFalse();
    assertThat(store.get(a.id())).isEmpty();
    assertThat(reopen(store).count()).isEqualTo(1);
    assertThat(store.get(b.id())).isPresent();
  }
}

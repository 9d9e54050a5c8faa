package dev.fraiseql.observers.redis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fraiseql.observers.MutationContext;
import dev.fraiseql.observers.ObservedEvent;
import dev.fraiseql.observers.redis.internal.RedisBackend;
import dev.fraiseql.observers.redis.internal.RedisDeadLetterStore;
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
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class RedisDeadLetterStoreIT {
  private static final Instant T0 = Instant.parse("2026-02-25T10:00:00Z");
  private String prefix;

  @BeforeEach
  void setUp() {
    prefix = RedisTestSupport.uniquePrefix();
  }

  @AfterEach
  void tearDown() {
    RedisTestSupport.cleanup(prefix);
  }

  private static DeadLetter letter(String handler, Instant at, String error) {
    ObservedEvent e = ObservedEvent.builder().operation(dev.fraiseql.observers.Operation.UPDATE).table("tb_post")
        .mutation("publishPost").timestamp(T0)
        .newRow(Map.of("id", 7, "status", "published", "tags", List.of("a", "b")))
        .oldRow(Map.of("id", 7, "status", "draft"))
        .context(MutationContext.builder().userId("u-1").requestId("req_1").build()).build();
    return new DeadLetter(UUID.randomUUID().toString(), e, handler, Optional.of("fraiseql.post.updated"),
        "budget spent after 2 attempts: " + error,
        List.of(new AttemptRecord(1, at.minusSeconds(2), Duration.ofMillis(142), "HTTP 503: upstream down"),
            new AttemptRecord(2, at.minusSeconds(1), Duration.ofMillis(18), error)),
        at);
  }

  @Test
  void deadLettersSurviveARestartOfTheHostWithEveryField() {
    DeadLetter d = letter("update-post-stats", T0.plusSeconds(5), "HTTP 500: boom");
    try (RedisBackend first = RedisTestSupport.backend(prefix, Map.of())) {
      first.deadLetterStore().orElseThrow().add(d);
    }
    // a new backend (the host restarted) sees it, intact
    try (RedisBackend second = RedisTestSupport.backend(prefix, Map.of())) {
      DeadLetterStore s = second.deadLetterStore().orElseThrow();
      assertThat(s.count()).isEqualTo(1);
      DeadLetter back = s.get(d.id()).orElseThrow();
      assertThat(back.id()).isEqualTo(d.id());
      assertThat(back.event()).isEqualTo(d.event());
      assertThat(back.event().toJsonString()).isEqualTo(d.event().toJsonString());
      assertThat(back.handler()).isEqualTo("update-post-stats");
      assertThat(back.subject()).contains("fraiseql.post.updated");
      assertThat(back.reason()).isEqualTo(d.reason());
      assertThat(back.attempts()).isEqualTo(d.attempts());
      assertThat(back.deadLetteredAt()).isEqualTo(d.deadLetteredAt());
      assertThat(back.lastError()).isEqualTo("HTTP 500: boom");
      assertThat(s.list(DeadLetterQuery.all())).extracting(DeadLetter::id).containsExactly(d.id());
      assertThat(s.remove(d.id())).isTrue();
      assertThat(s.remove(d.id())).isFalse();
      assertThat(s.get(d.id())).isEmpty();
      assertThat(s.count()).isZero();
    }
  }

  @Test
  void listIsNewestFirstAndFiltered() {
    try (RedisBackend b = RedisTestSupport.backend(prefix, Map.of())) {
      DeadLetterStore s = b.deadLetterStore().orElseThrow();
      DeadLetter a = letter("welcome-email", T0.plusSeconds(1), "HTTP 500: mail down");
      DeadLetter c = letter("signup-event", T0.plusSeconds(2), "timeout after 30000ms");
      DeadLetter e = letter("welcome-email", T0.plusSeconds(3), "HTTP 400: bad address");
      s.add(a);
      s.add(c);
      s.add(e);
      assertThat(s.list(DeadLetterQuery.all())).extracting(DeadLetter::id).containsExactly(e.id(), c.id(), a.id());
      assertThat(s.list(DeadLetterQuery.all().handler("welcome-email"))).extracting(DeadLetter::id)
          .containsExactly(e.id(), a.id());
      assertThat(s.list(DeadLetterQuery.all().since(T0.plusSeconds(2)))).extracting(DeadLetter::id)
          .containsExactly(e.id(), c.id());
      assertThat(s.list(DeadLetterQuery.all().until(T0.plusSeconds(2)))).extracting(DeadLetter::id)
          .containsExactly(c.id(), a.id());
      assertThat(s.list(DeadLetterQuery.all().errorContains("TIMEOUT"))).extracting(DeadLetter::id)
          .containsExactly(c.id());
      assertThat(s.list(DeadLetterQuery.all().limit(1))).extracting(DeadLetter::id).containsExactly(e.id());
      assertThat(s.count()).isEqualTo(3);
    }
  }

  @Test
  void listingPagesThroughManyLetters() {
    try (RedisBackend b = RedisTestSupport.backend(prefix, Map.of())) {
      DeadLetterStore s = b.deadLetterStore().orElseThrow();
      for (int i = 0; i < 450; i++) {
        s.add(letter(i % 10 == 0 ? "rare" : "common", T0.plusMillis(i), "e" + i));
      }
      List<DeadLetter> rare = s.list(DeadLetterQuery.all().handler("rare").limit(1000));
      assertThat(rare).hasSize(45);
      assertThat(rare.get(0).deadLetteredAt()).isEqualTo(T0.plusMillis(440));
      assertThat(s.list(DeadLetterQuery.all().limit(1000))).hasSize(450);
    }
  }

  @Test
  void theStoreIsBoundedAndDropsTheOldest() {
    try (RedisBackend b = RedisTestSupport.backend(prefix, Map.of("dead_letter_max", 3L))) {
      RedisDeadLetterStore s = (RedisDeadLetterStore) b.deadLetterStore().orElseThrow();
      DeadLetter[] ds = new DeadLetter[5];
      for (int i = 0; i < 5; i++) {
        ds[i] = letter("h", T0.plusSeconds(i), "e" + i);
        s.add(ds[i]);
      }
      assertThat(s.count()).isEqualTo(3);
      assertThat(s.droppedCount()).isEqualTo(2);
      assertThat(s.get(ds[0].id())).isEmpty();
      assertThat(s.get(ds[1].id())).isEmpty();
      assertThat(s.list(DeadLetterQuery.all())).extracting(DeadLetter::id)
          .containsExactly(ds[4].id(), ds[3].id(), ds[2].id());
    }
  }
}

package dev.fraiseql.observers.pg;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fraiseql.observers.DeliveryOutcome;
import dev.fraiseql.observers.MutationContext;
import dev.fraiseql.observers.ObservedEvent;
import dev.fraiseql.observers.ObserverEngine;
import dev.fraiseql.observers.Operation;
import dev.fraiseql.observers.config.HandlerConfig;
import dev.fraiseql.observers.config.ObserversConfig;
import dev.fraiseql.observers.config.RetryPolicy;
import dev.fraiseql.observers.config.Settings;
import dev.fraiseql.observers.pg.internal.PgDeadLetterStore;
import dev.fraiseql.observers.pg.internal.PgIdentifier;
import dev.fraiseql.observers.spi.AttemptRecord;
import dev.fraiseql.observers.spi.DeadLetter;
import dev.fraiseql.observers.spi.DeadLetterQuery;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class PgDeadLetterStoreIT {
  static PgTestSupport pg;

  @BeforeAll
  static void setUp() {
    pg = new PgTestSupport();
  }

  @AfterAll
  static void tearDown() {
    pg.close();
  }

  private static ObservedEvent event(String id) {
    return ObservedEvent.builder().operation(Operation.UPDATE).table("tb_post").mutation("publishPost")
        .newRow(Map.of("id", id, "status", "published", "views", 12, "tags", List.of("a", "b")))
        .oldRow(Map.of("id", id, "status", "draft"))
        .context(MutationContext.builder().userId("u-1").tenantId("t-9").requestId("req_01").build())
        .build();
  }

  @Test
  void storesListsFiltersGetsAndRemoves() {
    PgDeadLetterStore store = new PgDeadLetterStore(pg.db, PgIdentifier.parse(pg.t("dl_basic")), true);
    Instant t0 = Instant.now().truncatedTo(ChronoUnit.MICROS).minusSeconds(60);
    ObservedEvent e1 = event("p-1");
    DeadLetter a = new DeadLetter("dl-a", e1, "welcome-email", Optional.empty(), "budget spent after 2 attempts",
        List.of(new AttemptRecord(1, t0, Duration.ofMillis(12), "HTTP 503: upstream down"),
            new AttemptRecord(2, t0.plusSeconds(1), Duration.ofMillis(30), "timeout after 30000ms")), t0.plusSeconds(2));
    DeadLetter b = new DeadLetter("dl-b", event("p-2"), "signup-event", Optional.of("fraiseql.user.created"),
        "permanent: HTTP 400", List.of(new AttemptRecord(1, t0.plusSeconds(10), Duration.ofMillis(5), "HTTP 400")),
        t0.plusSeconds(10));
    DeadLetter c = new DeadLetter("dl-c", event("p-3"), "welcome-email", Optional.empty(), "shutdown", List.of(),
        t0.plusSeconds(20));
    store.add(a);
    store.add(b);
    store.add(c);
    store.add(a); // idempotent

    assertThat(store.count()).isEqualTo(3);
    assertThat(store.list(DeadLetterQuery.all())).extracting(DeadLetter::id).containsExactly("dl-c", "dl-b", "dl-a");
    DeadLetter got = store.get("dl-a").orElseThrow();
    assertThat(got).isEqualTo(a);
    assertThat(got.event()).isEqualTo(e1);
    assertThat(got.event().context().tenantId()).contains("t-9");
    assertThat(got.lastError()).isEqualTo("timeout after 30000ms");
    assertThat(store.get("dl-b").orElseThrow().subject()).contains("fraiseql.user.created");

    assertThat(store.list(DeadLetterQuery.all().handler("welcome-email"))).extracting(DeadLetter::id)
        .containsExactly("dl-c", "dl-a");
    assertThat(store.list(DeadLetterQuery.all().errorContains("UPSTREAM"))).extracting(DeadLetter::id)
        .containsExactly("dl-a");
    assertThat(store.list(DeadLetterQuery.all().errorContains("http 400"))).extracting(DeadLetter::id)
        .containsExactly("dl-b");
    assertThat(store.list(DeadLetterQuery.all().errorContains("100%_"))).isEmpty();
    assertThat(store.list(DeadLetterQuery.all().since(t0.plusSeconds(10)))).extracting(DeadLetter::id)
        .containsExactly("dl-c", "dl-b");
    assertThat(store.list(DeadLetterQuery.all().until(t0.plusSeconds(10)))).extracting(DeadLetter::id)
        .containsExactly("dl-b", "dl-a");
    assertThat(store.list(DeadLetterQuery.all().limit(1))).extracting(DeadLetter::id).containsExactly("dl-c");

    assertThat(store.remove("dl-b")).isTrue();
    assertThat(store.remove("dl-b")).isFalse();
    assertThat(store.get("dl-b")).isEmpty();
    assertThat(store.count()).isEqualTo(2);
  }

  private static ObserversConfig config(String dlTable) {
    RetryPolicy once = RetryPolicy.custom().maxAttempts(1).build();
    return ObserversConfig.builder().backend("postgres")
        .backendSettings(Settings.of("[observers]", Map.of("database_url", PgTestSupport.URL,
            "dead_letter_table", dlTable)))
        .handler(HandlerConfig.builder("charge").event("post.updated").action("handler")
            .settings(Settings.of("h", Map.of("handler", "charge"))).retry(once).build())
        .handler(HandlerConfig.builder("audit").event("post.updated").action("handler")
            .settings(Settings.of("h", Map.of("handler", "audit"))).retry(once).build())
        .build();
  }

  @Test
  void deadLettersSurviveAnEngineRestartAndReplayToOneHandler() throws Exception {
    String table = pg.t("dl_engine");
    ObservedEvent e = event("p-9");
    List<String> charged = new CopyOnWriteArrayList<>();
    List<String> audited = new CopyOnWriteArrayList<>();
    AtomicBoolean chargeUp = new AtomicBoolean(false);
    ObserverEngine.Builder first = ObserverEngine.builder().config(config(table))
        .handler("charge", ev -> {
          if (!chargeUp.get()) {
            throw new IllegalStateException("payment provider down");
          }
          charged.add(ev.id().toString());
        })
        .handler("audit", ev -> audited.add(ev.id().toString()));
    try (ObserverEngine engine = first.build()) {
      List<DeliveryOutcome> out = engine.onCommit(e).completion().toCompletableFuture().get(20, TimeUnit.SECONDS);
      assertThat(out).extracting(DeliveryOutcome::status)
          .containsExactly(DeliveryOutcome.Status.DEAD_LETTERED, DeliveryOutcome.Status.DELIVERED);
    }
    assertThat(pg.count("SELECT count(*) FROM " + table + " WHERE handler = 'charge'")).isEqualTo(1);

    chargeUp.set(true);
    try (ObserverEngine engine = ObserverEngine.builder().config(config(table))
        .handler("charge", ev -> charged.add(ev.id().toString()))
        .handler("audit", ev -> audited.add(ev.id().toString())).build()) {
      List<DeadLetter> dead = engine.deadLetters().list();
      assertThat(dead).singleElement().satisfies(d -> {
        assertThat(d.handler()).isEqualTo("charge");
        assertThat(d.event()).isEqualTo(e);
        assertThat(d.lastError()).contains("payment provider down");
      });
      DeliveryOutcome replayed = engine.deadLetters().replay(dead.get(0).id()).toCompletableFuture()
          .get(20, TimeUnit.SECONDS);
      assertThat(replayed.status()).isEqualTo(DeliveryOutcome.Status.DELIVERED);
      assertThat(charged).containsExactly(e.id().toString());
      assertThat(audited).containsExactly(e.id().toString()); // only from the first engine: not re-run
      assertThat(engine.deadLetters().count()).isZero();
    }
    assertThat(pg.count("SELECT count(*) FROM " + table)).isZero();
  }
}

package dev.fraiseql.observers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.fraiseql.observers.config.BackoffStrategy;
import dev.fraiseql.observers.config.HandlerConfig;
import dev.fraiseql.observers.config.ObserversConfig;
import dev.fraiseql.observers.config.Ordering;
import dev.fraiseql.observers.config.OverflowPolicy;
import dev.fraiseql.observers.config.RetryPolicy;
import dev.fraiseql.observers.spi.Action;
import dev.fraiseql.observers.spi.ActionContext;
import dev.fraiseql.observers.spi.ActionProvider;
import dev.fraiseql.observers.spi.ActionResult;
import dev.fraiseql.observers.spi.DeadLetter;
import dev.fraiseql.observers.spi.DeadLetterQuery;
import dev.fraiseql.observers.spi.Delivery;
import dev.fraiseql.observers.testkit.Await;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** {@code ordering = "key"}: per key in dispatch order, never overlapping, retries holding the key. */
class OrderingTest {
  private final List<ObserverEngine> engines = new ArrayList<>();
  private final ScheduledExecutorService answers = Executors.newScheduledThreadPool(2);

  @AfterEach
  void close() {
    engines.forEach(e -> e.shutdown(Duration.ofSeconds(5)));
    answers.shutdownNow();
  }

  /** {@code action = "probe"}: answers with what {@link #behaviour} says, and checks order and overlap per key. */
  private final class Probe implements ActionProvider {
    volatile Function<Delivery, CompletionStage<ActionResult>> behaviour = d -> CompletableFuture.completedFuture(ActionResult.delivered());
    final Map<Object, AtomicInteger> running = new ConcurrentHashMap<>();
    /** Per key: the seq of the last delivered event. */
    final Map<Object, Long> lastDelivered = new ConcurrentHashMap<>();
    /** Per key: every seq whose attempt started, in start order (for the dead-letter tests). */
    final Map<Object, List<Long>> started = new ConcurrentHashMap<>();
    final ConcurrentLinkedQueue<String> violations = new ConcurrentLinkedQueue<>();
    final AtomicLong attempts = new AtomicLong();
    final AtomicLong delivered = new AtomicLong();
    final Function<ObservedEvent, Object> key;

    Probe(Function<ObservedEvent, Object> key) {
      this.key = key;
    }

    @Override
    public String name() {
      return "probe";
    }

    @Override
    public Set<String> settingKeys() {
      return Set.of();
    }

    @Override
    public Action create(ActionContext context) {
      return new Action() {
        @Override
        public CompletionStage<ActionResult> execute(Delivery d) {
          attempts.incrementAndGet();
          Object k = key.apply(d.event());
          long seq = ((Number) d.event().newRow().orElseThrow().get("seq")).longValue();
          if (running.computeIfAbsent(k, x -> new AtomicInteger()).incrementAndGet() != 1) {
            violations.add("key " + k + ": seq " + seq + " started while another delivery of the key ran");
          }
          started.computeIfAbsent(k, x -> Collections.synchronizedList(new ArrayList<>())).add(seq);
          Long last = lastDelivered.get(k);
          if (last != null && seq <= last) {
            violations.add("key " + k + ": seq " + seq + " started after seq " + last + " was delivered");
          }
          CompletionStage<ActionResult> r = behaviour.apply(d);
          return r.thenApply(res -> {
            running.get(k).decrementAndGet(); // before the engine settles the attempt
            if (res.isDelivered()) {
              Long prev = lastDelivered.put(k, seq);
              if (prev != null && seq <= prev) {
                violations.add("key " + k + ": seq " + seq + " delivered after seq " + prev);
              }
              delivered.incrementAndGet();
            }
            return res;
          });
        }

        @Override
        public String describe() {
          return "ordering probe";
        }
      };
    }
  }

  private static Object orderKey(ObservedEvent e) {
    return e.newRow().orElseThrow().get("id");
  }

  private static ObservedEvent order(Object id, long seq) {
    return ObservedEvent.builder().operation(Operation.UPDATE).table("tb_order").newRow(Map.of("id", id, "seq", seq)).build();
  }

  private static RetryPolicy fastRetry(int maxAttempts) {
    return RetryPolicy.custom().maxAttempts(maxAttempts).backoff(BackoffStrategy.FIXED).initialDelay(Duration.ofMillis(1))
        .maxDelay(Duration.ofMillis(1)).jitter(0).attemptTimeout(Duration.ofSeconds(30)).build();
  }

  private ObserverEngine engine(Probe probe, HandlerConfig.Builder handler, Function<ObserversConfig.Builder, ObserversConfig.Builder> cfg) {
    ObserversConfig config = cfg.apply(ObserversConfig.builder().handler(handler.build())).build();
    ObserverEngine e = ObserverEngine.builder().config(config).action(probe).build();
    engines.add(e);
    return e;
  }

  private static HandlerConfig.Builder ordered(String name, RetryPolicy retry) {
    return HandlerConfig.builder(name).event("order.updated").action("probe").retry(retry).ordering(Ordering.KEY);
  }

  @Test
  @Timeout(60)
  void hundredThousandEventsOverAThousandKeysWithAFifthOfAttemptsFailing() {
    Probe probe = new Probe(OrderingTest::orderKey);
    probe.behaviour = d -> {
      ThreadLocalRandom rnd = ThreadLocalRandom.current();
      ActionResult r = rnd.nextInt(5) == 0 ? ActionResult.retry("HTTP 503") : ActionResult.delivered("status=200");
      if (rnd.nextInt(4) == 0) {
        // a quarter answer later, on another thread (as an HTTP client would)
        CompletableFuture<ActionResult> f = new CompletableFuture<>();
        answers.schedule(() -> f.complete(r), rnd.nextInt(200), TimeUnit.MICROSECONDS);
        return f;
      }
      return CompletableFuture.completedFuture(r);
    };
    ObserverEngine engine = engine(probe, ordered("projection", fastRetry(100)), b -> b);
    int keys = 1_000;
    int events = 100_000;
    for (int i = 0; i < events; i++) {
      int k = i % keys;
      engine.onCommit(order("order-" + k, i / keys + 1));
    }
    Await.until(Duration.ofSeconds(45), () -> probe.delivered.get() == events && engine.inFlight() == 0);
    assertThat(probe.violations).isEmpty();
    assertThat(probe.lastDelivered).hasSize(keys);
    assertThat(probe.lastDelivered.values()).containsOnly((long) events / keys);
    // every seq of every key delivered exactly once (none missing): the count and the per-key ascent say so
    assertThat(probe.delivered.get()).isEqualTo(events);
    assertThat(probe.attempts.get()).as("about a fifth of attempts failed and were retried").isGreaterThan(events * 115L / 100);
    assertThat(engine.deadLetters().count()).isZero();
  }

  @Test
  void aDeadLetteredDeliveryLetsItsKeyContinueWithTheNextEventAndLeavesOtherKeysAlone() throws Exception {
    Probe probe = new Probe(OrderingTest::orderKey);
    probe.behaviour = d -> {
      Map<String, Object> row = d.event().newRow().orElseThrow();
      boolean poison = row.get("id").equals("A") && ((Number) row.get("seq")).longValue() == 2;
      return CompletableFuture.completedFuture(poison ? ActionResult.retry("HTTP 500") : ActionResult.delivered());
    };
    ObserverEngine engine = engine(probe, ordered("projection", fastRetry(3)), b -> b);
    for (long s = 1; s <= 5; s++) {
      engine.onCommit(order("A", s));
      engine.onCommit(order("B", s));
    }
    Await.until(Duration.ofSeconds(10), () -> engine.inFlight() == 0);
    assertThat(probe.violations).isEmpty();
    assertThat(probe.started.get("A")).as("seq 2 tried 3 times, then the key went on").containsExactly(1L, 2L, 2L, 2L, 3L, 4L, 5L);
    assertThat(probe.started.get("B")).containsExactly(1L, 2L, 3L, 4L, 5L);
    List<DeadLetter> letters = engine.deadLetters().list(DeadLetterQuery.all());
    assertThat(letters).hasSize(1);
    assertThat(letters.get(0).event().newRow().orElseThrow()).containsEntry("seq", 2L);
    assertThat(letters.get(0).reason()).startsWith("budget spent after 3 attempts");

    // the receiver is fixed: replaying the letter delivers it (after whatever of key A is in flight then)
    probe.behaviour = d -> CompletableFuture.completedFuture(ActionResult.delivered());
    DeliveryOutcome o = engine.deadLetters().replay(letters.get(0).id()).toCompletableFuture().get(10, TimeUnit.SECONDS);
    assertThat(o.status()).isEqualTo(DeliveryOutcome.Status.DELIVERED);
    assertThat(engine.deadLetters().count()).isZero();
  }

  @Test
  void aStuckKeyHoldsOnlyItsOwnEventsAndTheyCountAgainstMaxInFlight() {
    Probe probe = new Probe(OrderingTest::orderKey);
    CompletableFuture<ActionResult> stuck = new CompletableFuture<>();
    probe.behaviour = d -> d.event().newRow().orElseThrow().get("id").equals("stuck") ? stuck
        : CompletableFuture.completedFuture(ActionResult.delivered());
    ObserverEngine engine = engine(probe, ordered("projection", fastRetry(3)),
        b -> b.maxInFlight(50).overflowPolicy(OverflowPolicy.REJECT));
    for (long s = 1; s <= 10; s++) {
      engine.onCommit(order("stuck", s));
    }
    // 1,000 events of other keys go through while the stuck key holds its 10 (1 running, 9 waiting)
    for (int i = 0; i < 1_000; i++) {
      engine.onCommit(order("k" + (i % 20), i / 20 + 1));
      Await.until(Duration.ofSeconds(5), () -> engine.inFlight() < 40);
    }
    Await.until(Duration.ofSeconds(10), () -> engine.inFlight() == 10);
    assertThat(probe.started.get("stuck")).containsExactly(1L);
    assertThat(probe.delivered.get()).isEqualTo(1_000);
    // the held deliveries take room: 40 more fit, the 41st is rejected
    for (long s = 11; s <= 50; s++) {
      engine.onCommit(order("stuck", s));
    }
    assertThatThrownBy(() -> engine.onCommit(order("stuck", 51))).isInstanceOf(ObserverOverloadedException.class);
    stuck.complete(ActionResult.delivered());
    Await.until(Duration.ofSeconds(10), () -> engine.inFlight() == 0);
    List<Long> expected = new ArrayList<>();
    for (long s = 1; s <= 50; s++) {
      expected.add(s);
    }
    assertThat(probe.started.get("stuck")).containsExactlyElementsOf(expected);
    assertThat(probe.violations).isEmpty();
  }

  @Test
  void closeDeadLettersTheDeliveriesStillWaitingForTheirKey() {
    Probe probe = new Probe(OrderingTest::orderKey);
    probe.behaviour = d -> new CompletableFuture<>(); // never answers
    ObserverEngine engine = engine(probe, ordered("projection", fastRetry(3)), b -> b);
    for (long s = 1; s <= 4; s++) {
      engine.onCommit(order("A", s));
    }
    Await.until(Duration.ofSeconds(5), () -> probe.attempts.get() == 1);
    CloseReport report = engine.shutdown(Duration.ofMillis(50));
    assertThat(report.deadLettered()).isEqualTo(4);
    assertThat(engine.deadLetters().count()).isEqualTo(4);
    assertThat(probe.started.get("A")).containsExactly(1L);
  }

  @Test
  void aRuleActionInheritsTheRulesOrdering() {
    String toml = "[observers]\n"
        + "[[observers.rules]]\n"
        + "table = \"tb_order\"\n"
        + "event = \"UPDATE\"\n"
        + "ordering = \"key\"\n"
        + "ordering_key = \"customer_id\"\n"
        + "[[observers.rules.actions]]\n"
        + "type = \"webhook\"\n"
        + "webhook_url = \"https://example.com/a\"\n"
        + "[[observers.rules.actions]]\n"
        + "type = \"webhook\"\n"
        + "webhook_url = \"https://example.com/b\"\n"
        + "ordering = \"none\"\n";
    ObserversConfig c = dev.fraiseql.observers.internal.config.TomlConfigLoader.load(toml, "fraiseql.toml", k -> java.util.Optional.empty());
    assertThat(c.handlers().get(0).ordering()).isEqualTo(Ordering.KEY);
    assertThat(c.handlers().get(0).orderingKey()).contains("customer_id");
    assertThat(c.handlers().get(1).ordering()).isEqualTo(Ordering.NONE);
    assertThat(c.handlers().get(1).orderingKey()).isEmpty();
  }

  @Test
  void unorderedHandlersLetARetryBeOvertaken() {
    // the default, for contrast: seq 2 is delivered while seq 1 waits for its retry
    Probe probe = new Probe(OrderingTest::orderKey);
    AtomicInteger firstAttempts = new AtomicInteger();
    probe.behaviour = d -> {
      long seq = ((Number) d.event().newRow().orElseThrow().get("seq")).longValue();
      boolean fail = seq == 1 && firstAttempts.getAndIncrement() == 0;
      return CompletableFuture.completedFuture(fail ? ActionResult.retry("HTTP 503") : ActionResult.delivered());
    };
    RetryPolicy slow = RetryPolicy.custom().maxAttempts(3).backoff(BackoffStrategy.FIXED).initialDelay(Duration.ofMillis(300))
        .maxDelay(Duration.ofMillis(300)).jitter(0).build();
    ObserverEngine engine = engine(probe, HandlerConfig.builder("projection").event("order.updated").action("probe").retry(slow), b -> b);
    engine.onCommit(order("A", 1));
    engine.onCommit(order("A", 2));
    Await.until(Duration.ofSeconds(5), () -> engine.inFlight() == 0);
    assertThat(probe.violations).isNotEmpty(); // seq 1 started again after seq 2 was delivered
  }

  @Test
  void orderingKeyFromTomlOrdersByThePathAcrossRows() {
    Probe probe = new Probe(e -> e.newRow().orElseThrow().get("customer_id"));
    List<Long> seen = Collections.synchronizedList(new ArrayList<>());
    CountDownLatch firstStarted = new CountDownLatch(1);
    CompletableFuture<ActionResult> first = new CompletableFuture<>();
    probe.behaviour = d -> {
      long seq = ((Number) d.event().newRow().orElseThrow().get("seq")).longValue();
      seen.add(seq);
      if (seq == 1) {
        firstStarted.countDown();
        return first;
      }
      return CompletableFuture.completedFuture(ActionResult.delivered());
    };
    String toml = "[observers]\n"
        + "[[observers.handlers]]\n"
        + "name = \"customer-projection\"\n"
        + "event = \"order.updated\"\n"
        + "action = \"probe\"\n"
        + "ordering = \"key\"\n"
        + "ordering_key = \"data.new.customer_id\"\n";
    ObserverEngine engine = ObserverEngine.builder().config(toml, "fraiseql.toml").action(probe).build();
    engines.add(engine);
    assertThat(engine.config().handlers().get(0).ordering()).isEqualTo(Ordering.KEY);
    assertThat(engine.config().handlers().get(0).orderingKey()).contains("data.new.customer_id");
    // two different orders of customer 7: one key, so seq 2 waits for seq 1
    engine.onCommit(ObservedEvent.builder().operation(Operation.UPDATE).table("tb_order")
        .newRow(Map.of("id", "o-1", "customer_id", 7, "seq", 1L)).build());
    engine.onCommit(ObservedEvent.builder().operation(Operation.UPDATE).table("tb_order")
        .newRow(Map.of("id", "o-2", "customer_id", 7L, "seq", 2L)).build());
    engine.onCommit(ObservedEvent.builder().operation(Operation.UPDATE).table("tb_order")
        .newRow(Map.of("id", "o-3", "customer_id", 8, "seq", 3L)).build());
    Await.until(Duration.ofSeconds(5), () -> seen.contains(3L));
    assertThat(seen).doesNotContain(2L);
    first.complete(ActionResult.delivered());
    Await.until(Duration.ofSeconds(5), () -> engine.inFlight() == 0);
    assertThat(seen).containsExactlyInAnyOrder(1L, 2L, 3L);
    assertThat(seen.indexOf(2L)).isGreaterThan(seen.indexOf(1L));
  }

  @Test
  void badOrderingValuesAreConfigErrorsWithTheirLineAndTheFix() {
    String toml = "[observers]\n"
        + "[[observers.handlers]]\n"
        + "name = \"a\"\n"
        + "event = \"order.updated\"\n"
        + "action = \"webhook\"\n"
        + "webhook_url = \"https://example.com/hook\"\n"
        + "ordering = \"keyed\"\n"
        + "[[observers.handlers]]\n"
        + "name = \"b\"\n"
        + "event = \"order.updated\"\n"
        + "action = \"webhook\"\n"
        + "webhook_url = \"https://example.com/hook\"\n"
        + "ordering_key = \"customer_id\"\n"
        + "[[observers.handlers]]\n"
        + "name = \"c\"\n"
        + "event = \"order.updated\"\n"
        + "action = \"webhook\"\n"
        + "webhook_url = \"https://example.com/hook\"\n"
        + "ordering = \"key\"\n"
        + "ordering_key = \"customer_id == 1\"\n"
        + "[[observers.subscribe]]\n"
        + "subject = \"fraiseql.order.updated\"\n"
        + "handler = \"fn_project\"\n"
        + "ordering = \"key\"\n";
    assertThatThrownBy(() -> dev.fraiseql.observers.internal.config.TomlConfigLoader.load(toml, "fraiseql.toml", k -> java.util.Optional.empty()))
        .isInstanceOf(ObserverConfigException.class)
        .hasMessageContaining("unknown ordering `keyed`")
        .hasMessageContaining("fraiseql.toml:7")
        .hasMessageContaining("key")
        .hasMessageContaining("fraiseql.toml:13")
        .hasMessageContaining("add ordering = \"key\" next to it")
        .hasMessageContaining("fraiseql.toml:20")
        .hasMessageContaining("invalid ordering_key")
        .hasMessageContaining("fraiseql.toml:24")
        .hasMessageContaining("is not supported on [[observers.subscribe]] yet");
  }
}

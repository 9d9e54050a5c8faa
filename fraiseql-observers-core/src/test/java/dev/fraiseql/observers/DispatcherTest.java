package dev.fraiseql.observers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.fraiseql.observers.config.BackoffStrategy;
import dev.fraiseql.observers.config.CheckpointStrategy;
import dev.fraiseql.observers.config.HandlerConfig;
import dev.fraiseql.observers.config.ObserversConfig;
import dev.fraiseql.observers.config.OverflowPolicy;
import dev.fraiseql.observers.config.RetryPolicy;
import dev.fraiseql.observers.spi.ActionResult;
import dev.fraiseql.observers.spi.DeadLetter;
import dev.fraiseql.observers.spi.DeadLetterQuery;
import dev.fraiseql.observers.testkit.Await;
import dev.fraiseql.observers.testkit.VirtualScheduler;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Retry budgets, dead letters, guarantees and bounds, on virtual time where timing matters. */
class DispatcherTest {
  private final VirtualScheduler time = new VirtualScheduler();
  private final ScriptedActions scripted = new ScriptedActions();
  private final List<ObserverEngine> engines = new ArrayList<>();

  @AfterEach
  void close() {
    engines.forEach(e -> e.shutdown(Duration.ZERO));
  }

  private static RetryPolicy.Builder retry(int max, BackoffStrategy backoff) {
    return RetryPolicy.custom().maxAttempts(max).backoff(backoff).initialDelay(Duration.ofSeconds(1))
        .maxDelay(Duration.ofSeconds(30)).jitter(0).attemptTimeout(Duration.ofSeconds(10));
  }

  private static HandlerConfig handler(String name, RetryPolicy retry) {
    return HandlerConfig.builder(name).event("user.created").action("scripted").retry(retry).build();
  }

  /** An engine on virtual time whose executor runs tasks on the caller. */
  private ObserverEngine virtualEngine(ObserversConfig config) {
    ObserverEngine e = ObserverEngine.builder().config(config).action(scripted).scheduler(time).executor(Runnable::run)
        .clock(time.clock()).build();
    engines.add(e);
    return e;
  }

  private ObserverEngine realEngine(ObserversConfig config) {
    ObserverEngine e = ObserverEngine.builder().config(config).action(scripted).build();
    engines.add(e);
    return e;
  }

  private static ObservedEvent userCreated() {
    return ObservedEvent.builder().operation(Operation.INSERT).table("tb_user").mutation("createUser")
        .newRow(Map.of("id", UUID.randomUUID().toString(), "email", "alice@example.com", "name", "Alice"))
        .context(MutationContext.builder().requestId("req_01HV3KQBN7").userId("u-1").build()).build();
  }

  private static List<Duration> retryDelays(VirtualScheduler time) {
    // the first schedule() is the engine's periodic timeout sweeper, made when it starts; the rest are retry delays
    return time.delays().stream().skip(1).toList();
  }

  @ParameterizedTest(name = "{0}: delays {1}")
  @CsvSource({
      "EXPONENTIAL, 1000;2000;4000;8000",
      "LINEAR, 1000;2000;3000;4000",
      "FIXED, 1000;1000;1000;1000"})
  void eachStrategyWaitsItsDelaysAndCountsEveryAttempt(BackoffStrategy strategy, String expected) {
    scripted.script("welcome-email", ActionResult.retry("HTTP 503"));
    ObserverEngine engine = virtualEngine(ObserversConfig.builder()
        .handler(handler("welcome-email", retry(5, strategy).build())).build());
    Dispatch d = engine.onCommit(userCreated());
    assertThat(scripted.attempts("welcome-email")).containsExactly(1);
    time.advance(Duration.ofMinutes(5));
    assertThat(scripted.attempts("welcome-email")).containsExactly(1, 2, 3, 4, 5);
    List<Duration> want = java.util.Arrays.stream(expected.split(";")).map(s -> Duration.ofMillis(Long.parseLong(s))).toList();
    assertThat(retryDelays(time)).isEqualTo(want);
    DeliveryOutcome o = d.completion().toCompletableFuture().join().get(0);
    assertThat(o.status()).isEqualTo(DeliveryOutcome.Status.DEAD_LETTERED);
    assertThat(o.attempts()).isEqualTo(5);
    DeadLetter letter = engine.deadLetters().list().get(0);
    assertThat(letter.attempts()).hasSize(5);
    assertThat(letter.reason()).isEqualTo("budget spent after 5 attempts: HTTP 503");
  }

  @Test
  void exponentialDelaysAreCappedAtTheMaximum() {
    scripted.script("h", ActionResult.retry("down"));
    virtualEngine(ObserversConfig.builder().handler(handler("h",
        retry(6, BackoffStrategy.EXPONENTIAL).maxDelay(Duration.ofSeconds(5)).build())).build()).onCommit(userCreated());
    time.advance(Duration.ofMinutes(5));
    assertThat(retryDelays(time)).extracting(Duration::toMillis).containsExactly(1000L, 2000L, 4000L, 5000L, 5000L);
  }

  @Test
  void retryAfterIsHonouredAndCappedAtTheMaximumDelay() {
    scripted.script("h", ActionResult.retryAfter(Duration.ofSeconds(7), "HTTP 429"),
        ActionResult.retryAfter(Duration.ofHours(2), "HTTP 503"), ActionResult.delivered("status=200"));
    Dispatch d = virtualEngine(ObserversConfig.builder().handler(handler("h", retry(5, BackoffStrategy.EXPONENTIAL).build())).build())
        .onCommit(userCreated());
    time.advance(Duration.ofSeconds(6));
    assertThat(scripted.attempts("h")).containsExactly(1);
    time.advance(Duration.ofSeconds(1));
    assertThat(scripted.attempts("h")).containsExactly(1, 2);
    time.advance(Duration.ofSeconds(29));
    assertThat(scripted.attempts("h")).containsExactly(1, 2);
    time.advance(Duration.ofSeconds(1));
    assertThat(scripted.attempts("h")).containsExactly(1, 2, 3);
    assertThat(retryDelays(time)).extracting(Duration::toSeconds).containsExactly(7L, 30L);
    assertThat(d.completion().toCompletableFuture().join().get(0).status()).isEqualTo(DeliveryOutcome.Status.DELIVERED);
  }

  @Test
  void aPermanentFailureGoesStraightToDeadLetters() {
    scripted.script("h", ActionResult.failed("HTTP 400: bad request"));
    ObserverEngine engine = virtualEngine(ObserversConfig.builder().handler(handler("h", retry(5, BackoffStrategy.FIXED).build())).build());
    ObservedEvent e = userCreated();
    Dispatch d = engine.onCommit(e);
    assertThat(scripted.attempts("h")).containsExactly(1);
    DeliveryOutcome o = d.completion().toCompletableFuture().join().get(0);
    assertThat(o.status()).isEqualTo(DeliveryOutcome.Status.DEAD_LETTERED);
    assertThat(o.attempts()).isEqualTo(1);
    DeadLetter letter = engine.deadLetters().list().get(0);
    assertThat(letter.reason()).isEqualTo("permanent failure: HTTP 400: bad request");
    assertThat(letter.event()).isEqualTo(e);
    assertThat(letter.handler()).isEqualTo("h");
    assertThat(letter.attempts()).singleElement().satisfies(a -> assertThat(a.outcome()).contains("HTTP 400"));
    assertThat(time.pending()).as("nothing scheduled but the timeout sweeper").isEqualTo(1);
  }

  @Test
  void anExceptionIsRetryableUnlessItIsPermanent() {
    scripted.behave("h", d -> {
      throw d.attempt() == 1 ? new IllegalStateException("connection reset")
          : new dev.fraiseql.observers.spi.PermanentFailureException("schema mismatch");
    });
    ObserverEngine engine = virtualEngine(ObserversConfig.builder().handler(handler("h", retry(5, BackoffStrategy.FIXED).build())).build());
    engine.onCommit(userCreated());
    time.advance(Duration.ofSeconds(1));
    assertThat(scripted.attempts("h")).containsExactly(1, 2);
    DeadLetter letter = engine.deadLetters().list().get(0);
    assertThat(letter.attempts()).extracting(a -> a.outcome()).containsExactly(
        "Retry(IllegalStateException: connection reset)", "Failed(PermanentFailureException: schema mismatch)");
  }

  @Test
  void anAttemptThatHangsTimesOutAndIsRetried() {
    AtomicInteger calls = new AtomicInteger();
    scripted.behave("h", d -> calls.incrementAndGet() == 1 ? new CompletableFuture<>()
        : CompletableFuture.completedFuture(ActionResult.delivered("status=200")));
    Dispatch d = virtualEngine(ObserversConfig.builder().handler(handler("h",
        retry(3, BackoffStrategy.FIXED).attemptTimeout(Duration.ofSeconds(2)).build())).build()).onCommit(userCreated());
    time.advance(Duration.ofSeconds(2));
    assertThat(calls.get()).isEqualTo(1);
    time.advance(Duration.ofSeconds(1));
    assertThat(calls.get()).isEqualTo(2);
    DeliveryOutcome o = d.completion().toCompletableFuture().join().get(0);
    assertThat(o.status()).isEqualTo(DeliveryOutcome.Status.DELIVERED);
    assertThat(o.attempts()).isEqualTo(2);
  }

  @Test
  void handlersHaveTheirOwnBudgetsAndStartInDefinitionOrder() {
    List<String> order = Collections.synchronizedList(new ArrayList<>());
    scripted.behave("welcome-email", d -> {
      order.add("welcome-email#" + d.attempt());
      return CompletableFuture.completedFuture(ActionResult.retry("smtp down"));
    });
    scripted.behave("signup-event", d -> {
      order.add("signup-event#" + d.attempt());
      return CompletableFuture.completedFuture(ActionResult.retry("bus down"));
    });
    ObserverEngine engine = virtualEngine(ObserversConfig.builder()
        .handler(handler("welcome-email", retry(3, BackoffStrategy.EXPONENTIAL).build()))
        .handler(handler("signup-event", retry(5, BackoffStrategy.EXPONENTIAL).build())).build());
    Dispatch d = engine.onCommit(userCreated());
    assertThat(d.matched()).containsExactly("welcome-email", "signup-event");
    assertThat(order).containsExactly("welcome-email#1", "signup-event#1");
    time.advance(Duration.ofMinutes(5));
    assertThat(scripted.attempts("welcome-email")).hasSize(3);
    assertThat(scripted.attempts("signup-event")).hasSize(5);
    assertThat(engine.deadLetters().list()).extracting(DeadLetter::handler).containsExactly("signup-event", "welcome-email");
  }

  @Test
  void aSlowOrFailingHandlerDoesNotDelayAnother() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    scripted.behave("slow", d -> {
      try {
        release.await(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return CompletableFuture.completedFuture(ActionResult.delivered());
    });
    scripted.script("failing", ActionResult.retry("down"));
    ObserverEngine engine = realEngine(ObserversConfig.builder()
        .handler(handler("slow", retry(1, BackoffStrategy.FIXED).build()))
        .handler(handler("failing", retry(3, BackoffStrategy.FIXED).initialDelay(Duration.ofMillis(50)).maxDelay(Duration.ofMillis(50)).build()))
        .handler(handler("fast", retry(1, BackoffStrategy.FIXED).build())).build());
    long t0 = System.nanoTime();
    Dispatch d = engine.onCommit(userCreated());
    assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofMillis(500));
    // fast and failing end while slow is still held by the latch: neither waited for it
    Await.until(Duration.ofSeconds(15), () -> scripted.seen("fast").size() == 1 && engine.deadLetters().count() == 1);
    assertThat(release.getCount()).isEqualTo(1);
    assertThat(d.completion().toCompletableFuture().isDone()).isFalse();
    release.countDown();
    List<DeliveryOutcome> outcomes = d.completion().toCompletableFuture().get(5, TimeUnit.SECONDS);
    assertThat(outcomes).extracting(DeliveryOutcome::status).containsExactly(DeliveryOutcome.Status.DELIVERED,
        DeliveryOutcome.Status.DEAD_LETTERED, DeliveryOutcome.Status.DELIVERED);
  }

  @Test
  void synchronousHandlersAreAwaitedAndTheirFailuresComeBackAsWarnings() {
    scripted.behave("create-stripe-customer", d -> new CompletableFuture<>());
    scripted.script("audit", ActionResult.failed("HTTP 422: invalid"));
    ObserverEngine engine = realEngine(ObserversConfig.builder()
        .handler(HandlerConfig.builder("create-stripe-customer").event("user.created").action("scripted").synchronous(true)
            .synchronousTimeout(Duration.ofMillis(200)).retry(retry(1, BackoffStrategy.FIXED).build()).build())
        .handler(HandlerConfig.builder("audit").event("user.created").action("scripted").synchronous(true)
            .retry(retry(1, BackoffStrategy.FIXED).build()).build())
        .handler(handler("async-ok", retry(1, BackoffStrategy.FIXED).build())).build());
    long t0 = System.nanoTime();
    SynchronousResult r = engine.onCommit(userCreated()).awaitSynchronous();
    assertThat(Duration.ofNanos(System.nanoTime() - t0)).isBetween(Duration.ofMillis(150), Duration.ofSeconds(15));
    assertThat(r.warnings()).containsExactly("create-stripe-customer: timed out after 200ms (still running)",
        "audit: permanent failure: HTTP 422: invalid");
    Map<String, String> headers = new java.util.HashMap<>();
    ObserverWarnings.applyTo(r, headers::put);
    assertThat(headers).containsOnlyKeys("X-FraiseQL-Observer-Warning");
    assertThat(headers.get(ObserverWarnings.HEADER)).isEqualTo(
        "create-stripe-customer: timed out after 200ms (still running); audit: permanent failure: HTTP 422: invalid");
  }

  @Test
  void noWarningHeaderWhenSynchronousHandlersSucceed() {
    ObserverEngine engine = realEngine(ObserversConfig.builder()
        .handler(HandlerConfig.builder("sync").event("user.created").action("scripted").synchronous(true).build()).build());
    SynchronousResult r = engine.onCommit(userCreated()).awaitSynchronous();
    assertThat(r.hasWarnings()).isFalse();
    assertThat(r.outcomes()).extracting(DeliveryOutcome::status).containsExactly(DeliveryOutcome.Status.DELIVERED);
    Map<String, String> headers = new java.util.HashMap<>();
    ObserverWarnings.applyTo(r, headers::put);
    assertThat(headers).isEmpty();
  }

  @Test
  void effectivelyOnceRunsEachHandlerOnceUnderConcurrentDuplicates() throws Exception {
    AtomicInteger runs = new AtomicInteger();
    scripted.behave("billing", d -> {
      runs.incrementAndGet();
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return CompletableFuture.completedFuture(ActionResult.delivered());
    });
    ObserverEngine engine = realEngine(ObserversConfig.builder().checkpointStrategy(CheckpointStrategy.EFFECTIVELY_ONCE)
        .handler(HandlerConfig.builder("billing").event("user.created").action("scripted")
            .retry(RetryPolicy.custom().maxAttempts(10).initialDelay(Duration.ofMillis(20)).maxDelay(Duration.ofMillis(50)).build())
            .build()).build());
    ObservedEvent e = userCreated();
    ExecutorService pool = Executors.newFixedThreadPool(8);
    List<Dispatch> dispatches = Collections.synchronizedList(new ArrayList<>());
    CountDownLatch go = new CountDownLatch(1);
    for (int i = 0; i < 32; i++) {
      pool.submit(() -> {
        go.await();
        dispatches.add(engine.onCommit(e));
        return null;
      });
    }
    go.countDown();
    pool.shutdown();
    assertThat(pool.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
    List<DeliveryOutcome.Status> statuses = new ArrayList<>();
    for (Dispatch d : dispatches) {
      statuses.add(d.completion().toCompletableFuture().get(10, TimeUnit.SECONDS).get(0).status());
    }
    assertThat(runs.get()).isEqualTo(1);
    assertThat(statuses).filteredOn(s -> s == DeliveryOutcome.Status.DELIVERED).hasSize(1);
    assertThat(statuses).filteredOn(s -> s == DeliveryOutcome.Status.DUPLICATE).hasSize(31);
    assertThat(engine.deadLetters().count()).isZero();
  }

  @Test
  void underEffectivelyOnceAFailedDeliveryIsRetriedNotSkipped() {
    scripted.script("billing", ActionResult.retry("ledger down"), ActionResult.delivered("ok"));
    ObserverEngine engine = virtualEngine(ObserversConfig.builder().checkpointStrategy(CheckpointStrategy.EFFECTIVELY_ONCE)
        .handler(handler("billing", retry(3, BackoffStrategy.FIXED).build()).toBuilder().event("user.created").build()).build());
    ObservedEvent e = userCreated();
    Dispatch first = engine.onCommit(e);
    time.advance(Duration.ofSeconds(1));
    assertThat(first.completion().toCompletableFuture().join().get(0).status()).isEqualTo(DeliveryOutcome.Status.DELIVERED);
    assertThat(scripted.attempts("billing")).containsExactly(1, 2);
    Dispatch again = engine.onCommit(e);
    assertThat(again.completion().toCompletableFuture().join().get(0).status()).isEqualTo(DeliveryOutcome.Status.DUPLICATE);
    assertThat(scripted.attempts("billing")).containsExactly(1, 2);
  }

  @Test
  void replayDeliversToTheOneHandlerThatFailed() throws Exception {
    scripted.script("welcome-email", ActionResult.failed("HTTP 400"), ActionResult.delivered("status=200"));
    ObserverEngine engine = virtualEngine(ObserversConfig.builder()
        .handler(handler("welcome-email", retry(1, BackoffStrategy.FIXED).build()))
        .handler(handler("signup-event", retry(1, BackoffStrategy.FIXED).build())).build());
    ObservedEvent e = userCreated();
    engine.onCommit(e);
    assertThat(scripted.seen("signup-event")).hasSize(1);
    DeadLetter letter = engine.deadLetters().list(DeadLetterQuery.all().handler("welcome-email")).get(0);
    DeliveryOutcome o = engine.deadLetters().replay(letter.id()).toCompletableFuture().get(1, TimeUnit.SECONDS);
    assertThat(o.status()).isEqualTo(DeliveryOutcome.Status.DELIVERED);
    assertThat(scripted.seen("welcome-email")).hasSize(2);
    assertThat(scripted.seen("welcome-email").get(1).event()).isEqualTo(e);
    assertThat(scripted.seen("welcome-email").get(1).attempt()).as("a fresh budget").isEqualTo(1);
    assertThat(scripted.seen("signup-event")).as("replay goes to one handler only").hasSize(1);
    assertThat(engine.deadLetters().count()).isZero();
  }

  @Test
  void aReplayThatFailsAgainIsDeadLetteredAnewAndDiscardWorks() throws Exception {
    scripted.script("h", ActionResult.failed("HTTP 400"));
    ObserverEngine engine = virtualEngine(ObserversConfig.builder().handler(handler("h", retry(1, BackoffStrategy.FIXED).build())).build());
    engine.onCommit(userCreated());
    engine.onCommit(userCreated());
    String first = engine.deadLetters().list().get(1).id();
    DeliveryOutcome o = engine.deadLetters().replay(first).toCompletableFuture().get(1, TimeUnit.SECONDS);
    assertThat(o.status()).isEqualTo(DeliveryOutcome.Status.DEAD_LETTERED);
    assertThat(engine.deadLetters().count()).isEqualTo(2);
    assertThat(engine.deadLetters().get(first)).isEmpty();
    assertThat(engine.deadLetters().discard(DeadLetterQuery.all().errorContains("400"))).isEqualTo(2);
    assertThat(engine.deadLetters().count()).isZero();
    assertThatThrownBy(() -> engine.deadLetters().replay("nope")).isInstanceOf(java.util.NoSuchElementException.class);
  }

  @Test
  void closeWaitsThenDeadLettersAndReportsUnfinishedWork() {
    scripted.script("h", ActionResult.retry("down"));
    scripted.script("ok", ActionResult.delivered());
    ObserverEngine engine = ObserverEngine.builder().action(scripted).config(ObserversConfig.builder()
        .handler(handler("h", retry(10, BackoffStrategy.FIXED).initialDelay(Duration.ofSeconds(30)).maxDelay(Duration.ofSeconds(30)).build()))
        .handler(handler("ok", retry(1, BackoffStrategy.FIXED).build())).build()).build();
    ObservedEvent e = userCreated();
    Dispatch d = engine.onCommit(e);
    Await.until(Duration.ofSeconds(15), () -> scripted.seen("h").size() == 1 && scripted.seen("ok").size() == 1);
    Await.until(Duration.ofSeconds(15), () -> engine.inFlight() == 1);
    CloseReport report = engine.shutdown(Duration.ofMillis(200));
    assertThat(report.deadLettered()).isEqualTo(1);
    assertThat(report.unfinished()).singleElement().asString().startsWith("h ← user.created " + e.id());
    assertThat(engine.deadLetters().list()).singleElement().satisfies(l -> {
      assertThat(l.reason()).startsWith("shutdown");
      assertThat(l.attempts()).hasSize(1);
    });
    assertThat(d.completion().toCompletableFuture().join()).extracting(DeliveryOutcome::status)
        .containsExactly(DeliveryOutcome.Status.DEAD_LETTERED, DeliveryOutcome.Status.DELIVERED);
    assertThatThrownBy(() -> engine.onCommit(userCreated())).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void rejectPolicyThrowsAtTheBoundAndDispatchesNothing() {
    scripted.behave("h", d -> new CompletableFuture<>());
    ObserverEngine engine = realEngine(ObserversConfig.builder().maxInFlight(3).overflowPolicy(OverflowPolicy.REJECT)
        .handler(handler("h", retry(1, BackoffStrategy.FIXED).attemptTimeout(Duration.ofMinutes(5)).build())).build());
    for (int i = 0; i < 3; i++) {
      engine.onCommit(userCreated());
    }
    assertThat(engine.inFlight()).isEqualTo(3);
    assertThatThrownBy(() -> engine.onCommit(userCreated())).isInstanceOf(ObserverOverloadedException.class)
        .hasMessageContaining("max_in_flight=3");
    Await.until(Duration.ofSeconds(15), () -> scripted.seen("h").size() == 3);
    assertThat(engine.deadLetters().count()).isZero();
  }

  @Test
  void blockPolicyWaitsForRoomThenDeadLettersWhatFindsNone() {
    scripted.behave("h", d -> new CompletableFuture<>());
    ObserverEngine engine = realEngine(ObserversConfig.builder().maxInFlight(2).overflowPolicy(OverflowPolicy.BLOCK)
        .overflowTimeout(Duration.ofMillis(150))
        .handler(handler("h", retry(1, BackoffStrategy.FIXED).attemptTimeout(Duration.ofMinutes(5)).build())).build());
    engine.onCommit(userCreated());
    engine.onCommit(userCreated());
    long t0 = System.nanoTime();
    Dispatch third = engine.onCommit(userCreated());
    assertThat(Duration.ofNanos(System.nanoTime() - t0)).isGreaterThanOrEqualTo(Duration.ofMillis(140));
    assertThat(third.completion().toCompletableFuture().join().get(0).status()).isEqualTo(DeliveryOutcome.Status.DEAD_LETTERED);
    assertThat(engine.deadLetters().list().get(0).reason()).startsWith("overloaded: 2 deliveries in flight (max_in_flight=2");
  }

  @Test
  void aMillionCommitsAgainstASlowHandlerStayWithinTheBound() {
    // The slow handler's attempts stay pending until the loop ends; then all of them complete.
    java.util.Queue<CompletableFuture<ActionResult>> held = new java.util.concurrent.ConcurrentLinkedQueue<>();
    scripted.behave("slow", d -> {
      CompletableFuture<ActionResult> f = new CompletableFuture<>();
      held.add(f);
      return f;
    });
    ObserverEngine engine = realEngine(ObserversConfig.builder().maxInFlight(1_000).overflowPolicy(OverflowPolicy.DEAD_LETTER)
        .deadLetterCapacity(1_000)
        .handler(handler("slow", retry(1, BackoffStrategy.FIXED).attemptTimeout(Duration.ofMinutes(5)).build())).build());
    ObservedEvent template = userCreated();
    int maxSeen = 0;
    java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
    java.io.PrintStream stderr = System.err;
    System.setErr(new java.io.PrintStream(err, true, java.nio.charset.StandardCharsets.UTF_8));
    try {
      for (int i = 0; i < 1_000_000; i++) {
        engine.onCommit(template.toBuilder().id(null).build());
        if ((i & 1023) == 0) {
          maxSeen = Math.max(maxSeen, engine.inFlight());
        }
      }
      // the overload is logged as a few lines whose counts add up to every one of the 999,000 dead
      // letters (the sweeper reports the tail of the burst within a second or so), not a line each
      Await.until(Duration.ofSeconds(10), () -> overloadLines(err).total == 999_000,
          () -> "overload log lines accounting for 999,000 dead letters, got " + overloadLines(err).total);
    } finally {
      System.setErr(stderr);
    }
    assertThat(overloadLines(err).lines).as("WARN lines about overload dead letters").isBetween(1, 60);
    assertThat(maxSeen).isLessThanOrEqualTo(1_000);
    assertThat(engine.inFlight()).isEqualTo(1_000);
    assertThat(engine.deadLetters().count()).as("dead letters kept in memory are bounded too").isEqualTo(1_000);
    assertThat(held).hasSize(1_000);
    held.forEach(f -> f.complete(ActionResult.delivered()));
    Await.until(Duration.ofSeconds(20), () -> engine.inFlight() == 0);
  }

  @Test
  void attemptRecordsCarryWallClockStartsAndMeasuredDurationsWithTheSystemClock() {
    // engine time is System.nanoTime() with the system clock: the records' start times are still wall
    // clock, and a 30 ms attempt lasts about 30 ms
    scripted.behave("h", d -> {
      try {
        Thread.sleep(30);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return CompletableFuture.completedFuture(ActionResult.retry("HTTP 503"));
    });
    java.time.Instant before = java.time.Instant.now();
    ObserverEngine engine = realEngine(ObserversConfig.builder()
        .handler(handler("h", retry(2, BackoffStrategy.FIXED).initialDelay(Duration.ofMillis(50)).build())).build());
    DeliveryOutcome o = engine.onCommit(userCreated()).completion().toCompletableFuture().join().get(0);
    java.time.Instant after = java.time.Instant.now();
    assertThat(o.status()).isEqualTo(DeliveryOutcome.Status.DEAD_LETTERED);
    assertThat(o.elapsed()).isBetween(Duration.ofMillis(105), Duration.between(before, after).plusMillis(5));
    DeadLetter letter = engine.deadLetters().list().get(0);
    assertThat(letter.attempts()).hasSize(2);
    for (dev.fraiseql.observers.spi.AttemptRecord a : letter.attempts()) {
      assertThat(a.startedAt()).isBetween(before.minusMillis(5), after);
      assertThat(a.elapsed()).isBetween(Duration.ofMillis(29), Duration.ofSeconds(5));
    }
    assertThat(Duration.between(letter.attempts().get(0).startedAt(), letter.attempts().get(1).startedAt()))
        .as("the second attempt starts after the first one's 30 ms and the 50 ms backoff")
        .isGreaterThanOrEqualTo(Duration.ofMillis(75));
  }

  private record OverloadLines(int lines, long total) {}

  /** The WARN lines about overload dead letters in captured output, and how many dead letters they account for. */
  private static OverloadLines overloadLines(java.io.ByteArrayOutputStream err) {
    java.util.regex.Pattern more = java.util.regex.Pattern.compile("; (\\d+) more were dead-lettered for overload");
    java.util.regex.Pattern tail = java.util.regex.Pattern.compile("\\] (\\d+) more deliveries were dead-lettered because");
    int lines = 0;
    long total = 0;
    for (String line : err.toString(java.nio.charset.StandardCharsets.UTF_8).split("\n")) {
      if (!line.contains("WARN")) {
        continue;
      }
      if (line.contains("slow: dead-lettered event") && line.contains("(overloaded: ")) {
        lines++;
        total++;
        java.util.regex.Matcher m = more.matcher(line);
        if (m.find()) {
          total += Long.parseLong(m.group(1));
        }
      } else {
        java.util.regex.Matcher m = tail.matcher(line);
        if (m.find()) {
          lines++;
          total += Long.parseLong(m.group(1));
        }
      }
    }
    return new OverloadLines(lines, total);
  }

  @Test
  void aDuplicateArrivingWhileTheOriginalRunsWaitsWithoutSpendingItsBudget() {
    CompletableFuture<ActionResult> original = new CompletableFuture<>();
    scripted.behave("billing", d -> original);
    ObserverEngine engine = virtualEngine(ObserversConfig.builder().checkpointStrategy(CheckpointStrategy.EFFECTIVELY_ONCE)
        .handler(handler("billing", retry(2, BackoffStrategy.FIXED).attemptTimeout(Duration.ofHours(1)).build())).build());
    ObservedEvent e = userCreated();
    Dispatch first = engine.onCommit(e);
    Dispatch duplicate = engine.onCommit(e);
    time.advance(Duration.ofMinutes(4)); // many "busy" checks, well past a 2-attempt budget, within the claim TTL
    assertThat(duplicate.completion().toCompletableFuture().isDone()).isFalse();
    assertThat(engine.deadLetters().count()).isZero();
    assertThat(scripted.seen("billing")).hasSize(1);
    original.complete(ActionResult.delivered("ok"));
    time.advance(Duration.ofSeconds(2));
    assertThat(first.completion().toCompletableFuture().join().get(0).status()).isEqualTo(DeliveryOutcome.Status.DELIVERED);
    assertThat(duplicate.completion().toCompletableFuture().join().get(0).status()).isEqualTo(DeliveryOutcome.Status.DUPLICATE);
    assertThat(scripted.seen("billing")).hasSize(1);
  }

  @Test
  void closeDeadLettersDeliveriesStillQueuedBehindBlockedWorkersAndCountsThemOut() throws Exception {
    // every worker of the engine's own pool is blocked; the deliveries behind them wait in its queue,
    // not yet tracked by a worker: close() must still find, dead-letter and report each of them
    CountDownLatch stuck = new CountDownLatch(1);
    AtomicInteger started = new AtomicInteger();
    int workers = Math.max(8, 4 * Runtime.getRuntime().availableProcessors());
    int events = workers + 5;
    ObserverEngine engine = ObserverEngine.builder().config(ObserversConfig.builder()
        .handler(HandlerConfig.builder("reserve").event("user.created").action("handler")
            .settings(dev.fraiseql.observers.config.Settings.of("handler", Map.of("handler", "reserve")))
            .retry(retry(1, BackoffStrategy.FIXED).attemptTimeout(Duration.ofMinutes(5)).build()).build()).build())
        .handler("reserve", e -> {
          started.incrementAndGet();
          stuck.await(30, TimeUnit.SECONDS);
        }).build();
    engines.add(engine);
    List<Dispatch> dispatches = new ArrayList<>();
    for (int i = 0; i < events; i++) {
      dispatches.add(engine.onCommit(userCreated()));
    }
    try {
      Await.until(Duration.ofSeconds(10), () -> started.get() == workers);
      assertThat(engine.inFlight()).isEqualTo(events);
      CloseReport report = engine.shutdown(Duration.ofMillis(200));
      assertThat(report.deadLettered()).as(report.toString()).isEqualTo(events);
      assertThat(engine.inFlight()).isZero();
      assertThat(engine.deadLetters().count()).isEqualTo(events);
      for (Dispatch d : dispatches) {
        DeliveryOutcome o = d.completion().toCompletableFuture().get(5, TimeUnit.SECONDS).get(0);
        assertThat(o.status()).isEqualTo(DeliveryOutcome.Status.DEAD_LETTERED);
        assertThat(o.detail()).startsWith("shutdown");
      }
      assertThat(started.get()).as("the queued ones never ran").isEqualTo(workers);
    } finally {
      stuck.countDown();
    }
  }

  @Test
  void aBlockingJavaHandlerThatHangsTimesOutAndTheRetryRunsOnAnotherThread() throws Exception {
    CountDownLatch stuck = new CountDownLatch(1);
    AtomicInteger calls = new AtomicInteger();
    ObserverEngine engine = ObserverEngine.builder().config(ObserversConfig.builder()
        .handler(HandlerConfig.builder("reserve").event("user.created").action("handler")
            .settings(dev.fraiseql.observers.config.Settings.of("handler", Map.of("handler", "reserve")))
            .retry(retry(2, BackoffStrategy.FIXED).initialDelay(Duration.ofMillis(50)).maxDelay(Duration.ofMillis(50))
                .attemptTimeout(Duration.ofMillis(300)).build()).build()).build())
        .handler("reserve", e -> {
          if (calls.incrementAndGet() == 1) {
            stuck.await(30, TimeUnit.SECONDS); // hangs, holding its thread
          }
        }).build();
    engines.add(engine);
    Dispatch d = engine.onCommit(userCreated());
    DeliveryOutcome o = d.completion().toCompletableFuture().get(10, TimeUnit.SECONDS).get(0);
    assertThat(o.status()).isEqualTo(DeliveryOutcome.Status.DELIVERED);
    assertThat(o.attempts()).isEqualTo(2);
    assertThat(stuck.getCount()).as("the first attempt is still blocked").isEqualTo(1);
    stuck.countDown();
  }

  @Test
  void anAsyncDeliveredAnswerEndsOnTheAnsweringThreadAndAnythingElseGoesBackToTheExecutor() throws Exception {
    // counts what the engine hands its executor after each answer; the answers are completed here,
    // on the test thread, the way an HTTP client completes them on its own thread
    AtomicInteger tasks = new AtomicInteger();
    java.util.concurrent.Semaphore ran = new java.util.concurrent.Semaphore(0);
    ExecutorService pool = Executors.newFixedThreadPool(2);
    java.util.concurrent.BlockingQueue<CompletableFuture<ActionResult>> answers =
        new java.util.concurrent.LinkedBlockingQueue<>();
    try {
      ObserverEngine engine = ObserverEngine.builder()
          .config(ObserversConfig.builder()
              .handler(handler("h", retry(2, BackoffStrategy.FIXED).initialDelay(Duration.ofMillis(50)).build()))
              .build())
          .action(scripted).executor(command -> {
            tasks.incrementAndGet();
            pool.execute(() -> {
              command.run();
              ran.release();
            });
          }).build();
      engines.add(engine);
      scripted.behave("h", d -> {
        CompletableFuture<ActionResult> f = new CompletableFuture<>();
        answers.add(f);
        return f;
      });

      engine.onCommit(userCreated());
      CompletableFuture<ActionResult> first = answers.poll(10, TimeUnit.SECONDS);
      assertThat(first).as("first attempt started").isNotNull();
      // answer only once the attempt's task has returned (it is then waiting on the future; an answer
      // already there when it looks is settled on the worker, which is not what this test is about)
      assertThat(ran.tryAcquire(10, TimeUnit.SECONDS)).isTrue();
      tasks.set(0);
      first.complete(ActionResult.retry("HTTP 503"));
      CompletableFuture<ActionResult> second = answers.poll(10, TimeUnit.SECONDS);
      assertThat(second).as("retry started").isNotNull();
      assertThat(ran.tryAcquire(2, 10, TimeUnit.SECONDS)).as("the hop and the retry's task returned").isTrue();
      // a retry is scheduled from the executor, never from the thread that answered: one task for
      // the hop and one for the retry's dispatch
      assertThat(tasks.get()).isEqualTo(2);
      tasks.set(0);
      second.complete(ActionResult.delivered("status=200"));
      Await.until(Duration.ofSeconds(5), () -> engine.inFlight() == 0);
      assertThat(scripted.attempts("h")).containsExactly(1, 2);
      // the delivered end ran on the answering thread: nothing more went to the executor
      assertThat(tasks.get()).isZero();
    } finally {
      pool.shutdownNow();
    }
  }
}

package dev.fraiseql.observers;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fraiseql.observers.config.BackoffStrategy;
import dev.fraiseql.observers.config.HandlerConfig;
import dev.fraiseql.observers.config.ObserversConfig;
import dev.fraiseql.observers.config.RetryPolicy;
import dev.fraiseql.observers.spi.ActionResult;
import dev.fraiseql.observers.spi.Delivery;
import dev.fraiseql.observers.testkit.CapturedStderr;
import dev.fraiseql.observers.testkit.VirtualScheduler;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * An action that waits locally before its I/O (Delivery.markQueued / markStarted): the wait is not
 * timed and spends nothing, the timeout counts from the start, and an attempt the engine gave up on
 * cannot be started; on virtual time.
 */
class AttemptControlTest {
  private final VirtualScheduler time = new VirtualScheduler();
  private final ScriptedActions scripted = new ScriptedActions();
  private final List<ObserverEngine> engines = new ArrayList<>();

  @AfterEach
  void close() {
    engines.forEach(e -> e.shutdown(Duration.ZERO));
  }

  private ObserverEngine engine(int maxAttempts, Duration timeout) {
    return engine(maxAttempts, timeout, new ObserverListener() { });
  }

  private ObserverEngine engine(int maxAttempts, Duration timeout, ObserverListener listener) {
    RetryPolicy retry = RetryPolicy.custom().maxAttempts(maxAttempts).backoff(BackoffStrategy.FIXED)
        .initialDelay(Duration.ofSeconds(1)).jitter(0).attemptTimeout(timeout).build();
    ObserverEngine e = ObserverEngine.builder()
        .config(ObserversConfig.builder().handler(HandlerConfig.builder("h").event("user.created").action("scripted")
            .retry(retry).build()).build())
        .action(scripted).listener(listener).scheduler(time).executor(Runnable::run).clock(time.clock()).build();
    engines.add(e);
    return e;
  }

  private static ObservedEvent userCreated() {
    return ObservedEvent.builder().operation(Operation.INSERT).table("tb_user").mutation("createUser")
        .newRow(Map.of("id", UUID.randomUUID().toString())).build();
  }

  @Test
  void aQueuedAttemptIsNotTimedAndItsTimeoutCountsFromTheStart() {
    List<Delivery> attempts = new CopyOnWriteArrayList<>();
    List<CompletableFuture<ActionResult>> stages = new CopyOnWriteArrayList<>();
    scripted.behave("h", d -> {
      attempts.add(d);
      assertThat(d.markQueued()).isTrue();
      CompletableFuture<ActionResult> f = new CompletableFuture<>();
      stages.add(f);
      return f;
    });
    Dispatch dispatch = engine(3, Duration.ofSeconds(2)).onCommit(userCreated());
    time.advance(Duration.ofMinutes(10)); // five times the timeout, and more, waiting locally
    assertThat(attempts).hasSize(1);
    assertThat(attempts.get(0).isAbandoned()).isFalse();
    assertThat(dispatch.completion().toCompletableFuture()).isNotDone();

    assertThat(attempts.get(0).markStarted()).isTrue(); // the I/O begins: 2 s from now
    time.advance(Duration.ofMillis(1800));
    assertThat(attempts.get(0).isAbandoned()).isFalse();
    time.advance(Duration.ofMillis(400));
    assertThat(attempts.get(0).isAbandoned()).as("timed out 2 s after its start").isTrue();
    assertThat(attempts.get(0).markStarted()).as("a timed-out attempt cannot start again").isFalse();
    assertThat(attempts.get(0).markQueued()).isFalse();

    time.advance(Duration.ofSeconds(1)); // the fixed backoff: attempt 2, which answers at once
    assertThat(attempts).hasSize(2);
    assertThat(attempts.get(1).attempt()).isEqualTo(2);
    assertThat(attempts.get(1).markStarted()).isTrue();
    stages.get(0).complete(ActionResult.delivered("late answer of attempt 1: ignored"));
    assertThat(dispatch.completion().toCompletableFuture()).isNotDone();
    stages.get(1).complete(ActionResult.delivered("status=200"));
    DeliveryOutcome o = dispatch.completion().toCompletableFuture().join().get(0);
    assertThat(o.status()).isEqualTo(DeliveryOutcome.Status.DELIVERED);
    assertThat(o.attempts()).isEqualTo(2);
    assertThat(o.detail()).isEqualTo("status=200");
  }

  @Test
  void theAbandonHookRunsOnceWhenTheAttemptTimesOutAndNotWhenItAnswers() {
    AtomicInteger hooks = new AtomicInteger();
    AtomicInteger calls = new AtomicInteger();
    scripted.behave("h", d -> {
      d.onAbandoned(hooks::incrementAndGet);
      assertThat(d.markStarted()).isTrue();
      return calls.incrementAndGet() == 1 ? new CompletableFuture<>()
          : CompletableFuture.completedFuture(ActionResult.delivered("status=200"));
    });
    Dispatch dispatch = engine(3, Duration.ofSeconds(2)).onCommit(userCreated());
    time.advance(Duration.ofSeconds(2));
    assertThat(hooks.get()).isEqualTo(1);
    time.advance(Duration.ofSeconds(1));
    assertThat(dispatch.completion().toCompletableFuture().join().get(0).status()).isEqualTo(DeliveryOutcome.Status.DELIVERED);
    time.advance(Duration.ofMinutes(1));
    assertThat(hooks.get()).as("the delivered attempt's hook never runs").isEqualTo(1);
  }

  @Test
  void closingTheEngineAbandonsAWaitingAttempt() {
    List<Delivery> attempts = new CopyOnWriteArrayList<>();
    AtomicInteger hooks = new AtomicInteger();
    scripted.behave("h", d -> {
      attempts.add(d);
      d.onAbandoned(hooks::incrementAndGet);
      d.markQueued();
      return new CompletableFuture<>();
    });
    ObserverEngine engine = engine(3, Duration.ofSeconds(2));
    Dispatch dispatch = engine.onCommit(userCreated());
    time.advance(Duration.ofMinutes(1));
    CloseReport report = engine.shutdown(Duration.ZERO);
    assertThat(report.deadLettered()).isEqualTo(1);
    assertThat(hooks.get()).isEqualTo(1);
    assertThat(attempts.get(0).isAbandoned()).isTrue();
    assertThat(attempts.get(0).markStarted()).as("never sent after the engine gave up on it").isFalse();
    assertThat(dispatch.completion().toCompletableFuture().join().get(0).status())
        .isEqualTo(DeliveryOutcome.Status.DEAD_LETTERED);
  }

  @Test
  void aDeliveryBuiltByHandHasNoEngineBehindIt() {
    Delivery d = new Delivery(userCreated(), "h", 1);
    AtomicInteger hooks = new AtomicInteger();
    d.onAbandoned(hooks::incrementAndGet);
    assertThat(d.markQueued()).isTrue();
    assertThat(d.markStarted()).isTrue();
    assertThat(d.isAbandoned()).isFalse();
    assertThat(hooks.get()).isZero();
  }

  @Test
  void thousandsOfFailedAttemptsWriteAFewWarnLines() throws Exception {
    scripted.behave("h", d -> CompletableFuture.completedFuture(
        d.attempt() < 3 ? ActionResult.retry("HTTP 503") : ActionResult.delivered("status=200")));
    long start = System.nanoTime();
    String err = CapturedStderr.during(() -> {
      ObserverEngine engine = engine(3, Duration.ofSeconds(2));
      List<CompletableFuture<?>> done = new ArrayList<>();
      for (int i = 0; i < 2_000; i++) {
        done.add(engine.onCommit(userCreated()).completion().toCompletableFuture());
      }
      time.advance(Duration.ofSeconds(5));
      CompletableFuture.allOf(done.toArray(new CompletableFuture<?>[0])).join();
    });
    long seconds = Duration.ofNanos(System.nanoTime() - start).toSeconds();
    long lines = err.lines().filter(l -> l.contains("WARN") && l.contains("h: attempt ")).count();
    // 4,000 failed attempts: one line per (real) second at most, not one per attempt
    assertThat(lines).as("WARN lines in %ds", seconds).isBetween(1L, seconds + 2);
    assertThat(err).contains("h: attempt 1/3 failed in 0ms (HTTP 503); retrying in 1000ms");
  }

  @Test
  void listenersSeeEachLocalWaitStartAndEndOnceWithItsDurationAndWhetherItWasAbandoned() {
    List<String> seen = new CopyOnWriteArrayList<>();
    ObserverListener l = new ObserverListener() {
      @Override
      public void attemptQueued(ObservedEvent event, String handler, int attempt) {
        seen.add("queued " + handler + " #" + attempt);
      }

      @Override
      public void attemptDequeued(ObservedEvent event, String handler, int attempt, Duration waited, boolean abandoned) {
        seen.add((abandoned ? "abandoned" : "started") + " #" + attempt + " after " + waited.toMillis() + "ms");
      }

      @Override
      public void attemptFinished(ObservedEvent event, String handler, int attempt, ActionResult result, Duration elapsed) {
        seen.add("finished #" + attempt + " " + result.detail());
      }
    };
    List<Delivery> attempts = new CopyOnWriteArrayList<>();
    List<CompletableFuture<ActionResult>> stages = new CopyOnWriteArrayList<>();
    scripted.behave("h", d -> {
      attempts.add(d);
      CompletableFuture<ActionResult> f = new CompletableFuture<>();
      stages.add(f);
      if (d.attempt() < 3) {
        assertThat(d.markQueued()).isTrue();
      }
      return f;
    });
    Dispatch dispatch = engine(3, Duration.ofSeconds(2), l).onCommit(userCreated());
    assertThat(seen).containsExactly("queued h #1");
    time.advance(Duration.ofSeconds(30));
    // attempt 1 leaves the action's queue unsent (its queue bound): abandoned, then finished
    stages.get(0).complete(ActionResult.retry("no free slot"));
    assertThat(seen).containsExactly("queued h #1", "abandoned #1 after 30000ms", "finished #1 no free slot");
    time.advance(Duration.ofSeconds(1));
    time.advance(Duration.ofMillis(500));
    assertThat(attempts.get(1).markStarted()).isTrue();
    assertThat(attempts.get(1).markStarted()).as("started once: no second report").isTrue();
    stages.get(1).complete(ActionResult.retry("HTTP 503"));
    time.advance(Duration.ofSeconds(1));
    stages.get(2).complete(ActionResult.delivered("status=200")); // attempt 3 never waited: no queue report
    assertThat(dispatch.completion().toCompletableFuture().join().get(0).status()).isEqualTo(DeliveryOutcome.Status.DELIVERED);
    assertThat(seen).containsExactly("queued h #1", "abandoned #1 after 30000ms", "finished #1 no free slot",
        "queued h #2", "started #2 after 500ms", "finished #2 HTTP 503", "finished #3 status=200");
  }
}

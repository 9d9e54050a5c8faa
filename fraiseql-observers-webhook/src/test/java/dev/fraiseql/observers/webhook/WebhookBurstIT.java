package dev.fraiseql.observers.webhook;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.fraiseql.observers.CloseReport;
import dev.fraiseql.observers.DeliveryOutcome;
import dev.fraiseql.observers.MutationContext;
import dev.fraiseql.observers.ObservedEvent;
import dev.fraiseql.observers.ObserverEngine;
import dev.fraiseql.observers.ObserverListener;
import dev.fraiseql.observers.Operation;
import dev.fraiseql.observers.spi.ActionResult;
import dev.fraiseql.observers.spi.DeadLetter;
import dev.fraiseql.observers.testkit.CapturedStderr;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiFunction;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Bursts of {@code onCommit} against slow and flaky receivers (a real JDK {@link HttpServer} on
 * loopback): waiting for a free slot is not an attempt, an attempt the engine gave up on is never sent,
 * a full queue never fails an attempt, and the log stays one line per interval.
 */
class WebhookBurstIT {

  /** What the receiver does with one request. */
  enum Kind { OK, SLOW_OK, UNAVAILABLE }

  /**
   * One request as received: whose attempt, when (System.nanoTime()), how it was answered, and when the
   * answer was written (wall-clock millis, to compare with the engine's attempt records; 0 if never).
   */
  static final class Hit {
    final String eventId;
    final int attempt;
    final long receivedNanos;
    final Kind kind;
    volatile long answeredAtMillis;

    Hit(String eventId, int attempt, long receivedNanos, Kind kind) {
      this.eventId = eventId;
      this.attempt = attempt;
      this.receivedNanos = receivedNanos;
      this.kind = kind;
    }

    String eventId() {
      return eventId;
    }

    int attempt() {
      return attempt;
    }

    long receivedNanos() {
      return receivedNanos;
    }

    Kind kind() {
      return kind;
    }
  }

  /** A receiver whose answer to each request is decided by {@code script} from (event id, attempt). */
  static final class BurstReceiver implements AutoCloseable {
    final HttpServer server;
    /** Threads started up front: a handler must not wait for a thread to be created (that delays the receive time). */
    final java.util.concurrent.ThreadPoolExecutor pool = new java.util.concurrent.ThreadPoolExecutor(256, 256, 1,
        TimeUnit.MINUTES, new java.util.concurrent.LinkedBlockingQueue<>());
    final ConcurrentLinkedQueue<Hit> hits = new ConcurrentLinkedQueue<>();
    final AtomicInteger concurrent = new AtomicInteger();
    final AtomicInteger maxConcurrent = new AtomicInteger();
    final BiFunction<String, Integer, Kind> script;
    final Duration okDelay;
    final Duration slowDelay;

    BurstReceiver(BiFunction<String, Integer, Kind> script, Duration okDelay, Duration slowDelay) throws IOException {
      this.script = script;
      this.okDelay = okDelay;
      this.slowDelay = slowDelay;
      server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 4096);
      pool.prestartAllCoreThreads();
      server.setExecutor(pool);
      server.createContext("/", this::handle);
      server.start();
    }

    String url() {
      return "http://127.0.0.1:" + server.getAddress().getPort() + "/hooks/burst";
    }

    private void handle(HttpExchange x) throws IOException {
      long at = System.nanoTime();
      int now = concurrent.incrementAndGet();
      maxConcurrent.accumulateAndGet(now, Math::max);
      boolean counted = true;
      try (x; InputStream in = x.getRequestBody()) {
        in.readAllBytes();
        String eventId = x.getRequestHeaders().getFirst("Fraiseql-Event-Id");
        int attempt = Integer.parseInt(x.getRequestHeaders().getFirst("Fraiseql-Delivery-Attempt"));
        Kind kind = script.apply(eventId, attempt);
        Hit hit = new Hit(eventId, attempt, at, kind);
        hits.add(hit);
        sleep(kind == Kind.SLOW_OK ? slowDelay : okDelay);
        // out of the count before the answer leaves: the client may send its next request as soon as it sees it
        concurrent.decrementAndGet();
        counted = false;
        x.sendResponseHeaders(kind == Kind.UNAVAILABLE ? 503 : 200, -1);
        hit.answeredAtMillis = System.currentTimeMillis();
      } catch (IOException e) {
        // the client gave up on a slow answer and closed the connection: the receiver did the work anyway
      } finally {
        if (counted) {
          concurrent.decrementAndGet();
        }
      }
    }

    private static void sleep(Duration d) {
      if (!d.isZero()) {
        try {
          Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    }

    List<Hit> hits() {
      return new ArrayList<>(hits);
    }

    @Override
    public void close() {
      server.stop(0);
      pool.shutdownNow();
    }
  }

  /** Records when the engine settled each attempt (System.nanoTime() at the listener call, which follows the settling). */
  static final class Settlements implements ObserverListener {
    final Map<String, Long> at = new ConcurrentHashMap<>();
    final Map<String, String> detail = new ConcurrentHashMap<>();
    final Map<String, Long> elapsedMillis = new ConcurrentHashMap<>();

    @Override
    public void attemptFinished(ObservedEvent event, String handler, int attempt, ActionResult result, Duration elapsed) {
      String key = event.id() + "#" + attempt;
      at.put(key, System.nanoTime());
      detail.put(key, result.toString());
      elapsedMillis.put(key, elapsed.toMillis());
    }
  }

  private static String toml(String url, int maxConcurrency, int maxAttempts, int timeoutMs, String extra) {
    return "[observers]\nbackend = \"webhook\"\n\n"
        + "[[observers.handlers]]\nname = \"burst\"\nevent = \"user.created\"\naction = \"webhook\"\n"
        + "webhook_url = \"" + url + "\"\n"
        + "max_attempts = " + maxAttempts + "\nbackoff_strategy = \"exponential\"\ninitial_delay_ms = 50\n"
        + "max_delay_ms = 2000\ntimeout_ms = " + timeoutMs + "\nrequest_timeout_ms = " + timeoutMs + "\n"
        + "max_concurrency = " + maxConcurrency + "\n" + extra;
  }

  private static ObservedEvent event(int i) {
    return ObservedEvent.builder()
        .operation(Operation.INSERT)
        .table("tb_user")
        .mutation("createUser")
        .newRow(Map.of("id", "u-" + i, "email", "user" + i + "@example.com", "name", "User " + i))
        .context(MutationContext.builder().requestId("req_burst_" + i).build())
        .build();
  }

  /** Commits {@code n} events at once (as fast as onCommit returns) and waits for every outcome. */
  private static Map<String, DeliveryOutcome> burst(ObserverEngine engine, int n, Duration within) throws Exception {
    List<ObservedEvent> events = new ArrayList<>(n);
    List<CompletableFuture<List<DeliveryOutcome>>> done = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      ObservedEvent e = event(i);
      events.add(e);
      done.add(engine.onCommit(e).completion().toCompletableFuture());
    }
    CompletableFuture.allOf(done.toArray(new CompletableFuture<?>[0])).get(within.toMillis(), TimeUnit.MILLISECONDS);
    Map<String, DeliveryOutcome> out = new HashMap<>();
    for (int i = 0; i < n; i++) {
      List<DeliveryOutcome> o = done.get(i).join();
      assertThat(o).as("outcomes of event %d", i).hasSize(1);
      out.put(events.get(i).id().toString(), o.get(0));
    }
    return out;
  }

  /**
   * The issue's scenario, at full size: 5,000 events committed at once; the receiver answers 30% of
   * requests 503, 10% with 200 after 1.5 s (past the 1 s timeout), the rest 200 at once (decided per
   * (event, attempt) by a seeded hash, so a run is reproducible); max_concurrency 64, max_attempts 8,
   * exponential 50..2000 ms.
   */
  @Test
  void burstToFlakyReceiverDeadLettersOnlyWhatTheReceiverNeverDidAndSendsNothingAbandoned() throws Exception {
    int n = 5_000;
    BiFunction<String, Integer, Kind> script = (eventId, attempt) -> {
      int roll = new SplittableRandom(eventId.hashCode() * 1_000_003L + attempt).nextInt(100);
      return roll < 30 ? Kind.UNAVAILABLE : roll < 40 ? Kind.SLOW_OK : Kind.OK;
    };
    Settlements settled = new Settlements();
    Map<String, DeliveryOutcome> outcomes;
    List<DeadLetter> deadLetters;
    long t0 = System.nanoTime();
    String log;
    try (BurstReceiver rx = new BurstReceiver(script, Duration.ZERO, Duration.ofMillis(1500))) {
      Map<String, DeliveryOutcome>[] holder = new Map[1];
      List<DeadLetter>[] dl = new List[1];
      log = CapturedStderr.during(() -> {
        try (ObserverEngine engine = ObserverEngine.builder().configToml(toml(rx.url(), 64, 8, 1000, ""))
            .listener(settled).build()) {
          holder[0] = burst(engine, n, Duration.ofMinutes(4));
          dl[0] = engine.deadLetters().list(dev.fraiseql.observers.spi.DeadLetterQuery.all().limit(n));
        }
      });
      outcomes = holder[0];
      deadLetters = dl[0];
      long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0);
      // let slow answers to abandoned attempts end, then read what the receiver saw
      Thread.sleep(1_600);
      List<Hit> hits = rx.hits();

      Map<String, List<Hit>> byEvent = hits.stream().collect(Collectors.groupingBy(Hit::eventId));
      long delivered = outcomes.values().stream().filter(o -> o.status() == DeliveryOutcome.Status.DELIVERED).count();
      long deadLettered = outcomes.values().stream().filter(o -> o.status() == DeliveryOutcome.Status.DEAD_LETTERED).count();

      // 1. every event ends delivered or dead-lettered
      assertThat(delivered + deadLettered).as("delivered + dead-lettered").isEqualTo(n);

      // 2. a dead letter only for an event the receiver never answered 200 within an attempt's timeout: for
      // every attempt in a dead letter's history (started = handed to the HTTP client), a 200 the receiver
      // wrote more than 100 ms (for the client to read it) before that attempt's timeout makes a false one.
      // On a machine loaded far past its cores (load average 35 on 2 cores, 8 builds at once) the client
      // once read such an answer more than 1 s late; at most 5 of 5,000 (0.1%) are tolerated for that and
      // printed. The old behaviour (timeouts counted in the queue) made thousands.
      List<String> falseDeadLetters = new ArrayList<>();
      for (DeadLetter d : deadLetters) {
        String id = d.event().id().toString();
        List<Hit> h = byEvent.getOrDefault(id, List.of());
        for (dev.fraiseql.observers.spi.AttemptRecord a : d.attempts()) {
          long timeoutAt = a.startedAt().toEpochMilli() + 1000;
          for (Hit x : h) {
            if (x.attempt() == a.attempt() && x.kind() != Kind.UNAVAILABLE && x.answeredAtMillis > 0
                && x.answeredAtMillis < timeoutAt - 100) {
              falseDeadLetters.add(id + " attempt " + a.attempt() + " answered 200 " + (timeoutAt - x.answeredAtMillis)
                  + "ms before its timeout; engine: " + a.outcome());
            }
          }
        }
      }
      for (Map.Entry<String, DeliveryOutcome> e : outcomes.entrySet()) {
        List<Hit> h = byEvent.getOrDefault(e.getKey(), List.of());
        if (e.getValue().status() == DeliveryOutcome.Status.DELIVERED) {
          // the attempt that delivered is one the receiver answered 200 at once
          int a = e.getValue().attempts();
          assertThat(h).as("event %s delivered by attempt %d", e.getKey(), a)
              .anyMatch(x -> x.attempt() == a && x.kind() == Kind.OK);
        }
      }
      falseDeadLetters.forEach(f -> System.out.println("dead-lettered although answered 200 in time: " + f));
      assertThat(falseDeadLetters).as("dead letters although the receiver answered 200 in time").hasSizeLessThanOrEqualTo(n / 1000);
      assertThat(deadLetters).hasSize((int) deadLettered);
      assertThat(deadLetters).allSatisfy(d -> assertThat(d.reason()).startsWith("budget spent after 8 attempts"));

      // 3. no request reaches the receiver after the engine settled (gave up on) its attempt. Measured at the
      // receiver, which runs a handler some time after the client wrote the request: on a machine loaded far
      // past its cores that lag reached 0.6 s (a request written at its hand-off, read by the receiver after
      // the attempt's 1 s had passed). So: none later than 1 s after the settling, and at most 1% of requests
      // later at all, each printed. (The old behaviour sent thousands seconds after they had been given up.)
      int unsettled = 0;
      int afterAbandon = 0;
      int longAfterAbandon = 0;
      long worstLateMillis = 0;
      for (Hit h : hits) {
        String key = h.eventId() + "#" + h.attempt();
        Long s = settled.at.get(key);
        if (s == null) {
          unsettled++;
        } else if (h.receivedNanos() > s) {
          afterAbandon++;
          long late = TimeUnit.NANOSECONDS.toMillis(h.receivedNanos() - s);
          worstLateMillis = Math.max(worstLateMillis, late);
          if (late > 1000) {
            longAfterAbandon++;
          }
          System.out.println("received " + late + "ms after its attempt was settled (" + settled.elapsedMillis.get(key)
              + "ms after its hand-off): " + key + " " + settled.detail.get(key));
        }
      }
      assertThat(unsettled).as("requests for attempts the engine never ran").isZero();
      assertThat(longAfterAbandon).as("requests received over 1 s after the engine had settled their attempt").isZero();
      assertThat(afterAbandon).as("requests received after the engine had settled their attempt (worst %dms late)",
          worstLateMillis).isLessThanOrEqualTo(hits.size() / 100);

      // 4. duplicates: an event the receiver answered 200 at once is sent again only when that attempt
      // really timed out, 1 s or more after its hand-off to the HTTP client (exact: checked for each one
      // below): the request reached the receiver, or its answer the client, over 1 s late. That happens only
      // on an overloaded machine, mostly to the burst's first requests while 64 connections open: 22, 68 and
      // 318 events at load averages 20, 28 and 34 on 2 cores. Bound: 10% (500 of 5,000), each printed. An
      // event whose 200 came after the timeout is, by at-least-once, sent again: counted, and bounded by
      // the slow answers
      long timelyTwice = byEvent.values().stream().filter(h -> h.stream().filter(x -> x.kind() == Kind.OK).count() > 1).count();
      long twiceAfterLate = byEvent.values().stream().filter(h -> h.stream().filter(x -> x.kind() != Kind.UNAVAILABLE).count() > 1).count();
      long slowAnswers = hits.stream().filter(h -> h.kind() == Kind.SLOW_OK).count();
      if (timelyTwice > 0) {
        byEvent.forEach((id, h) -> {
          if (h.stream().filter(x -> x.kind() == Kind.OK).count() > 1) {
            System.out.println("answered at once twice: " + id + " " + h.stream().sorted(java.util.Comparator.comparingInt(Hit::attempt))
                .map(x -> x.attempt() + ":" + x.kind() + "@" + TimeUnit.NANOSECONDS.toMillis(x.receivedNanos() - t0)
                    + " settled@" + TimeUnit.NANOSECONDS.toMillis(settled.at.getOrDefault(id + "#" + x.attempt(), t0) - t0)
                    + " " + settled.detail.get(id + "#" + x.attempt()))
                .collect(Collectors.joining(" | ")));
          }
        });
      }
      assertThat(timelyTwice).as("events answered 200 at once more than once").isLessThanOrEqualTo(n / 10);
      byEvent.forEach((id, h) -> {
        List<Hit> ok = h.stream().filter(x -> x.kind() == Kind.OK).sorted(java.util.Comparator.comparingInt(Hit::attempt))
            .collect(Collectors.toList());
        for (int i = 0; i < ok.size() - 1; i++) {
          String key = id + "#" + ok.get(i).attempt();
          assertThat(settled.elapsedMillis.get(key)).as("attempt %s answered at once, then sent again: %s", key,
              settled.detail.get(key)).isGreaterThanOrEqualTo(1000L);
        }
      });
      assertThat(twiceAfterLate).as("events the receiver did twice").isLessThanOrEqualTo(slowAnswers + timelyTwice);

      // 5. (max_concurrency is checked by the tests below, where the receiver's count is exact; here the
      // receiver goes on sleeping on slow requests the client has already given up, so it may count more)

      // 6. the log: thousands of failed attempts, a few WARN lines per second at most
      long failedAttempts = settled.detail.values().stream().filter(d -> !d.startsWith("Delivered")).count();
      long warnLines = log.lines().filter(l -> l.contains("WARN") && l.contains("[observer]")).count();
      assertThat(failedAttempts).as("failed attempts (the scenario must fail many)").isGreaterThan(n / 2);
      assertThat(warnLines).as("WARN lines for %d failed attempts in %ds", failedAttempts, seconds)
          .isLessThanOrEqualTo(4 * (seconds + 2));
      System.out.printf("burst scenario: %d events in %ds: %d delivered, %d dead-lettered; %d requests (%d slow, %d 503);"
          + " %d failed attempts; %d WARN lines; received after settle: %d; events done twice: %d (answered at once"
          + " twice: %d); dead-lettered although answered in time: %d%n", n, seconds, delivered, deadLettered, hits.size(),
          slowAnswers, hits.stream().filter(h -> h.kind() == Kind.UNAVAILABLE).count(), failedAttempts, warnLines,
          afterAbandon, twiceAfterLate, timelyTwice, falseDeadLetters.size());
    }
  }

  /** The issue's smaller case: 200 after 100 ms, max_concurrency 2, timeout 500 ms, 100 events at once. */
  @Test
  void slowReceiverWithTwoSlotsDeliversEveryEventOnce() throws Exception {
    try (BurstReceiver rx = new BurstReceiver((e, a) -> Kind.OK, Duration.ofMillis(100), Duration.ZERO)) {
      Map<String, DeliveryOutcome> outcomes;
      try (ObserverEngine engine = ObserverEngine.builder().configToml(toml(rx.url(), 2, 3, 500, "")).build()) {
        outcomes = burst(engine, 100, Duration.ofMinutes(2));
        assertThat(engine.deadLetters().count()).isZero();
      }
      assertThat(outcomes.values()).allSatisfy(o -> assertThat(o.status()).isEqualTo(DeliveryOutcome.Status.DELIVERED));
      List<Hit> hits = rx.hits();
      assertThat(hits.stream().map(Hit::eventId).distinct().count()).isEqualTo(100);
      // one request per event: nothing timed out while it waited (a stall of 400 ms on a loaded machine
      // may still time out a request or two after its hand-off)
      assertThat(hits.size()).as("requests for 100 events").isBetween(100, 103);
      assertThat(rx.maxConcurrent.get()).isLessThanOrEqualTo(2);
    }
  }

  /** The same burst against a receiver that is merely slow (200 after 50 ms) with 4 slots: 1,000 events (see README). */
  @Test
  void merelySlowReceiverWithFourSlotsDeadLettersNothing() throws Exception {
    int n = 1_000;
    try (BurstReceiver rx = new BurstReceiver((e, a) -> Kind.OK, Duration.ofMillis(50), Duration.ZERO)) {
      Map<String, DeliveryOutcome> outcomes;
      try (ObserverEngine engine = ObserverEngine.builder().configToml(toml(rx.url(), 4, 8, 1000, "")).build()) {
        outcomes = burst(engine, n, Duration.ofMinutes(3));
        assertThat(engine.deadLetters().count()).isZero();
      }
      assertThat(outcomes.values()).allSatisfy(o -> assertThat(o.status()).isEqualTo(DeliveryOutcome.Status.DELIVERED));
      List<Hit> hits = rx.hits();
      assertThat(hits.stream().map(Hit::eventId).distinct().count()).isEqualTo(n);
      assertThat(hits.size()).as("requests for %d events", n).isLessThanOrEqualTo(n + 5);
      assertThat(rx.maxConcurrent.get()).isLessThanOrEqualTo(4);
    }
  }

  /** queue_timeout_ms: past it a waiting request leaves unsent, and that attempt counts as failed. */
  @Test
  void waitPastQueueTimeoutCountsAsAFailedAttemptAndIsNeverSent() throws Exception {
    try (BurstReceiver rx = new BurstReceiver((e, a) -> Kind.OK, Duration.ofMillis(1500), Duration.ZERO)) {
      String log;
      Map<String, DeliveryOutcome>[] holder = new Map[1];
      List<DeadLetter>[] dl = new List[1];
      log = CapturedStderr.during(() -> {
        try (ObserverEngine engine = ObserverEngine.builder()
            .configToml(toml(rx.url(), 1, 1, 5000, "queue_timeout_ms = 300\n")).build()) {
          holder[0] = burst(engine, 3, Duration.ofSeconds(30));
          dl[0] = engine.deadLetters().list();
        }
      });
      Thread.sleep(500);
      long delivered = holder[0].values().stream().filter(o -> o.status() == DeliveryOutcome.Status.DELIVERED).count();
      assertThat(delivered).isEqualTo(1);
      assertThat(dl[0]).hasSize(2).allSatisfy(d -> {
        assertThat(d.reason()).startsWith("budget spent after 1 attempt: no free slot at http://127.0.0.1:")
            .contains("within queue_timeout_ms = 300").contains("not sent");
        assertThat(d.attempts()).hasSize(1);
      });
      assertThat(rx.hits()).as("only the request that had the slot was sent").hasSize(1);
      assertThat(log).contains("within queue_timeout_ms = 300").contains("is saturated: ");
    }
  }

  /**
   * An attempt that times out (timeout_ms below request_timeout_ms) is aborted, and its slot goes to the
   * next request at once: both attempts end within a few seconds, not after the receiver's 10 s answers.
   */
  @Test
  void attemptTimeoutAbortsTheExchangeAndFreesItsSlot() throws Exception {
    ObservedEvent warmUp = event(-1);
    String warmId = warmUp.id().toString();
    try (BurstReceiver rx = new BurstReceiver((e, a) -> e.equals(warmId) ? Kind.OK : Kind.SLOW_OK, Duration.ZERO,
        Duration.ofSeconds(10))) {
      String toml = "[observers]\nbackend = \"webhook\"\n\n[[observers.handlers]]\nname = \"burst\"\n"
          + "event = \"user.created\"\naction = \"webhook\"\nwebhook_url = \"" + rx.url() + "\"\n"
          + "max_attempts = 1\ntimeout_ms = 1000\nrequest_timeout_ms = 30000\nmax_concurrency = 1\n";
      try (ObserverEngine engine = ObserverEngine.builder().configToml(toml).build()) {
        // the client's first request loads classes and opens a connection: not what this test times
        engine.onCommit(warmUp).completion().toCompletableFuture().get(30, TimeUnit.SECONDS);
        rx.hits.clear();
        long start = System.nanoTime();
        Map<String, DeliveryOutcome> outcomes = burst(engine, 2, Duration.ofSeconds(30));
        long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertThat(outcomes.values()).allSatisfy(o -> assertThat(o.detail()).isEqualTo("budget spent after 1 attempt: timed out after 1000ms"));
        assertThat(tookMillis).as("both attempts over (the second had to wait for the first's slot)").isLessThan(6_000);
      }
      assertThat(rx.hits()).as("requests received").hasSizeBetween(1, 2);
    }
  }

  /** Closing the engine drops what waits for a slot: nothing is sent after the engine gave up on it. */
  @Test
  void closingTheEngineDropsQueuedRequestsUnsent() throws Exception {
    try (BurstReceiver rx = new BurstReceiver((e, a) -> Kind.OK, Duration.ofMillis(1500), Duration.ZERO)) {
      CloseReport report;
      ObserverEngine engine = ObserverEngine.builder().configToml(toml(rx.url(), 1, 3, 5000, "")).build();
      for (int i = 0; i < 5; i++) {
        engine.onCommit(event(i));
      }
      TestSupport.await(Duration.ofSeconds(10), () -> rx.hits.size() == 1);
      report = engine.shutdown(Duration.ofMillis(200));
      assertThat(report.deadLettered()).isEqualTo(5);
      Thread.sleep(2_500);
      assertThat(rx.hits()).as("requests sent after the engine gave up on them").hasSize(1);
    }
  }

  /** The saturation line is one per interval, naming the endpoint and the queue, not one per request. */
  @Test
  void saturationIsLoggedOncePerInterval() throws Exception {
    try (BurstReceiver rx = new BurstReceiver((e, a) -> Kind.OK, Duration.ofMillis(5), Duration.ZERO)) {
      long start = System.nanoTime();
      String log = CapturedStderr.during(() -> {
        try (ObserverEngine engine = ObserverEngine.builder().configToml(toml(rx.url(), 2, 3, 5000, "")).build()) {
          burst(engine, 300, Duration.ofMinutes(1));
        }
      });
      long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start);
      Matcher m = Pattern.compile("burst: http://127\\.0\\.0\\.1:\\d+/hooks/burst is saturated: (\\d+) requests waiting").matcher(log);
      int lines = 0;
      while (m.find()) {
        lines++;
      }
      assertThat(lines).as("saturation lines for a burst of 300 with 2 slots in %ds", seconds)
          .isBetween(1, (int) (seconds / 5) + 2);
      assertThat(log).doesNotContain("endpoint busy");
    }
  }
}

package dev.fraiseql.observers.email;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fraiseql.observers.DeliveryOutcome;
import dev.fraiseql.observers.ObserverEngine;
import dev.fraiseql.observers.config.HandlerConfig;
import dev.fraiseql.observers.config.ObserversConfig;
import dev.fraiseql.observers.config.RetryPolicy;
import dev.fraiseql.observers.config.Settings;
import dev.fraiseql.observers.spi.DeadLetter;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * SMTP replies GreenMail cannot be made to give (it always accepts): a 451 or 550 on demand, a 421
 * greeting, a server without STARTTLS, a silent server. These run against {@link SmtpResponder}, a small
 * SMTP server on a real socket, and assert what it received.
 */
class SmtpRepliesIT {
  private SmtpResponder smtp;

  @BeforeEach
  void start() throws Exception {
    smtp = new SmtpResponder();
  }

  @AfterEach
  void stop() throws Exception {
    smtp.close();
  }

  private ObserverEngine engine(int maxAttempts, Map<String, Object> extra) {
    return engine(maxAttempts, Duration.ofSeconds(10), extra);
  }

  private ObserverEngine engine(int maxAttempts, Duration timeout, Map<String, Object> extra) {
    Map<String, Object> s = new LinkedHashMap<>();
    s.put("smtp_url", "smtp://127.0.0.1:" + smtp.port());
    s.put("from", "orders@shop.example");
    s.put("to", "{{data.new.email}}");
    s.put("subject", "Welcome {{data.new.name}}");
    s.put("text", "Hi {{data.new.name}}");
    s.putAll(extra);
    RetryPolicy retry = RetryPolicy.custom().maxAttempts(maxAttempts).initialDelay(Duration.ofMillis(20)).jitter(0)
        .attemptTimeout(timeout).build();
    ObserversConfig cfg = ObserversConfig.builder().backend("in-memory")
        .handler(HandlerConfig.builder("welcome-email").event("user.created").action("email")
            .settings(Settings.of("[[observers.handlers]] #1", s)).retry(retry).build())
        .build();
    return ObserverEngine.builder().config(cfg).build();
  }

  private static DeliveryOutcome dispatch(ObserverEngine engine) throws Exception {
    List<DeliveryOutcome> o = engine.onCommit(TestSupport.userCreated()).completion().toCompletableFuture()
        .get(30, TimeUnit.SECONDS);
    assertThat(o).hasSize(1);
    return o.get(0);
  }

  @Test
  void a451AtTheEndOfTheMessageIsRetriedThenDeliveredWithTheSameMessageId() throws Exception {
    smtp.reply("END", "451 4.3.0 Mail server temporarily rejected message");
    try (ObserverEngine engine = engine(3, Map.of())) {
      DeliveryOutcome o = dispatch(engine);
      assertThat(o.status()).isEqualTo(DeliveryOutcome.Status.DELIVERED);
      assertThat(o.attempts()).isEqualTo(2);
      assertThat(engine.deadLetters().list()).isEmpty();
    }
    assertThat(smtp.received()).hasSize(2);
    assertThat(smtp.accepted()).hasSize(1);
    String first = SmtpResponder.header(smtp.received().get(0), "Message-ID");
    String second = SmtpResponder.header(smtp.accepted().get(0), "Message-ID");
    assertThat(first).isEqualTo("<01936b2e-6c1a-7cc0-9a4e-3f2b5d8e9a10.welcome-email@shop.example>").isEqualTo(second);
    assertThat(SmtpResponder.header(smtp.accepted().get(0), "Subject")).isEqualTo("Welcome Alice");
    assertThat(smtp.commands()).filteredOn(c -> c.startsWith("RCPT TO")).containsExactly(
        "RCPT TO:<alice@example.com>", "RCPT TO:<alice@example.com>");
  }

  @Test
  void a451ToRcptIsRetriedToo() throws Exception {
    smtp.reply("RCPT", "451 4.7.1 Greylisted, try again later");
    try (ObserverEngine engine = engine(3, Map.of())) {
      DeliveryOutcome o = dispatch(engine);
      assertThat(o.status()).isEqualTo(DeliveryOutcome.Status.DELIVERED);
      assertThat(o.attempts()).isEqualTo(2);
    }
    assertThat(smtp.received()).hasSize(1);
    assertThat(smtp.accepted()).hasSize(1);
  }

  @Test
  void a550IsDeadLetteredAtOnceWithTheServersReplyText() throws Exception {
    smtp.reply("RCPT", "550 5.1.1 <alice@example.com>: Recipient address rejected: User unknown");
    try (ObserverEngine engine = engine(5, Map.of())) {
      DeliveryOutcome o = dispatch(engine);
      assertThat(o.status()).isEqualTo(DeliveryOutcome.Status.DEAD_LETTERED);
      assertThat(o.attempts()).isEqualTo(1);
      List<DeadLetter> dead = engine.deadLetters().list();
      assertThat(dead).singleElement().satisfies(d -> {
        assertThat(d.reason()).contains("SMTP 550 5.1.1 <alice@example.com>: Recipient address rejected: User unknown");
        assertThat(d.attempts()).singleElement().satisfies(a ->
            assertThat(a.outcome()).contains("SMTP 550").contains("RCPT TO:<alice@example.com>"));
      });
    }
    assertThat(smtp.received()).as("no DATA after the recipient was refused").isEmpty();
  }

  @Test
  void a554AfterTheMessageIsPermanentToo() throws Exception {
    smtp.reply("END", "554 5.7.1 Message rejected as spam");
    try (ObserverEngine engine = engine(5, Map.of())) {
      DeliveryOutcome o = dispatch(engine);
      assertThat(o.status()).isEqualTo(DeliveryOutcome.Status.DEAD_LETTERED);
      assertThat(o.attempts()).isEqualTo(1);
      assertThat(o.detail()).contains("SMTP 554 5.7.1 Message rejected as spam");
    }
    assertThat(smtp.received()).hasSize(1);
  }

  @Test
  void a421GreetingIsRetried() throws Exception {
    smtp.reply("greeting", "421 4.3.2 Service not available, closing channel");
    try (ObserverEngine engine = engine(3, Map.of())) {
      DeliveryOutcome o = dispatch(engine);
      assertThat(o.status()).isEqualTo(DeliveryOutcome.Status.DELIVERED);
      assertThat(o.attempts()).isEqualTo(2);
    }
    assertThat(smtp.accepted()).hasSize(1);
  }

  @Test
  void startTlsRequiredAgainstAServerWithoutItIsPermanentAndSendsNothing() throws Exception {
    try (ObserverEngine engine = engine(5, Map.of("starttls", "required"))) {
      DeliveryOutcome o = dispatch(engine);
      assertThat(o.status()).isEqualTo(DeliveryOutcome.Status.DEAD_LETTERED);
      assertThat(o.attempts()).isEqualTo(1);
      assertThat(o.detail()).contains("does not offer STARTTLS");
    }
    assertThat(smtp.commands()).noneMatch(c -> c.startsWith("MAIL FROM"));
  }

  @Test
  void aSilentServerIsBoundedByTheReadTimeoutAndRetried() throws Exception {
    smtp.silent(true);
    long t0 = System.nanoTime();
    try (ObserverEngine engine = engine(2, Map.of("read_timeout_ms", 300L, "connect_timeout_ms", 300L))) {
      DeliveryOutcome o = dispatch(engine);
      assertThat(o.status()).isEqualTo(DeliveryOutcome.Status.DEAD_LETTERED);
      assertThat(o.attempts()).isEqualTo(2);
      assertThat(engine.deadLetters().list()).singleElement().satisfies(d ->
          assertThat(d.attempts()).allSatisfy(a -> assertThat(a.outcome()).contains("timeout talking to smtp://127.0.0.1:")));
    }
    assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(5));
  }

  @Test
  void sendsBeyondMaxConnectionsWaitForASlotAndAllArrive() throws Exception {
    try (ObserverEngine engine = engine(1, Map.of("max_connections", 1L))) {
      List<java.util.concurrent.CompletableFuture<List<DeliveryOutcome>>> all = new java.util.ArrayList<>();
      for (int i = 0; i < 20; i++) {
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("email", "user" + i + "@example.com");
        row.put("name", "U" + i);
        all.add(engine.onCommit(TestSupport.userCreated(row).toBuilder().id(java.util.UUID.randomUUID()).build())
            .completion().toCompletableFuture());
      }
      for (var f : all) {
        assertThat(f.get(30, TimeUnit.SECONDS)).singleElement()
            .satisfies(o -> assertThat(o.status()).isEqualTo(DeliveryOutcome.Status.DELIVERED));
      }
    }
    assertThat(smtp.accepted()).hasSize(20);
    assertThat(smtp.commands()).filteredOn(c -> c.startsWith("RCPT TO")).hasSize(20).doesNotHaveDuplicates();
  }

  private static List<java.util.concurrent.CompletableFuture<List<DeliveryOutcome>>> burst(ObserverEngine engine, int n) {
    List<java.util.concurrent.CompletableFuture<List<DeliveryOutcome>>> all = new java.util.ArrayList<>();
    for (int i = 0; i < n; i++) {
      Map<String, Object> row = new LinkedHashMap<>();
      row.put("email", "user" + i + "@example.com");
      row.put("name", "U" + i);
      all.add(engine.onCommit(TestSupport.userCreated(row).toBuilder().id(java.util.UUID.randomUUID()).build())
          .completion().toCompletableFuture());
    }
    return all;
  }

  @Test
  void waitingForASlotIsNotAnAttempt_aBurstOnASlowServerAllArrivesOnTheFirstAttempt() throws Exception {
    // one send takes ~7 replies x 60ms = ~420ms; the last of 8 waits ~3s for the single slot, far past
    // timeout_ms = 1000: the wait must not count against the attempt, nor spend its budget
    smtp.delay(60);
    int n = 8;
    try (ObserverEngine engine = engine(3, Duration.ofMillis(1000), Map.of("max_connections", 1L))) {
      for (var f : burst(engine, n)) {
        assertThat(f.get(60, TimeUnit.SECONDS)).singleElement().satisfies(o -> {
          assertThat(o.status()).isEqualTo(DeliveryOutcome.Status.DELIVERED);
          assertThat(o.attempts()).as("attempts of " + o).isEqualTo(1);
        });
      }
      assertThat(engine.deadLetters().list()).isEmpty();
    }
    assertThat(smtp.accepted()).hasSize(n);
    assertThat(smtp.received()).as("each message sent once").hasSize(n);
    assertThat(smtp.commands()).filteredOn(c -> c.startsWith("RCPT TO")).hasSize(n).doesNotHaveDuplicates();
  }

  @Test
  void aSendWaitingPastQueueTimeoutIsARetryableFailureAndIsNeverSentLate() throws Exception {
    // the first send holds the only slot for ~7 x 200ms = 1.4s; the second may wait 300ms, twice
    smtp.delay(200);
    try (ObserverEngine engine = engine(2, Duration.ofSeconds(10),
        Map.of("max_connections", 1L, "queue_timeout_ms", 300L))) {
      var all = burst(engine, 2);
      List<DeliveryOutcome> outcomes = new java.util.ArrayList<>();
      for (var f : all) {
        outcomes.add(f.get(30, TimeUnit.SECONDS).get(0));
      }
      // whichever of the two took the slot first is delivered; the other waits
      outcomes.sort(java.util.Comparator.comparing(o -> o.status() != DeliveryOutcome.Status.DELIVERED));
      DeliveryOutcome first = outcomes.get(0);
      DeliveryOutcome second = outcomes.get(1);
      assertThat(first.status()).isEqualTo(DeliveryOutcome.Status.DELIVERED);
      assertThat(first.attempts()).isEqualTo(1);
      assertThat(second.status()).isEqualTo(DeliveryOutcome.Status.DEAD_LETTERED);
      assertThat(second.attempts()).as("retried: the wait is a retryable failure").isEqualTo(2);
      assertThat(engine.deadLetters().list()).singleElement().satisfies(d -> assertThat(d.attempts())
          .hasSize(2).allSatisfy(a -> assertThat(a.outcome())
              .contains("no free connection slot to smtp://127.0.0.1:" + smtp.port() + " (STARTTLS optional) within queue_timeout_ms = 300")
              .contains("not sent")));
      // the slot frees up when the first send ends: the expired sends must not go out then
      Thread.sleep(1500);
    }
    assertThat(smtp.received()).hasSize(1);
    assertThat(smtp.commands()).filteredOn(c -> c.startsWith("MAIL FROM")).hasSize(1);
    assertThat(smtp.commands()).filteredOn(c -> c.startsWith("RCPT TO")).hasSize(1);
  }
}

package dev.fraiseql.observers.webhook;

import static dev.fraiseql.observers.webhook.TestSupport.userCreated;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.fraiseql.observers.DeliveryOutcome;
import dev.fraiseql.observers.ObserverConfigException;
import dev.fraiseql.observers.ObserverEngine;
import dev.fraiseql.observers.config.HandlerConfig;
import dev.fraiseql.observers.config.ObserversConfig;
import dev.fraiseql.observers.config.RetryPolicy;
import dev.fraiseql.observers.config.Settings;
import dev.fraiseql.observers.spi.DeadLetter;
import dev.fraiseql.observers.webhook.Receiver.Response;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** End to end: ObserverEngine (found by ServiceLoader: backend "webhook", actions "webhook") → receiver. */
class WebhookEngineIT {

  private static ObserversConfig config(String url, int maxAttempts, Duration initialDelay) {
    RetryPolicy retry = RetryPolicy.custom().maxAttempts(maxAttempts).initialDelay(initialDelay)
        .maxDelay(Duration.ofSeconds(10)).jitter(0).attemptTimeout(Duration.ofSeconds(5)).build();
    return ObserversConfig.builder()
        .backend("webhook")
        .handler(HandlerConfig.builder("welcome-email").event("user.created").action("webhook")
            .settings(Settings.of("[[observers.handlers]] #1", Map.of("url", url))).retry(retry).build())
        .build();
  }

  @Test
  void retries503ThenDelivers() throws Exception {
    try (Receiver receiver = new Receiver()) {
      receiver.answer(Response.of(503, "{\"error\":\"Event bus unavailable\"}"), Response.of(503), Response.of(200));
      try (ObserverEngine engine = ObserverEngine.builder()
          .config(config(receiver.uri("/hooks/fraiseql").toString(), 3, Duration.ofMillis(20))).build()) {
        List<DeliveryOutcome> outcomes = engine.onCommit(userCreated()).completion().toCompletableFuture()
            .get(20, TimeUnit.SECONDS);
        assertThat(outcomes).hasSize(1);
        assertThat(outcomes.get(0).status()).isEqualTo(DeliveryOutcome.Status.DELIVERED);
        assertThat(outcomes.get(0).attempts()).isEqualTo(3);
        assertThat(outcomes.get(0).detail()).isEqualTo("status=200");
        assertThat(receiver.requests()).extracting(r -> r.header("Fraiseql-Delivery-Attempt")).containsExactly("1", "2", "3");
        assertThat(receiver.requests()).extracting(r -> r.header("Fraiseql-Event-Id")).containsOnly(
            "01936b2e-6c1a-7cc0-9a4e-3f2b5d8e9a10");
        assertThat(engine.deadLetters().count()).isZero();
      }
    }
  }

  @Test
  void permanent400IsDeadLetteredWithStatusAndExcerpt() throws Exception {
    try (Receiver receiver = new Receiver()) {
      receiver.answer(Response.of(400, "{\"error\":\"email is required\"}"));
      try (ObserverEngine engine = ObserverEngine.builder()
          .config(config(receiver.uri("/hooks/fraiseql").toString(), 5, Duration.ofMillis(20))).build()) {
        List<DeliveryOutcome> outcomes = engine.onCommit(userCreated()).completion().toCompletableFuture()
            .get(20, TimeUnit.SECONDS);
        assertThat(outcomes.get(0).status()).isEqualTo(DeliveryOutcome.Status.DEAD_LETTERED);
        assertThat(outcomes.get(0).attempts()).isEqualTo(1);
        assertThat(receiver.requests()).hasSize(1);
        TestSupport.await(Duration.ofSeconds(5), () -> engine.deadLetters().count() == 1);
        DeadLetter dl = engine.deadLetters().list().get(0);
        assertThat(dl.handler()).isEqualTo("welcome-email");
        assertThat(dl.attempts()).hasSize(1);
        assertThat(dl.lastError()).contains("HTTP 400: {\"error\":\"email is required\"}");
        assertThat(dl.reason()).contains("HTTP 400");
      }
    }
  }

  @Test
  void budgetSpentOn503IsDeadLetteredWithEveryAttempt() throws Exception {
    try (Receiver receiver = new Receiver()) {
      receiver.otherwise(Response.of(503, "still down"));
      try (ObserverEngine engine = ObserverEngine.builder()
          .config(config(receiver.uri("/h").toString(), 3, Duration.ofMillis(10))).build()) {
        List<DeliveryOutcome> outcomes = engine.onCommit(userCreated()).completion().toCompletableFuture()
            .get(20, TimeUnit.SECONDS);
        assertThat(outcomes.get(0).status()).isEqualTo(DeliveryOutcome.Status.DEAD_LETTERED);
        assertThat(receiver.requests()).hasSize(3);
        TestSupport.await(Duration.ofSeconds(5), () -> engine.deadLetters().count() == 1);
        assertThat(engine.deadLetters().list().get(0).attempts()).hasSize(3)
            .allSatisfy(a -> assertThat(a.outcome()).contains("HTTP 503: still down"));
      }
    }
  }

  @Test
  void retryAfterIsHonoured() throws Exception {
    try (Receiver receiver = new Receiver()) {
      receiver.answer(Response.of(429).withHeader("Retry-After", "1"), Response.of(200));
      try (ObserverEngine engine = ObserverEngine.builder()
          .config(config(receiver.uri("/h").toString(), 3, Duration.ofMillis(10))).build()) {
        List<DeliveryOutcome> outcomes = engine.onCommit(userCreated()).completion().toCompletableFuture()
            .get(20, TimeUnit.SECONDS);
        assertThat(outcomes.get(0).status()).isEqualTo(DeliveryOutcome.Status.DELIVERED);
        List<Receiver.Request> reqs = receiver.requests();
        assertThat(reqs).hasSize(2);
        // the computed backoff is 10 ms; the receiver asked for 1 s
        assertThat(Duration.between(reqs.get(0).at(), reqs.get(1).at())).isGreaterThanOrEqualTo(Duration.ofMillis(950));
      }
    }
  }

  @Test
  void theWebhookBackendsEgressDefaultAppliesToHandlers() throws Exception {
    try (Receiver receiver = new Receiver()) {
      ObserversConfig cfg = config("http://localhost:" + receiver.port() + "/internal", 3, Duration.ofMillis(10)).toBuilder()
          .backendSettings(Settings.of("[observers.webhook]", Map.of("egress", "strict"))).build();
      try (ObserverEngine engine = ObserverEngine.builder().config(cfg).build()) {
        List<DeliveryOutcome> outcomes = engine.onCommit(userCreated()).completion().toCompletableFuture()
            .get(20, TimeUnit.SECONDS);
        assertThat(outcomes.get(0).status()).isEqualTo(DeliveryOutcome.Status.DEAD_LETTERED);
        assertThat(outcomes.get(0).attempts()).isEqualTo(1);
        assertThat(outcomes.get(0).detail()).contains("egress refused").contains("loopback");
        assertThat(receiver.requests()).isEmpty();
      }
      ObserversConfig bad = cfg.toBuilder().backendSettings(Settings.of("[observers.webhook]", Map.of("egress", "none"))).build();
      assertThatThrownBy(() -> ObserverEngine.builder().config(bad).build())
          .isInstanceOf(ObserverConfigException.class).hasMessageContaining("egress").hasMessageContaining("strict");
    }
  }
}

package dev.fraiseql.observers.webhook;

import static dev.fraiseql.observers.webhook.TestSupport.userCreated;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fraiseql.observers.DeliveryOutcome;
import dev.fraiseql.observers.ObserverConfigException;
import dev.fraiseql.observers.ObserverEngine;
import dev.fraiseql.observers.spi.DeadLetter;
import dev.fraiseql.observers.webhook.Receiver.Response;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** End to end from fraiseql.toml text, as users write it (seed 001's handlers, seed 000's rules). */
class WebhookTomlIT {
  private static final ObjectMapper JSON = new ObjectMapper();

  private static List<DeliveryOutcome> commit(ObserverEngine engine) throws Exception {
    List<DeliveryOutcome> out = engine.onCommit(userCreated()).completion().toCompletableFuture().get(20, TimeUnit.SECONDS);
    return out.stream().sorted(Comparator.comparing(DeliveryOutcome::handler)).toList();
  }

  @Test
  void seed001HandlersRetryA503AndDeadLetterA400() throws Exception {
    try (Receiver email = new Receiver(); Receiver events = new Receiver()) {
      email.answer(Response.of(503, "{\"error\":\"Event bus unavailable\"}"), Response.of(200));
      events.answer(Response.of(400, "{\"error\":\"unknown event type\"}"));
      String toml = """
          [observers]
          backend = "webhook"

          # Observer 1 — send welcome email
          [[observers.handlers]]
          name = "welcome-email"
          event = "user.created"
          action = "webhook"
          webhook_url = "${WELCOME_EMAIL_SERVICE_URL}"
          max_attempts = 3
          backoff_strategy = "exponential"
          initial_delay_ms = 20
          jitter = 0.0

          # Observer 2 — publish signup event to event bus
          [[observers.handlers]]
          name = "signup-event"
          event = "user.created"
          action = "webhook"
          webhook_url = "${EVENT_BUS_INGEST_URL}"
          max_attempts = 5
          backoff_strategy = "exponential"
          initial_delay_ms = 20
          """;
      try (ObserverEngine engine = ObserverEngine.builder().config(toml, "fraiseql.toml")
          .env(Map.of("WELCOME_EMAIL_SERVICE_URL", email.uri("/hooks/fraiseql").toString(),
              "EVENT_BUS_INGEST_URL", events.uri("/ingest").toString()))
          .build()) {
        List<DeliveryOutcome> outcomes = commit(engine);
        assertThat(outcomes).extracting(DeliveryOutcome::handler).containsExactly("signup-event", "welcome-email");
        DeliveryOutcome signup = outcomes.get(0);
        DeliveryOutcome welcome = outcomes.get(1);
        assertThat(welcome.status()).isEqualTo(DeliveryOutcome.Status.DELIVERED);
        assertThat(welcome.attempts()).isEqualTo(2);
        assertThat(email.requests()).extracting(r -> r.header("Fraiseql-Delivery-Attempt")).containsExactly("1", "2");
        JsonNode body = JSON.readTree(email.requests().get(1).body());
        assertThat(body.get("event").asText()).isEqualTo("INSERT");
        assertThat(body.at("/data/new/name").asText()).isEqualTo("Alice");

        assertThat(signup.status()).isEqualTo(DeliveryOutcome.Status.DEAD_LETTERED);
        assertThat(signup.attempts()).isEqualTo(1);
        assertThat(events.requests()).hasSize(1);
        TestSupport.await(Duration.ofSeconds(5), () -> engine.deadLetters().count() == 1);
        DeadLetter dl = engine.deadLetters().list().get(0);
        assertThat(dl.handler()).isEqualTo("signup-event");
        assertThat(dl.attempts()).singleElement().satisfies(a ->
            assertThat(a.outcome()).contains("HTTP 400: {\"error\":\"unknown event type\"}"));
      }
    }
  }

  @Test
  void seed000RuleWithUrlEnvAndRetryAfter() throws Exception {
    try (Receiver receiver = new Receiver()) {
      receiver.answer(Response.of(503).withHeader("Retry-After", "1"), Response.of(200));
      String toml = """
          [observers]
          backend = "webhook"
          [[observers]]
          table = "tb_user"
          event = "INSERT"
          [[observers.actions]]
          type = "webhook"
          url_env = "USER_CREATED_WEBHOOK_URL"
          initial_delay_ms = 10
          """;
      try (ObserverEngine engine = ObserverEngine.builder().config(toml, "fraiseql.toml")
          .env(Map.of("USER_CREATED_WEBHOOK_URL", receiver.uri("/users").toString())).build()) {
        List<DeliveryOutcome> outcomes = commit(engine);
        assertThat(outcomes).singleElement().satisfies(o -> {
          assertThat(o.status()).isEqualTo(DeliveryOutcome.Status.DELIVERED);
          assertThat(o.attempts()).isEqualTo(2);
        });
        List<Receiver.Request> reqs = receiver.requests();
        assertThat(reqs).hasSize(2);
        assertThat(reqs.get(0).path()).isEqualTo("/users");
        assertThat(Duration.between(reqs.get(0).at(), reqs.get(1).at())).isGreaterThanOrEqualTo(Duration.ofMillis(950));
      }
    }
  }

  @Test
  void headersTemplateAndSigningFromToml() throws Exception {
    try (Receiver receiver = new Receiver()) {
      String toml = """
          [[observers.handlers]]
          name = "crm-sync"
          event = "user.created"
          action = "webhook"
          webhook_url = "${CRM_URL}"
          method = "PUT"
          headers = { Authorization = "Bearer ${CRM_TOKEN}", X-Source = "fraiseql" }
          signing = "fraiseql"
          signing_secrets_env = ["CRM_SECRET", "CRM_SECRET_OLD"]
          body_template = '''
          {"email": "{{data.new.email}}", "tenant": "{{context.tenant_id}}", "user": {{data.new}}}
          '''
          """;
      try (ObserverEngine engine = ObserverEngine.builder().config(toml, "fraiseql.toml")
          .env(Map.of("CRM_URL", receiver.uri("/crm").toString(), "CRM_TOKEN", "tok-777",
              "CRM_SECRET", "new-secret", "CRM_SECRET_OLD", "old-secret")).build()) {
        assertThat(commit(engine)).singleElement().satisfies(o -> assertThat(o.detail()).isEqualTo("status=200"));
        Receiver.Request req = receiver.requests().get(0);
        assertThat(req.method()).isEqualTo("PUT");
        assertThat(req.header("Authorization")).isEqualTo("Bearer tok-777");
        assertThat(req.header("X-Source")).isEqualTo("fraiseql");
        JsonNode body = JSON.readTree(req.body());
        assertThat(body.get("email").asText()).isEqualTo("alice@example.com");
        assertThat(body.get("tenant").asText()).isEqualTo("t-42");
        assertThat(body.at("/user/name").asText()).isEqualTo("Alice");
        long now = Instant.now().getEpochSecond();
        assertThat(Verifiers.fraiseql("new-secret", req.header("X-FraiseQL-Signature-256"), req.body(), now)).isTrue();
        assertThat(Verifiers.fraiseql("old-secret", req.header("X-FraiseQL-Signature-256"), req.body(), now)).isTrue();
      }
    }
  }

  @Test
  void configMistakesNameFileLineKeyAndFix() {
    String toml = """
        [[observers.handlers]]
        name = "crm-sync"
        event = "user.created"
        action = "webhook"
        webhook_url = "https://crm.example.com/hooks"
        signing = "standard-webhooks"
        signing_secret_env = "CRM_SIGNING_SECRET"
        max_concurency = 4
        body_template = '{"email": {{data.new.email}'
        """;
    assertThatThrownBy(() -> ObserverEngine.builder().config(toml, "fraiseql.toml").env(Map.of()).build())
        .isInstanceOf(ObserverConfigException.class)
        .satisfies(e -> {
          String m = e.getMessage();
          assertThat(m).contains("fraiseql.toml:8:").contains("max_concurency").contains("max_concurrency");
          assertThat(m).contains("CRM_SIGNING_SECRET").contains("fraiseql.toml:7:");
        });
  }

  @Test
  void theReadmeExampleLoadsAndRuns() throws Exception {
    String readme = java.nio.file.Files.readString(java.nio.file.Path.of("README.md"));
    int start = readme.indexOf("```toml\n") + "```toml\n".length();
    String toml = readme.substring(start, readme.indexOf("```", start));
    try (Receiver receiver = new Receiver()) {
      String secret = "whsec_" + java.util.Base64.getEncoder().encodeToString("0123456789abcdef0123456789abcdef".getBytes());
      Map<String, String> env = Map.of(
          "WELCOME_EMAIL_SERVICE_URL", receiver.uri("/email").toString(),
          "CRM_WEBHOOK_URL", "http://localhost:" + receiver.port() + "/crm",
          "CRM_TOKEN", "t0k3n-value",
          "CRM_SIGNING_SECRET", secret,
          "CRM_SIGNING_SECRET_OLD", secret,
          "SLACK_SIGNUPS_WEBHOOK_URL", receiver.uri("/services/T/B/K").toString());
      try (ObserverEngine engine = ObserverEngine.builder().config(toml, "README.md").env(env).build()) {
        List<DeliveryOutcome> outcomes = commit(engine);
        assertThat(outcomes).extracting(DeliveryOutcome::handler).containsExactly("crm-sync", "signup-slack", "welcome-email");
        // crm-sync is egress = "strict" and its URL resolves to loopback: refused, never sent.
        assertThat(outcomes.get(0).status()).isEqualTo(DeliveryOutcome.Status.DEAD_LETTERED);
        assertThat(outcomes.get(0).detail()).contains("egress refused").contains("loopback");
        assertThat(outcomes.get(1).status()).isEqualTo(DeliveryOutcome.Status.DELIVERED);
        assertThat(outcomes.get(2).status()).isEqualTo(DeliveryOutcome.Status.DELIVERED);
        assertThat(receiver.requests()).extracting(Receiver.Request::path).containsExactlyInAnyOrder("/email", "/services/T/B/K");
      }
    }
  }

  @Test
  void theBackendTableSetsTheDefaultEgress() throws Exception {
    try (Receiver receiver = new Receiver()) {
      String toml = """
          [observers]
          backend = "webhook"

          [observers.webhook]
          egress = "strict"

          [[observers.handlers]]
          name = "tenant-hook"
          event = "user.created"
          action = "webhook"
          webhook_url = "${TENANT_URL}"

          [[observers.handlers]]
          name = "internal-hook"
          event = "user.created"
          action = "webhook"
          webhook_url = "${TENANT_URL}"
          egress = "default"
          """;
      try (ObserverEngine engine = ObserverEngine.builder().config(toml, "fraiseql.toml")
          .env(Map.of("TENANT_URL", "http://localhost:" + receiver.port() + "/t")).build()) {
        List<DeliveryOutcome> outcomes = commit(engine);
        assertThat(outcomes).extracting(DeliveryOutcome::handler).containsExactly("internal-hook", "tenant-hook");
        assertThat(outcomes.get(0).status()).isEqualTo(DeliveryOutcome.Status.DELIVERED);
        assertThat(outcomes.get(1).status()).isEqualTo(DeliveryOutcome.Status.DEAD_LETTERED);
        assertThat(outcomes.get(1).detail()).contains("egress refused");
        assertThat(receiver.requests()).hasSize(1);
      }
    }
  }
}

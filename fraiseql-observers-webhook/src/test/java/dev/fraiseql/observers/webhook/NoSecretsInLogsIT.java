package dev.fraiseql.observers.webhook;

import static dev.fraiseql.observers.webhook.TestSupport.userCreated;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.fraiseql.observers.DeliveryOutcome;
import dev.fraiseql.observers.ObserverEngine;
import dev.fraiseql.observers.config.HandlerConfig;
import dev.fraiseql.observers.config.ObserversConfig;
import dev.fraiseql.observers.config.RetryPolicy;
import dev.fraiseql.observers.config.Settings;
import dev.fraiseql.observers.spi.DeadLetter;
import dev.fraiseql.observers.webhook.Receiver.Response;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Runs deliveries that touch every secret (URL credentials and query token, an Authorization header,
 * a signing secret, a Slack hook path) through the engine with TRACE logging captured from stderr
 * (slf4j-simple), through retries, a redirect, a dead letter and config errors, and checks that none of
 * them appears in the logs, the outcomes, the dead letters or the exception messages.
 */
class NoSecretsInLogsIT {
  private static final String PASSWORD = "pa55w0rd-XYZ";
  private static final String QUERY_TOKEN = "qtok-9f8e7d6c";
  private static final String BEARER = "bearer-abcdef123456";
  private static final String SIGNING_KEY_TEXT = "sign-key-0123456789abcdef0123456";
  private static final String SIGNING_SECRET = "whsec_" + Base64.getEncoder().encodeToString(SIGNING_KEY_TEXT.getBytes(StandardCharsets.UTF_8));
  private static final String SLACK_KEY = "SLACKKEY77aa88bb";

  @Test
  void noSecretReachesALogLineOutcomeDeadLetterOrMessage() throws Exception {
    PrintStream original = System.err;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    List<String> texts = new ArrayList<>();
    try (Receiver receiver = new Receiver(); Receiver slack = new Receiver()) {
      System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
      // Echo the token and header back in error bodies, as a careless receiver would.
      receiver.answer(Response.of(503, "bad token " + QUERY_TOKEN + " for " + BEARER),
          Response.of(302).withHeader("Location", "http://user:" + PASSWORD + "@127.0.0.1/x?token=" + QUERY_TOKEN),
          Response.of(401, "Authorization: Bearer " + BEARER));
      receiver.otherwise(Response.of(200));
      slack.answer(Response.of(500, "no such hook /services/T1/B2/" + SLACK_KEY));
      slack.otherwise(Response.of(200));
      String url = "http://admin:" + PASSWORD + "@127.0.0.1:" + receiver.port() + "/hooks/fraiseql?token=" + QUERY_TOKEN;
      RetryPolicy retry = RetryPolicy.custom().maxAttempts(3).initialDelay(Duration.ofMillis(10)).jitter(0).build();
      Map<String, Object> hook = new LinkedHashMap<>();
      hook.put("url", url);
      hook.put("headers", Map.of("Authorization", "Bearer " + BEARER));
      hook.put("signing", "standard-webhooks");
      hook.put("signing_secret_env", "HOOK_SIGNING_SECRET");
      ObserversConfig cfg = ObserversConfig.builder()
          .backend("webhook")
          .handler(HandlerConfig.builder("welcome-email").event("user.created").action("webhook")
              .settings(Settings.of("[[observers.handlers]] #1", hook)).retry(retry).build())
          .handler(HandlerConfig.builder("slack-signup").event("user.created").action("slack")
              .settings(Settings.of("[[observers.handlers]] #2",
                  Map.of("url", "http://127.0.0.1:" + slack.port() + "/services/T1/B2/" + SLACK_KEY)))
              .retry(retry).build())
          .build();
      try (ObserverEngine engine = ObserverEngine.builder().config(cfg)
          .env(Map.of("HOOK_SIGNING_SECRET", SIGNING_SECRET)).build()) {
        for (int i = 0; i < 3; i++) {
          for (DeliveryOutcome o : engine.onCommit(userCreated()).completion().toCompletableFuture().get(20, TimeUnit.SECONDS)) {
            texts.add(o.toString());
          }
        }
        TestSupport.await(Duration.ofSeconds(5), () -> engine.deadLetters().count() >= 1);
        for (DeadLetter d : engine.deadLetters().list()) {
          texts.add(d.toString());
          texts.add(d.reason());
          d.attempts().forEach(a -> texts.add(a.outcome()));
        }
      }
      // A config error about the signing secret names the variable, not the value.
      Map<String, Object> bad = new LinkedHashMap<>(hook);
      bad.put("signing_secret_env", "HOOK_SIGNING_SECRET");
      assertThatThrownBy(() -> new WebhookActionProvider().create(new TestSupport.Ctx("x", bad,
          Map.of("HOOK_SIGNING_SECRET", "not-base64 " + PASSWORD))))
          .satisfies(e -> texts.add(e.getMessage()));
      assertThat(receiver.requests()).hasSize(4); // 503, 302 (dead letter); 401 (dead letter); 200
      assertThat(slack.requests()).hasSize(4); // 500, 200; 200; 200
      assertThat(receiver.requests().get(0).header("Authorization")).isEqualTo("Bearer " + BEARER);
    } finally {
      System.setErr(original);
    }
    String logs = captured.toString(StandardCharsets.UTF_8);
    original.print(logs);
    assertThat(logs).contains("[observer] welcome-email: dispatching webhook to http://***@127.0.0.1:")
        .contains("/hooks/fraiseql?***").contains("POST http://***@127.0.0.1:").contains("slack to http://127.0.0.1:").contains("dead-lettered")
        .contains("HTTP 500: no such hook ***").contains("HTTP 401: Authorization: ***");
    texts.add(logs);
    String all = String.join("\n", texts);
    for (String secret : List.of(PASSWORD, QUERY_TOKEN, BEARER, SIGNING_SECRET, SIGNING_SECRET.substring(6),
        SIGNING_KEY_TEXT, SLACK_KEY)) {
      assertThat(all).as("secret %s", secret).doesNotContain(secret);
    }
  }
}

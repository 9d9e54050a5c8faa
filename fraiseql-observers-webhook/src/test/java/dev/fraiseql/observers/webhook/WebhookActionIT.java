package dev.fraiseql.observers.webhook;

import static dev.fraiseql.observers.webhook.TestSupport.delivery;
import static dev.fraiseql.observers.webhook.TestSupport.userCreated;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fraiseql.observers.ObservedEvent;
import dev.fraiseql.observers.ObserverConfigException;
import dev.fraiseql.observers.spi.Action;
import dev.fraiseql.observers.spi.ActionResult;
import dev.fraiseql.observers.webhook.Receiver.Response;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The webhook action against a real HTTP receiver, created directly through its provider. */
class WebhookActionIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final WebhookActionProvider provider = new WebhookActionProvider();
  private final List<Action> actions = new ArrayList<>();
  private Receiver receiver;

  @BeforeEach
  void start() throws Exception {
    receiver = new Receiver();
  }

  @AfterEach
  void stop() {
    actions.forEach(Action::close);
    receiver.close();
  }

  private Action create(Map<String, ?> settings) {
    return create(settings, Map.of());
  }

  private Action create(Map<String, ?> settings, Map<String, String> env) {
    Action a = provider.create(new TestSupport.Ctx("welcome-email", settings, env));
    actions.add(a);
    return a;
  }

  private static ActionResult run(Action a, ObservedEvent e, int attempt) throws Exception {
    return a.execute(delivery(e, "welcome-email", attempt)).toCompletableFuture().get(20, TimeUnit.SECONDS);
  }

  private static Map<String, Object> map(Object... kv) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      m.put((String) kv[i], kv[i + 1]);
    }
    return m;
  }

  @Test
  void sendsTheSeedPayloadByteForByteWithHeaders() throws Exception {
    Action a = create(map("url", receiver.uri("/hooks/fraiseql").toString(),
        "headers", Map.of("X-Tenant", "acme", "Authorization", "Bearer tok-123")));
    ObservedEvent e = userCreated();

    ActionResult r = run(a, e, 1);

    assertThat(r.isDelivered()).isTrue();
    assertThat(r.detail()).isEqualTo("status=200");
    assertThat(receiver.requests()).hasSize(1);
    Receiver.Request req = receiver.requests().get(0);
    assertThat(req.method()).isEqualTo("POST");
    assertThat(req.path()).isEqualTo("/hooks/fraiseql");
    String expected = "{\"id\":\"01936b2e-6c1a-7cc0-9a4e-3f2b5d8e9a10\",\"event\":\"INSERT\",\"table\":\"tb_user\","
        + "\"timestamp\":\"2026-02-25T10:00:00Z\",\"data\":{\"new\":{\"id\":\"550e8400-e29b-41d4-a716-446655440000\","
        + "\"email\":\"alice@example.com\",\"name\":\"Alice\"},\"old\":null},\"context\":{\"event_name\":\"user.created\","
        + "\"mutation\":\"createUser\",\"user_id\":\"u-1\",\"tenant_id\":\"t-42\",\"request_id\":\"req_01HV3KQBN7\"}}";
    assertThat(req.bodyText()).isEqualTo(expected);
    assertThat(req.body()).isEqualTo(e.toJson());
    // What seed 001's Express and Go receivers read:
    JsonNode body = JSON.readTree(req.body());
    assertThat(body.get("event").asText()).isEqualTo("INSERT");
    assertThat(body.get("table").asText()).isEqualTo("tb_user");
    assertThat(body.get("timestamp").asText()).isEqualTo("2026-02-25T10:00:00Z");
    assertThat(body.at("/data/new/email").asText()).isEqualTo("alice@example.com");
    assertThat(body.at("/data/new/name").asText()).isEqualTo("Alice");
    assertThat(body.at("/data/old").isNull()).isTrue();

    assertThat(req.header("Content-Type")).isEqualTo("application/json");
    assertThat(req.header("Fraiseql-Event-Id")).isEqualTo("01936b2e-6c1a-7cc0-9a4e-3f2b5d8e9a10");
    assertThat(req.header("Fraiseql-Event-Name")).isEqualTo("user.created");
    assertThat(req.header("Fraiseql-Delivery-Id")).isEqualTo("01936b2e-6c1a-7cc0-9a4e-3f2b5d8e9a10:welcome-email");
    assertThat(req.header("Fraiseql-Delivery-Attempt")).isEqualTo("1");
    assertThat(req.header("Fraiseql-Request-Id")).isEqualTo("req_01HV3KQBN7");
    assertThat(req.header("User-Agent")).matches("fraiseql-observers-java/\\d+\\.\\d+\\.\\d+.*");
    assertThat(req.header("X-Tenant")).isEqualTo("acme");
    assertThat(req.header("Authorization")).isEqualTo("Bearer tok-123");
    assertThat(req.header("webhook-signature")).isNull();
  }

  @Test
  void eventIdIsStableAcrossAttemptsAndAttemptIsCounted() throws Exception {
    Action a = create(map("url", receiver.uri("/h").toString()));
    ObservedEvent e = userCreated();
    run(a, e, 1);
    run(a, e, 2);
    List<Receiver.Request> reqs = receiver.requests();
    assertThat(reqs).extracting(r -> r.header("Fraiseql-Event-Id")).containsOnly(e.id().toString());
    assertThat(reqs).extracting(r -> r.header("Fraiseql-Delivery-Attempt")).containsExactly("1", "2");
    assertThat(reqs.get(0).body()).isEqualTo(reqs.get(1).body());
  }

  @Test
  void methodIsConfigurable() throws Exception {
    Action a = create(map("url", receiver.uri("/h").toString(), "method", "put"));
    assertThat(run(a, userCreated(), 1).isDelivered()).isTrue();
    assertThat(receiver.requests().get(0).method()).isEqualTo("PUT");
    assertThatThrownBy(() -> create(map("url", receiver.uri("/h").toString(), "method", "GET")))
        .isInstanceOf(ObserverConfigException.class).hasMessageContaining("fraiseql.toml:9:1")
        .hasMessageContaining("method").hasMessageContaining("POST");
  }

  @Test
  void describeRedactsCredentialsAndQuery() {
    Action a = create(map("url", "http://user:pa55word@127.0.0.1:" + receiver.port() + "/hooks/fraiseql?token=s3cr3t"));
    assertThat(a.describe()).isEqualTo("webhook to http://***@127.0.0.1:" + receiver.port() + "/hooks/fraiseql?***");
    assertThat(a.toString()).doesNotContain("pa55word").doesNotContain("s3cr3t");
  }

  @Test
  void bodyTemplateRendersEventFieldsAndSections() throws Exception {
    String template = "{\"user\": \"{{data.new.name}}\", \"table\": \"{{table}}\", \"tenant\": \"{{context.tenant_id}}\","
        + " \"row\": {{data.new}}{{#data.old}}, \"had_old\": true{{/data.old}}}";
    Action a = create(map("url", receiver.uri("/t").toString(), "body_template", template));
    assertThat(run(a, userCreated(), 1).isDelivered()).isTrue();
    Receiver.Request req = receiver.requests().get(0);
    assertThat(req.header("Content-Type")).isEqualTo("application/json");
    JsonNode body = JSON.readTree(req.body());
    assertThat(body.get("user").asText()).isEqualTo("Alice");
    assertThat(body.get("table").asText()).isEqualTo("tb_user");
    assertThat(body.get("tenant").asText()).isEqualTo("t-42");
    assertThat(body.get("row").get("email").asText()).isEqualTo("alice@example.com");
    assertThat(body.has("had_old")).isFalse();
  }

  @Test
  void aFieldValueCannotInjectKeysIntoATemplatedJsonBody() throws Exception {
    String template = "{\"user\": \"{{data.new.name}}\", \"admin\": false}";
    Action a = create(map("url", receiver.uri("/t").toString(), "body_template", template));
    String evil = "Mallory\", \"admin\": true, \"x\": \"\\\n\u2028";
    Map<String, Object> row = new LinkedHashMap<>();
    row.put("name", evil);
    assertThat(run(a, userCreated(row), 1).isDelivered()).isTrue();
    JsonNode body = JSON.readTree(receiver.requests().get(0).body());
    assertThat(body.size()).isEqualTo(2);
    assertThat(body.get("user").asText()).isEqualTo(evil);
    assertThat(body.get("admin").asBoolean()).isFalse();
  }

  @Test
  void aTemplateThatCannotBeJsonIsRejectedAtLoad() {
    assertThatThrownBy(() -> create(map("url", receiver.uri("/t").toString(), "body_template", "{\"user\": {{data.new.name}")))
        .isInstanceOf(ObserverConfigException.class)
        .hasMessageContaining("fraiseql.toml:9:1").hasMessageContaining("body_template").hasMessageContaining("valid JSON");
    assertThatThrownBy(() -> create(map("url", receiver.uri("/t").toString(), "body_template", "{\"user\": \"{{{data.new.name}}}\"}")))
        .isInstanceOf(ObserverConfigException.class).hasMessageContaining("unescaped");
    assertThatThrownBy(() -> create(map("url", receiver.uri("/t").toString(), "body_template", "{{=<% %>=}}{\"a\": \"<%{table}%>\"}")))
        .isInstanceOf(ObserverConfigException.class).hasMessageContaining("delimiters");
    assertThatThrownBy(() -> create(map("url", receiver.uri("/t").toString(), "body_template", "  ")))
        .isInstanceOf(ObserverConfigException.class).hasMessageContaining("empty");
    assertThatThrownBy(() -> create(map("url", receiver.uri("/t").toString(), "body_template", "{{#data}}")))
        .isInstanceOf(ObserverConfigException.class).hasMessageContaining("Mustache");
  }

  @Test
  void aBodyThatIsNotJsonForOneEventFailsThatDeliveryPermanently() throws Exception {
    // Valid when age is a number; a string age makes the unquoted slot invalid JSON.
    Action a = create(map("url", receiver.uri("/t").toString(), "body_template", "{\"age\": {{data.new.age}}}"));
    Map<String, Object> row = new LinkedHashMap<>();
    row.put("age", "forty");
    ActionResult r = run(a, userCreated(row), 1);
    assertThat(r).isInstanceOf(ActionResult.Failed.class);
    assertThat(r.detail()).contains("invalid JSON").doesNotContain("forty");
    assertThat(receiver.requests()).isEmpty();
  }

  @Test
  void nonJsonTemplatesUseTheirContentType() throws Exception {
    Action a = create(map("url", receiver.uri("/f").toString(), "content_type", "application/x-www-form-urlencoded",
        "body_template", "name={{data.new.name}}&table={{table}}"));
    Map<String, Object> row = new LinkedHashMap<>();
    row.put("name", "A&B=C");
    assertThat(run(a, userCreated(row), 1).isDelivered()).isTrue();
    Receiver.Request req = receiver.requests().get(0);
    assertThat(req.header("Content-Type")).isEqualTo("application/x-www-form-urlencoded");
    assertThat(req.bodyText()).isEqualTo("name=A%26B%3DC&table=tb_user");
  }

  @Test
  void standardWebhooksSignatureVerifiesWithAnIndependentImplementation() throws Exception {
    String secret = "whsec_" + Base64.getEncoder().encodeToString("a-32-byte-long-secret-key-123456".getBytes(StandardCharsets.UTF_8));
    Action a = create(map("url", receiver.uri("/s").toString(), "signing", "standard-webhooks",
        "signing_secret_env", "HOOK_SECRET"), Map.of("HOOK_SECRET", secret));
    ObservedEvent e = userCreated();
    assertThat(run(a, e, 1).isDelivered()).isTrue();
    Receiver.Request req = receiver.requests().get(0);
    long now = Instant.now().getEpochSecond();
    assertThat(req.header("webhook-id")).isEqualTo(e.id() + ":welcome-email");
    assertThat(Long.parseLong(req.header("webhook-timestamp"))).isBetween(now - 5, now + 1);
    assertThat(req.header("webhook-signature")).startsWith("v1,");
    assertThat(Verifiers.standardWebhooks(secret, req.header("webhook-id"), req.header("webhook-timestamp"),
        req.header("webhook-signature"), req.body(), now)).isTrue();
    // a different secret or a tampered body does not verify
    String other = "whsec_" + Base64.getEncoder().encodeToString("another-secret-key-entirely-0000".getBytes(StandardCharsets.UTF_8));
    assertThat(Verifiers.standardWebhooks(other, req.header("webhook-id"), req.header("webhook-timestamp"),
        req.header("webhook-signature"), req.body(), now)).isFalse();
    byte[] tampered = req.bodyText().replace("Alice", "Mallory").getBytes(StandardCharsets.UTF_8);
    assertThat(Verifiers.standardWebhooks(secret, req.header("webhook-id"), req.header("webhook-timestamp"),
        req.header("webhook-signature"), tampered, now)).isFalse();
  }

  @Test
  void rotationSignsWithEverySecret() throws Exception {
    String newer = "whsec_" + Base64.getEncoder().encodeToString("new-key-new-key-new-key-new-key!".getBytes(StandardCharsets.UTF_8));
    String older = "whsec_" + Base64.getEncoder().encodeToString("old-key-old-key-old-key-old-key!".getBytes(StandardCharsets.UTF_8));
    Action a = create(map("url", receiver.uri("/s").toString(), "signing", "standard-webhooks",
        "signing_secrets_env", List.of("NEW_SECRET", "OLD_SECRET")), Map.of("NEW_SECRET", newer, "OLD_SECRET", older));
    assertThat(run(a, userCreated(), 1).isDelivered()).isTrue();
    Receiver.Request req = receiver.requests().get(0);
    long now = Instant.now().getEpochSecond();
    assertThat(req.header("webhook-signature").split(" ")).hasSize(2);
    for (String s : List.of(newer, older)) {
      assertThat(Verifiers.standardWebhooks(s, req.header("webhook-id"), req.header("webhook-timestamp"),
          req.header("webhook-signature"), req.body(), now)).isTrue();
    }
  }

  @Test
  void fraiseqlSignatureVerifiesWithAnIndependentImplementation() throws Exception {
    Action a = create(map("url", receiver.uri("/s").toString(), "signing", "fraiseql",
        "signing_secrets_env", List.of("SIG_NEW", "SIG_OLD")), Map.of("SIG_NEW", "new-shared-secret", "SIG_OLD", "old-shared-secret"));
    assertThat(run(a, userCreated(), 1).isDelivered()).isTrue();
    Receiver.Request req = receiver.requests().get(0);
    String header = req.header("X-FraiseQL-Signature-256");
    assertThat(header).matches("t=\\d+,v1=[0-9a-f]{64},v1=[0-9a-f]{64}");
    long now = Instant.now().getEpochSecond();
    assertThat(Verifiers.fraiseql("new-shared-secret", header, req.body(), now)).isTrue();
    assertThat(Verifiers.fraiseql("old-shared-secret", header, req.body(), now)).isTrue();
    assertThat(Verifiers.fraiseql("wrong-secret", header, req.body(), now)).isFalse();
  }

  @Test
  void aMissingSecretVariableIsAConfigErrorNamingItAndTheHandler() {
    assertThatThrownBy(() -> create(map("url", receiver.uri("/s").toString(), "signing", "fraiseql",
        "signing_secret_env", "WEBHOOK_SIGNING_SECRET")))
        .isInstanceOf(ObserverConfigException.class)
        .hasMessageContaining("WEBHOOK_SIGNING_SECRET").hasMessageContaining("welcome-email")
        .hasMessageContaining("fraiseql.toml:10:1");
    assertThatThrownBy(() -> create(map("url", receiver.uri("/s").toString(), "signing", "standard-webhooks",
        "signing_secret_env", "BAD"), Map.of("BAD", "not base64 !!")))
        .isInstanceOf(ObserverConfigException.class).hasMessageContaining("BAD").hasMessageContaining("whsec_")
        .hasMessageNotContaining("not base64 !!");
    assertThatThrownBy(() -> create(map("url", receiver.uri("/s").toString(), "signing", "hmac")))
        .isInstanceOf(ObserverConfigException.class).hasMessageContaining("standard-webhooks");
  }

  @Test
  void missingOrBadUrlIsAConfigError() {
    assertThatThrownBy(() -> create(map()))
        .isInstanceOf(ObserverConfigException.class).hasMessageContaining("webhook_url").hasMessageContaining("url_env");
    assertThatThrownBy(() -> create(map("url", "ftp://example.com/x?token=abc")))
        .isInstanceOf(ObserverConfigException.class).hasMessageContaining("http or https").hasMessageNotContaining("token=abc");
    assertThatThrownBy(() -> create(map("url", receiver.uri("/").toString(), "headers", Map.of("Content-Type", "text/plain"))))
        .isInstanceOf(ObserverConfigException.class).hasMessageContaining("content_type");
  }

  @Test
  void retryableStatusesAskForARetry() throws Exception {
    Action a = create(map("url", receiver.uri("/r").toString()));
    for (int status : new int[] {503, 500, 502, 408, 425, 429}) {
      receiver.answer(Response.of(status, "upstream down"));
      ActionResult r = run(a, userCreated(), 1);
      assertThat(r).as("status %d", status).isInstanceOf(ActionResult.Retry.class);
      assertThat(r.detail()).isEqualTo("HTTP " + status + ": upstream down");
      assertThat(((ActionResult.Retry) r).after()).isEmpty();
    }
  }

  @Test
  void retriesOn503ThenDeliversOn200() throws Exception {
    receiver.answer(Response.of(503, "{\"error\":\"Event bus unavailable\"}"), Response.of(200));
    Action a = create(map("url", receiver.uri("/r").toString()));
    ObservedEvent e = userCreated();
    ActionResult first = run(a, e, 1);
    ActionResult second = run(a, e, 2);
    assertThat(first).isInstanceOf(ActionResult.Retry.class);
    assertThat(first.detail()).isEqualTo("HTTP 503: {\"error\":\"Event bus unavailable\"}");
    assertThat(second.isDelivered()).isTrue();
    assertThat(receiver.requests()).hasSize(2);
  }

  @Test
  void otherClientErrorsArePermanent() throws Exception {
    Action a = create(map("url", receiver.uri("/p").toString()));
    for (int status : new int[] {400, 401, 403, 404, 410, 422}) {
      receiver.answer(Response.of(status, "bad request: missing field"));
      ActionResult r = run(a, userCreated(), 1);
      assertThat(r).as("status %d", status).isInstanceOf(ActionResult.Failed.class);
      assertThat(r.detail()).isEqualTo("HTTP " + status + ": bad request: missing field");
    }
  }

  @Test
  void retryAfterInSecondsAndAsHttpDateIsPassedOn() throws Exception {
    Action a = create(map("url", receiver.uri("/r").toString()));
    receiver.answer(Response.of(429).withHeader("Retry-After", "7"));
    ActionResult r = run(a, userCreated(), 1);
    assertThat(((ActionResult.Retry) r).after()).contains(Duration.ofSeconds(7));

    String date = DateTimeFormatter.RFC_1123_DATE_TIME.format(ZonedDateTime.now(ZoneOffset.UTC).plusSeconds(120));
    receiver.answer(Response.of(503).withHeader("Retry-After", date));
    r = run(a, userCreated(), 1);
    assertThat(((ActionResult.Retry) r).after()).hasValueSatisfying(d ->
        assertThat(d).isBetween(Duration.ofSeconds(110), Duration.ofSeconds(121)));
  }

  @Test
  void aSlowReceiverTimesOutAsRetryable() throws Exception {
    receiver.answer(Response.of(200).after(Duration.ofSeconds(6)));
    Action a = create(map("url", receiver.uri("/slow").toString(), "request_timeout_ms", 300L));
    long t0 = System.nanoTime();
    ActionResult r = run(a, userCreated(), 1);
    // well before the receiver would answer (generous for a loaded machine)
    assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(4));
    assertThat(r).isInstanceOf(ActionResult.Retry.class);
    assertThat(r.detail()).startsWith("timeout after 300ms");
  }

  @Test
  void aRefusedConnectionIsRetryable() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    Action a = create(map("url", "http://127.0.0.1:" + port + "/gone?key=abc123"));
    ActionResult r = run(a, userCreated(), 1);
    assertThat(r).isInstanceOf(ActionResult.Retry.class);
    assertThat(r.detail()).contains("connection refused").doesNotContain("abc123");
  }

  @Test
  void redirectsAreNotFollowed() throws Exception {
    receiver.answer(Response.of(302).withHeader("Location", "https://admin:hunter22@elsewhere.example/steal?token=xyz789"));
    Action a = create(map("url", receiver.uri("/moved").toString()));
    ActionResult r = run(a, userCreated(), 1);
    assertThat(r).isInstanceOf(ActionResult.Failed.class);
    assertThat(r.detail()).isEqualTo("HTTP 302: redirect not followed (Location: https://***@elsewhere.example/steal?***)");
    assertThat(receiver.requests()).hasSize(1);
  }

  @Test
  void strictEgressRefusesLoopbackOnEveryAttempt() throws Exception {
    // A name that resolves to loopback: refused when the request is attempted, nothing is sent.
    Action a = create(map("url", "http://localhost:" + receiver.port() + "/internal", "egress", "strict"));
    ActionResult r = run(a, userCreated(), 1);
    assertThat(r).isInstanceOf(ActionResult.Failed.class);
    assertThat(r.detail()).startsWith("egress refused: http://localhost:" + receiver.port() + "/internal")
        .contains("loopback").contains("strict");
    assertThat(run(a, userCreated(), 2)).isInstanceOf(ActionResult.Failed.class);
    assertThat(receiver.requests()).isEmpty();
    // A literal loopback address is refused when the handler is created.
    assertThatThrownBy(() -> create(map("url", receiver.uri("/x").toString(), "egress", "strict")))
        .isInstanceOf(ObserverConfigException.class).hasMessageContaining("loopback");
    // The default mode allows it.
    assertThat(run(create(map("url", "http://localhost:" + receiver.port() + "/ok")), userCreated(), 1).isDelivered()).isTrue();
  }

  @Test
  void cloudMetadataIsAlwaysRefused() {
    for (String url : List.of("http://169.254.169.254/latest/meta-data/", "http://[fd00:ec2::254]/latest",
        "http://metadata.google.internal/computeMetadata/v1/", "http://[::ffff:169.254.169.254]/")) {
      assertThatThrownBy(() -> create(map("url", url)))
          .as(url).isInstanceOf(ObserverConfigException.class).hasMessageContaining("metadata");
    }
    assertThatThrownBy(() -> create(map("url", "http://example.com/", "egress", "open")))
        .isInstanceOf(ObserverConfigException.class).hasMessageContaining("strict");
  }

  @Test
  void theRecordedExcerptIsBounded() throws Exception {
    receiver.answer(Response.of(500, "x".repeat(20_000) + "\n"));
    Action a = create(map("url", receiver.uri("/big").toString(), "response_excerpt_bytes", 32L));
    ActionResult r = run(a, userCreated(), 1);
    assertThat(r.detail()).isEqualTo("HTTP 500: " + "x".repeat(32) + "…");
    // the connection is still usable afterwards
    assertThat(run(a, userCreated(), 2).isDelivered()).isTrue();
  }

  @Test
  void aBodyOverTheDrainLimitIsAbandonedAndTheStatusStillDecides() throws Exception {
    // 2 MiB: past the 1 MiB we drain for connection reuse; reading stops, the 503 is still judged retryable
    receiver.answer(Response.of(503, "y".repeat(2 << 20)));
    Action a = create(map("url", receiver.uri("/huge").toString(), "response_excerpt_bytes", 16L));
    ActionResult r = run(a, userCreated(), 1);
    assertThat(r.isDelivered()).isFalse();
    assertThat(r.detail()).isEqualTo("HTTP 503: " + "y".repeat(16) + "…");
    assertThat(r).isInstanceOf(ActionResult.Retry.class);
    // a fresh connection serves the next attempt
    assertThat(run(a, userCreated(), 2).isDelivered()).isTrue();
    assertThat(receiver.requests()).hasSize(2);
  }

  @Test
  void concurrencyPerEndpointIsBounded() throws Exception {
    receiver.otherwise(Response.of(200).after(Duration.ofMillis(200)));
    Action a = create(map("url", receiver.uri("/c").toString(), "max_concurrency", 2L));
    List<CompletableFuture<ActionResult>> all = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      all.add(a.execute(delivery(userCreated(), "welcome-email", 1)).toCompletableFuture());
    }
    for (CompletableFuture<ActionResult> f : all) {
      assertThat(f.get(20, TimeUnit.SECONDS).isDelivered()).isTrue();
    }
    assertThat(receiver.requests()).hasSize(8);
    assertThat(receiver.maxConcurrent()).isBetween(1, 2);
  }

  @Test
  void aSlowEndpointDoesNotHoldUpAnother() throws Exception {
    try (Receiver fast = new Receiver()) {
      Action slow = create(map("url", receiver.uri("/slow").toString(), "max_concurrency", 1L));
      Action quick = create(map("url", fast.uri("/fast").toString()));
      assertThat(run(quick, userCreated(), 1).isDelivered()).isTrue(); // warm up the client
      receiver.otherwise(Response.of(200).after(Duration.ofSeconds(3)));
      List<CompletableFuture<ActionResult>> pending = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        pending.add(slow.execute(delivery(userCreated(), "welcome-email", 1)).toCompletableFuture());
      }
      // The slow endpoint answers one request every 3 s; the other endpoint answers at once meanwhile.
      for (int i = 2; i <= 4; i++) {
        assertThat(run(quick, userCreated(), i).isDelivered()).isTrue();
      }
      assertThat(pending).noneMatch(CompletableFuture::isDone);
      assertThat(fast.requests()).hasSize(4);
    }
  }

  @Test
  void nonAsciiNamesAreSentPercentEncodedAndStillSigned() throws Exception {
    Action a = provider.create(new TestSupport.Ctx("café-hook", map("url", receiver.uri("/u").toString(),
        "signing", "fraiseql", "signing_secret_env", "S"), Map.of("S", "shared-secret-1")));
    actions.add(a);
    ObservedEvent e = userCreated().toBuilder().name("usér.créé").build();
    ActionResult r = a.execute(delivery(e, "café-hook", 1)).toCompletableFuture().get(10, TimeUnit.SECONDS);
    assertThat(r.isDelivered()).isTrue();
    Receiver.Request req = receiver.requests().get(0);
    assertThat(java.net.URLDecoder.decode(req.header("Fraiseql-Event-Name"), StandardCharsets.UTF_8)).isEqualTo("usér.créé");
    assertThat(java.net.URLDecoder.decode(req.header("Fraiseql-Delivery-Id"), StandardCharsets.UTF_8))
        .isEqualTo(e.id() + ":café-hook");
    assertThat(Verifiers.fraiseql("shared-secret-1", req.header("X-FraiseQL-Signature-256"), req.body(),
        Instant.now().getEpochSecond())).isTrue();
  }

  @Test
  void connectionsAreReused() throws Exception {
    Action a = create(map("url", receiver.uri("/keepalive").toString()));
    for (int i = 1; i <= 3; i++) {
      assertThat(run(a, userCreated(), i).isDelivered()).isTrue();
    }
    assertThat(receiver.requests()).extracting(Receiver.Request::clientPort).containsOnly(receiver.requests().get(0).clientPort());
  }
}

package dev.fraiseql.observers.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fraiseql.observers.ObservedEvent;
import dev.fraiseql.observers.ObserverEngine;
import dev.fraiseql.observers.spi.DeadLetterQuery;
import dev.fraiseql.observers.Operation;
import dev.fraiseql.observers.spring.pgapp.BlogApp;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.core.env.Environment;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * Seed 001's user API on real PostgreSQL with JPA capture: no publish call anywhere, a REST call
 * creating a user reaches the welcome-email receiver with the request's context after commit.
 */
@SpringBootTest(classes = BlogApp.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class PgBlogIT {
  static final String SCHEMA = "sbstarter_" + Long.toHexString(System.nanoTime());
  static final Receiver WELCOME = new Receiver(200);
  static final Receiver STRIPE = new Receiver(200);
  static final ObjectMapper JSON = new ObjectMapper();
  static final HttpClient HTTP = HttpClient.newHttpClient();

  @DynamicPropertySource
  static void props(DynamicPropertyRegistry r) {
    r.add("spring.datasource.url", () -> System.getenv().getOrDefault("FRAISEQL_TEST_PG_URL",
        "jdbc:postgresql://localhost:5432/test?user=root"));
    r.add("spring.datasource.username", () -> "root");
    r.add("spring.jpa.hibernate.ddl-auto", () -> "create-drop");
    r.add("spring.jpa.open-in-view", () -> "false");
    r.add("spring.jpa.properties.hibernate.default_schema", () -> SCHEMA);
    r.add("spring.jpa.properties.hibernate.hbm2ddl.create_namespaces", () -> "true");
    r.add("fraiseql.observers.config", () -> "classpath:fraiseql-pg.toml");
    r.add("fraiseql.observers.jpa.capture", () -> "true");
    r.add("WELCOME_EMAIL_SERVICE_URL", WELCOME::url);
    r.add("STRIPE_WEBHOOK_URL", STRIPE::url);
    r.add("management.endpoints.web.exposure.include", () -> "health,observers");
    r.add("management.endpoint.health.show-details", () -> "always");
  }

  @Autowired Environment env;
  @Autowired BlogApp.Users users;
  @Autowired BlogApp.Recorder recorder;
  @Autowired ObserverEngine engine;

  @BeforeEach
  void reset() {
    WELCOME.clear();
    STRIPE.clear();
    STRIPE.status(200);
    recorder.events.clear();
  }

  @AfterAll
  static void stop() {
    WELCOME.close();
    STRIPE.close();
  }

  private HttpResponse<String> call(String method, String path, Map<String, String> headers) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + env.getProperty("local.server.port") + path))
        .method(method, HttpRequest.BodyPublishers.noBody()).timeout(Duration.ofSeconds(20));
    headers.forEach(b::header);
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void restCallCreatingAUserSendsTheSeedPayloadWithTheRequestContext() throws Exception {
    HttpResponse<String> response = call("POST", "/users?email=alice@example.com&name=Alice",
        Map.of("X-Request-Id", "req_01HV3KQBN7", "X-Tenant-Id", "tenant-7"));
    assertThat(response.statusCode()).isEqualTo(200);
    String id = response.body();
    assertThat(response.headers().firstValue("X-FraiseQL-Observer-Warning")).isEmpty();

    await().atMost(Duration.ofSeconds(10)).until(() -> WELCOME.bodies().size() == 1);
    JsonNode payload = JSON.readTree(WELCOME.bodies().get(0));
    assertThat(payload.get("event").asText()).isEqualTo("INSERT");
    assertThat(payload.get("table").asText()).isEqualTo("tb_user");
    assertThat(payload.get("timestamp").asText()).isNotBlank();
    assertThat(JSON.convertValue(payload.get("data").get("new"), new TypeReference<Map<String, Object>>() { }))
        .isEqualTo(Map.of("id", id, "email", "alice@example.com", "name", "Alice"));
    assertThat(payload.get("data").get("old").isNull()).isTrue();
    assertThat(payload.get("context").get("event_name").asText()).isEqualTo("user.created");
    assertThat(payload.get("context").get("request_id").asText()).isEqualTo("req_01HV3KQBN7");
    assertThat(payload.get("context").get("tenant_id").asText()).isEqualTo("tenant-7");
    // the synchronous handler ran before the response came back
    assertThat(STRIPE.bodies()).hasSize(1);
    Thread.sleep(300);
    assertThat(WELCOME.bodies()).hasSize(1);
  }

  @Test
  void aGeneratedRequestIdWhenTheHeaderIsAbsent() throws Exception {
    call("POST", "/users?email=bob@example.com&name=Bob", Map.of());
    await().atMost(Duration.ofSeconds(10)).until(() -> WELCOME.bodies().size() == 1);
    JsonNode context = JSON.readTree(WELCOME.bodies().get(0)).get("context");
    assertThat(UUID.fromString(context.get("request_id").asText())).isNotNull();
    assertThat(context.has("tenant_id")).isFalse();
  }

  @Test
  void aFailingSynchronousHandlerPutsTheWarningHeaderOnTheResponse() throws Exception {
    STRIPE.status(500);
    HttpResponse<String> response = call("POST", "/users?email=carol@example.com&name=Carol", Map.of());
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(UUID.fromString(response.body())).isNotNull();
    assertThat(response.headers().firstValue("X-FraiseQL-Observer-Warning"))
        .hasValueSatisfying(v -> assertThat(v).contains("create-stripe-customer"));
    assertThat(STRIPE.bodies()).hasSize(1);
  }

  @Test
  void aTransactionThatThrowsSendsNothing() throws Exception {
    HttpResponse<String> response = call("POST", "/users/failing?email=dave@example.com&name=Dave", Map.of());
    assertThat(response.statusCode()).isEqualTo(500);
    // a committed user afterwards proves the pipeline is live; the rolled-back one never arrives
    call("POST", "/users?email=erin@example.com&name=Erin", Map.of());
    await().atMost(Duration.ofSeconds(10)).until(() -> WELCOME.bodies().size() == 1);
    Thread.sleep(300);
    assertThat(WELCOME.bodies()).hasSize(1);
    assertThat(WELCOME.bodies().get(0)).contains("erin@example.com").doesNotContain("dave@example.com");
    assertThat(STRIPE.bodies()).hasSize(1);
  }

  @Test
  void jpaUpdateCarriesOldAndNewAndDeleteCarriesOld() throws Exception {
    UUID id = users.create("frank@example.com", "Frank");
    call("PUT", "/users/" + id + "?name=Franklin", Map.of("X-Request-Id", "req-update"));
    call("DELETE", "/users/" + id, Map.of("X-Request-Id", "req-delete"));
    await().atMost(Duration.ofSeconds(10)).until(() -> recorder.events.size() == 2);

    ObservedEvent update = recorder.events.get(0);
    assertThat(update.operation()).isEqualTo(Operation.UPDATE);
    assertThat(update.name()).isEqualTo("user.updated");
    assertThat(update.table()).isEqualTo("tb_user");
    assertThat(update.newRow()).hasValue(Map.of("id", id.toString(), "email", "frank@example.com", "name", "Franklin"));
    assertThat(update.oldRow()).hasValue(Map.of("id", id.toString(), "email", "frank@example.com", "name", "Frank"));
    assertThat(update.context().requestId()).hasValue("req-update");

    ObservedEvent delete = recorder.events.get(1);
    assertThat(delete.operation()).isEqualTo(Operation.DELETE);
    assertThat(delete.newRow()).isEmpty();
    assertThat(delete.oldRow()).hasValue(Map.of("id", id.toString(), "email", "frank@example.com", "name", "Franklin"));
    assertThat(delete.context().requestId()).hasValue("req-delete");
  }

  @Test
  void explicitEventsWaitForTheCommitAndARollbackDropsThem() throws Exception {
    int[] seenBeforeCommit = {-1};
    users.placeOrder("o-1", false, () -> seenBeforeCommit[0] = recorder.events.size());
    await().atMost(Duration.ofSeconds(10)).until(() -> recorder.events.size() == 2);
    assertThat(seenBeforeCommit[0]).isZero();
    assertThat(recorder.events).extracting(e -> e.newRow().orElseThrow().get("via"))
        .containsExactlyInAnyOrder("publisher", "spring");
    assertThat(recorder.events).allSatisfy(e -> {
      assertThat(e.name()).isEqualTo("order.created");
      assertThat(e.mutation()).hasValue("placeOrder");
      assertThat(e.newRow().orElseThrow().get("id")).isEqualTo("o-1");
    });

    recorder.events.clear();
    try {
      users.placeOrder("o-2", true, () -> { });
    } catch (IllegalStateException expected) {
      assertThat(expected).hasMessage("out of stock");
    }
    users.placeOrder("o-3", false, () -> { });
    await().atMost(Duration.ofSeconds(10)).until(() -> recorder.events.size() == 2);
    Thread.sleep(300);
    assertThat(recorder.events).extracting(e -> e.newRow().orElseThrow().get("id")).containsOnly("o-3");
  }

  @Test
  void actuatorListsTheDeadLetterAndReplayingItDeliversIt() throws Exception {
    engine.deadLetters().discard(DeadLetterQuery.all());
    STRIPE.status(500);
    call("POST", "/users?email=heidi@example.com&name=Heidi", Map.of());
    assertThat(STRIPE.bodies()).hasSize(1);

    JsonNode observers = JSON.readTree(call("GET", "/actuator/observers", Map.of()).body());
    assertThat(observers.get("handlers")).extracting(h -> h.get("name").asText())
        .containsExactly("welcome-email", "create-stripe-customer", "user-updated", "user-deleted", "order-placed");
    assertThat(observers.get("deadLetterCount").asLong()).isEqualTo(1);
    JsonNode dead = observers.get("deadLetters").get(0);
    assertThat(dead.get("handler").asText()).isEqualTo("create-stripe-customer");
    assertThat(dead.get("event").asText()).isEqualTo("user.created");
    assertThat(dead.get("lastError").asText()).contains("500");

    JsonNode health = JSON.readTree(call("GET", "/actuator/health/observers", Map.of()).body());
    assertThat(health.get("status").asText()).isEqualTo("UP");
    assertThat(health.get("details").get("deadLetters").asLong()).isEqualTo(1);

    STRIPE.status(200);
    HttpResponse<String> replay = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
            + env.getProperty("local.server.port") + "/actuator/observers/" + dead.get("id").asText()))
        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString("{}")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(replay.statusCode()).isEqualTo(200);
    assertThat(JSON.readTree(replay.body()).get("status").asText()).isEqualTo("DELIVERED");
    assertThat(STRIPE.bodies()).hasSize(2);
    assertThat(JSON.readTree(STRIPE.bodies().get(1)).get("data").get("new").get("email").asText()).isEqualTo("heidi@example.com");
    assertThat(engine.deadLetters().count()).isZero();
  }

  @Test
  void anAsyncRequestStillGetsItsBodyAndItsEvent() throws Exception {
    HttpResponse<String> response = call("POST", "/users/async?email=ivan@example.com&name=Ivan", Map.of());
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.body()).startsWith("async:");
    String id = response.body().substring("async:".length());
    await().atMost(Duration.ofSeconds(10)).until(() -> WELCOME.bodies().size() == 1);
    assertThat(JSON.readTree(WELCOME.bodies().get(0)).get("data").get("new").get("id").asText()).isEqualTo(id);
  }
}

package dev.fraiseql.observers.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fraiseql.observers.spring.pgapp.BlogApp;
import dev.fraiseql.observers.spring.pgapp.TriggerApp;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.DriverManager;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.core.env.Environment;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * PostgreSQL trigger capture with {@code fraiseql.observers.postgres.trigger-context=true}: a REST call
 * whose service only writes a row (no publish call, JPA capture off) makes the welcome-email receiver
 * get the event the trigger captured, whose context carries the request's user (Spring Security's
 * principal), tenant and request id, which the starter set as the transaction's {@code fraiseql.*}
 * settings. A write outside any request carries no context; a rolled-back one sends nothing.
 */
@SpringBootTest(classes = TriggerApp.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class TriggerContextIT {
  static final String URL = System.getenv().getOrDefault("FRAISEQL_TEST_PG_URL", "jdbc:postgresql://localhost:5432/test?user=root");
  static final String SCHEMA = "sbtrigger_" + Long.toHexString(System.nanoTime());
  static final Receiver WELCOME = new Receiver(200);
  static final ObjectMapper JSON = new ObjectMapper();

  @DynamicPropertySource
  static void props(DynamicPropertyRegistry r) {
    r.add("spring.datasource.url", () -> URL);
    r.add("spring.datasource.username", () -> "root");
    r.add("spring.jpa.hibernate.ddl-auto", () -> "create-drop");
    r.add("spring.jpa.open-in-view", () -> "false");
    r.add("spring.jpa.properties.hibernate.default_schema", () -> SCHEMA);
    r.add("spring.jpa.properties.hibernate.hbm2ddl.create_namespaces", () -> "true");
    r.add("fraiseql.observers.config", () -> "classpath:fraiseql-trigger.toml");
    r.add("fraiseql.observers.postgres.trigger-context", () -> "true");
    r.add("fraiseql.observers.outbox.table", () -> SCHEMA + ".observer_outbox");
    r.add("TRIGGER_SCHEMA", () -> SCHEMA);
    r.add("WELCOME_EMAIL_SERVICE_URL", WELCOME::url);
    r.add("management.endpoints.web.exposure.include", () -> "health");
    r.add("management.endpoint.health.show-details", () -> "always");
  }

  @Autowired Environment env;
  @Autowired BlogApp.Users users;
  @Autowired io.micrometer.core.instrument.MeterRegistry registry;

  @AfterAll
  static void stop() throws Exception {
    WELCOME.close();
    try (Connection c = DriverManager.getConnection(URL, "root", null)) {
      c.createStatement().execute("DROP SCHEMA IF EXISTS " + SCHEMA + " CASCADE");
    }
  }

  private HttpResponse<String> post(String path, String... headers) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + env.getProperty("local.server.port") + path))
        .POST(HttpRequest.BodyPublishers.noBody()).timeout(Duration.ofSeconds(20));
    if (headers.length > 0) {
      b.headers(headers);
    }
    return HttpClient.newHttpClient().send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private JsonNode bodyFor(String email) throws Exception {
    for (String b : WELCOME.bodies()) {
      JsonNode n = JSON.readTree(b);
      if (email.equals(n.get("data").get("new").get("email").asText())) {
        return n;
      }
    }
    throw new AssertionError("no delivery for " + email + " in " + WELCOME.bodies());
  }

  @Test
  void aCapturedRowCarriesTheRequestsUserTenantAndRequestId() throws Exception {
    HttpResponse<String> r = post("/users?email=ada@example.com&name=Ada",
        "X-Request-Id", "req_01HV3KQBN7", "X-Tenant-Id", "tenant-7", "X-Test-User", "u-ada");
    assertThat(r.statusCode()).isEqualTo(200);
    UUID id = UUID.fromString(r.body());
    // outside any request: the row is captured too, with no context
    users.create("bob@example.com", "Bob");
    // rolled back: nothing
    assertThat(post("/users/failing?email=ghost@example.com&name=Ghost", "X-Test-User", "u-ghost").statusCode())
        .isEqualTo(500);

    await().atMost(Duration.ofSeconds(20)).until(() -> WELCOME.bodies().size() >= 2);
    JsonNode ada = bodyFor("ada@example.com");
    assertThat(ada.get("event").asText()).isEqualTo("INSERT");
    assertThat(ada.get("table").asText()).isEqualTo(SCHEMA + ".tb_user");
    assertThat(ada.get("data").get("new").get("id").asText()).isEqualTo(id.toString());
    JsonNode context = ada.get("context");
    assertThat(context.get("user_id").asText()).isEqualTo("u-ada");
    assertThat(context.get("tenant_id").asText()).isEqualTo("tenant-7");
    assertThat(context.get("request_id").asText()).isEqualTo("req_01HV3KQBN7");

    JsonNode bob = bodyFor("bob@example.com");
    assertThat(bob.get("context").has("user_id")).isFalse();
    assertThat(bob.get("context").has("request_id")).isFalse();

    Thread.sleep(500);
    assertThat(WELCOME.bodies()).hasSize(2).noneMatch(b -> b.contains("ghost@example.com"));
    assertThatThrownBy(() -> bodyFor("ghost@example.com")).isInstanceOf(AssertionError.class);
  }

  @Test
  void theRelayBehindTheTriggersIsInTheHealthDetails() throws Exception {
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
      HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
          + env.getProperty("local.server.port") + "/actuator/health/observers")).build(), HttpResponse.BodyHandlers.ofString());
      JsonNode health = JSON.readTree(r.body());
      assertThat(health.get("status").asText()).isEqualTo("UP");
      assertThat(health.get("details").get("relay").get("status").asText()).isEqualTo("UP");
      assertThat(health.get("details").get("relay").get("table").asText()).isEqualTo(SCHEMA + ".observer_outbox");
      assertThat(health.get("details").get("relay").get("lastCycleAgeMs").asLong()).isLessThan(30_000);
      assertThat(health.get("details").get("relay").get("pending").asLong()).isGreaterThanOrEqualTo(0);
    });
    // the relay's meters, bound to Boot's registry with no code
    String table = SCHEMA + ".observer_outbox";
    io.micrometer.core.instrument.Gauge pending = registry.find(dev.fraiseql.observers.micrometer.ObserverMetrics.OUTBOX_PENDING)
        .tag("table", table).gauge();
    assertThat(pending).isNotNull();
    assertThat(pending.value()).isGreaterThanOrEqualTo(0);
    assertThat(registry.find(dev.fraiseql.observers.micrometer.ObserverMetrics.OUTBOX_DISPATCHED).tag("table", table)
        .functionCounter()).isNotNull();
  }
}

package dev.fraiseql.observers.spring;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fraiseql.observers.spring.plainapp.PlainApp;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * The {@code observers} health indicator over HTTP, against the real servers: DOWN when the bus is
 * unreachable (each backend pointed at a closed port; the shared servers are never stopped), UP
 * otherwise, with the backend's details and no password; the outbox relay's liveness and backlog.
 */
class ObserversHealthIT {
  static final String PG_URL = System.getenv().getOrDefault("FRAISEQL_TEST_PG_URL", "jdbc:postgresql://localhost:5432/test?user=root");
  static final String NATS_URL = System.getenv().getOrDefault("FRAISEQL_TEST_NATS_URL", "nats://127.0.0.1:4222");
  static final String REDIS_URL = System.getenv().getOrDefault("FRAISEQL_TEST_REDIS_URL", "redis://127.0.0.1:6379");
  static final String ID = Long.toHexString(System.nanoTime());
  static final ObjectMapper JSON = new ObjectMapper();
  static final HttpClient HTTP = HttpClient.newHttpClient();
  static final List<String> SCHEMAS = new ArrayList<>();

  @AfterAll
  static void dropSchemas() throws Exception {
    try (Connection c = DriverManager.getConnection(PG_URL, "root", null)) {
      for (String s : SCHEMAS) {
        c.createStatement().execute("DROP SCHEMA IF EXISTS " + s + " CASCADE");
      }
    }
  }

  static int closedPort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  /** Starts the app with {@code toml}, reads /actuator/health/observers, closes the app. */
  static JsonNode health(String toml, String... properties) throws Exception {
    Path file = Files.createTempFile("fraiseql-health-", ".toml");
    Files.writeString(file, toml);
    List<String> props = new ArrayList<>(List.of("server.port=0", "fraiseql.observers.config=file:" + file,
        "management.endpoints.web.exposure.include=health", "management.endpoint.health.show-details=always",
        "spring.autoconfigure.exclude=" + PlainApp.NO_DATABASE));
    props.addAll(List.of(properties));
    try (ConfigurableApplicationContext app = new SpringApplicationBuilder(PlainApp.class)
        .properties(props.toArray(String[]::new)).run()) {
      String port = app.getEnvironment().getProperty("local.server.port");
      HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
          + "/actuator/health/observers")).timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
      JsonNode body = JSON.readTree(r.body());
      System.out.println("[ObserversHealthIT] " + r.statusCode() + " " + body);
      // Actuator answers 503 for DOWN, 200 for UP
      assertThat(r.statusCode()).isEqualTo("DOWN".equals(body.path("status").asText()) ? 503 : 200);
      return body;
    } finally {
      Files.deleteIfExists(file);
    }
  }

  static String natsToml(String url) {
    return """
        [observers]
        backend = "nats"
        nats_url = "%s"

        [observers.nats]
        stream = "SBHEALTH%s"
        subjects = ["sbhealth%s.>"]
        auto_create_stream = false
        """.formatted(url, ID, ID);
  }

  static String redisToml(String url) {
    return """
        [observers]
        backend = "redis"
        redis_url = "%s"
        """.formatted(url);
  }

  @Test
  void natsUnreachableIsDownAndReachableIsUp() throws Exception {
    JsonNode down = health(natsToml("nats://fraiseql:s3cret-pw@127.0.0.1:" + closedPort()));
    assertThat(down.get("status").asText()).isEqualTo("DOWN");
    assertThat(down.get("details").get("backend").asText()).isEqualTo("nats");
    assertThat(down.get("details").get("error").asText()).contains("not connected to NATS");
    assertThat(down.toString()).doesNotContain("s3cret-pw");

    JsonNode up = health(natsToml(NATS_URL));
    assertThat(up.get("status").asText()).isEqualTo("UP");
    assertThat(up.get("details").get("backend").asText()).isEqualTo("nats");
    assertThat(up.get("details").get("connection").asText()).isEqualTo("CONNECTED");
    assertThat(up.get("details").get("stream").asText()).isEqualTo("SBHEALTH" + ID);
    assertThat(up.get("details").get("deadLetters").asLong()).isZero();
  }

  @Test
  void redisUnreachableIsDownAndReachableIsUp() throws Exception {
    JsonNode down = health(redisToml("redis://default:s3cret-pw@127.0.0.1:" + closedPort()));
    assertThat(down.get("status").asText()).isEqualTo("DOWN");
    assertThat(down.get("details").get("backend").asText()).isEqualTo("redis");
    assertThat(down.get("details").get("error").asText()).isNotBlank();
    assertThat(down.toString()).doesNotContain("s3cret-pw");

    JsonNode up = health(redisToml(REDIS_URL));
    assertThat(up.get("status").asText()).isEqualTo("UP");
    assertThat(up.get("details").get("backend").asText()).isEqualTo("redis");
    assertThat(up.get("details").get("pingMs").asLong()).isGreaterThanOrEqualTo(0);
  }

  @Test
  void postgresUnreachableIsDownAndReachableIsUp() throws Exception {
    String schema = "sbhealth_pg_" + ID;
    SCHEMAS.add(schema);
    String toml = """
        [observers]
        backend = "postgres"
        database_url = "%s"
        """;
    JsonNode down = health(toml.formatted("postgres://root:s3cret-pw@127.0.0.1:" + closedPort() + "/test"));
    assertThat(down.get("status").asText()).isEqualTo("DOWN");
    assertThat(down.get("details").get("backend").asText()).isEqualTo("postgres");
    assertThat(down.get("details").get("error").asText()).isNotBlank();
    assertThat(down.toString()).doesNotContain("s3cret-pw");

    JsonNode up = health(toml.formatted("postgres://root@127.0.0.1:5432/test"));
    assertThat(up.get("status").asText()).isEqualTo("UP");
    assertThat(up.get("details").get("backend").asText()).isEqualTo("postgres");
    assertThat(up.get("details").get("database").asText()).contains("127.0.0.1:5432/test");
  }

  @Test
  void theRelaysLivenessAndBacklogAreInTheDetails() throws Exception {
    String schema = "sbhealth_relay_" + ID;
    SCHEMAS.add(schema);
    try (Connection c = DriverManager.getConnection(PG_URL, "root", null)) {
      c.createStatement().execute("CREATE SCHEMA " + schema);
    }
    String inMemory = "[observers]\nbackend = \"in-memory\"\n";
    JsonNode up = health(inMemory, "spring.autoconfigure.exclude=" + PlainApp.NO_JPA,
        "spring.datasource.url=" + PG_URL, "spring.datasource.username=root",
        "fraiseql.observers.outbox.enabled=true", "fraiseql.observers.outbox.table=" + schema + ".observer_outbox");
    assertThat(up.get("status").asText()).isEqualTo("UP");
    JsonNode relay = up.get("details").get("relay");
    assertThat(relay.get("table").asText()).isEqualTo(schema + ".observer_outbox");
    assertThat(relay.get("status").asText()).isIn("UP", "STARTING");
    assertThat(relay.get("pending").asLong()).isZero();
    assertThat(relay.get("oldestPendingAgeMs").asLong()).isZero();

    // a relay that cannot reach PostgreSQL: DOWN once it has not completed a cycle for relay-stale-after
    JsonNode down = health(inMemory, "spring.autoconfigure.exclude=" + PlainApp.NO_JPA,
        "spring.datasource.url=jdbc:postgresql://127.0.0.1:" + closedPort() + "/test",
        "spring.datasource.username=root", "spring.datasource.password=s3cret-pw",
        "spring.datasource.hikari.connection-timeout=300", "spring.datasource.hikari.initialization-fail-timeout=-1",
        "fraiseql.observers.outbox.enabled=true", "fraiseql.observers.health.relay-stale-after=1ms",
        "fraiseql.observers.outbox.table=" + schema + ".observer_outbox2");
    assertThat(down.get("status").asText()).isEqualTo("DOWN");
    assertThat(down.get("details").get("relay").get("status").asText()).isEqualTo("DOWN");
    assertThat(down.get("details").get("relay").get("error").asText()).contains("cannot reach PostgreSQL");
    assertThat(down.get("details").get("backend").asText()).isEqualTo("in-memory");
    assertThat(down.toString()).doesNotContain("s3cret-pw");
  }
}

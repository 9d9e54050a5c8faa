package dev.fraiseql.observers.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fraiseql.observers.spring.pgapp.BlogApp;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * With the pg module and {@code fraiseql.observers.outbox.enabled=true}: JPA changes are recorded in
 * the outbox on the transaction's own connection (a rollback leaves no row) and the auto-configured
 * relay dispatches them to the welcome-email receiver.
 */
@SpringBootTest(classes = BlogApp.class, webEnvironment = SpringBootTest.WebEnvironment.NONE)
class StarterOutboxIT {
  static final String URL = System.getenv().getOrDefault("FRAISEQL_TEST_PG_URL", "jdbc:postgresql://localhost:5432/test?user=root");
  static final String SCHEMA = "sbstarter_ox_" + Long.toHexString(System.nanoTime());
  static final String OUTBOX = SCHEMA + ".observer_outbox";
  static final Receiver WELCOME = new Receiver(200);
  static final Receiver STRIPE = new Receiver(200);

  @DynamicPropertySource
  static void props(DynamicPropertyRegistry r) {
    r.add("spring.datasource.url", () -> URL);
    r.add("spring.datasource.username", () -> "root");
    r.add("spring.jpa.hibernate.ddl-auto", () -> "create-drop");
    r.add("spring.jpa.properties.hibernate.default_schema", () -> SCHEMA);
    r.add("spring.jpa.properties.hibernate.hbm2ddl.create_namespaces", () -> "true");
    r.add("fraiseql.observers.config", () -> "classpath:fraiseql-pg.toml");
    r.add("fraiseql.observers.jpa.capture", () -> "true");
    r.add("fraiseql.observers.outbox.enabled", () -> "true");
    r.add("fraiseql.observers.outbox.table", () -> OUTBOX);
    r.add("WELCOME_EMAIL_SERVICE_URL", WELCOME::url);
    r.add("STRIPE_WEBHOOK_URL", STRIPE::url);
  }

  @Autowired BlogApp.Users users;

  @AfterAll
  static void stop() throws Exception {
    WELCOME.close();
    STRIPE.close();
    try (Connection c = DriverManager.getConnection(URL, "root", null)) {
      c.createStatement().execute("DROP SCHEMA IF EXISTS " + SCHEMA + " CASCADE");
    }
  }

  private static List<String> outboxEvents() throws Exception {
    List<String> events = new ArrayList<>();
    try (Connection c = DriverManager.getConnection(URL, "root", null);
        ResultSet rs = c.createStatement().executeQuery("SELECT event::text FROM " + OUTBOX + " ORDER BY id")) {
      while (rs.next()) {
        events.add(rs.getString(1));
      }
    }
    return events;
  }

  @Test
  void committedChangesGoThroughTheOutboxAndARollbackLeavesNoRow() throws Exception {
    assertThatThrownBy(() -> users.createThenFail("ghost@example.com", "Ghost")).hasMessage("payment declined");
    UUID id = users.create("grace@example.com", "Grace");

    List<String> rows = outboxEvents();
    assertThat(rows).hasSize(1);
    JsonNode recorded = new ObjectMapper().readTree(rows.get(0));
    assertThat(recorded.get("table").asText()).isEqualTo("tb_user");
    assertThat(recorded.get("data").get("new").get("id").asText()).isEqualTo(id.toString());

    await().atMost(Duration.ofSeconds(15)).until(() -> WELCOME.bodies().size() == 1);
    JsonNode delivered = new ObjectMapper().readTree(WELCOME.bodies().get(0));
    assertThat(delivered.get("event").asText()).isEqualTo("INSERT");
    assertThat(delivered.get("data").get("new").get("email").asText()).isEqualTo("grace@example.com");
    assertThat(delivered.get("context").get("event_name").asText()).isEqualTo("user.created");
    Thread.sleep(300);
    assertThat(WELCOME.bodies()).hasSize(1).noneMatch(b -> b.contains("ghost@example.com"));
  }
}

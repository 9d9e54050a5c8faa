package dev.fraiseql.observers.pg;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fraiseql.observers.ObserverEngine;
import dev.fraiseql.observers.pg.internal.CaptureRows;
import dev.fraiseql.observers.pg.internal.PgDatabase;
import java.io.File;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;

/** A capture relay killed with SIGKILL mid-stream loses nothing: every captured row reaches the webhook. */
class CaptureKillIT {
  private static final ObjectMapper JSON = new ObjectMapper();

  static final String TOML = """
      [observers.postgres]
      capture = "triggers"

      [[observers.handlers]]
      name = "welcome-email"
      event = "user.created"
      action = "webhook"
      webhook_url = "${WELCOME_EMAIL_WEBHOOK_URL}"
      """;

  @Test
  void relayKilledWithSigkillMidStreamLosesNothing() throws Exception {
    try (PgTestSupport pg = new PgTestSupport(); PgDatabase db = CaptureSupport.dbIn(pg.schema);
         HookReceiver hook = new HookReceiver(120)) {
      DataSource ds = db.dataSource();
      try (Connection c = ds.getConnection(); Statement st = c.createStatement()) {
        st.execute("CREATE TABLE tb_user (id int PRIMARY KEY, email text NOT NULL, name text NOT NULL)");
      }
      String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
      Process child = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
          CaptureChildMain.class.getName(), CaptureSupport.urlIn(pg.schema), hook.url(), "1500")
          .redirectErrorStream(true).redirectOutput(new File("target/capture-child.log")).start();
      try {
        // the child installs the triggers; then plain SQL writes: 30 one-row statements, one of 20 rows
        PgTestSupport.await(Duration.ofSeconds(60), () -> pg.count("SELECT count(*) FROM pg_trigger t JOIN pg_class k"
            + " ON k.oid = t.tgrelid JOIN pg_namespace n ON n.oid = k.relnamespace WHERE n.nspname = '" + pg.schema
            + "' AND k.relname = 'tb_user' AND NOT t.tgisinternal") == 1);
        try (Connection c = ds.getConnection(); Statement st = c.createStatement()) {
          for (int i = 1; i <= 30; i++) {
            st.execute("INSERT INTO tb_user VALUES (" + i + ", 'u" + i + "@example.com', 'User " + i + "')");
          }
          st.execute("INSERT INTO tb_user SELECT g, 'u' || g || '@example.com', 'User ' || g FROM generate_series(31, 50) g");
        }
        PgTestSupport.await(Duration.ofSeconds(60), () -> hook.bodies.size() >= 4);
        child.destroyForcibly(); // SIGKILL, mid-stream
        child.waitFor();
      } finally {
        if (child.isAlive()) {
          child.destroyForcibly();
        }
      }
      int byChild = hook.bodies.size();
      assertThat(byChild).isLessThan(50);
      assertThat(pg.count("SELECT count(*) FROM " + pg.schema + ".observer_outbox WHERE status = 'pending'")).isPositive();

      try (ObserverEngine engine = ObserverEngine.builder().config(TOML, "fraiseql.toml")
              .env(Map.of("WELCOME_EMAIL_WEBHOOK_URL", hook.url())).build();
           PgOutboxRelay relay = PgOutboxRelay.builder(engine, ds).pollInterval(Duration.ofMillis(100)).start()) {
        PgTestSupport.await(Duration.ofSeconds(90), () -> pg.count("SELECT count(*) FROM " + pg.schema
            + ".observer_outbox WHERE status <> 'done'") == 0);
      }
      Set<UUID> expected = new HashSet<>();
      try (Connection c = ds.getConnection(); Statement st = c.createStatement();
           ResultSet rs = st.executeQuery("SELECT event_id, json_array_length(event->'rows') FROM observer_outbox")) {
        while (rs.next()) {
          for (int i = 0; i < rs.getInt(2); i++) {
            expected.add(CaptureRows.eventId(rs.getObject(1, UUID.class), i));
          }
        }
      }
      assertThat(expected).hasSize(50);
      Set<UUID> received = new HashSet<>();
      Set<Integer> users = new HashSet<>();
      for (String body : hook.bodies) {
        JsonNode n = JSON.readTree(body);
        received.add(UUID.fromString(n.get("id").asText()));
        users.add(n.get("data").get("new").get("id").asInt());
        assertThat(n.get("event").asText()).isEqualTo("INSERT");
      }
      assertThat(received).isEqualTo(expected);
      assertThat(users).hasSize(50);
      // at-least-once: only what the child had claimed (2 rows, one of them up to 20 events) may repeat
      assertThat(hook.bodies.size() - 50).isBetween(0, 22);
    }
  }
}

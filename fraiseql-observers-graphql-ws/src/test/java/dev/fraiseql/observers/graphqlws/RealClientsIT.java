package dev.fraiseql.observers.graphqlws;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fraiseql.observers.ObserverEngine;
import dev.fraiseql.observers.pg.PgOutboxRelay;
import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * The checks with the real graphql-ws npm client, in Node.js and in a page of headless
 * Chromium: subscribe to {@code orderUpdated(customerId: "c1") { id status }}; an UPDATE of c1's order
 * committed through the engine, and one made with plain SQL and captured by the pg module's triggers,
 * arrive with only the selected fields; c2's orders do not; a client of another tenant receives
 * nothing; an unknown field is a GraphQL error; a malformed message gets 4400.
 *
 * <p>Node packages and Chromium are installed by {@code bin/graphql-ws-deps} (idempotent); the tests
 * are skipped, saying why, only when that script cannot install them.
 */
class RealClientsIT {
  static final ObjectMapper JSON = new ObjectMapper();
  static final String SCHEMA = "graphqlws_real_clients";
  static final Path JS = Path.of("src/test/js").toAbsolutePath();
  static final String PG_URL = System.getenv().getOrDefault("FRAISEQL_TEST_PG_URL", "jdbc:postgresql://localhost:5432/test");
  static final String TOML = """
      [observers]
      backend = "in-memory"

      [observers.postgres]
      capture = "triggers"

      [[observers.handlers]]
      name = "orders-to-browsers"
      table = "tb_order"
      action = "graphql-ws"
      """ + "\n" + Fixtures.SUBSCRIPTIONS;

  static String depsProblem;
  static PGSimpleDataSource ds;
  static GraphQLWs ws;
  static ObserverEngine engine;
  static PgOutboxRelay relay;
  static GraphQLWsServer server;

  @BeforeAll
  static void start() throws Exception {
    Process deps = new ProcessBuilder(Path.of("..", "bin", "graphql-ws-deps").toString()).redirectErrorStream(true).start();
    String depsOut = new String(deps.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!deps.waitFor(15, TimeUnit.MINUTES) || deps.exitValue() != 0) {
      depsProblem = "bin/graphql-ws-deps could not install the Node.js packages or Chromium:\n" + depsOut;
      return;
    }
    ds = new PGSimpleDataSource();
    ds.setURL(PG_URL);
    sql("DROP SCHEMA IF EXISTS " + SCHEMA + " CASCADE; CREATE SCHEMA " + SCHEMA);
    ds.setURL(PG_URL + (PG_URL.contains("?") ? "&" : "?") + "currentSchema=" + SCHEMA);
    sql("CREATE TABLE tb_order (id text PRIMARY KEY, customer_id text NOT NULL, status text NOT NULL,"
        + " total numeric NOT NULL, note text NOT NULL DEFAULT '')");
    sql("INSERT INTO tb_order VALUES ('o3', 'c1', 'new', 10, ''), ('o4', 'c2', 'new', 20, '')");
    ws = GraphQLWs.builder().configToml(TOML, "fraiseql.toml").authenticator(Fixtures.AUTH).build();
    engine = ObserverEngine.builder().configToml(TOML).handler("graphql-ws", ws.handler()).build();
    relay = PgOutboxRelay.builder(engine, ds).pollInterval(Duration.ofMillis(100)).start();
    server = GraphQLWsServer.builder(ws).port(0).page("/", "<!doctype html><title>graphql-ws test</title>").start();
  }

  @AfterAll
  static void stop() throws Exception {
    if (server != null) {
      server.close();
      relay.close();
      engine.close();
      ws.close();
      ds.setURL(PG_URL);
      sql("DROP SCHEMA IF EXISTS " + SCHEMA + " CASCADE");
    }
  }

  @BeforeEach
  void needsDeps() {
    Assumptions.assumeTrue(depsProblem == null, () -> depsProblem);
  }

  static void sql(String sql) throws Exception {
    try (Connection c = ds.getConnection(); Statement st = c.createStatement()) {
      st.execute(sql);
    }
  }

  @Test
  void nodeClient() throws Exception {
    scenario(List.of("node", JS.resolve("node-clients.mjs").toString(), server.uri().toString()), "o1", "o3");
  }

  @Test
  void browserClient() throws Exception {
    String page = "http://127.0.0.1:" + server.port() + "/";
    List<JsonNode> lines = scenario(List.of("node", JS.resolve("browser-clients.mjs").toString(),
        server.uri().toString(), page), "o5", "o6");
    assertThat(lines).anyMatch(n -> n.has("browser"));
  }

  /** Runs a client script, commits four updates (two through the engine, two with SQL), checks what arrived. */
  List<JsonNode> scenario(List<String> command, String engineOrder, String sqlOrder) throws Exception {
    await(() -> ws.stats().connections() == 0, "no client left from before");
    sql("INSERT INTO tb_order VALUES ('" + engineOrder + "x', 'c2', 'new', 1, '') ON CONFLICT DO NOTHING");
    if (!sqlOrder.equals("o3")) {
      sql("INSERT INTO tb_order VALUES ('" + sqlOrder + "', 'c1', 'new', 1, ''), ('" + sqlOrder + "x', 'c2', 'new', 1, '')");
    }
    Thread.sleep(500); // the INSERTs' own events (orderCreated, not subscribed) pass first
    ProcessBuilder pb = new ProcessBuilder(command).directory(JS.toFile())
        .redirectError(ProcessBuilder.Redirect.INHERIT);
    Process p = pb.start();
    List<JsonNode> lines = new CopyOnWriteArrayList<>();
    Thread reader = new Thread(() -> {
      try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
        String l;
        while ((l = r.readLine()) != null) {
          System.out.println("[client] " + l);
          try {
            lines.add(JSON.readTree(l));
          } catch (Exception e) {
            // not a report line
          }
        }
      } catch (Exception e) {
        // the process ended
      }
    });
    reader.start();
    try {
      // a and b subscribed (c's unknown field and the malformed socket hold no subscription)
      await(() -> ws.stats().subscriptions() == 2 && has(lines, n -> "c".equals(n.path("client").asText()) && n.has("error"))
          && has(lines, n -> "malformed".equals(n.path("client").asText())), "clients subscribed: " + lines);

      engine.onCommit(Fixtures.update("t1", engineOrder, "c1", "shipped"));
      engine.onCommit(Fixtures.update("t1", engineOrder + "x", "c2", "shipped"));
      sql("BEGIN; SET LOCAL fraiseql.tenant_id = 't1'; UPDATE tb_order SET status = 'delivered' WHERE id = '"
          + sqlOrder + "'; COMMIT");
      sql("BEGIN; SET LOCAL fraiseql.tenant_id = 't1'; UPDATE tb_order SET status = 'delivered' WHERE id = '"
          + sqlOrder + "x'; COMMIT");
      await(() -> nexts(lines, "a").size() >= 2, "a got two events: " + lines);
      Thread.sleep(1000); // anything else would arrive now
    } finally {
      p.getOutputStream().close();
      if (!p.waitFor(20, TimeUnit.SECONDS)) {
        p.destroyForcibly();
      }
      reader.join(5000);
    }
    assertThat(nexts(lines, "a")).extracting(JsonNode::toString).containsExactlyInAnyOrder(
        "{\"data\":{\"orderUpdated\":{\"id\":\"" + engineOrder + "\",\"status\":\"shipped\"}}}",
        "{\"data\":{\"orderUpdated\":{\"id\":\"" + sqlOrder + "\",\"status\":\"delivered\"}}}");
    assertThat(nexts(lines, "b")).as("a client of another tenant receives nothing").isEmpty();
    assertThat(lines).filteredOn(n -> "c".equals(n.path("client").asText()) && n.has("error"))
        .singleElement().satisfies(n -> assertThat(n.get("error").asText()).contains("nope"));
    assertThat(lines).filteredOn(n -> "malformed".equals(n.path("client").asText()))
        .singleElement().satisfies(n -> assertThat(n.get("closed").asInt()).isEqualTo(4400));
    return lines;
  }

  static List<JsonNode> nexts(List<JsonNode> lines, String client) {
    List<JsonNode> out = new ArrayList<>();
    for (JsonNode n : lines) {
      if (client.equals(n.path("client").asText()) && n.has("next")) {
        out.add(n.get("next"));
      }
    }
    return out;
  }

  static boolean has(List<JsonNode> lines, Predicate<JsonNode> p) {
    return lines.stream().anyMatch(p);
  }

  static void await(java.util.function.BooleanSupplier cond, String what) throws InterruptedException {
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!cond.getAsBoolean()) {
      if (System.nanoTime() > end) {
        throw new AssertionError("timed out waiting for: " + what);
      }
      Thread.sleep(20);
    }
  }

  static File js() {
    return JS.toFile();
  }
}

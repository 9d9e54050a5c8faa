package dev.fraiseql.observers.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fraiseql.observers.ObservedEvent;
import dev.fraiseql.observers.pg.PgOutbox;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.RedisClient;

/**
 * The built jar, run as a separate process, against real PostgreSQL and Redis and a real HTTP receiver.
 */
class CliIT {
  static final String PG_URL = System.getenv().getOrDefault("FRAISEQL_TEST_PG_URL", "jdbc:postgresql://localhost:5432/test?user=root");
  static final String REDIS_URL = System.getenv().getOrDefault("FRAISEQL_TEST_REDIS_URL", "redis://localhost:6379");
  static final ObjectMapper JSON = new ObjectMapper();
  static final String RUN = UUID.randomUUID().toString().replace("-", "").substring(0, 10);
  static final String DL_TABLE = "cli_it_dead_letters_" + RUN;
  static final String OUTBOX_TABLE = "cli_it_outbox_" + RUN;
  static final String REDIS_PREFIX = "cli-it-" + RUN + ":";

  @TempDir
  Path dir;

  @AfterAll
  static void dropTables() throws Exception {
    try (Connection c = DriverManager.getConnection(PG_URL); Statement s = c.createStatement()) {
      s.execute("DROP TABLE IF EXISTS " + DL_TABLE);
      s.execute("DROP TABLE IF EXISTS " + OUTBOX_TABLE);
    }
    try (RedisClient j = RedisClient.create(java.net.URI.create(REDIS_URL))) {
      for (String k : j.keys(REDIS_PREFIX + "*")) {
        j.del(k);
      }
    }
  }

  @BeforeAll
  static void jarIsBuilt() {
    assertThat(CliProcess.jar()).exists();
  }

  // ---------------------------------------------------------------- validate

  /** Every seed snippet and example config, with its variables set as the application would have them. */
  static List<Path> seedConfigs() throws IOException {
    Path root = CliProcess.repoRoot();
    List<Path> out = new ArrayList<>();
    try (Stream<Path> s = Files.list(root.resolve("fraiseql-observers-core/src/test/resources/seeds"))) {
      s.filter(p -> p.toString().endsWith(".toml")).sorted().forEach(out::add);
    }
    out.add(root.resolve("fraiseql-observers-core/src/test/resources/examples/fraiseql.toml"));
    try (Stream<Path> s = Files.walk(root.resolve("examples"))) {
      s.filter(p -> p.getFileName().toString().equals("fraiseql.toml") && !p.toString().contains("/target/")).sorted().forEach(out::add);
    }
    return out;
  }

  static Map<String, String> envFor(Path toml) throws IOException {
    String text = Files.readString(toml);
    Map<String, String> env = new HashMap<>();
    Matcher m = Pattern.compile("\\$\\{([A-Z0-9_]+)\\}|_env\\s*=\\s*\"([A-Z0-9_]+)\"").matcher(text);
    while (m.find()) {
      String name = m.group(1) != null ? m.group(1) : m.group(2);
      String value;
      if (name.contains("NATS")) {
        value = "nats://127.0.0.1:4222";
      } else if (name.contains("REDIS")) {
        value = REDIS_URL;
      } else if (name.contains("DATABASE")) {
        value = PG_URL;
      } else if (name.contains("SMTP")) {
        value = "smtp://127.0.0.1:2525";
      } else {
        value = "http://127.0.0.1:9/" + name.toLowerCase();
      }
      env.put(name, value);
    }
    return env;
  }

  /**
   * A subscription handler of a service without database_url (seed 000's inventory service shown alone)
   * is a Java handler of that service: say so, as its operator would.
   */
  static List<String> javaHandlerArgs(Path toml) throws IOException {
    String text = Files.readString(toml);
    List<String> args = new ArrayList<>();
    // the graphql-ws module's handler is a Java handler the application registers (GraphQLWs.handler())
    if (text.contains("[graphql_ws]")) {
      args.add("--java-handler=graphql-ws");
    }
    if (text.contains("database_url")) {
      return args;
    }
    // each [[observers.subscribe]] section without an `action` names a SQL function or a Java handler
    for (String section : text.split("(?m)^(?=\\[)")) {
      if (section.startsWith("[[observers.subscribe]]") && !Pattern.compile("(?m)^action\\s*=").matcher(section).find()) {
        Matcher m = Pattern.compile("(?m)^handler\\s*=\\s*\"([^\"]+)\"").matcher(section);
        if (m.find()) {
          args.add("--java-handler=" + m.group(1));
        }
      }
    }
    return args;
  }

  @Test
  void validateAcceptsEverySeedAndExampleConfig() throws Exception {
    List<Path> configs = seedConfigs();
    assertThat(configs).hasSizeGreaterThanOrEqualTo(15);
    for (Path toml : configs) {
      List<String> args = new ArrayList<>(javaHandlerArgs(toml));
      args.add("validate");
      args.add(toml.toString());
      CliProcess.Result r = CliProcess.run(dir, envFor(toml), args.toArray(String[]::new));
      assertThat(r.exit()).as(toml + ": " + r).isZero();
      assertThat(r.out()).as(toml.toString()).contains(toml + ": valid");
    }
    Path example = configs.get(configs.size() - 1);
    CliProcess.Result j = CliProcess.run(dir, envFor(example), "validate", "--json", example.toString());
    assertThat(j.exit()).as(j.toString()).isZero();
    assertThat(JSON.readTree(j.out()).get("valid").asBoolean()).isTrue();
    assertThat(JSON.readTree(j.out()).get("problems")).isEmpty();
  }

  @Test
  void validateReportsEveryProblemWithFileAndLineAndExitsOne() throws Exception {
    Path broken = dir.resolve("broken.toml");
    Files.writeString(broken, String.join("\n",
        "[observers]",
        "backend = \"in-memory\"",
        "",
        "[[observers.handlers]]",
        "name = \"welcome-email\"",
        "event = \"user.created\"",
        "action = \"webhook\"",
        "webhook_url = \"${CLI_IT_UNSET_URL}\"",
        "max_atempts = 3",
        "",
        "[[observers.handlers]]",
        "name = \"stats\"",
        "event = \"post.updated\"",
        "action = \"webhook\"",
        "webhook_url = \"http://127.0.0.1:9/stats\"",
        "condition = \"status == \"",
        ""));
    CliProcess.Result r = CliProcess.run(dir, Map.of(), "validate", broken.toString());
    assertThat(r.exit()).as(r.toString()).isEqualTo(1);
    assertThat(r.out()).contains(broken + " has ");
    assertThat(r.out()).contains(broken + ":8:").contains("CLI_IT_UNSET_URL");
    assertThat(r.out()).contains(broken + ":9:").contains("max_atempts").contains("did you mean `max_attempts`");

    CliProcess.Result j = CliProcess.run(dir, Map.of(), "validate", "--json", broken.toString());
    assertThat(j.exit()).isEqualTo(1);
    JsonNode o = JSON.readTree(j.out());
    assertThat(o.get("valid").asBoolean()).isFalse();
    List<Integer> lines = new ArrayList<>();
    o.get("problems").forEach(p -> lines.add(p.get("line").asInt()));
    assertThat(lines).contains(8, 9);

    // the engine's own checks (a bad condition) come once the loader is satisfied
    Files.writeString(broken, Files.readString(broken).replace("${CLI_IT_UNSET_URL}", "http://127.0.0.1:9/x")
        .replace("max_atempts", "max_attempts"));
    CliProcess.Result c = CliProcess.run(dir, Map.of(), "validate", broken.toString());
    assertThat(c.exit()).as(c.toString()).isEqualTo(1);
    assertThat(c.out()).contains(broken + ":").contains("invalid condition");
  }

  @Test
  void usageErrorsExitTwo() throws Exception {
    assertThat(CliProcess.run(dir, Map.of(), "validate", "--no-such-option").exit()).isEqualTo(2);
    CliProcess.Result missing = CliProcess.run(dir, Map.of(), "validate", dir.resolve("nope.toml").toString());
    assertThat(missing.exit()).isEqualTo(2);
    assertThat(missing.err()).contains("nope.toml does not exist");
  }

  // ---------------------------------------------------------------- explain

  @Test
  void explainEventShowsTheRenderedBodyAndMasksSecrets() throws Exception {
    Path toml = dir.resolve("fraiseql.toml");
    Files.writeString(toml, String.join("\n",
        "[[observers.handlers]]",
        "name = \"crm-sync\"",
        "event = \"user.created\"",
        "action = \"webhook\"",
        "webhook_url = \"http://127.0.0.1:9/crm?api_key=${CRM_KEY}\"",
        "headers = { Authorization = \"Bearer ${CRM_TOKEN}\" }",
        "signing = \"fraiseql\"",
        "signing_secret_env = \"CRM_SIGNING_SECRET\"",
        "body_template = '{\"email\": \"{{data.new.email}}\", \"tenant\": \"{{context.tenant_id}}\"}'",
        "max_attempts = 4",
        "",
        "[[observers.handlers]]",
        "name = \"vip\"",
        "event = \"user.created\"",
        "condition = \"plan == 'vip'\"",
        "action = \"webhook\"",
        "webhook_url = \"http://127.0.0.1:9/vip\"",
        "",
        "[[observers.rules]]",
        "table = \"tb_order\"",
        "event = \"INSERT\"",
        "subject = \"fraiseql.order.created\"",
        ""));
    Path event = dir.resolve("user.json");
    Files.writeString(event, "{\"event\":\"INSERT\",\"table\":\"tb_user\",\"timestamp\":\"2026-02-25T10:00:00Z\","
        + "\"data\":{\"new\":{\"id\":\"u-1\",\"email\":\"alice@example.com\",\"plan\":\"free\"},\"old\":null},"
        + "\"context\":{\"event_name\":\"user.created\",\"tenant_id\":\"t-9\"}}");
    Map<String, String> env = Map.of("CRM_KEY", "k-secret-4411", "CRM_TOKEN", "tok-secret-9922", "CRM_SIGNING_SECRET", "sig-secret-7733");

    CliProcess.Result r = CliProcess.run(dir, env, "explain", "--event", "user.json");
    assertThat(r.exit()).as(r.toString()).isZero();
    assertThat(r.out()).contains("1. crm-sync  FIRES")
        .contains("{\"email\": \"alice@example.com\", \"tenant\": \"t-9\"}")
        .contains("POST http://127.0.0.1:9/crm")
        .contains("Authorization: ****")
        .contains("X-FraiseQL-Signature-256: ****")
        .contains("2. vip  SKIPPED");
    assertThat(r.out() + r.err()).doesNotContain("k-secret-4411", "tok-secret-9922", "sig-secret-7733");

    CliProcess.Result j = CliProcess.run(dir, env, "explain", "--event", "user.json", "--json");
    JsonNode handlers = JSON.readTree(j.out()).get("handlers");
    assertThat(handlers).hasSize(2);
    assertThat(handlers.get(0).get("request").get("body").asText()).isEqualTo("{\"email\": \"alice@example.com\", \"tenant\": \"t-9\"}");
    assertThat(handlers.get(0).get("retry").get("max_attempts").asInt()).isEqualTo(4);
    assertThat(handlers.get(1).get("fires").asBoolean()).isFalse();
    assertThat(j.out()).doesNotContain("k-secret-4411", "tok-secret-9922", "sig-secret-7733");

    CliProcess.Result table = CliProcess.run(dir, env, "explain");
    assertThat(table.exit()).isZero();
    assertThat(table.out()).containsPattern("user.created\\s+1\\s+crm-sync")
        .containsPattern("\\s+2\\s+vip\\s+plan == 'vip'")
        .containsPattern("tb_order INSERT\\s+1\\s+fraiseql.order.created\\s+-\\s+publish to fraiseql.order.created")
        .contains("4× exponential");
    assertThat(table.out()).doesNotContain("k-secret-4411", "tok-secret-9922", "sig-secret-7733");
  }

  // ---------------------------------------------------------------- dead letters

  @Test
  void deadLettersInPostgresAreListedShownReplayedAndDiscarded() throws Exception {
    deadLetterLifecycle(String.join("\n",
        "[observers]",
        "database_url = \"${DATABASE_URL}\"",
        "dead_letter_store = \"postgres\"",
        "[observers.postgres]",
        "dead_letter_table = \"" + DL_TABLE + "\""), Map.of("DATABASE_URL", PG_URL), "postgres");
  }

  @Test
  void deadLettersInRedisAreListedShownReplayedAndDiscarded() throws Exception {
    deadLetterLifecycle(String.join("\n",
        "[observers]",
        "redis_url = \"${REDIS_URL}\"",
        "dead_letter_store = \"redis\"",
        "[observers.redis]",
        "key_prefix = \"" + REDIS_PREFIX + "\""), Map.of("REDIS_URL", REDIS_URL), "redis");
  }

  private void deadLetterLifecycle(String observers, Map<String, String> storeEnv, String store) throws Exception {
    try (Receiver receiver = new Receiver()) {
      receiver.status.set(500);
      Path toml = dir.resolve("fraiseql.toml");
      Files.writeString(toml, observers + "\n\n" + String.join("\n",
          "[[observers.handlers]]",
          "name = \"crm-sync\"",
          "event = \"user.created\"",
          "action = \"webhook\"",
          "webhook_url = \"${CRM_URL}\"",
          "max_attempts = 2",
          "initial_delay_ms = 10",
          "max_delay_ms = 20",
          ""));
      Map<String, String> env = new HashMap<>(storeEnv);
      env.put("CRM_URL", receiver.url("/crm"));
      String email = "dl-" + RUN + "@example.com";
      Files.writeString(dir.resolve("user.json"), "{\"event\":\"INSERT\",\"table\":\"tb_user\",\"data\":{\"new\":"
          + "{\"id\":\"u-" + RUN + "\",\"email\":\"" + email + "\"},\"old\":null}}");

      // 1. a failing receiver: both attempts answered 500, the delivery is dead-lettered in the store
      CliProcess.Result sent = CliProcess.run(dir, env, "send", "user.json");
      assertThat(sent.exit()).as(sent.toString()).isEqualTo(1);
      assertThat(sent.out()).containsPattern("crm-sync\\s+DEAD_LETTERED\\s+2");
      assertThat(receiver.requests).hasSize(2);

      // 2. listed
      CliProcess.Result list = CliProcess.run(dir, env, "dead-letters", "list", "--handler", "crm-sync", "--json");
      assertThat(list.exit()).as(list.toString()).isZero();
      JsonNode listed = JSON.readTree(list.out());
      assertThat(listed.get("store").asText()).isEqualTo(store);
      JsonNode letters = listed.get("dead_letters");
      assertThat(letters).hasSize(1);
      String id = letters.get(0).get("id").asText();
      assertThat(letters.get(0).get("handler").asText()).isEqualTo("crm-sync");
      assertThat(letters.get(0).get("last_error").asText()).contains("HTTP 500");
      CliProcess.Result table = CliProcess.run(dir, env, "dead-letters", "list", "--reason", "http 500");
      assertThat(table.out()).contains(id).containsPattern("crm-sync\\s+\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\s+2\\s+user.created");
      assertThat(CliProcess.run(dir, env, "dead-letters", "list", "--handler", "someone-else").out()).contains("no dead letters match");

      // 3. shown: the attempts and the payload
      CliProcess.Result show = CliProcess.run(dir, env, "dead-letters", "show", id);
      assertThat(show.exit()).as(show.toString()).isZero();
      assertThat(show.out()).contains("dead letter " + id).contains("crm-sync").contains("HTTP 500: receiver down").contains(email);
      assertThat(show.out()).containsPattern("(?m)^1\\s+\\d{4}-").containsPattern("(?m)^2\\s+\\d{4}-");

      // 4. replayed to the now-working receiver, which gets the event
      receiver.status.set(200);
      CliProcess.Result replay = CliProcess.run(dir, env, "dead-letters", "replay", id);
      assertThat(replay.exit()).as(replay.toString()).isZero();
      assertThat(replay.out()).containsPattern(id + "\\s+crm-sync\\s+DELIVERED\\s+1");
      assertThat(receiver.requests).hasSize(3);
      Receiver.Request got = receiver.requests.get(2);
      JsonNode payload = JSON.readTree(got.body());
      assertThat(payload.get("event").asText()).isEqualTo("INSERT");
      assertThat(payload.get("table").asText()).isEqualTo("tb_user");
      assertThat(payload.get("data").get("new").get("email").asText()).isEqualTo(email);
      assertThat(got.headers().get("Fraiseql-event-id")).isNotNull();
      assertThat(JSON.readTree(CliProcess.run(dir, env, "dead-letters", "list", "--json").out()).get("dead_letters")).isEmpty();

      // 5. another one, discarded: gone, and nothing sent
      receiver.status.set(500);
      assertThat(CliProcess.run(dir, env, "send", "user.json").exit()).isEqualTo(1);
      JsonNode again = JSON.readTree(CliProcess.run(dir, env, "dead-letters", "list", "--json").out()).get("dead_letters");
      assertThat(again).hasSize(1);
      String second = again.get(0).get("id").asText();
      int before = receiver.requests.size();
      CliProcess.Result discard = CliProcess.run(dir, env, "dead-letters", "discard", second);
      assertThat(discard.exit()).as(discard.toString()).isZero();
      assertThat(discard.out()).contains("discarded " + second);
      assertThat(JSON.readTree(CliProcess.run(dir, env, "dead-letters", "list", "--json").out()).get("dead_letters")).isEmpty();
      assertThat(receiver.requests).hasSize(before);
      CliProcess.Result gone = CliProcess.run(dir, env, "dead-letters", "show", second);
      assertThat(gone.exit()).isEqualTo(1);
      assertThat(gone.err()).contains("no dead letter with id " + second);
    }
  }

  @Test
  void deadLettersInMemoryAreRefusedWithTheFix() throws Exception {
    Files.writeString(dir.resolve("fraiseql.toml"), "[observers]\nbackend = \"in-memory\"\n");
    CliProcess.Result r = CliProcess.run(dir, Map.of(), "dead-letters", "list");
    assertThat(r.exit()).isEqualTo(1);
    assertThat(r.err()).contains("kept in memory").contains("dead_letter_store");
  }

  // ---------------------------------------------------------------- outbox

  @Test
  void outboxStatusCountsPendingRows() throws Exception {
    PgOutbox outbox = PgOutbox.forTable(OUTBOX_TABLE);
    org.postgresql.ds.PGSimpleDataSource ds = new org.postgresql.ds.PGSimpleDataSource();
    ds.setURL(PG_URL);
    outbox.createTable(ds);
    try (Connection c = ds.getConnection()) {
      outbox.record(c, ObservedEvent.insert("tb_order", Map.of("id", 1)));
      outbox.record(c, ObservedEvent.insert("tb_order", Map.of("id", 2)));
      try (Statement s = c.createStatement()) {
        s.execute("UPDATE " + OUTBOX_TABLE + " SET recorded_at = now() - interval '90 seconds' WHERE id = (SELECT min(id) FROM "
            + OUTBOX_TABLE + ")");
        s.execute("UPDATE " + OUTBOX_TABLE + " SET lease_owner = 'relay-it:1', lease_until = now() + interval '1 minute'"
            + " WHERE id = (SELECT max(id) FROM " + OUTBOX_TABLE + ")");
      }
    }
    Files.writeString(dir.resolve("fraiseql.toml"), "[observers]\ndatabase_url = \"${DATABASE_URL}\"\n");
    Map<String, String> env = Map.of("DATABASE_URL", PG_URL);
    CliProcess.Result r = CliProcess.run(dir, env, "outbox", "status", "--table", OUTBOX_TABLE, "--json");
    assertThat(r.exit()).as(r.toString()).isZero();
    JsonNode o = JSON.readTree(r.out());
    assertThat(o.get("pending").asLong()).isEqualTo(2);
    assertThat(o.get("due").asLong()).isEqualTo(1);
    assertThat(o.get("oldest_pending_age_ms").asLong()).isBetween(89_000L, 600_000L);
    assertThat(o.get("leases")).hasSize(1);
    assertThat(o.get("leases").get(0).get("owner").asText()).isEqualTo("relay-it:1");
    CliProcess.Result people = CliProcess.run(dir, env, "outbox", "status", "--table", OUTBOX_TABLE);
    assertThat(people.out()).contains("outbox " + OUTBOX_TABLE).containsPattern("pending\\s+2 \\(1 due now")
        .containsPattern("oldest pending\\s+1m \\d\\ds").containsPattern("relay-it:1\\s+1\\s+");
  }

  // ---------------------------------------------------------------- capture

  /**
   * capture plan / install / status / uninstall and the capture part of outbox status, in a schema of its
   * own (the URL's currentSchema: the outbox and the table live there).
   */
  @Test
  void captureIsPlannedInstalledReportedAndUninstalled() throws Exception {
    String schema = "cli_cap_" + RUN;
    String url = PG_URL + (PG_URL.contains("?") ? "&" : "?") + "currentSchema=" + schema;
    Map<String, String> env = Map.of("DATABASE_URL", url);
    String base = """
        [observers]
        database_url = "${DATABASE_URL}"

        [observers.postgres]
        capture = "%s"

        [[observers.handlers]]
        name = "order-hook"
        event = "order.created"
        action = "webhook"
        webhook_url = "http://127.0.0.1:9/orders"
        """;
    String v1 = base.formatted("triggers");
    org.postgresql.ds.PGSimpleDataSource ds = new org.postgresql.ds.PGSimpleDataSource();
    ds.setURL(url);
    try (Connection c = DriverManager.getConnection(PG_URL); Statement s = c.createStatement()) {
      s.execute("CREATE SCHEMA " + schema);
      s.execute("CREATE TABLE " + schema + ".tb_order (id int PRIMARY KEY, total numeric, status text)");
    }
    try {
      Files.writeString(dir.resolve("fraiseql.toml"), v1);

      // no outbox table yet: plan cannot resolve it and says how to get one
      CliProcess.Result noOutbox = CliProcess.run(dir, env, "capture", "plan");
      assertThat(noOutbox.exit()).as(noOutbox.toString()).isEqualTo(1);
      assertThat(noOutbox.err()).contains("does not exist").contains("PgOutbox.createTable");
      PgOutbox.create().createTable(ds);

      // plan: the DDL for INSERT on tb_order, and nothing executed
      CliProcess.Result plan = CliProcess.run(dir, env, "capture", "plan");
      assertThat(plan.exit()).as(plan.toString()).isZero();
      assertThat(plan.out()).contains("-- INSERT on \"" + schema + "\".\"tb_order\" (events order.created)")
          .contains("CREATE OR REPLACE FUNCTION").contains("CREATE TRIGGER").contains("AFTER INSERT ON \"" + schema + "\".\"tb_order\"")
          .contains("INSERT INTO \"" + schema + "\".\"observer_outbox\"").doesNotContain("UPDATE on").doesNotContain("DELETE on");
      assertThat(triggers(schema)).isEmpty();
      assertThat(captureFunctions(schema)).isZero();

      // status before install: missing, exit 1, with the fix
      CliProcess.Result missing = CliProcess.run(dir, env, "capture", "status", "--json");
      assertThat(missing.exit()).as(missing.toString()).isEqualTo(1);
      JsonNode m = JSON.readTree(missing.out());
      assertThat(m.get("ok").asBoolean()).isFalse();
      assertThat(m.get("triggers")).hasSize(1);
      assertThat(m.get("triggers").get(0).get("state").asText()).isEqualTo("missing");
      assertThat(m.get("triggers").get(0).get("operation").asText()).isEqualTo("INSERT");
      assertThat(m.get("triggers").get(0).get("fix").asText()).contains("PgCapture.install");

      // install: one trigger, in pg_trigger, and it captures an INSERT into the outbox
      CliProcess.Result install = CliProcess.run(dir, env, "capture", "install", "--json");
      assertThat(install.exit()).as(install.toString()).isZero();
      JsonNode in = JSON.readTree(install.out());
      assertThat(in.get("changed").asInt()).isEqualTo(1);
      assertThat(in.get("triggers").get(0).get("state").asText()).isEqualTo("installed");
      List<String> installed = triggers(schema);
      assertThat(installed).hasSize(1);
      String insertComment = triggerComment(schema, "insert");
      assertThat(insertComment).startsWith("fraiseql-observers capture ").contains(" hash=");
      assertThat(installed.get(0)).startsWith("tb_order:fraiseql_capture_insert_")
          .isEqualTo("tb_order:" + in.get("triggers").get(0).get("trigger").asText());
      try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
        s.execute("INSERT INTO tb_order VALUES (1, 9.5, 'new'), (2, 3.0, 'new')");
      }
      CliProcess.Result again = CliProcess.run(dir, env, "capture", "install");
      assertThat(again.exit()).as(again.toString()).isZero();
      assertThat(again.out()).contains("nothing changed");

      // outbox status and capture status report it installed
      CliProcess.Result outbox = CliProcess.run(dir, env, "outbox", "status", "--json");
      assertThat(outbox.exit()).as(outbox.toString()).isZero();
      JsonNode o = JSON.readTree(outbox.out());
      assertThat(o.get("pending").asLong()).isEqualTo(1); // one row per statement
      assertThat(o.get("capture").get("enabled").asBoolean()).isTrue();
      assertThat(o.get("capture").get("ok").asBoolean()).isTrue();
      assertThat(o.get("capture").get("triggers")).hasSize(1);
      assertThat(o.get("capture").get("triggers").get(0).get("table").asText()).isEqualTo("\"" + schema + "\".\"tb_order\"");
      assertThat(o.get("capture").get("triggers").get(0).get("events").asText()).isEqualTo("order.created");
      assertThat(o.get("capture").get("triggers").get(0).get("state").asText()).isEqualTo("installed");
      CliProcess.Result people = CliProcess.run(dir, env, "capture", "status");
      assertThat(people.exit()).as(people.toString()).isZero();
      assertThat(people.out()).containsPattern("\"tb_order\"\\s+INSERT\\s+order\\.created\\s+installed\\s+fraiseql_capture_insert_")
          .doesNotContain("not as configured");

      // the config changes (a column excluded, UPDATEs observed): INSERT outdated, UPDATE missing, exit 1
      Files.writeString(dir.resolve("fraiseql.toml"), v1 + """

          [[observers.handlers]]
          name = "order-changed"
          event = "order.updated"
          action = "webhook"
          webhook_url = "http://127.0.0.1:9/orders"

          [[observers.capture]]
          table = "tb_order"
          exclude_columns = ["status"]
          """);
      CliProcess.Result changed = CliProcess.run(dir, env, "capture", "status");
      assertThat(changed.exit()).as(changed.toString()).isEqualTo(1);
      assertThat(changed.out()).containsPattern("INSERT\\s+order\\.created\\s+outdated")
          .containsPattern("UPDATE\\s+order\\.updated\\s+missing").contains("2 triggers are not as configured")
          .contains("outdated: INSERT on \"" + schema + "\".\"tb_order\" — fix: ").contains("capture install");
      CliProcess.Result outboxChanged = CliProcess.run(dir, env, "outbox", "status", "--json");
      assertThat(outboxChanged.exit()).as(outboxChanged.toString()).isEqualTo(1);
      JsonNode oc = JSON.readTree(outboxChanged.out());
      assertThat(oc.get("capture").get("ok").asBoolean()).isFalse();
      assertThat(oc.get("capture").get("triggers").findValuesAsText("state")).containsExactly("outdated", "missing");
      assertThat(triggers(schema)).isEqualTo(installed); // status changed nothing
      CliProcess.Result upgrade = CliProcess.run(dir, env, "capture", "install", "--json");
      assertThat(upgrade.exit()).as(upgrade.toString()).isZero();
      assertThat(JSON.readTree(upgrade.out()).get("changed").asInt()).isEqualTo(2);
      assertThat(triggers(schema)).hasSize(2).contains(installed.get(0))
          .anyMatch(t -> t.startsWith("tb_order:fraiseql_capture_update_"));
      assertThat(triggerComment(schema, "insert")).isNotEqualTo(insertComment); // replaced: the new config's hash

      // capture turned off: the installed triggers are extra; plan and install refuse
      Files.writeString(dir.resolve("fraiseql.toml"), base.formatted("off"));
      CliProcess.Result off = CliProcess.run(dir, env, "capture", "status", "--json");
      assertThat(off.exit()).as(off.toString()).isEqualTo(1);
      assertThat(JSON.readTree(off.out()).get("triggers").findValuesAsText("state")).containsExactly("extra", "extra");
      CliProcess.Result offPeople = CliProcess.run(dir, env, "capture", "status");
      assertThat(offPeople.exit()).isEqualTo(1);
      assertThat(offPeople.out()).contains("(capture = \"off\")").containsPattern("UPDATE\\s+-\\s+extra")
          .contains("capture uninstall` removes them");
      CliProcess.Result offPlan = CliProcess.run(dir, env, "capture", "plan");
      assertThat(offPlan.exit()).isEqualTo(1);
      assertThat(offPlan.err()).contains("capture is off").contains("capture = \"triggers\"");
      CliProcess.Result uninstallPlan = CliProcess.run(dir, env, "capture", "plan", "--uninstall");
      assertThat(uninstallPlan.exit()).as(uninstallPlan.toString()).isZero();
      assertThat(uninstallPlan.out()).contains("DROP TRIGGER IF EXISTS").contains("DROP FUNCTION IF EXISTS");
      assertThat(triggers(schema)).hasSize(2);

      // uninstall: no trigger, no function left; the outbox and its row stay
      CliProcess.Result uninstall = CliProcess.run(dir, env, "capture", "uninstall", "--json");
      assertThat(uninstall.exit()).as(uninstall.toString()).isZero();
      assertThat(JSON.readTree(uninstall.out()).get("removed").asInt()).isEqualTo(2);
      assertThat(triggers(schema)).isEmpty();
      assertThat(captureFunctions(schema)).isZero();
      CliProcess.Result after = CliProcess.run(dir, env, "outbox", "status");
      assertThat(after.exit()).as(after.toString()).isZero();
      assertThat(after.out()).containsPattern("pending\\s+1 ").doesNotContain("capture triggers");
    } finally {
      try (Connection c = DriverManager.getConnection(PG_URL); Statement s = c.createStatement()) {
        s.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
      }
    }
  }

  /** The non-internal triggers in {@code schema}, as table:trigger. */
  private static List<String> triggers(String schema) throws Exception {
    List<String> out = new ArrayList<>();
    try (Connection c = DriverManager.getConnection(PG_URL); Statement s = c.createStatement();
        java.sql.ResultSet rs = s.executeQuery("SELECT k.relname || ':' || t.tgname FROM pg_trigger t JOIN pg_class k ON k.oid = t.tgrelid"
            + " JOIN pg_namespace n ON n.oid = k.relnamespace WHERE NOT t.tgisinternal AND n.nspname = '" + schema + "' ORDER BY 1")) {
      while (rs.next()) {
        out.add(rs.getString(1));
      }
    }
    return out;
  }

  /** The comment (with the DDL's hash) of the capture trigger for {@code op} in {@code schema}. */
  private static String triggerComment(String schema, String op) throws Exception {
    try (Connection c = DriverManager.getConnection(PG_URL); Statement s = c.createStatement();
        java.sql.ResultSet rs = s.executeQuery("SELECT obj_description(t.oid, 'pg_trigger') FROM pg_trigger t JOIN pg_class k"
            + " ON k.oid = t.tgrelid JOIN pg_namespace n ON n.oid = k.relnamespace WHERE n.nspname = '" + schema
            + "' AND t.tgname LIKE 'fraiseql_capture_" + op + "_%'")) {
      assertThat(rs.next()).as("a capture trigger for " + op + " in " + schema).isTrue();
      return rs.getString(1);
    }
  }

  private static long captureFunctions(String schema) throws Exception {
    try (Connection c = DriverManager.getConnection(PG_URL); Statement s = c.createStatement();
        java.sql.ResultSet rs = s.executeQuery("SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
            + " WHERE n.nspname = '" + schema + "' AND p.proname LIKE 'fraiseql%'")) {
      rs.next();
      return rs.getLong(1);
    }
  }

  // ---------------------------------------------------------------- completion

  @Test
  void generatesABashCompletionScript() throws Exception {
    CliProcess.Result r = CliProcess.run(dir, Map.of(), "generate-completion");
    assertThat(r.exit()).isZero();
    assertThat(r.out()).contains("complete -F").contains("dead-letters").contains("validate").contains("explain");
  }
}

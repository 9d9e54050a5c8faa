package dev.fraiseql.observers.pg;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fraiseql.observers.MutationContext;
import dev.fraiseql.observers.ObservedEvent;
import dev.fraiseql.observers.ObserverConfigException;
import dev.fraiseql.observers.ObserverEngine;
import dev.fraiseql.observers.pg.internal.PgDatabase;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Zero-code capture against a real PostgreSQL: triggers, relay, receivers. Each test has its own schema. */
class CaptureIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static PgTestSupport pg;
  private final List<AutoCloseable> toClose = new ArrayList<>();

  @BeforeAll
  static void up() {
    pg = new PgTestSupport();
  }

  @AfterAll
  static void down() {
    pg.close();
  }

  @AfterEach
  void closeAll() throws Exception {
    for (int i = toClose.size() - 1; i >= 0; i--) {
      toClose.get(i).close();
    }
  }

  private <T extends AutoCloseable> T closing(T t) {
    toClose.add(t);
    return t;
  }

  /** A fresh schema (dropped at the end) and a pool whose search_path is it. */
  private DataSource schema(String name) {
    String schema = pg.schema + "_" + name;
    pg.exec("CREATE SCHEMA " + schema);
    toClose.add(() -> pg.exec("DROP SCHEMA IF EXISTS " + schema + " CASCADE"));
    PgDatabase db = closing(CaptureSupport.dbIn(schema));
    return db.dataSource();
  }

  private static String schemaOf(String name) {
    return pg.schema + "_" + name;
  }

  private static void exec(DataSource ds, String sql) throws Exception {
    try (Connection c = ds.getConnection(); Statement st = c.createStatement()) {
      st.execute(sql);
    }
  }

  private static long count(DataSource ds, String sql) throws Exception {
    try (Connection c = ds.getConnection(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private static List<String> column(DataSource ds, String sql) throws Exception {
    List<String> out = new ArrayList<>();
    try (Connection c = ds.getConnection(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
      while (rs.next()) {
        out.add(rs.getString(1));
      }
    }
    return out;
  }

  static final String SEED_001 = """
      [observers.postgres]
      capture = "triggers"

      [[observers.handlers]]
      name = "welcome-email"
      event = "user.created"
      action = "webhook"
      webhook_url = "${WELCOME_EMAIL_WEBHOOK_URL}"

      [[observers.handlers]]
      name = "user-sync"
      event = "user.updated"
      action = "webhook"
      webhook_url = "${WELCOME_EMAIL_WEBHOOK_URL}"

      [[observers.handlers]]
      name = "user-gone"
      event = "user.deleted"
      action = "webhook"
      webhook_url = "${WELCOME_EMAIL_WEBHOOK_URL}"
      """;

  @Test
  void psqlWritesReachSeed001WelcomeEmailWebhookWithNoPublishCall() throws Exception {
    DataSource ds = schema("seed");
    String schema = schemaOf("seed");
    exec(ds, "CREATE TABLE tb_user (id uuid PRIMARY KEY, email text NOT NULL, name text NOT NULL)");
    exec(ds, "CREATE TABLE tb_unobserved (id int PRIMARY KEY)");
    HookReceiver hook = closing(new HookReceiver(0));
    ObserverEngine engine = closing(CaptureSupport.engine(SEED_001, Map.of("WELCOME_EMAIL_WEBHOOK_URL", hook.url())));
    closing(PgOutboxRelay.builder(engine, ds).pollInterval(Duration.ofMillis(200)).start());

    // triggers for what the config observes, nothing else
    assertThat(column(ds, "SELECT tgname FROM pg_trigger t JOIN pg_class k ON k.oid = t.tgrelid JOIN pg_namespace n"
        + " ON n.oid = k.relnamespace WHERE n.nspname = '" + schema + "' AND NOT tgisinternal ORDER BY tgname"))
        .hasSize(3).allMatch(n -> n.startsWith("fraiseql_capture_"))
        .anyMatch(n -> n.startsWith("fraiseql_capture_insert_"));
    assertThat(count(ds, "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'tb_unobserved'::regclass")).isZero();

    CaptureSupport.psql(schema, "INSERT INTO tb_user (id, email, name) VALUES"
        + " ('550e8400-e29b-41d4-a716-446655440000', 'alice@example.com', 'Alice')");
    PgTestSupport.await(Duration.ofSeconds(20), () -> hook.bodies.size() == 1);
    JsonNode created = JSON.readTree(hook.bodies.get(0));
    assertThat(created.get("event").asText()).isEqualTo("INSERT");
    assertThat(created.get("table").asText()).isEqualTo("tb_user");
    assertThat(created.get("timestamp").asText()).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z");
    assertThat(created.get("data").get("new")).isEqualTo(JSON.readTree(
        "{\"id\":\"550e8400-e29b-41d4-a716-446655440000\",\"email\":\"alice@example.com\",\"name\":\"Alice\"}"));
    assertThat(created.get("data").get("old").isNull()).isTrue();
    assertThat(created.get("context").get("event_name").asText()).isEqualTo("user.created");
    assertThat(UUID.fromString(created.get("id").asText()).version()).isEqualTo(7);
    // the same field order as ObservedEvent.toJson (onCommit): receivers cannot tell them apart
    List<String> fields = new ArrayList<>();
    created.fieldNames().forEachRemaining(fields::add);
    assertThat(fields).containsExactly("id", "event", "table", "timestamp", "data", "context");
    ObservedEvent parsed = ObservedEvent.fromJson(hook.bodies.get(0).getBytes());
    assertThat(parsed.name()).isEqualTo("user.created");

    // a rolled-back transaction sends nothing; an UPDATE that changes nothing sends nothing
    CaptureSupport.psql(schema, "BEGIN; INSERT INTO tb_user VALUES (gen_random_uuid(), 'bob@example.com', 'Bob');"
        + " ROLLBACK;");
    CaptureSupport.psql(schema, "UPDATE tb_user SET name = name");
    CaptureSupport.psql(schema, "UPDATE tb_user SET name = 'Alice B.'");
    PgTestSupport.await(Duration.ofSeconds(20), () -> hook.bodies.size() >= 2);
    CaptureSupport.psql(schema, "DELETE FROM tb_user");
    PgTestSupport.await(Duration.ofSeconds(20), () -> hook.bodies.size() >= 3);
    Thread.sleep(700); // anything else would arrive now
    assertThat(hook.bodies).hasSize(3);
    JsonNode updated = JSON.readTree(hook.bodies.get(1));
    assertThat(updated.get("event").asText()).isEqualTo("UPDATE");
    assertThat(updated.get("data").get("new").get("name").asText()).isEqualTo("Alice B.");
    assertThat(updated.get("data").get("old").get("name").asText()).isEqualTo("Alice");
    assertThat(updated.get("context").get("event_name").asText()).isEqualTo("user.updated");
    JsonNode deleted = JSON.readTree(hook.bodies.get(2));
    assertThat(deleted.get("event").asText()).isEqualTo("DELETE");
    assertThat(deleted.get("data").get("new").isNull()).isTrue();
    assertThat(deleted.get("data").get("old").get("email").asText()).isEqualTo("alice@example.com");
    assertThat(count(ds, "SELECT count(*) FROM observer_outbox")).isEqualTo(3);
  }

  @Test
  void mutationContextFromSetLocalAndExcludedColumnAppearsNowhere() throws Exception {
    DataSource ds = schema("ctx");
    String schema = schemaOf("ctx");
    exec(ds, "CREATE TABLE \"Accounts\" (id int PRIMARY KEY, email text, password_hash text)");
    List<ObservedEvent> seen = new CopyOnWriteArrayList<>();
    HookReceiver hook = closing(new HookReceiver(0));
    String toml = """
        [observers.postgres]
        capture = "triggers"

        [[observers.capture]]
        table = '%s."Accounts"'
        entity = "account"
        exclude_columns = ["password_hash"]

        [[observers.handlers]]
        name = "audit"
        event = "account.created"
        action = "handler"
        handler = "audit"

        [[observers.handlers]]
        name = "mirror"
        event = "account.created"
        action = "webhook"
        webhook_url = "${HOOK}"
        """.formatted(schema);
    ObserverEngine engine = closing(ObserverEngine.builder().config(toml, "fraiseql.toml").env(Map.of("HOOK", hook.url()))
        .handler("audit", seen::add).build());
    closing(PgOutboxRelay.builder(engine, ds).pollInterval(Duration.ofMillis(200)).start());

    try (Connection c = ds.getConnection()) {
      c.setAutoCommit(false);
      PgMutationContext.set(c, "createAccount", MutationContext.builder().userId("u-42").tenantId("acme")
          .requestId("req_01HV3KQBN7").attribute("plan", "pro").attribute("traceparent",
              "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01").build());
      try (Statement st = c.createStatement()) {
        st.execute("INSERT INTO \"Accounts\" VALUES (1, 'a@example.com', 's3cret-hash-1')");
      }
      c.commit();
      try (Statement st = c.createStatement()) {
        st.execute("SET LOCAL fraiseql.user_id = 'u-raw'; SET LOCAL fraiseql.tenant_id = 't-raw';"
            + " SET LOCAL fraiseql.request_id = 'r-raw'; SET LOCAL fraiseql.attributes = 'not json {';"
            + " INSERT INTO \"Accounts\" VALUES (2, 'b@example.com', 's3cret-hash-2')");
      }
      c.commit();
      try (Statement st = c.createStatement()) { // nothing set (the earlier values ended with their transactions)
        st.execute("INSERT INTO \"Accounts\" VALUES (3, 'c@example.com', 's3cret-hash-3')");
      }
      c.commit();
    }
    PgTestSupport.await(Duration.ofSeconds(20), () -> seen.size() == 3 && hook.bodies.size() == 3);
    seen.sort((a, b) -> Integer.compare(((Number) a.newRow().get().get("id")).intValue(),
        ((Number) b.newRow().get().get("id")).intValue()));
    ObservedEvent first = seen.get(0);
    assertThat(first.name()).isEqualTo("account.created");
    assertThat(first.table()).isEqualTo(schema + ".\"Accounts\"");
    assertThat(first.mutation()).contains("createAccount");
    assertThat(first.context().userId()).contains("u-42");
    assertThat(first.context().tenantId()).contains("acme");
    assertThat(first.context().requestId()).contains("req_01HV3KQBN7");
    assertThat(first.context().attributes()).containsEntry("plan", "pro")
        .containsEntry("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    assertThat(first.newRow().get()).containsOnlyKeys("id", "email");
    ObservedEvent second = seen.get(1);
    assertThat(second.context().userId()).contains("u-raw");
    assertThat(second.context().tenantId()).contains("t-raw");
    assertThat(second.context().requestId()).contains("r-raw");
    assertThat(second.context().attributes()).isEmpty(); // malformed attributes: left out, not an error
    ObservedEvent third = seen.get(2);
    assertThat(third.context().userId()).isEmpty();
    assertThat(third.mutation()).isEmpty();
    // the excluded column: not in the outbox, not in any payload
    assertThat(count(ds, "SELECT count(*) FROM observer_outbox")).isEqualTo(3);
    assertThat(count(ds, "SELECT count(*) FROM observer_outbox WHERE event::text LIKE '%s3cret%'"
        + " OR event::text LIKE '%password_hash%' OR coalesce(outcomes::text, '') LIKE '%s3cret%'")).isZero();
    assertThat(hook.bodies).hasSize(3).noneMatch(b -> b.contains("s3cret") || b.contains("password_hash"));
    assertThat(seen).noneMatch(e -> e.toJsonString().contains("s3cret"));
    // an UPDATE of the excluded column only changes nothing captured: no event, no outbox row
    exec(ds, "UPDATE \"Accounts\" SET password_hash = 'rotated'");
    assertThat(count(ds, "SELECT count(*) FROM observer_outbox")).isEqualTo(3);
  }

  @Test
  void columnsListKeepsOnlyThoseAndAnUpdateOfAnotherColumnSendsNothing() throws Exception {
    DataSource ds = schema("cols");
    String schema = schemaOf("cols");
    exec(ds, "CREATE SCHEMA IF NOT EXISTS " + schema + "_sales");
    toClose.add(() -> pg.exec("DROP SCHEMA IF EXISTS " + schema + "_sales CASCADE"));
    exec(ds, "CREATE TABLE " + schema + "_sales.orders (id int PRIMARY KEY, status text, total numeric, note text)");
    List<ObservedEvent> seen = new CopyOnWriteArrayList<>();
    String toml = """
        [observers.postgres]
        capture = "triggers"
        [[observers.capture]]
        table = "%s_sales.orders"
        entity = "order"
        columns = ["id", "status"]
        [[observers.handlers]]
        name = "h"
        event = "order.updated"
        action = "handler"
        handler = "h"
        [[observers.handlers]]
        name = "d"
        event = "order.deleted"
        action = "handler"
        handler = "h"
        """.formatted(schema);
    ObserverEngine engine = closing(ObserverEngine.builder().config(toml, "fraiseql.toml").handler("h", seen::add).build());
    closing(PgOutboxRelay.builder(engine, ds).pollInterval(Duration.ofMillis(200)).start());
    exec(ds, "INSERT INTO " + schema + "_sales.orders VALUES (1, 'placed', 10, 'n'), (2, 'placed', 20, 'n')");
    exec(ds, "UPDATE " + schema + "_sales.orders SET note = 'changed', total = total + 1"); // nothing captured changed
    exec(ds, "UPDATE " + schema + "_sales.orders SET status = 'paid' WHERE id = 2");
    exec(ds, "DELETE FROM " + schema + "_sales.orders WHERE id = 1");
    PgTestSupport.await(Duration.ofSeconds(20), () -> seen.size() >= 2);
    Thread.sleep(500);
    assertThat(seen).hasSize(2);
    assertThat(count(ds, "SELECT count(*) FROM observer_outbox")).isEqualTo(2); // no INSERT trigger, no no-op UPDATE row
    ObservedEvent paid = seen.stream().filter(e -> e.name().equals("order.updated")).findFirst().orElseThrow();
    assertThat(paid.table()).isEqualTo(schema + "_sales.orders");
    assertThat(paid.newRow().get()).containsOnlyKeys("id", "status").containsEntry("status", "paid");
    assertThat(paid.oldRow().get()).containsEntry("status", "placed");
    ObservedEvent gone = seen.stream().filter(e -> e.name().equals("order.deleted")).findFirst().orElseThrow();
    assertThat(gone.newRow()).isEmpty();
    assertThat(gone.oldRow().get()).containsOnlyKeys("id", "status");
  }

  @Test
  void bulkStatementIsOneOutboxRowSplitIntoOneEventPerRowWithStableIds() throws Exception {
    DataSource ds = schema("bulk");
    exec(ds, "CREATE TABLE tb_item (id int PRIMARY KEY, label text)");
    Set<UUID> ids = java.util.concurrent.ConcurrentHashMap.newKeySet();
    Set<Integer> rows = java.util.concurrent.ConcurrentHashMap.newKeySet();
    String toml = """
        [observers.postgres]
        capture = "triggers"
        [[observers.handlers]]
        name = "count"
        event = "item.created"
        action = "handler"
        handler = "count"
        """;
    ObserverEngine engine = closing(ObserverEngine.builder().config(toml, "fraiseql.toml").handler("count", e -> {
      ids.add(e.id());
      rows.add(((Number) e.newRow().get().get("id")).intValue());
    }).build());
    closing(PgOutboxRelay.builder(engine, ds).pollInterval(Duration.ofMillis(200)).start());
    exec(ds, "INSERT INTO tb_item SELECT g, 'item ' || g FROM generate_series(1, 5000) g");
    assertThat(count(ds, "SELECT count(*) FROM observer_outbox")).isEqualTo(1);
    PgTestSupport.await(Duration.ofSeconds(60), () -> rows.size() == 5000);
    assertThat(ids).hasSize(5000);
    UUID base = UUID.fromString(column(ds, "SELECT event_id::text FROM observer_outbox").get(0));
    Set<UUID> expected = new HashSet<>();
    for (int i = 0; i < 5000; i++) {
      expected.add(dev.fraiseql.observers.pg.internal.CaptureRows.eventId(base, i));
    }
    assertThat(ids).isEqualTo(expected);
    PgTestSupport.await(Duration.ofSeconds(20), () -> {
      try {
        return count(ds, "SELECT count(*) FROM observer_outbox WHERE status = 'done'") == 1;
      } catch (Exception e) {
        return false;
      }
    });
  }

  @Test
  void twoTransactionsChangingOneRowProduceOutboxRowsInCommitOrder() throws Exception {
    DataSource ds = schema("order");
    exec(ds, "CREATE TABLE tb_stock (sku text PRIMARY KEY, qty int NOT NULL)");
    exec(ds, "INSERT INTO tb_stock VALUES ('MUG', 10)");
    String toml = """
        [observers.postgres]
        capture = "triggers"
        capture_install = true
        [[observers.handlers]]
        name = "noop"
        event = "stock.updated"
        action = "handler"
        handler = "noop"
        """;
    ObserverEngine engine = closing(ObserverEngine.builder().config(toml, "fraiseql.toml").handler("noop", e -> { })
        .build());
    PgCapture.of(engine.config()).install(ds); // no relay: the rows stay for inspection
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try (Connection first = ds.getConnection(); Connection second = ds.getConnection()) {
      first.setAutoCommit(false);
      second.setAutoCommit(false);
      // the second transaction starts first and takes a sequence value elsewhere before touching the row
      try (Statement st = second.createStatement()) {
        st.execute("SELECT nextval(pg_get_serial_sequence('observer_outbox', 'id'))");
      }
      try (Statement st = first.createStatement()) {
        st.execute("UPDATE tb_stock SET qty = qty - 1"); // first: outbox row written, row locked
      }
      CountDownLatch started = new CountDownLatch(1);
      Future<?> blocked = pool.submit(() -> {
        started.countDown();
        try (Statement st = second.createStatement()) {
          st.execute("UPDATE tb_stock SET qty = qty - 2"); // waits for first's commit
          second.commit();
        }
        return null;
      });
      started.await();
      Thread.sleep(300);
      assertThat(blocked.isDone()).isFalse();
      first.commit();
      blocked.get(20, TimeUnit.SECONDS);
    } finally {
      pool.shutdownNow();
    }
    List<String> order = column(ds, "SELECT (event::json->'rows'->0->'new'->>'qty') FROM observer_outbox ORDER BY id");
    assertThat(order).containsExactly("9", "7");
  }

  @Test
  void twoEnginesStartingAtOnceInstallOneSetAChangedConfigUpgradesAndUninstallLeavesNothing() throws Exception {
    DataSource ds = schema("install");
    String schema = schemaOf("install");
    exec(ds, "CREATE TABLE tb_order (id int PRIMARY KEY, total numeric, secret text)");
    String v1 = """
        [observers.postgres]
        capture = "triggers"
        [[observers.rules]]
        table = "tb_order"
        event = "INSERT"
        [[observers.rules.actions]]
        type = "handler"
        handler = "h"
        """;
    String triggers = "SELECT tgname || ':' || coalesce(obj_description(t.oid, 'pg_trigger'), '') FROM pg_trigger t"
        + " WHERE tgrelid = 'tb_order'::regclass AND NOT tgisinternal ORDER BY 1";
    ExecutorService pool = Executors.newFixedThreadPool(2);
    List<Future<PgOutboxRelay>> starts = new ArrayList<>();
    CountDownLatch go = new CountDownLatch(1);
    for (int i = 0; i < 2; i++) {
      starts.add(pool.submit(() -> {
        ObserverEngine e = ObserverEngine.builder().config(v1, "fraiseql.toml").handler("h", ev -> { }).build();
        synchronized (toClose) {
          toClose.add(e);
        }
        go.await();
        return PgOutboxRelay.builder(e, ds).start();
      }));
    }
    go.countDown();
    for (Future<PgOutboxRelay> f : starts) {
      closing(f.get(60, TimeUnit.SECONDS));
    }
    pool.shutdown();
    List<String> installed = column(ds, triggers);
    assertThat(installed).hasSize(1);
    assertThat(installed.get(0)).startsWith("fraiseql_capture_insert_");
    ObserverEngine probe = closing(ObserverEngine.builder().config(v1, "fraiseql.toml").handler("h", ev -> { }).build());
    PgCapture capture = PgCapture.of(probe.config());
    assertThat(capture.check(ds)).isEmpty();
    assertThat(capture.install(ds)).isZero(); // idempotent

    // a changed config (UPDATEs too, one column excluded): the check reports it, the install upgrades
    String v2 = v1.replace("event = \"INSERT\"", "") + """
        [[observers.capture]]
        table = "tb_order"
        exclude_columns = ["secret"]
        """;
    ObserverEngine e2 = closing(ObserverEngine.builder().config(v2, "fraiseql.toml").handler("h", ev -> { }).build());
    PgCapture capture2 = PgCapture.of(e2.config());
    assertThat(capture2.check(ds)).hasSize(3)
        .anyMatch(p -> p.startsWith("capture trigger outdated") && p.contains("INSERT"))
        .anyMatch(p -> p.startsWith("capture trigger missing") && p.contains("UPDATE"))
        .anyMatch(p -> p.startsWith("capture trigger missing") && p.contains("DELETE"))
        .allMatch(p -> p.contains("PgCapture.ddl"));
    assertThat(capture2.status(ds)).extracting(PgCapture.TriggerStatus::operation, PgCapture.TriggerStatus::state)
        .containsExactly(org.assertj.core.groups.Tuple.tuple(dev.fraiseql.observers.Operation.INSERT, PgCapture.TriggerState.OUTDATED),
            org.assertj.core.groups.Tuple.tuple(dev.fraiseql.observers.Operation.UPDATE, PgCapture.TriggerState.MISSING),
            org.assertj.core.groups.Tuple.tuple(dev.fraiseql.observers.Operation.DELETE, PgCapture.TriggerState.MISSING));
    assertThat(capture2.install(ds)).isEqualTo(3);
    assertThat(capture2.check(ds)).isEmpty();
    assertThat(capture2.status(ds)).hasSize(3).allMatch(PgCapture.TriggerStatus::ok)
        .allMatch(t -> t.fix().isEmpty() && t.events().startsWith("order."));
    // the first config sees the UPDATE and DELETE triggers as extra
    assertThat(capture.status(ds)).extracting(PgCapture.TriggerStatus::state).containsExactlyInAnyOrder(
        PgCapture.TriggerState.OUTDATED, PgCapture.TriggerState.EXTRA, PgCapture.TriggerState.EXTRA);
    assertThat(column(ds, triggers)).hasSize(3).noneMatch(installed::contains);
    exec(ds, "INSERT INTO tb_order VALUES (1, 9.5, 'hidden')");
    assertThat(count(ds, "SELECT count(*) FROM observer_outbox WHERE event::text LIKE '%hidden%'")).isZero();
    assertThat(count(ds, "SELECT count(*) FROM observer_outbox WHERE event::text LIKE '%9.5%'")).isEqualTo(1);
    // back to v1: the stale UPDATE and DELETE triggers go, with their functions
    assertThat(capture.install(ds)).isEqualTo(3); // INSERT upgraded back, two removed
    assertThat(column(ds, triggers)).hasSize(1);

    // the DDL as text (for Flyway/Liquibase), applied by psql, gives the same triggers
    String ddl;
    try (Connection c = ds.getConnection()) {
      ddl = capture2.ddl(c);
    }
    assertThat(ddl).contains("CREATE OR REPLACE FUNCTION").contains("REFERENCING NEW TABLE AS fraiseql_new")
        .contains("FOR EACH STATEMENT");
    CaptureSupport.psql(schema, ddl);
    assertThat(capture2.check(ds)).isEmpty();

    assertThat(capture2.uninstall(ds)).isEqualTo(3);
    assertThat(column(ds, triggers)).isEmpty();
    assertThat(count(ds, "SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
        + " WHERE n.nspname = '" + schema + "' AND p.proname LIKE 'fraiseql%'")).isZero();
    assertThat(capture2.check(ds)).hasSize(3).allMatch(p -> p.startsWith("capture trigger missing"));
  }

  @Test
  void aConfiguredTableThatDoesNotExistIsAConfigErrorNamingIt() throws Exception {
    DataSource ds = schema("missing");
    String toml = """
        [observers.postgres]
        capture = "triggers"
        [[observers.capture]]
        table = "sales.no_such_orders"
        entity = "order"
        [[observers.handlers]]
        name = "h"
        event = "order.created"
        action = "handler"
        handler = "h"
        """;
    ObserverEngine engine = closing(ObserverEngine.builder().config(toml, "fraiseql.toml").handler("h", e -> { }).build());
    assertThatThrownBy(() -> PgOutboxRelay.builder(engine, ds).start())
        .isInstanceOf(ObserverConfigException.class)
        .hasMessageContaining("sales.no_such_orders")
        .hasMessageContaining("does not exist")
        .hasMessageContaining("fraiseql.toml");
    // a bad name never reaches SQL
    String bad = toml.replace("sales.no_such_orders", "x; DROP TABLE y");
    ObserverEngine badEngine = closing(ObserverEngine.builder().config(bad, "fraiseql.toml").handler("h", e -> { }).build());
    assertThatThrownBy(() -> PgCapture.of(badEngine.config())).isInstanceOf(ObserverConfigException.class)
        .hasMessageContaining("x; DROP TABLE y").hasMessageContaining("not a valid");
  }
}

package dev.fraiseql.observers.examples.pipeline;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fraiseql.observers.DeliveryOutcome;
import dev.fraiseql.observers.MutationContext;
import dev.fraiseql.observers.ObservedEvent;
import dev.fraiseql.observers.ObserverEngine;
import dev.fraiseql.observers.ObserverListener;
import dev.fraiseql.observers.Operation;
import dev.fraiseql.observers.config.ObserversConfig;
import dev.fraiseql.observers.config.SubscriptionConfig;
import dev.fraiseql.observers.examples.support.Checks;
import dev.fraiseql.observers.examples.support.Receiver;
import dev.fraiseql.observers.examples.support.RunNamespace;
import dev.fraiseql.observers.examples.support.Services;
import dev.fraiseql.observers.spi.ActionResult;
import dev.fraiseql.observers.spi.AttemptRecord;
import dev.fraiseql.observers.spi.DeadLetter;
import java.io.PrintStream;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import javax.sql.DataSource;

/**
 * The NATS event pipeline: one {@code fraiseql.toml} whose seed-000 rules publish every INSERT and
 * UPDATE of {@code tb_order} to JetStream, and whose two consumers read those subjects back, keep what
 * their condition selects and forward it to a webhook, each with its own retry budget. The fraud-check
 * service fails on one order every time: that delivery spends its budget and is dead-lettered; the run
 * lists the dead letters at the end.
 *
 * <p>Run it with {@code bin/pipeline}.
 */
public final class Pipeline {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration SETTLE = Duration.ofSeconds(40);
  /** The order the fraud-check service always fails on. */
  static final String POISON = "o-2003";

  private Pipeline() {}

  public static void main(String[] args) throws Exception {
    Path dir = args.length > 0 ? Path.of(args[0]) : Services.exampleDir("pipeline");
    List<String> failures = run(dir, System.out);
    if (!failures.isEmpty()) {
      System.out.println("pipeline: " + failures.size() + " check(s) FAILED");
      System.exit(1);
    }
    System.exit(0);
  }

  /**
   * Runs the pipeline with {@code dir/fraiseql.toml} and returns the checks that failed (none when all
   * is well). Its schema and stream are named after a random run id and removed at the end.
   */
  public static List<String> run(Path dir, PrintStream out) throws Exception {
    String natsUrl = Services.natsUrl();
    String pgUrl = Services.pgUrl();
    String run = Services.runId();
    RunNamespace ns = new RunNamespace("pipeline", run);
    String schema = "pipeline_" + run;
    String db = Services.inSchema(pgUrl, schema);
    Checks checks = new Checks(out);
    Services.preflight(natsUrl, pgUrl);

    out.println("pipeline: run " + run + " — NATS " + natsUrl + ", stream " + ns.stream() + ", subjects "
        + ns.prefix() + ".fraiseql.>, schema " + schema);
    out.println("(every subject of fraiseql.toml is prefixed with " + ns.prefix()
        + ". so that runs never see each other's messages)\n");

    ObserverEngine engine = null;
    Receiver services = null;
    List<String> trail = new java.util.concurrent.CopyOnWriteArrayList<>();
    try {
      try (Connection c = Services.connect(pgUrl); Statement st = c.createStatement()) {
        st.execute("CREATE SCHEMA " + schema);
        st.execute("SET search_path TO " + schema);
        st.execute(Files.readString(dir.resolve("schema.sql")));
      }
      services = new Receiver(r -> r.path().equals("/fraud-check") && field(r.body(), "data.new.id").equals(POISON)
          ? 500 : 200,
          r -> out.printf("  [%s] POST → %d  %s %s (attempt %s)%n", r.path().substring(1), r.status(),
              field(r.body(), "data.new.id"), field(r.body(), "context.event_name"), r.header("Fraiseql-Delivery-Attempt")));
      Map<String, String> env = Map.of("NATS_URL", natsUrl, "FRAUD_CHECK_URL", services.url("/fraud-check"),
          "FULFILMENT_URL", services.url("/fulfilment"));
      Function<String, Optional<String>> lookup = name -> Optional.ofNullable(env.get(name));
      DataSource ds = Services.dataSource(db);

      out.println("-- starting the service: " + dir.resolve("fraiseql.toml"));
      engine = ObserverEngine.builder().env(lookup).component(DataSource.class, ds)
          .listener(new ObserverListener() {
            @Override
            public void skipped(ObservedEvent event, String handler) {
              trail.add(handler + " skip " + id(event));
              out.printf("  [%s] %s %s: condition false, not forwarded%n", handler, id(event), event.name());
            }

            @Override
            public void attemptFinished(ObservedEvent event, String handler, int attempt, ActionResult result,
                Duration elapsed) {
              if (!handler.startsWith("fraiseql.")) {
                trail.add(handler + " " + (result.isDelivered() ? "ok" : "fail") + " " + id(event));
              }
            }

            @Override
            public void deadLettered(DeadLetter letter) {
              out.printf("  [%s] %s dead-lettered: %s%n", letter.handler(), id(letter.event()), letter.reason());
            }
          })
          .config(ns.apply(ObserversConfig.load(dir.resolve("fraiseql.toml"), lookup))).build();

      out.println("\n-- committing writes to tb_order (each its own transaction, then onCommit)");
      List<String[]> writes = List.of(
          new String[] {"INSERT", "o-2001", "ann@example.com", "40.00"},
          new String[] {"INSERT", "o-2002", "ben@example.com", "2500.00"},
          new String[] {"INSERT", POISON, "cat@example.com", "1800.00"},
          new String[] {"UPDATE", "o-2001", "shipped"},
          new String[] {"UPDATE", "o-2002", "cancelled"},
          new String[] {"UPDATE", POISON, "shipped"});
      try (Connection c = Services.connect(db)) {
        c.setAutoCommit(false);
        for (String[] w : writes) {
          ObservedEvent event = w[0].equals("INSERT") ? insert(c, w[1], w[2], new BigDecimal(w[3])) : update(c, w[1], w[2]);
          c.commit();
          List<DeliveryOutcome> published = engine.onCommit(event).completion().toCompletableFuture().get(20, TimeUnit.SECONDS);
          out.printf("  [orders] %s %s %s → %s%n", w[0], w[1], event.newRow().map(r -> "status=" + r.get("status")
              + " total=" + r.get("total")).orElse(""), describe(published));
        }
      }

      out.println("\n-- the consumers at work (fraud-check: total > 1000; ship-notice: status == 'shipped')");
      ObserverEngine e = engine;
      Receiver svc = services;
      boolean settled = await(SETTLE, () -> e.deadLetters().count() >= 1 && svc.requests("/fulfilment").size() >= 2
          && svc.requests("/fraud-check").size() >= 4);
      List<String> durables = engine.config().subscriptions().stream().map(SubscriptionConfig::durable).toList();
      boolean consumed = ns.awaitConsumed(natsUrl, durables, Duration.ofSeconds(15));
      if (!settled) {
        checks.fail("the consumers did not settle within " + SETTLE.toSeconds() + " s");
      }

      out.println("\nforwarded (what the webhook receivers accepted):");
      for (Receiver.Request r : services.requests()) {
        if (r.status() / 100 == 2) {
          out.printf("  %-12s %s %s (status %s)%n", r.path(), field(r.body(), "data.new.id"),
              field(r.body(), "context.event_name"), field(r.body(), "data.new.status"));
        }
      }
      List<DeadLetter> dead = engine.deadLetters().list();
      out.println("\ndead letters (" + dead.size() + ", in PostgreSQL table " + schema + ".observer_dead_letters):");
      for (DeadLetter d : dead) {
        out.printf("  %s  handler=%s  subject=%s  event=%s (%s %s)%n      reason: %s%n", d.id(), d.handler(),
            d.subject().orElse("-"), d.event().id(), d.event().name(), id(d.event()), d.reason());
        for (AttemptRecord a : d.attempts()) {
          out.printf("      attempt %d at %s: %s%n", a.attempt(), a.startedAt(), a.outcome());
        }
        out.println("      replay it once the service is fixed: engine.deadLetters().replay(\"" + d.id() + "\")");
      }
      long rows;
      try (Connection c = Services.connect(db); Statement st = c.createStatement();
           ResultSet rs = st.executeQuery("SELECT count(*) FROM observer_dead_letters")) {
        rs.next();
        rows = rs.getLong(1);
      }

      out.println("\nchecks:");
      checks.check(ns.messages(natsUrl) == writes.size(), "every committed write was published once ("
          + writes.size() + " messages: 3 on fraiseql.order.created, 3 on fraiseql.order.updated)",
          ns.messages(natsUrl) + " messages in the stream");
      checks.check(consumed, "both consumers acknowledged or terminated every message", "messages still pending or unacked");
      checks.check(ids(accepted(services, "/fraud-check")).equals(List.of("o-2002")),
          "fraud-check accepted exactly the large order it could handle (o-2002; o-2001 is below the condition)",
          "accepted " + ids(accepted(services, "/fraud-check")));
      checks.check(trail.contains("fraud-check skip o-2001") && trail.contains("ship-notice skip o-2002"),
          "conditions filtered: o-2001 (total 40) not sent to fraud-check, o-2002 (cancelled) not sent to ship-notice",
          "trail " + trail);
      checks.check(ids(accepted(services, "/fulfilment")).stream().sorted().toList().equals(List.of("o-2001", POISON)),
          "ship-notice forwarded the two shipped orders once each (o-2001, " + POISON + ")",
          "accepted " + ids(accepted(services, "/fulfilment")));
      long poisonTries = services.requests("/fraud-check").stream().filter(r -> field(r.body(), "data.new.id").equals(POISON)).count();
      checks.check(poisonTries == 3, "fraud-check tried " + POISON + " exactly max_attempts = 3 times",
          poisonTries + " requests");
      checks.check(dead.size() == 1 && dead.get(0).handler().equals("fraud-check")
              && id(dead.get(0).event()).equals(POISON) && dead.get(0).reason().contains("budget spent after 3"),
          "exactly one dead letter: fraud-check × " + POISON + ", budget spent after 3 deliveries", dead.toString());
      checks.check(rows == 1, "the dead letter is stored in PostgreSQL (observer_dead_letters)", rows + " rows");
    } finally {
      if (engine != null) {
        engine.close();
      }
      if (services != null) {
        services.close();
      }
      String problem = ns.deleteStream(natsUrl);
      if (problem != null) {
        out.println("cleanup: " + problem);
      }
      Services.dropSchema(pgUrl, schema, out);
    }
    List<String> failures = checks.failures();
    out.println(failures.isEmpty()
        ? "\npipeline: all checks passed (6 writes published, 3 forwarded, 3 filtered out by conditions, 1 dead letter)"
        : "\npipeline: " + failures.size() + " check(s) failed: " + failures);
    return failures;
  }

  private static ObservedEvent insert(Connection c, String id, String email, BigDecimal total) throws Exception {
    try (PreparedStatement st = c.prepareStatement("INSERT INTO tb_order (id, customer_email, total) VALUES (?, ?, ?) "
        + "RETURNING id, customer_email, total, status, updated_at")) {
      st.setString(1, id);
      st.setString(2, email);
      st.setBigDecimal(3, total);
      try (ResultSet rs = st.executeQuery()) {
        rs.next();
        return event(Operation.INSERT, "createOrder", row(rs), null);
      }
    }
  }

  private static ObservedEvent update(Connection c, String id, String status) throws Exception {
    Map<String, Object> old;
    try (PreparedStatement st = c.prepareStatement(
        "SELECT id, customer_email, total, status, updated_at FROM tb_order WHERE id = ? FOR UPDATE")) {
      st.setString(1, id);
      try (ResultSet rs = st.executeQuery()) {
        rs.next();
        old = row(rs);
      }
    }
    try (PreparedStatement st = c.prepareStatement("UPDATE tb_order SET status = ?, updated_at = now() WHERE id = ? "
        + "RETURNING id, customer_email, total, status, updated_at")) {
      st.setString(1, status);
      st.setString(2, id);
      try (ResultSet rs = st.executeQuery()) {
        rs.next();
        return event(Operation.UPDATE, "updateOrderStatus", row(rs), old);
      }
    }
  }

  private static Map<String, Object> row(ResultSet rs) throws Exception {
    Map<String, Object> row = new LinkedHashMap<>();
    row.put("id", rs.getString(1));
    row.put("customer_email", rs.getString(2));
    row.put("total", rs.getBigDecimal(3));
    row.put("status", rs.getString(4));
    row.put("updated_at", rs.getObject(5, java.time.OffsetDateTime.class).toInstant());
    return row;
  }

  private static ObservedEvent event(Operation op, String mutation, Map<String, Object> row, Map<String, Object> old) {
    ObservedEvent.Builder b = ObservedEvent.builder().operation(op).table("tb_order").mutation(mutation).newRow(row)
        .context(MutationContext.builder().userId("u-ops").tenantId("shop").requestId("req_" + mutation + "_" + row.get("id"))
            .build());
    if (old != null) {
      b.oldRow(old);
    }
    return b.build();
  }

  private static String id(ObservedEvent event) {
    return event.newRow().or(event::oldRow).map(r -> String.valueOf(r.get("id"))).orElse("?");
  }

  private static List<Receiver.Request> accepted(Receiver r, String path) {
    return r.requests(path).stream().filter(q -> q.status() / 100 == 2).toList();
  }

  private static List<String> ids(List<Receiver.Request> requests) {
    return requests.stream().map(r -> field(r.body(), "data.new.id")).toList();
  }

  private static String describe(List<DeliveryOutcome> outcomes) {
    List<String> parts = new ArrayList<>();
    for (DeliveryOutcome o : outcomes) {
      parts.add(o.handler() + ": " + o.status() + " (" + o.detail() + ")");
    }
    return parts.isEmpty() ? "no rule matched" : String.join(", ", parts);
  }

  /** A dotted path into a JSON body ({@code data.new.id}), or "". */
  static String field(String json, String path) {
    try {
      JsonNode n = JSON.readTree(json);
      for (String p : path.split("\\.")) {
        n = n == null ? null : n.get(p);
      }
      return n == null || n.isNull() ? "" : n.asText();
    } catch (Exception e) {
      return "";
    }
  }

  private static boolean await(Duration timeout, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (condition.getAsBoolean()) {
        return true;
      }
      Thread.sleep(100);
    }
    return condition.getAsBoolean();
  }
}

package dev.fraiseql.observers.examples.quickstart;

import com.sun.net.httpserver.HttpServer;
import dev.fraiseql.observers.DeliveryOutcome;
import dev.fraiseql.observers.Dispatch;
import dev.fraiseql.observers.MutationContext;
import dev.fraiseql.observers.ObservedEvent;
import dev.fraiseql.observers.ObserverEngine;
import dev.fraiseql.observers.Operation;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The quickstart: seed 001's blog observers, end to end, with no servers to install.
 *
 * <ol>
 *   <li>starts a local HTTP receiver standing in for the email, event-bus, notification and projection
 *       services (the event-bus ingest answers 503 once, so you see a retry);
 *   <li>loads {@code examples/quickstart/fraiseql.toml} with its {@code ${...}} URLs pointed at that receiver;
 *   <li>commits a few mutations (createUser, createPost, publishPost, updatePost, createComment) through
 *       {@code engine.onCommit(...)};
 *   <li>prints the observer log and what each receiver got, then checks the outcome.
 * </ol>
 *
 * Run it with {@code bin/quickstart}.
 */
public final class Quickstart {
  private Quickstart() {}

  public static void main(String[] args) throws Exception {
    Path config = args.length > 0 ? Path.of(args[0]) : defaultConfig();
    List<String> failures = run(config, System.out);
    if (!failures.isEmpty()) {
      System.out.println("quickstart: " + failures.size() + " check(s) FAILED: " + failures);
      System.exit(1);
    }
  }

  /** {@code examples/quickstart/fraiseql.toml} from the repository root, or {@code fraiseql.toml} from this module's folder. */
  static Path defaultConfig() {
    for (String p : List.of("examples/quickstart/fraiseql.toml", "fraiseql.toml")) {
      if (java.nio.file.Files.isRegularFile(Path.of(p))) {
        return Path.of(p);
      }
    }
    throw new IllegalStateException("cannot find examples/quickstart/fraiseql.toml; run from the repository root or pass its path");
  }

  /** Runs the quickstart and returns the checks that failed (none when all is well). */
  public static List<String> run(Path config, PrintStream out) throws Exception {
    List<String> received = Collections.synchronizedList(new ArrayList<>());
    AtomicInteger ingestCalls = new AtomicInteger();
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/", exchange -> {
      String path = exchange.getRequestURI().getPath();
      String body;
      try (InputStream in = exchange.getRequestBody()) {
        body = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      }
      int status = 200;
      if (path.equals("/events/ingest") && ingestCalls.incrementAndGet() == 1) {
        status = 503; // "Event bus unavailable": FraiseQL retries
      }
      String service = path.split("/")[1];
      out.printf("  [%s-svc] POST %s → %d  %s%n", service, path, status, body.length() > 140 ? body.substring(0, 140) + "…" : body);
      if (status == 200) {
        received.add(service + " " + path);
      }
      exchange.sendResponseHeaders(status, -1);
      exchange.close();
    });
    server.start();
    String base = "http://127.0.0.1:" + server.getAddress().getPort();
    Map<String, String> env = Map.of(
        "WELCOME_EMAIL_SERVICE_URL", base + "/email/hooks/fraiseql",
        "EVENT_BUS_INGEST_URL", base + "/events/ingest",
        "NOTIFICATION_SERVICE_URL", base + "/notifications/hooks/fraiseql",
        "PROJECTION_SERVICE_URL", base + "/projection/hooks/fraiseql");

    List<String> failures = new ArrayList<>();
    out.println("quickstart: loading " + config + " (receivers on " + base + ")");
    try (ObserverEngine engine = ObserverEngine.builder().config(config).env(env).build()) {
      List<Dispatch> dispatches = new ArrayList<>();
      MutationContext ctx = MutationContext.builder().userId("u-alice").tenantId("blog").requestId("req_01HV3KQBN7").build();

      out.println("\n-- createUser (tb_user INSERT) → user.created");
      dispatches.add(engine.onCommit(ObservedEvent.builder().operation(Operation.INSERT).table("tb_user").mutation("createUser")
          .newRow(row("id", "550e8400-e29b-41d4-a716-446655440000", "email", "alice@example.com", "name", "Alice"))
          .context(ctx).build()));

      out.println("-- createPost (tb_post INSERT) → post.created: no observer configured");
      dispatches.add(engine.onCommit(ObservedEvent.builder().operation(Operation.INSERT).table("tb_post").mutation("createPost")
          .newRow(row("id", 7, "title", "Hello", "status", "draft")).context(ctx).build()));

      out.println("-- publishPost (tb_post UPDATE, status → published) → post.updated");
      dispatches.add(engine.onCommit(ObservedEvent.builder().operation(Operation.UPDATE).table("tb_post").mutation("publishPost")
          .newRow(row("id", 7, "title", "Hello", "status", "published"))
          .oldRow(row("id", 7, "title", "Hello", "status", "draft")).context(ctx).build()));

      out.println("-- updatePost (tb_post UPDATE, still a draft) → post.updated, condition false");
      dispatches.add(engine.onCommit(ObservedEvent.builder().operation(Operation.UPDATE).table("tb_post").mutation("updatePost")
          .newRow(row("id", 8, "title", "Draft 2", "status", "draft"))
          .oldRow(row("id", 8, "title", "Draft", "status", "draft")).context(ctx).build()));

      out.println("-- createComment (tb_comment INSERT) → comment.created\n");
      dispatches.add(engine.onCommit(ObservedEvent.builder().operation(Operation.INSERT).table("tb_comment").mutation("createComment")
          .newRow(row("id", 1, "fk_post", 7, "author_name", "Bob", "author_email", "bob@example.com", "content", "Nice post!"))
          .context(MutationContext.builder().userId("u-bob").tenantId("blog").requestId("req_01HV3KR2Q4").build()).build()));

      out.println("(onCommit returned at once for all five; the observers run in the background)\n");
      Map<String, DeliveryOutcome> outcomes = new LinkedHashMap<>();
      for (Dispatch d : dispatches) {
        for (DeliveryOutcome o : d.completion().toCompletableFuture().get(30, TimeUnit.SECONDS)) {
          outcomes.put(o.handler() + (outcomes.containsKey(o.handler()) ? "#2" : ""), o);
        }
      }
      out.println("\nquickstart: outcomes");
      outcomes.forEach((h, o) -> out.printf("  %-22s %-13s attempts=%d  %s%n", h, o.status(), o.attempts(), o.detail()));

      expect(failures, outcomes, "welcome-email", DeliveryOutcome.Status.DELIVERED, 1);
      expect(failures, outcomes, "signup-event", DeliveryOutcome.Status.DELIVERED, 2);
      expect(failures, outcomes, "update-post-stats", DeliveryOutcome.Status.DELIVERED, 1);
      expect(failures, outcomes, "update-post-stats#2", DeliveryOutcome.Status.SKIPPED, 0);
      expect(failures, outcomes, "comment-notification", DeliveryOutcome.Status.DELIVERED, 1);
      if (received.size() != 4) {
        failures.add("the receivers should have accepted 4 deliveries, got " + received.size() + ": " + received);
      }
      if (engine.deadLetters().count() != 0) {
        failures.add("no dead letters expected, got " + engine.deadLetters().list());
      }
    } finally {
      server.stop(0);
    }
    out.println(failures.isEmpty() ? "\nquickstart: all checks passed (4 webhooks delivered, 1 retried after a 503, 1 skipped by its condition)"
        : "\nquickstart: checks failed: " + failures);
    return failures;
  }

  private static void expect(List<String> failures, Map<String, DeliveryOutcome> outcomes, String handler,
      DeliveryOutcome.Status status, int attempts) {
    DeliveryOutcome o = outcomes.get(handler);
    if (o == null || o.status() != status || o.attempts() != attempts) {
      failures.add(handler + " should be " + status + " after " + attempts + " attempt(s), was " + o);
    }
  }

  private static Map<String, Object> row(Object... kv) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      m.put((String) kv[i], kv[i + 1]);
    }
    return m;
  }

}

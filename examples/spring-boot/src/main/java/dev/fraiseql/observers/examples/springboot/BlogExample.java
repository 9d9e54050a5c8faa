package dev.fraiseql.observers.examples.springboot;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * Runs seed 001's blog API on PostgreSQL with seed 001's observers, calls it over HTTP as a client
 * would, and checks what the email and notification services received. Exits 1 when a check fails.
 */
@SpringBootApplication
public class BlogExample {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static int failures;

  public static void main(String[] args) throws Exception {
    System.exit(run() == 0 ? 0 : 1);
  }

  /** Runs the example against PostgreSQL and prints its checks; returns how many failed. */
  static int run() throws Exception {
    failures = 0;
    String pg = System.getenv().getOrDefault("FRAISEQL_TEST_PG_URL", "jdbc:postgresql://localhost:5432/test?user=root");
    String schema = "sbexample_" + Long.toHexString(System.nanoTime());
    try (Connection c = DriverManager.getConnection(pg, "root", null)) {
      c.createStatement().execute("CREATE SCHEMA " + schema);
    }
    List<String> emails = new CopyOnWriteArrayList<>();
    List<String> notifications = new CopyOnWriteArrayList<>();
    List<String> projections = new CopyOnWriteArrayList<>();
    HttpServer services = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    services.createContext("/email/hooks/fraiseql", ex -> {
      emails.add(new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
      ex.sendResponseHeaders(200, -1);
      ex.close();
    });
    services.createContext("/notify/hooks/fraiseql", ex -> {
      notifications.add(new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
      ex.sendResponseHeaders(200, -1);
      ex.close();
    });
    services.createContext("/projection/hooks/fraiseql", ex -> {
      projections.add(new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
      ex.sendResponseHeaders(200, -1);
      ex.close();
    });
    services.start();
    String base = "http://127.0.0.1:" + services.getAddress().getPort();

    ConfigurableApplicationContext app = SpringApplication.run(BlogExample.class,
        "--server.port=0", "--spring.datasource.url=" + pg, "--spring.datasource.username=root",
        "--spring.jpa.properties.hibernate.default_schema=" + schema,
        "--WELCOME_EMAIL_SERVICE_URL=" + base + "/email/hooks/fraiseql",
        "--NOTIFICATION_SERVICE_URL=" + base + "/notify/hooks/fraiseql",
        "--PROJECTION_SERVICE_URL=" + base + "/projection/hooks/fraiseql");
    try {
      String api = "http://127.0.0.1:" + app.getEnvironment().getProperty("local.server.port");
      HttpClient http = HttpClient.newHttpClient();
      String user = post(http, api + "/users?email=alice@example.com&name=Alice", "req_01HV3KQBN7");
      String postId = post(http, api + "/posts?author=" + user + "&title=Hello", "req_2");
      post(http, api + "/posts/" + postId + "/comments?authorName=Bob&authorEmail=bob@example.com&content=Nice%20post", "req_3");

      post(http, api + "/posts/" + postId + "/retitle?title=Hello%20again", "req_4");   // still a draft
      post(http, api + "/posts/" + postId + "/publish", "req_5");

      waitFor(() -> emails.size() >= 1 && notifications.size() >= 1 && projections.size() >= 1);
      check("welcome-email received one event", emails.size() == 1);
      JsonNode welcome = JSON.readTree(emails.get(0));
      check("welcome-email: INSERT on tb_user", "INSERT".equals(welcome.path("event").asText())
          && "tb_user".equals(welcome.path("table").asText()));
      check("welcome-email: data.new is the user", JSON.convertValue(welcome.path("data").path("new"), Map.class)
          .equals(Map.of("pk_user", Integer.parseInt(user), "email", "alice@example.com", "name", "Alice")));
      check("welcome-email: the request id of the REST call", "req_01HV3KQBN7".equals(
          welcome.path("context").path("request_id").asText()));
      JsonNode comment = JSON.readTree(notifications.get(0));
      check("comment-notification: INSERT on tb_comment with fk_post", "tb_comment".equals(comment.path("table").asText())
          && postId.equals(comment.path("data").path("new").path("fk_post").asText())
          && "Nice post".equals(comment.path("data").path("new").path("content").asText()));
      check("update-post-stats: only the update that published the post (condition)", projections.size() == 1);
      JsonNode stats = JSON.readTree(projections.get(0));
      check("update-post-stats: UPDATE with old status draft and new status published",
          "UPDATE".equals(stats.path("event").asText())
          && "draft".equals(stats.path("data").path("old").path("status").asText())
          && "published".equals(stats.path("data").path("new").path("status").asText())
          && "req_5".equals(stats.path("context").path("request_id").asText()));
      System.out.println("welcome-email got: " + emails.get(0));
      System.out.println("comment-notification got: " + notifications.get(0));
    } finally {
      app.close();
      services.stop(0);
      try (Connection c = DriverManager.getConnection(pg, "root", null)) {
        c.createStatement().execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
      }
    }
    System.out.println(failures == 0 ? "spring-boot example: all checks passed" : "spring-boot example: " + failures + " check(s) failed");
    return failures;
  }

  private static String post(HttpClient http, String url, String requestId) throws Exception {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url)).header("X-Request-Id", requestId)
        .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 200) {
      throw new IllegalStateException("POST " + url + " answered " + r.statusCode() + ": " + r.body());
    }
    return r.body();
  }

  private static void waitFor(java.util.function.BooleanSupplier done) throws InterruptedException {
    for (int i = 0; i < 100 && !done.getAsBoolean(); i++) {
      Thread.sleep(100);
    }
    Thread.sleep(300);
  }

  private static void check(String what, boolean ok) {
    System.out.println((ok ? "PASS " : "FAIL ") + what);
    if (!ok) {
      failures++;
    }
  }
}

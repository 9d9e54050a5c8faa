package dev.fraiseql.observers.examples.liveorders;

import dev.fraiseql.observers.MutationContext;
import dev.fraiseql.observers.ObservedEvent;
import dev.fraiseql.observers.ObserverEngine;
import dev.fraiseql.observers.graphqlws.ConnectionRefusedException;
import dev.fraiseql.observers.graphqlws.GraphQLWs;
import dev.fraiseql.observers.graphqlws.GraphQLWsServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Orders changing live in a browser: an in-memory engine, the graphql-ws endpoint fed by it, and a
 * page using graphql-ws's own browser client. A loop commits order updates for customers c1 and c2
 * (tenant "demo") through {@code engine.onCommit} every 700 ms; the page shows them as they arrive.
 *
 * <p>{@code bin/live-orders [port] [--for-seconds=N]}; open http://localhost:8080/.
 */
public final class LiveOrders {
  private LiveOrders() {}

  public static void main(String[] args) throws Exception {
    int port = 8080;
    long seconds = Long.MAX_VALUE;
    for (String a : args) {
      if (a.startsWith("--for-seconds=")) {
        seconds = Long.parseLong(a.substring(14));
      } else {
        port = Integer.parseInt(a);
      }
    }
    Path toml = Path.of("examples/liveorders/fraiseql.toml");
    try (GraphQLWs ws = GraphQLWs.builder().config(toml)
            // every viewer of this demo belongs to tenant "demo"; a real host verifies a token here
            .authenticator(init -> {
              String token = init.string("token").orElseThrow(() -> ConnectionRefusedException.unauthorized(null));
              return MutationContext.builder().tenantId("demo").userId(token).build();
            })
            .build();
        ObserverEngine engine = ObserverEngine.builder().config(toml).handler("graphql-ws", ws.handler()).build();
        GraphQLWsServer server = GraphQLWsServer.builder(ws).host("0.0.0.0").port(port).path("/graphql")
            .page("/", resource("liveorders/index.html"))
            .file("/graphql-ws.js", "text/javascript; charset=utf-8", graphqlWsBrowserClient())
            .start()) {
      System.out.println("[live-orders] open http://localhost:" + server.port() + "/  (GraphQL over WebSocket at "
          + server.uri() + ")");
      System.out.println("[live-orders] schema:\n" + ws.schemaSdl());
      Random random = new Random(1);
      List<String> statuses = List.of("pending", "paid", "packed", "shipped", "delivered");
      long end = seconds == Long.MAX_VALUE ? Long.MAX_VALUE : System.nanoTime() + seconds * 1_000_000_000L;
      for (long i = 0; System.nanoTime() < end; i++) {
        int n = random.nextInt(6) + 1;
        String customer = n <= 3 ? "c1" : "c2";
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("id", "order-" + n);
        row.put("customer_id", customer);
        row.put("status", statuses.get((int) ((i + n) % statuses.size())));
        row.put("total", 10.0 * n + random.nextInt(100) / 10.0);
        // what the host does after its UPDATE tb_order ... commits
        engine.onCommit(ObservedEvent.builder().operation(dev.fraiseql.observers.Operation.UPDATE).table("tb_order")
            .mutation("updateOrder").newRow(row).oldRow(Map.of("id", "order-" + n))
            .context(MutationContext.builder().tenantId("demo").userId("shop").build()).build());
        Thread.sleep(700);
        if (i % 20 == 0) {
          System.out.println("[live-orders] " + ws.stats());
        }
      }
    }
  }

  static String resource(String name) throws IOException {
    try (InputStream in = LiveOrders.class.getClassLoader().getResourceAsStream(name)) {
      if (in == null) {
        throw new IllegalStateException("resource " + name + " is missing");
      }
      return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    }
  }

  /**
   * The UMD build of the graphql-ws npm package: from the local install of bin/graphql-ws-deps when
   * present, otherwise from the npm registry's CDN (unpkg) once.
   */
  static byte[] graphqlWsBrowserClient() throws Exception {
    Path local = Path.of("fraiseql-observers-graphql-ws/src/test/js/node_modules/graphql-ws/umd/graphql-ws.min.js");
    if (Files.isRegularFile(local)) {
      return Files.readAllBytes(local);
    }
    URI cdn = URI.create("https://unpkg.com/graphql-ws@6.4.2/umd/graphql-ws.min.js");
    System.out.println("[live-orders] " + local + " is missing (run bin/graphql-ws-deps); fetching " + cdn);
    HttpResponse<byte[]> r = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NORMAL).build()
        .send(HttpRequest.newBuilder(cdn).build(), HttpResponse.BodyHandlers.ofByteArray());
    if (r.statusCode() != 200) {
      throw new IllegalStateException("cannot get graphql-ws's browser client from " + cdn + " (HTTP " + r.statusCode()
          + "): run bin/graphql-ws-deps");
    }
    return r.body();
  }
}

package dev.fraiseql.observers.graphqlws;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.fraiseql.observers.ObserverEngine;
import dev.fraiseql.observers.Operation;
import java.time.Duration;
import java.util.List;
import org.eclipse.jetty.websocket.client.WebSocketClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The protocol and the feed, end to end: a real Jetty server, the real engine (in-memory backend,
 * events committed with onCommit and routed by the TOML to the graphql-ws handler), real WebSocket
 * clients.
 */
class GraphQLWsIT {
  static final Duration WAIT = Duration.ofSeconds(5);
  static final Duration QUIET = Duration.ofMillis(400);
  static GraphQLWs ws;
  static GraphQLWsServer server;
  static ObserverEngine engine;
  static WebSocketClient client;

  @BeforeAll
  static void start() throws Exception {
    ws = GraphQLWs.builder().configToml(Fixtures.TOML, "fraiseql.toml").authenticator(Fixtures.AUTH).build();
    engine = ObserverEngine.builder().configToml(Fixtures.TOML).handler("graphql-ws", ws.handler()).build();
    server = GraphQLWsServer.builder(ws).port(0).start();
    client = new WebSocketClient();
    client.start();
  }

  @AfterAll
  static void stop() throws Exception {
    client.stop();
    server.close();
    engine.close();
    ws.close();
  }

  static TestClient connected(String token) throws Exception {
    TestClient c = TestClient.connect(client, server.uri());
    c.init("{\"token\":\"" + token + "\"}");
    return c;
  }

  @Test
  void anUpdateOfC1ArrivesWithOnlyTheSelectedFieldsAndNothingElseDoes() throws Exception {
    try (TestClient c1 = connected("t1-alice"); TestClient all = connected("t1-carol");
        TestClient otherTenant = connected("t2-bob")) {
      c1.subscribe("s1", "subscription { orderUpdated(customerId: \"c1\") { id status } }");
      all.subscribe("s2", "subscription { orderUpdated { id customerId total } }");
      otherTenant.subscribe("s3", "subscription { orderUpdated(customerId: \"c1\") { id status } }");
      awaitSubscriptions(3);

      engine.onCommit(Fixtures.update("t1", "o1", "c1", "shipped"));
      engine.onCommit(Fixtures.update("t1", "o2", "c2", "paid"));
      engine.onCommit(Fixtures.event(Operation.INSERT, "t1", "o3", "c1", "new", ""));

      List<JsonNode> got = c1.drain(QUIET);
      assertThat(got).hasSize(1);
      assertThat(got.get(0).toString())
          .isEqualTo("{\"id\":\"s1\",\"type\":\"next\",\"payload\":{\"data\":{\"orderUpdated\":{\"id\":\"o1\",\"status\":\"shipped\"}}}}");
      List<JsonNode> gotAll = all.drain(QUIET);
      assertThat(gotAll).extracting(n -> n.at("/payload/data/orderUpdated/id").asText())
          .containsExactlyInAnyOrder("o1", "o2");
      assertThat(gotAll.get(0).at("/payload/data/orderUpdated").toString()).contains("\"customerId\"", "\"total\":42.5")
          .doesNotContain("status");
      assertThat(otherTenant.drain(QUIET)).as("another tenant's client receives nothing").isEmpty();

      // the other tenant's own event reaches it, and not tenant t1's clients
      engine.onCommit(Fixtures.update("t2", "o9", "c1", "shipped"));
      assertThat(otherTenant.next(WAIT).at("/payload/data/orderUpdated/id").asText()).isEqualTo("o9");
      assertThat(c1.drain(QUIET)).isEmpty();
      assertThat(all.drain(QUIET)).isEmpty();
    }
  }

  @Test
  void variablesFilterLikeLiteralsAndIdenticalSubscriptionsShareOneExecution() throws Exception {
    try (TestClient a = connected("t1-a"); TestClient b = connected("t1-b")) {
      String doc = "subscription On($c: ID) { orderUpdated(customerId: $c) { id } }";
      a.subscribe("x", doc, "{\"c\":\"c7\"}");
      b.subscribe("y", doc, "{\"c\":\"c7\"}");
      awaitSubscriptions(2);
      assertThat(ws.stats().executions()).isEqualTo(1);
      engine.onCommit(Fixtures.update("t1", "o7", "c7", "x"));
      engine.onCommit(Fixtures.update("t1", "o8", "c8", "x"));
      assertThat(a.drain(QUIET)).extracting(n -> n.get("id").asText() + ":" + n.at("/payload/data/orderUpdated/id").asText())
          .containsExactly("x:o7");
      assertThat(b.drain(QUIET)).extracting(n -> n.get("id").asText() + ":" + n.at("/payload/data/orderUpdated/id").asText())
          .containsExactly("y:o7");
    }
  }

  @Test
  void anUnknownFieldIsAGraphQLErrorAndTheSocketStaysOpen() throws Exception {
    try (TestClient c = connected("t1-a")) {
      c.subscribe("e1", "subscription { orderUpdated { id nope } }");
      JsonNode err = c.next(WAIT);
      assertThat(err.get("type").asText()).isEqualTo("error");
      assertThat(err.get("id").asText()).isEqualTo("e1");
      assertThat(err.get("payload").isArray()).isTrue();
      assertThat(err.get("payload").get(0).get("message").asText()).contains("nope");
      c.send("{\"type\":\"ping\"}");
      assertThat(c.next(WAIT).get("type").asText()).isEqualTo("pong");
      // the id is free again: the failed operation holds nothing
      c.subscribe("e1", "subscription { orderCreated { id } }");
      awaitSubscriptions(1);
      engine.onCommit(Fixtures.event(Operation.INSERT, "t1", "o5", "c1", "new", ""));
      assertThat(c.next(WAIT).at("/payload/data/orderCreated/id").asText()).isEqualTo("o5");
    }
  }

  @Test
  void completeStopsTheStream() throws Exception {
    try (TestClient c = connected("t1-a")) {
      c.subscribe("s", "subscription { orderCreated { id } }");
      awaitSubscriptions(1);
      engine.onCommit(Fixtures.event(Operation.INSERT, "t1", "o1", "c1", "new", ""));
      assertThat(c.next(WAIT).at("/payload/data/orderCreated/id").asText()).isEqualTo("o1");
      c.send("{\"id\":\"s\",\"type\":\"complete\"}");
      awaitSubscriptions(0);
      engine.onCommit(Fixtures.event(Operation.INSERT, "t1", "o2", "c1", "new", ""));
      assertThat(c.drain(QUIET)).isEmpty();
    }
  }

  @Test
  void aQueryOverSubscribeIsOneNextThenComplete() throws Exception {
    try (TestClient c = connected("t1-a")) {
      c.subscribe("q", "{ subscriptionFields }");
      assertThat(c.next(WAIT).toString())
          .isEqualTo("{\"id\":\"q\",\"type\":\"next\",\"payload\":{\"data\":{\"subscriptionFields\":[\"orderUpdated\",\"orderCreated\"]}}}");
      assertThat(c.next(WAIT).toString()).isEqualTo("{\"id\":\"q\",\"type\":\"complete\"}");
    }
  }

  @Test
  void closeCodes() throws Exception {
    // 4400: not JSON, unknown type, binary-free but malformed subscribe
    assertClosedWith(4400, c -> c.send("{not json"));
    assertClosedWith(4400, c -> c.send("{\"type\":\"subscribe_please\"}"));
    assertClosedWith(4400, c -> c.send("{\"type\":\"subscribe\",\"id\":\"1\",\"payload\":{}}"));
    // 4401: subscribe before connection_ack
    try (TestClient c = TestClient.connect(client, server.uri())) {
      c.subscribe("1", "subscription { orderCreated { id } }");
      assertThat(c.awaitClose(WAIT)).isEqualTo(4401);
    }
    // 4401 / 4403: the authenticator refuses
    try (TestClient c = TestClient.connect(client, server.uri())) {
      c.send("{\"type\":\"connection_init\"}");
      assertThat(c.awaitClose(WAIT)).isEqualTo(4401);
    }
    try (TestClient c = TestClient.connect(client, server.uri())) {
      c.send("{\"type\":\"connection_init\",\"payload\":{\"token\":\"bad\"}}");
      assertThat(c.awaitClose(WAIT)).isEqualTo(4403);
    }
    // 4408: no connection_init in time (600 ms here)
    try (TestClient c = TestClient.connect(client, server.uri())) {
      assertThat(c.awaitClose(WAIT)).isEqualTo(4408);
      assertThat(c.closeReason).isEqualTo("Connection initialisation timeout");
    }
    // 4409: a second subscribe with an active id
    try (TestClient c = connected("t1-a")) {
      c.subscribe("dup", "subscription { orderCreated { id } }");
      c.subscribe("dup", "subscription { orderCreated { id } }");
      assertThat(c.awaitClose(WAIT)).isEqualTo(4409);
      assertThat(c.closeReason).isEqualTo("Subscriber for dup already exists");
    }
    // 4429: a second connection_init
    try (TestClient c = connected("t1-a")) {
      c.send("{\"type\":\"connection_init\"}");
      assertThat(c.awaitClose(WAIT)).isEqualTo(4429);
    }
    // 4406: no graphql-transport-ws subprotocol
    try (TestClient c = TestClient.connect(client, server.uri(), null)) {
      assertThat(c.awaitClose(WAIT)).isEqualTo(4406);
    }
    awaitSubscriptions(0);
    assertThat(ws.stats().connections()).isZero();
  }

  interface Action {
    void run(TestClient c) throws Exception;
  }

  static void assertClosedWith(int code, Action a) throws Exception {
    try (TestClient c = connected("t1-a")) {
      a.run(c);
      assertThat(c.awaitClose(WAIT)).isEqualTo(code);
    }
  }

  static void awaitSubscriptions(int n) throws InterruptedException {
    long end = System.nanoTime() + WAIT.toNanos();
    while (ws.stats().subscriptions() != n && System.nanoTime() < end) {
      Thread.sleep(10);
    }
    assertThat(ws.stats().subscriptions()).isEqualTo(n);
  }
}

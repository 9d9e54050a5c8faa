package dev.fraiseql.observers.graphqlws;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.fraiseql.observers.ObserverEngine;
import io.nats.client.Connection;
import io.nats.client.Nats;
import java.time.Duration;
import java.util.List;
import dev.fraiseql.observers.config.ObserversConfig;
import java.util.UUID;
import org.eclipse.jetty.websocket.client.WebSocketClient;
import org.junit.jupiter.api.Test;

/**
 * Two instances behind a load balancer, each with its own engine, graphql-ws endpoint and clients,
 * sharing NATS JetStream: a commit on either instance reaches the matching clients of both, once.
 * Each instance publishes its events to the bus and feeds its endpoint only from the bus, through a
 * durable consumer of its own ({@link GraphQLWs#withBusFeed}), so both see every event.
 */
class MultiInstanceIT {
  static final String NATS_URL = System.getenv().getOrDefault("FRAISEQL_TEST_NATS_URL", "nats://127.0.0.1:4222");

  static String toml(String run) {
    return """
        [observers]
        backend = "nats"
        nats_url = "%s"

        [observers.nats]
        stream = "GRAPHQLWS_%s"
        subjects = ["graphqlws.%s.>"]
        storage = "memory"

        [[observers.rules]]
        table = "tb_order"
        subject = "graphqlws.%s.order"
        """.formatted(NATS_URL, run, run, run) + "\n" + Fixtures.SUBSCRIPTIONS;
  }

  @Test
  void aCommitOnOneInstanceReachesTheClientsOfBothOnce() throws Exception {
    String run = UUID.randomUUID().toString().substring(0, 8);
    String toml = toml(run);
    WebSocketClient client = new WebSocketClient();
    client.start();
    try (GraphQLWs wsA = GraphQLWs.builder().configToml(toml, "fraiseql.toml").authenticator(Fixtures.AUTH).build();
        GraphQLWs wsB = GraphQLWs.builder().configToml(toml, "fraiseql.toml").authenticator(Fixtures.AUTH).build();
        ObserverEngine a = ObserverEngine.builder()
            .config(GraphQLWs.withBusFeed(ObserversConfig.parse(toml, "fraiseql.toml"), "graphqlws." + run + ".order", run + "-a"))
            .handler("graphql-ws", wsA.handler()).build();
        ObserverEngine b = ObserverEngine.builder()
            .config(GraphQLWs.withBusFeed(ObserversConfig.parse(toml, "fraiseql.toml"), "graphqlws." + run + ".order", run + "-b"))
            .handler("graphql-ws", wsB.handler()).build();
        GraphQLWsServer serverA = GraphQLWsServer.builder(wsA).port(0).start();
        GraphQLWsServer serverB = GraphQLWsServer.builder(wsB).port(0).start();
        TestClient onA = TestClient.connect(client, serverA.uri());
        TestClient onB = TestClient.connect(client, serverB.uri())) {
      onA.init("{\"token\":\"t1-a\"}");
      onB.init("{\"token\":\"t1-b\"}");
      onA.subscribe("1", "subscription { orderUpdated(customerId: \"c1\") { id status } }");
      onB.subscribe("1", "subscription { orderUpdated(customerId: \"c1\") { id status } }");
      SlowClientIT.awaitSubscriptions(wsA, 1);
      SlowClientIT.awaitSubscriptions(wsB, 1);

      a.onCommit(Fixtures.update("t1", "o1", "c1", "shipped"));
      b.onCommit(Fixtures.update("t1", "o2", "c1", "paid"));
      a.onCommit(Fixtures.update("t1", "o3", "c2", "paid"));

      for (TestClient c : List.of(onA, onB)) {
        List<JsonNode> got = c.drain(Duration.ofSeconds(3));
        assertThat(got).extracting(n -> n.at("/payload/data/orderUpdated/id").asText())
            .containsExactlyInAnyOrder("o1", "o2");
      }
    } finally {
      client.stop();
      try (Connection nc = Nats.connect(NATS_URL)) {
        nc.jetStreamManagement().deleteStream("GRAPHQLWS_" + run);
      } catch (Exception e) {
        // best effort
      }
    }
  }
}

package dev.fraiseql.observers.graphqlws;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.fraiseql.observers.Operation;
import java.time.Duration;
import java.util.List;
import org.eclipse.jetty.websocket.client.WebSocketClient;
import org.junit.jupiter.api.Test;

/**
 * A client that stops reading: its subscription's buffer fills, then the policy applies; the
 * publisher and a fast client on the same server never wait for it.
 */
class SlowClientIT {
  static final int EVENTS = 2000;
  static final String NOTE = "x".repeat(16 * 1024); // 16 KiB per message: socket buffers fill quickly

  @Test
  void dropOldestKeepsTheNewestAndCountsTheDrops() throws Exception {
    try (GraphQLWs ws = GraphQLWs.builder().configToml(Fixtures.SUBSCRIPTIONS, "fraiseql.toml")
        .authenticator(Fixtures.AUTH).bufferSize(8).build();
        GraphQLWsServer server = GraphQLWsServer.builder(ws).port(0).start()) {
      WebSocketClient client = new WebSocketClient();
      client.start();
      try (TestClient slow = TestClient.connect(client, server.uri()); TestClient fast = TestClient.connect(client, server.uri())) {
        slow.init("{\"token\":\"t1-slow\"}");
        fast.init("{\"token\":\"t1-fast\"}");
        String doc = "subscription { orderCreated { id note } }";
        slow.subscribe("s", doc);
        fast.subscribe("f", "subscription { orderCreated { id note } } "); // another document: its own execution
        awaitSubscriptions(ws, 2);
        slow.pause();

        long start = System.nanoTime();
        long worstPublish = 0;
        for (int i = 1; i <= EVENTS; i++) {
          long t = System.nanoTime();
          ws.publish(Fixtures.event(Operation.INSERT, "t1", "o" + i, "c1", "new", NOTE));
          worstPublish = Math.max(worstPublish, System.nanoTime() - t);
          pace(i);
        }
        long publishMs = (System.nanoTime() - start) / 1_000_000;

        // the fast client gets every event, in order, while the slow one reads nothing
        for (int i = 1; i <= EVENTS; i++) {
          JsonNode n = fast.next(Duration.ofSeconds(20));
          assertThat(n).as("fast client, event " + i).isNotNull();
          assertThat(n.at("/payload/data/orderCreated/id").asText()).isEqualTo("o" + i);
        }
        assertThat(ws.stats().droppedSlowClient()).as("drops counted").isPositive();
        assertThat(ws.stats().eventsDroppedQueueFull()).isZero();
        // publishing never waited for the slow socket (2000 x 16 KiB to a socket nobody reads)
        assertThat(Duration.ofNanos(worstPublish)).isLessThan(Duration.ofMillis(500));
        System.out.printf("published %d events in %d ms (worst %.2f ms); dropped for the slow client: %d%n", EVENTS,
            publishMs, worstPublish / 1e6, ws.stats().droppedSlowClient());

        slow.resume();
        List<JsonNode> got = slow.drain(Duration.ofSeconds(2));
        assertThat(got.size()).as("the slow client got what its socket and buffer held, not everything")
            .isLessThan(EVENTS).isGreaterThanOrEqualTo(8);
        int prev = 0;
        for (JsonNode n : got) {
          int id = Integer.parseInt(n.at("/payload/data/orderCreated/id").asText().substring(1));
          assertThat(id).isGreaterThan(prev);
          prev = id;
        }
        assertThat(prev).as("the newest event is kept").isEqualTo(EVENTS);
        assertThat((long) got.size() + ws.stats().droppedSlowClient()).isEqualTo(EVENTS);
      } finally {
        client.stop();
      }
    }
  }

  @Test
  void closePolicyClosesTheSlowSocketWith4413() throws Exception {
    try (GraphQLWs ws = GraphQLWs.builder().configToml(Fixtures.SUBSCRIPTIONS, "fraiseql.toml")
        .authenticator(Fixtures.AUTH).bufferSize(8).slowClientPolicy(SlowClientPolicy.CLOSE).build();
        GraphQLWsServer server = GraphQLWsServer.builder(ws).port(0).start()) {
      WebSocketClient client = new WebSocketClient();
      client.start();
      try (TestClient slow = TestClient.connect(client, server.uri()); TestClient fast = TestClient.connect(client, server.uri())) {
        slow.init("{\"token\":\"t1-slow\"}");
        fast.init("{\"token\":\"t1-fast\"}");
        slow.subscribe("s", "subscription { orderCreated { id note } }");
        fast.subscribe("f", "subscription { orderCreated { id } }");
        awaitSubscriptions(ws, 2);
        slow.pause();
        for (int i = 1; i <= EVENTS; i++) {
          ws.publish(Fixtures.event(Operation.INSERT, "t1", "o" + i, "c1", "new", NOTE));
          pace(i);
        }
        for (int i = 1; i <= EVENTS; i++) {
          assertThat(fast.next(Duration.ofSeconds(20)).at("/payload/data/orderCreated/id").asText()).isEqualTo("o" + i);
        }
        slow.resume();
        assertThat(slow.awaitClose(Duration.ofSeconds(10))).isEqualTo(4413);
        assertThat(ws.stats().closedSlowClient()).isEqualTo(1);
      } finally {
        client.stop();
      }
    }
  }

  /**
   * About 16 MB/s: a pace the fast client keeps up with on a loaded machine, so that only the client
   * that stopped reading loses events.
   */
  static void pace(int i) throws InterruptedException {
    if (i % 2 == 0) {
      Thread.sleep(1);
    }
  }

  static void awaitSubscriptions(GraphQLWs ws, int n) throws InterruptedException {
    long end = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    while (ws.stats().subscriptions() != n && System.nanoTime() < end) {
      Thread.sleep(10);
    }
    assertThat(ws.stats().subscriptions()).isEqualTo(n);
  }
}

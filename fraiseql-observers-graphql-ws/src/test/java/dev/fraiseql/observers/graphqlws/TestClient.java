package dev.fraiseql.observers.graphqlws;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.websocket.api.Callback;
import org.eclipse.jetty.websocket.api.Session;
import org.eclipse.jetty.websocket.client.ClientUpgradeRequest;
import org.eclipse.jetty.websocket.client.WebSocketClient;

/**
 * A real WebSocket client (Jetty's) speaking graphql-transport-ws by hand, so tests can send what a
 * well-behaved client never would. Demand is explicit: {@link #pause()} stops reading from the socket
 * (a slow client), {@link #resume()} reads again.
 */
public final class TestClient implements Session.Listener, AutoCloseable {
  static final ObjectMapper JSON = new ObjectMapper();
  private final BlockingQueue<JsonNode> messages = new LinkedBlockingQueue<>();
  final CompletableFuture<Integer> closeCode = new CompletableFuture<>();
  volatile String closeReason;
  private volatile Session session;
  private volatile boolean paused;
  private volatile boolean demandPending;
  final boolean answerPings;

  private TestClient(boolean answerPings) {
    this.answerPings = answerPings;
  }

  static TestClient connect(WebSocketClient client, URI uri) throws Exception {
    return connect(client, uri, "graphql-transport-ws");
  }

  static TestClient connect(WebSocketClient client, URI uri, String subprotocol) throws Exception {
    TestClient c = new TestClient(true);
    ClientUpgradeRequest req = new ClientUpgradeRequest();
    if (subprotocol != null) {
      req.setSubProtocols(subprotocol);
    }
    client.connect(c, uri, req).get(10, TimeUnit.SECONDS);
    return c;
  }

  @Override
  public void onWebSocketOpen(Session s) {
    this.session = s;
    s.demand();
  }

  @Override
  public void onWebSocketText(String text) {
    try {
      JsonNode n = JSON.readTree(text);
      if (answerPings && "ping".equals(n.path("type").asText())) {
        send("{\"type\":\"pong\"}");
      } else {
        messages.add(n);
      }
    } catch (Exception e) {
      messages.add(JSON.getNodeFactory().textNode("unreadable: " + text));
    }
    synchronized (this) {
      if (paused) {
        demandPending = true;
        return;
      }
    }
    session.demand();
  }

  @Override
  public void onWebSocketClose(int statusCode, String reason, Callback callback) {
    closeReason = reason;
    closeCode.complete(statusCode);
    callback.succeed();
  }

  @Override
  public void onWebSocketError(Throwable cause) {
    closeCode.complete(-1);
  }

  void pause() {
    synchronized (this) {
      paused = true;
    }
  }

  void resume() {
    boolean d;
    synchronized (this) {
      paused = false;
      d = demandPending;
      demandPending = false;
    }
    if (d) {
      session.demand();
    }
  }

  void send(String text) {
    session.sendText(text, Callback.NOOP);
  }

  void init(String payloadJson) throws Exception {
    send("{\"type\":\"connection_init\"" + (payloadJson == null ? "" : ",\"payload\":" + payloadJson) + "}");
    JsonNode ack = next(Duration.ofSeconds(5));
    if (ack == null || !"connection_ack".equals(ack.path("type").asText())) {
      throw new AssertionError("expected connection_ack, got " + ack + " (close " + closeCode.getNow(null) + " "
          + closeReason + ")");
    }
  }

  void subscribe(String id, String query) {
    subscribe(id, query, null);
  }

  void subscribe(String id, String query, String variablesJson) {
    try {
      String q = JSON.writeValueAsString(query);
      send("{\"id\":" + JSON.writeValueAsString(id) + ",\"type\":\"subscribe\",\"payload\":{\"query\":" + q
          + (variablesJson == null ? "" : ",\"variables\":" + variablesJson) + "}}");
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  JsonNode next(Duration timeout) throws InterruptedException {
    return messages.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** Every message that arrives within {@code quiet}. */
  List<JsonNode> drain(Duration quiet) throws InterruptedException {
    List<JsonNode> out = new ArrayList<>();
    JsonNode n;
    while ((n = next(quiet)) != null) {
      out.add(n);
    }
    return out;
  }

  int awaitClose(Duration timeout) throws Exception {
    return closeCode.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  @Override
  public void close() {
    Session s = session;
    if (s != null && s.isOpen()) {
      s.close(1000, "bye", Callback.NOOP);
    }
  }
}

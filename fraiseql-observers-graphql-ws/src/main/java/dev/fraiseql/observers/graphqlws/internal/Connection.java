package dev.fraiseql.observers.graphqlws.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fraiseql.observers.MutationContext;
import dev.fraiseql.observers.graphqlws.Authenticator;
import dev.fraiseql.observers.graphqlws.ConnectionRefusedException;
import dev.fraiseql.observers.graphqlws.SlowClientPolicy;
import jakarta.websocket.CloseReason;
import jakarta.websocket.RemoteEndpoint;
import jakarta.websocket.SendResult;
import jakarta.websocket.Session;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One socket: the protocol's state machine on the way in, and on the way out one message in flight
 * at a time, control messages first, then the subscriptions' bounded buffers in turn. Nothing here
 * waits for the network: a slow socket only fills its own buffers.
 */
final class Connection {
  private static final Logger log = LoggerFactory.getLogger(Connection.class);
  private static final int MAX_CONTROL = 1024;

  enum State { WAITING_INIT, INITIALIZING, READY, CLOSED }

  private final Hub hub;
  private final Session session;
  private final RemoteEndpoint.Async remote;
  private final Map<String, List<String>> headers;
  private final Map<String, Hub.Member> ops = new ConcurrentHashMap<>();
  private volatile State state = State.WAITING_INIT;
  private volatile MutationContext context = MutationContext.empty();
  private volatile ScheduledFuture<?> initTimeout;
  private volatile ScheduledFuture<?> keepAlive;

  // outbound, guarded by this
  private final ArrayDeque<String> control = new ArrayDeque<>();
  private final ArrayDeque<Hub.Member> ready = new ArrayDeque<>();
  private boolean sending;
  private boolean pumping;

  Connection(Hub hub, Session session, Map<String, List<String>> headers) {
    this.hub = hub;
    this.session = session;
    this.remote = session.getAsyncRemote();
    this.headers = headers;
  }

  void opened() {
    long ms = hub.settings().initTimeout().toMillis();
    initTimeout = hub.scheduler().schedule(() -> {
      if (state == State.WAITING_INIT) {
        close(4408, "Connection initialisation timeout");
      }
    }, ms, TimeUnit.MILLISECONDS);
  }

  MutationContext context() {
    return context;
  }

  void onText(String text) {
    if (state == State.CLOSED) {
      return;
    }
    JsonNode msg;
    try {
      msg = Frames.JSON.readTree(text);
    } catch (Exception e) {
      close(4400, "Invalid message received: not JSON");
      return;
    }
    if (msg == null || !msg.isObject() || !msg.path("type").isTextual()) {
      close(4400, "Invalid message received: not an object with a string type");
      return;
    }
    String type = msg.get("type").asText();
    switch (type) {
      case "connection_init":
        onInit((ObjectNode) msg);
        break;
      case "ping":
        sendControl(Frames.PONG);
        break;
      case "pong":
        break;
      case "subscribe":
        onSubscribe((ObjectNode) msg);
        break;
      case "complete":
        JsonNode id = msg.get("id");
        if (id == null || !id.isTextual() || id.asText().isEmpty()) {
          close(4400, "Invalid message received: complete without an id");
          return;
        }
        Hub.Member m = ops.remove(id.asText());
        if (m != null) {
          hub.leave(m);
        }
        break;
      default:
        close(4400, "Invalid message received: unknown type " + truncate(type, 40));
    }
  }

  private void onInit(ObjectNode msg) {
    if (state != State.WAITING_INIT) {
      close(4429, "Too many initialisation requests");
      return;
    }
    JsonNode payload = msg.get("payload");
    if (payload != null && !payload.isNull() && !payload.isObject()) {
      close(4400, "Invalid message received: connection_init payload must be an object");
      return;
    }
    state = State.INITIALIZING;
    cancelInitTimeout();
    @SuppressWarnings("unchecked")
    Map<String, Object> p = payload == null || payload.isNull() ? Map.of()
        : Frames.JSON.convertValue(payload, Map.class);
    MutationContext ctx;
    try {
      ctx = hub.authenticator().authenticate(new Authenticator.ConnectionInit(p, headers));
      if (ctx == null) {
        throw ConnectionRefusedException.forbidden("Forbidden");
      }
    } catch (ConnectionRefusedException e) {
      close(e.closeCode(), e.getMessage());
      return;
    } catch (RuntimeException e) {
      log.warn("[graphql-ws] the authenticator failed ({}); closing the socket with 4500", e.toString());
      close(4500, "Internal server error");
      return;
    }
    this.context = ctx;
    state = State.READY;
    sendControl(Frames.ACK);
    long ka = hub.settings().keepAlive().toMillis();
    if (ka > 0) {
      keepAlive = hub.scheduler().scheduleAtFixedRate(() -> sendControl(Frames.PING), ka, ka, TimeUnit.MILLISECONDS);
    }
  }

  private void onSubscribe(ObjectNode msg) {
    if (state != State.READY) {
      close(4401, "Unauthorized");
      return;
    }
    JsonNode id = msg.get("id");
    JsonNode payload = msg.get("payload");
    if (id == null || !id.isTextual() || id.asText().isEmpty()) {
      close(4400, "Invalid message received: subscribe without an id");
      return;
    }
    if (payload == null || !payload.isObject() || !payload.path("query").isTextual()) {
      close(4400, "Invalid message received: subscribe without payload.query");
      return;
    }
    JsonNode opName = payload.get("operationName");
    JsonNode vars = payload.get("variables");
    if (opName != null && !opName.isNull() && !opName.isTextual()
        || vars != null && !vars.isNull() && !vars.isObject()) {
      close(4400, "Invalid message received: operationName must be a string and variables an object");
      return;
    }
    String opId = id.asText();
    if (ops.containsKey(opId)) {
      close(4409, "Subscriber for " + truncate(opId, 80) + " already exists");
      return;
    }
    @SuppressWarnings("unchecked")
    Map<String, Object> variables = vars == null || vars.isNull() ? Map.of() : Frames.JSON.convertValue(vars, Map.class);
    Hub.Member placeholder = Hub.Member.placeholder(this, opId);
    if (ops.putIfAbsent(opId, placeholder) != null) {
      close(4409, "Subscriber for " + truncate(opId, 80) + " already exists");
      return;
    }
    Hub.Member m = hub.subscribe(this, opId, payload.get("query").asText(),
        opName == null || opName.isNull() ? null : opName.asText(), variables);
    if (m == null) {
      ops.remove(opId, placeholder);
    } else if (!ops.replace(opId, placeholder, m)) {
      hub.leave(m); // completed by the client meanwhile
    }
  }

  /** The server completed or failed an operation: forget it (no further messages for this id). */
  void forget(String id) {
    ops.remove(id);
  }

  // ------------------------------------------------------------------------------------------
  // outbound

  void sendControl(String frame) {
    synchronized (this) {
      if (state == State.CLOSED) {
        return;
      }
      if (control.size() >= MAX_CONTROL) {
        hub.scheduler().execute(() -> close(1008, "Too many unread control messages"));
        return;
      }
      control.addLast(frame);
    }
    pump();
  }

  /** Buffers a next message for {@code m}; applies the slow-client policy when its buffer is full. */
  void enqueueNext(Hub.Member m, String payload) {
    boolean closeIt = false;
    synchronized (this) {
      if (state == State.CLOSED || m.removed) {
        return;
      }
      if (m.buffer.size() >= hub.settings().bufferSize()) {
        if (hub.settings().policy() == SlowClientPolicy.CLOSE) {
          closeIt = true;
        } else {
          m.buffer.pollFirst();
          m.dropped++;
          hub.droppedSlowClient.increment();
        }
      }
      if (!closeIt) {
        m.buffer.addLast(m.prefix + payload + "}");
        if (!m.ready) {
          m.ready = true;
          ready.addLast(m);
        }
      }
    }
    if (closeIt) {
      hub.closedSlowClient.increment();
      // never on the dispatcher thread: closing may wait for the socket
      hub.scheduler().execute(() -> close(4413, "Slow consumer: subscription " + truncate(m.id, 40)
          + " has " + hub.settings().bufferSize() + " unsent events"));
      return;
    }
    pump();
  }

  /** Under the lock: the next frame to write, or null. */
  private String poll() {
    String c = control.pollFirst();
    if (c != null) {
      return c;
    }
    Hub.Member m = ready.pollFirst();
    if (m == null) {
      return null;
    }
    String f = m.buffer.pollFirst();
    if (!m.buffer.isEmpty() && !m.removed) {
      ready.addLast(m);
    } else {
      m.ready = false;
    }
    if (f != null) {
      hub.messagesSent.increment();
    }
    return f;
  }

  private void pump() {
    synchronized (this) {
      if (pumping) {
        return;
      }
      pumping = true;
    }
    while (true) {
      String next;
      synchronized (this) {
        next = sending || state == State.CLOSED ? null : poll();
        if (next == null) {
          pumping = false;
          return;
        }
        sending = true;
      }
      try {
        remote.sendText(next, this::sent);
      } catch (RuntimeException e) {
        sent(new SendResult(e));
      }
    }
  }

  private void sent(SendResult r) {
    synchronized (this) {
      sending = false;
    }
    if (!r.isOK()) {
      log.debug("[graphql-ws] write failed: {}", String.valueOf(r.getException()));
      closed();
      return;
    }
    pump();
  }

  // ------------------------------------------------------------------------------------------

  void close(int code, String reason) {
    if (state == State.CLOSED) {
      return;
    }
    closed();
    try {
      // the close frame waits behind what is being written; a peer that never reads is dropped after 10 s
      session.setMaxIdleTimeout(10_000);
      session.close(new CloseReason(CloseReason.CloseCodes.getCloseCode(code), truncate(reason, 120)));
    } catch (Exception e) {
      log.debug("[graphql-ws] close failed: {}", e.toString());
    }
  }

  /** The socket is gone (or going): leave every execution, stop timers, drop buffers. */
  void closed() {
    synchronized (this) {
      if (state == State.CLOSED) {
        return;
      }
      state = State.CLOSED;
      control.clear();
      ready.clear();
    }
    cancelInitTimeout();
    ScheduledFuture<?> ka = keepAlive;
    if (ka != null) {
      ka.cancel(false);
    }
    for (Hub.Member m : ops.values()) {
      hub.leave(m);
    }
    ops.clear();
    hub.connectionClosed(this);
  }

  boolean isOpen() {
    return state != State.CLOSED;
  }

  private void cancelInitTimeout() {
    ScheduledFuture<?> t = initTimeout;
    if (t != null) {
      t.cancel(false);
    }
  }

  /** At most {@code max} UTF-8 bytes (close reasons are limited to 123). */
  static String truncate(String s, int max) {
    if (s.getBytes(StandardCharsets.UTF_8).length <= max) {
      return s;
    }
    StringBuilder b = new StringBuilder();
    int bytes = 0;
    for (int i = 0; i < s.length(); ) {
      int cp = s.codePointAt(i);
      int n = new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8).length;
      if (bytes + n > max - 3) {
        break;
      }
      b.appendCodePoint(cp);
      bytes += n;
      i += Character.charCount(cp);
    }
    return b.append("...").toString();
  }
}

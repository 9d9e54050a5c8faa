package dev.fraiseql.observers.benchmarks;

import dev.fraiseql.observers.MutationContext;
import dev.fraiseql.observers.ObservedEvent;
import dev.fraiseql.observers.ObserverEngine;
import dev.fraiseql.observers.Operation;
import dev.fraiseql.observers.graphqlws.Authenticator;
import dev.fraiseql.observers.graphqlws.GraphQLWs;
import dev.fraiseql.observers.graphqlws.GraphQLWsServer;
import jakarta.websocket.Endpoint;
import jakarta.websocket.EndpointConfig;
import jakarta.websocket.Session;
import jakarta.websocket.server.ServerEndpointConfig;
import java.net.URI;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import org.eclipse.jetty.websocket.api.Callback;
import org.eclipse.jetty.websocket.client.ClientUpgradeRequest;
import org.eclipse.jetty.websocket.client.WebSocketClient;

/**
 * graphql-ws: fan-out of committed events to 1,000 subscribers connected on loopback. Ours:
 * {@code engine.onCommit} → the graphql-ws handler → one graphql-java execution of
 * {@code orderUpdated(customerId: "c1") { id status }} → its {@code next} message written to every
 * subscriber's socket. Raw: the same message bytes written by the benchmark to 1,000 sockets of a plain
 * jakarta.websocket endpoint on the same Jetty server (one send in flight per session, as the API
 * requires, the rest queued). Both sides run the same flow control (at most
 * {@value #WINDOW} events in flight, counted at the clients) and the same Jetty clients. One operation
 * is one event delivered to every subscriber. Notes: event-to-client latency percentiles (from the
 * onCommit call, or the start of the raw broadcast, to the client's onText) over every delivery, measured
 * one event at a time after the paired rounds (with a window, ours would also count the wait of events
 * queued behind the fan-out in progress, which the raw harness, broadcasting on its own thread, does not).
 */
public final class GraphQLWsCase implements BenchCase {
  static final int WINDOW = 8;
  static final String QUERY = "subscription { orderUpdated(customerId: \"c1\") { id status } }";

  @Override
  public String name() {
    return "graphql-ws";
  }

  @Override
  public Optional<String> unavailable() {
    return Optional.empty();
  }

  static final String TOML = """
      [observers]
      backend = "in-memory"

      [[observers.handlers]]
      name = "orders-to-browsers"
      table = "tb_order"
      action = "graphql-ws"

      [graphql_ws]
      buffer_size = 256
      keep_alive_ms = 0

      [[graphql_ws.subscriptions]]
      field = "orderUpdated"
      entity_type = "Order"
      operation = "UPDATE"
      arguments = { customerId = "customer_id" }
      fields = { id = "ID", status = "String", customer_id = "ID", total = "Float" }
      """;

  /** The plain endpoint of the raw side: it only keeps a sender per session. */
  public static final class RawEndpoint extends Endpoint {
    static final Map<Session, RawSender> SESSIONS = new ConcurrentHashMap<>();

    @Override
    public void onOpen(Session session, EndpointConfig config) {
      session.setMaxIdleTimeout(0);
      SESSIONS.put(session, new RawSender(session.getAsyncRemote()));
    }

    @Override
    public void onClose(Session session, jakarta.websocket.CloseReason closeReason) {
      SESSIONS.remove(session);
    }
  }

  /**
   * The least a correct jakarta.websocket broadcaster does: the API allows one asynchronous send in
   * flight per session (Jetty fails a second one), so further messages wait in a queue and the send
   * handler starts the next.
   */
  static final class RawSender {
    final jakarta.websocket.RemoteEndpoint.Async remote;
    final java.util.concurrent.ConcurrentLinkedQueue<String> queue = new java.util.concurrent.ConcurrentLinkedQueue<>();
    final java.util.concurrent.atomic.AtomicBoolean busy = new java.util.concurrent.atomic.AtomicBoolean();

    RawSender(jakarta.websocket.RemoteEndpoint.Async remote) {
      this.remote = remote;
    }

    void send(String text) {
      queue.add(text);
      next();
    }

    private void next() {
      while (!queue.isEmpty() && busy.compareAndSet(false, true)) {
        String t = queue.poll();
        if (t == null) {
          busy.set(false);
          continue;
        }
        remote.sendText(t, r -> {
          busy.set(false);
          next();
        });
        return;
      }
    }
  }

  /** One subscriber: counts messages and records, per event, when it arrived. */
  public static final class Receiver implements org.eclipse.jetty.websocket.api.Session.Listener.AutoDemanding {
    final Counters counters;
    volatile org.eclipse.jetty.websocket.api.Session session;

    Receiver(Counters counters) {
      this.counters = counters;
    }

    @Override
    public void onWebSocketOpen(org.eclipse.jetty.websocket.api.Session s) {
      session = s;
    }

    @Override
    public void onWebSocketText(String text) {
      int at = text.indexOf("\"id\":\"e");
      if (at < 0) {
        counters.other.increment();
        return;
      }
      int start = at + 7;
      int end = text.indexOf('"', start);
      counters.arrived(Integer.parseInt(text, start, end, 10), System.nanoTime());
    }
  }

  /** What the clients of one side counted. */
  static final class Counters {
    final LongAdder other = new LongAdder();
    volatile AtomicLongArray sentAt;
    volatile AtomicInteger[] perEvent;
    volatile long[] latencies;
    final AtomicInteger nLat = new AtomicInteger();

    void reset(int events, int clients) {
      sentAt = new AtomicLongArray(events);
      AtomicInteger[] p = new AtomicInteger[events];
      for (int i = 0; i < events; i++) {
        p[i] = new AtomicInteger();
      }
      perEvent = p;
      latencies = new long[events * clients];
      nLat.set(0);
    }

    void arrived(int event, long now) {
      AtomicInteger[] p = perEvent;
      if (p == null || event >= p.length) {
        other.increment();
        return;
      }
      p[event].incrementAndGet();
      int i = nLat.getAndIncrement();
      long[] l = latencies;
      if (i < l.length) {
        l[i] = now - sentAt.get(event);
      }
    }
  }

  @Override
  public List<Row> run(Options o) throws Exception {
    int clients = o.smoke() ? 20 : 1000;
    long n = o.count(1_000, 20);
    String frame0 = "{\"id\":\"1\",\"type\":\"next\",\"payload\":{\"data\":{\"orderUpdated\":{\"id\":\"e%d\",\"status\":\"paid\"}}}}";
    Counters ours = new Counters();
    Counters raw = new Counters();
    WebSocketClient client = new WebSocketClient();
    client.getHttpClient().setMaxConnectionsPerDestination(4 * clients);
    client.setIdleTimeout(java.time.Duration.ZERO); // setting up 2,000 sockets on a loaded machine outlasts the 30 s default
    client.start();
    List<Receiver> receivers = new ArrayList<>();
    try (GraphQLWs ws = GraphQLWs.builder().configToml(TOML, "graphql-ws bench")
        .authenticator(init -> MutationContext.builder().tenantId("t1").build()).build();
        ObserverEngine engine = ObserverEngine.builder().configToml(TOML).handler("graphql-ws", ws.handler()).build();
        GraphQLWsServer server = GraphQLWsServer.builder(ws).port(0)
            .endpoint(ServerEndpointConfig.Builder.create(RawEndpoint.class, "/raw").build()).start()) {
      URI gql = server.uri();
      URI rawUri = URI.create("ws://127.0.0.1:" + server.port() + "/raw");
      for (int i = 0; i < clients; i++) {
        Receiver r = new Receiver(ours);
        ClientUpgradeRequest req = new ClientUpgradeRequest();
        req.setSubProtocols("graphql-transport-ws");
        client.connect(r, gql, req).get(30, TimeUnit.SECONDS);
        r.session.sendText("{\"type\":\"connection_init\"}", Callback.NOOP);
        r.session.sendText("{\"id\":\"1\",\"type\":\"subscribe\",\"payload\":{\"query\":"
            + new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(QUERY) + "}}", Callback.NOOP);
        receivers.add(r);
        Receiver rr = new Receiver(raw);
        client.connect(rr, rawUri).get(30, TimeUnit.SECONDS);
        receivers.add(rr);
      }
      Bench.await(java.time.Duration.ofSeconds(60), () -> ws.stats().subscriptions() == clients
          && RawEndpoint.SESSIONS.size() == clients, "every client subscribed");
      ObservedEvent[] events = new ObservedEvent[(int) Math.max(n, o.warmup(n))];
      String[] frames = new String[events.length];
      for (int i = 0; i < events.length; i++) {
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("id", "e" + i);
        row.put("customer_id", "c1");
        row.put("status", "paid");
        row.put("total", 12.5);
        events[i] = ObservedEvent.builder().operation(Operation.UPDATE).table("tb_order").newRow(row)
            .oldRow(Map.of("id", "e" + i, "status", "new")).context(MutationContext.builder().tenantId("t1").build()).build();
        frames[i] = String.format(frame0, i);
      }
      List<RawSender> rawSessions = new ArrayList<>(RawEndpoint.SESSIONS.values());
      // fresh event ids before each run (untimed): the endpoint skips ids it has already pushed
      Bench.Side oursSide = Bench.prepared(() -> {
        for (int i = 0; i < events.length; i++) {
          events[i] = events[i].toBuilder().id(java.util.UUID.randomUUID()).build();
        }
      }, count -> drive(ours, (int) count, clients, i -> engine.onCommit(events[i])));
      Bench.Side rawSide = count -> drive(raw, (int) count, clients, i -> {
        String f = frames[i];
        for (RawSender s : rawSessions) {
          s.send(f);
        }
      });
      Bench.Comparison c = Bench.compare(o, n, oursSide, rawSide);
      Map<String, Object> notes = new LinkedHashMap<>();
      notes.put("subscribers", clients);
      notes.put("window", WINDOW);
      notes.put("deliveries_per_s_ours", Math.round(c.ours() * clients));
      notes.put("window_" + WINDOW + "_ours_p50_us", latency(ours, 0.50));
      notes.put("window_" + WINDOW + "_raw_p50_us", latency(raw, 0.50));
      // latency without queueing: one event at a time (the next is sent when every client has the last)
      int single = (int) o.count(200, 10);
      oursSide.prepare();
      drive(ours, single, clients, i -> engine.onCommit(events[i]), 1);
      drive(raw, single, clients, i -> {
        for (RawSender s : rawSessions) {
          s.send(frames[i]);
        }
      }, 1);
      notes.put("one_at_a_time_events", single);
      notes.put("ours_event_to_client_p50_us", latency(ours, 0.50));
      notes.put("ours_event_to_client_p99_us", latency(ours, 0.99));
      notes.put("raw_event_to_client_p50_us", latency(raw, 0.50));
      notes.put("raw_event_to_client_p99_us", latency(raw, 0.99));
      notes.put("dropped_slow_client", ws.stats().droppedSlowClient());
      notes.put("executions", ws.stats().executions());
      return List.of(Row.ratio("graphql-ws fan-out (" + clients + " subscribers)", c, 0.7, notes));
    } finally {
      for (Receiver r : receivers) {
        if (r.session != null) {
          r.session.close(1000, "bye", Callback.NOOP);
        }
      }
      client.stop();
    }
  }

  interface Send {
    void send(int i) throws Exception;
  }

  /** Sends {@code count} events, at most WINDOW ahead of the slowest client; returns events delivered to all. */
  static long drive(Counters k, int count, int clients, Send send) throws Exception {
    return drive(k, count, clients, send, WINDOW);
  }

  /** As above with a window of {@code window} events. */
  static long drive(Counters k, int count, int clients, Send send, int window) throws Exception {
    k.reset(count, clients);
    AtomicInteger[] per = k.perEvent;
    long deadline = System.nanoTime() + Bench.budget(count).toNanos();
    for (int i = 0; i < count; i++) {
      if (i >= window) {
        while (per[i - window].get() < clients) {
          if (System.nanoTime() > deadline) {
            throw new IllegalStateException("event " + (i - window) + " reached " + per[i - window].get() + " of "
                + clients + " clients");
          }
          LockSupport.parkNanos(20_000);
        }
      }
      k.sentAt.set(i, System.nanoTime());
      send.send(i);
    }
    long got = 0;
    for (int i = 0; i < count; i++) {
      while (per[i].get() < clients) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("event " + i + " reached " + per[i].get() + " of " + clients + " clients");
        }
        LockSupport.parkNanos(20_000);
      }
      got++;
    }
    return got;
  }

  /** The {@code q} quantile of the event-to-client latencies of the last run, in µs. */
  static long latency(Counters k, double q) {
    int n = Math.min(k.nLat.get(), k.latencies.length);
    long[] l = Arrays.copyOf(k.latencies, n);
    Arrays.sort(l);
    return Bench.percentile(l, q) / 1000;
  }

}

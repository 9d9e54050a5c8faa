package dev.fraiseql.observers.graphqlws.internal;

import dev.fraiseql.observers.ObservedEvent;
import dev.fraiseql.observers.graphqlws.Authenticator;
import dev.fraiseql.observers.graphqlws.GraphQLWsStats;
import dev.fraiseql.observers.graphqlws.SlowClientPolicy;
import dev.fraiseql.observers.graphqlws.SubscriptionDefinition;
import graphql.ExecutionInput;
import graphql.ExecutionResult;
import graphql.GraphQL;
import graphql.GraphQLError;
import graphql.execution.SubscriptionExecutionStrategy;
import graphql.schema.DataFetcher;
import graphql.schema.GraphQLSchema;
import jakarta.websocket.Session;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.reactivestreams.Publisher;
import org.reactivestreams.Subscriber;
import org.reactivestreams.Subscription;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The heart of the module. Events from the engine go into a bounded queue (the engine never waits:
 * when it is full the event is dropped and counted); one dispatcher thread takes them in order,
 * skips ids seen recently (bus redeliveries), and offers each to every shared execution. A shared
 * execution is one graphql-java subscription per (tenant, document, operation name, variables):
 * graphql-java applies the selection once per event, the result is serialized once, and each member
 * socket gets it framed with its own operation id.
 */
public final class Hub implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Hub.class);
  private static final String SOURCE_KEY = Hub.class.getName() + ".source";
  private static final ObservedEvent POISON = ObservedEvent.insert("graphql_ws.stop", Map.of());
  private static final int RECENT_IDS = 16_384;

  /** Settings of the hub. */
  public record Settings(Duration initTimeout, int bufferSize, SlowClientPolicy policy, int queueCapacity,
      int maxMessageBytes, Duration keepAlive) {}

  private final Settings settings;
  private final Authenticator authenticator;
  private final GraphQLSchema schema;
  private final GraphQL graphQL;
  private final ScheduledExecutorService scheduler;
  private final BlockingQueue<ObservedEvent> queue;
  private final Thread worker;
  private final Map<String, Group> groups = new ConcurrentHashMap<>();
  private final Object groupsLock = new Object();
  private final Set<Connection> connections = ConcurrentHashMap.newKeySet();
  private final LinkedHashMap<java.util.UUID, Boolean> recent = new LinkedHashMap<>(1024, 0.75f, false) {
    private static final long serialVersionUID = 1L;

    @Override
    protected boolean removeEldestEntry(Map.Entry<java.util.UUID, Boolean> e) {
      return size() > RECENT_IDS;
    }
  };
  private volatile boolean closed;
  final AtomicLong received = new AtomicLong();
  final LongAdder droppedQueueFull = new LongAdder();
  final LongAdder duplicates = new LongAdder();
  final LongAdder messagesSent = new LongAdder();
  final LongAdder droppedSlowClient = new LongAdder();
  final LongAdder closedSlowClient = new LongAdder();
  private final AtomicLong lastQueueWarning = new AtomicLong();

  public Hub(List<SubscriptionDefinition> defs, Settings settings, Authenticator authenticator) {
    this.settings = settings;
    this.authenticator = authenticator;
    Map<String, DataFetcher<?>> fetchers = new LinkedHashMap<>();
    for (SubscriptionDefinition d : defs) {
      fetchers.put(d.field(), env -> {
        Map<String, Object> filters = new LinkedHashMap<>();
        d.arguments().forEach((arg, column) -> {
          Object v = env.getArgument(arg);
          if (v != null) {
            filters.put(column, v);
          }
        });
        SourceHolder h = env.getGraphQlContext().get(SOURCE_KEY);
        EventSource src = new EventSource(d, Map.copyOf(filters), h.tenant);
        h.source = src;
        return src;
      });
    }
    this.schema = SchemaFactory.build(defs, fetchers);
    this.graphQL = GraphQL.newGraphQL(schema).subscriptionExecutionStrategy(new SubscriptionExecutionStrategy()).build();
    this.scheduler = Executors.newScheduledThreadPool(1, r -> {
      Thread t = new Thread(r, "graphql-ws-timer");
      t.setDaemon(true);
      return t;
    });
    this.queue = new ArrayBlockingQueue<>(settings.queueCapacity());
    this.worker = new Thread(this::run, "graphql-ws-dispatch");
    worker.setDaemon(true);
    worker.start();
  }

  public GraphQLSchema schema() {
    return schema;
  }

  Settings settings() {
    return settings;
  }

  Authenticator authenticator() {
    return authenticator;
  }

  ScheduledExecutorService scheduler() {
    return scheduler;
  }

  /** Never blocks: a full queue drops the event (counted, logged at most every 10 s). */
  public void publish(ObservedEvent e) {
    if (closed) {
      return;
    }
    received.incrementAndGet();
    if (!queue.offer(e)) {
      droppedQueueFull.increment();
      long now = System.nanoTime();
      long last = lastQueueWarning.get();
      if (now - last > TimeUnit.SECONDS.toNanos(10) && lastQueueWarning.compareAndSet(last, now)) {
        log.warn("[graphql-ws] dispatch queue full ({} events): event {} dropped ({} dropped so far); raise"
            + " [graphql_ws] queue_capacity or find the slow part", settings.queueCapacity(), e.id(),
            droppedQueueFull.sum());
      }
    }
  }

  private void run() {
    while (true) {
      ObservedEvent e;
      try {
        e = queue.take();
      } catch (InterruptedException ie) {
        return;
      }
      if (e == POISON) {
        return;
      }
      if (recent.put(e.id(), Boolean.TRUE) != null) {
        duplicates.increment();
        continue;
      }
      for (Group g : groups.values()) {
        try {
          g.source.offer(e);
        } catch (RuntimeException ex) {
          log.warn("[graphql-ws] execution of {} failed on event {}: {}", g.field, e.id(), ex.toString());
        }
      }
    }
  }

  /** A new socket. */
  public Connection open(Session session, Map<String, List<String>> headers) {
    Connection c = new Connection(this, session, headers);
    if (closed) {
      c.close(1001, "Server shutting down");
      return c;
    }
    connections.add(c);
    c.opened();
    return c;
  }

  void connectionClosed(Connection c) {
    connections.remove(c);
  }

  /**
   * Starts (or joins) the execution of a subscribe message. Sends the error, or the single result and
   * complete, itself.
   *
   * @return the member to stream to, or null when nothing streams
   */
  Member subscribe(Connection conn, String id, String query, String operationName, Map<String, Object> variables) {
    Optional<String> tenant = conn.context().tenantId();
    String key = tenant.map(t -> "t:" + t).orElse("-") + "\u0001" + operationName + "\u0001" + query + "\u0001"
        + Frames.canonical(variables);
    synchronized (groupsLock) {
      Group g = groups.get(key);
      if (g != null) {
        return g.join(conn, id);
      }
    }
    SourceHolder holder = new SourceHolder(tenant);
    ExecutionResult er;
    try {
      er = graphQL.execute(ExecutionInput.newExecutionInput().query(query).operationName(operationName)
          .variables(variables).graphQLContext(Map.of(SOURCE_KEY, holder, "context", conn.context())).build());
    } catch (RuntimeException e) {
      log.warn("[graphql-ws] execution failed: {}", e.toString());
      conn.sendControl(Frames.error(id, List.of(Map.of("message", "Internal server error"))));
      return null;
    }
    Object data = er.getData();
    if (!er.getErrors().isEmpty() && !(data instanceof Publisher)) {
      List<Map<String, Object>> errs = new ArrayList<>();
      for (GraphQLError ge : er.getErrors()) {
        errs.add(ge.toSpecification());
      }
      if (data == null) {
        conn.sendControl(Frames.error(id, errs));
        return null;
      }
    }
    if (!(data instanceof Publisher) || holder.source == null) {
      // a query (or a mutation, which the schema does not have): one result, then complete
      conn.sendControl(Frames.nextPrefix(id) + Frames.write(er.toSpecification()) + "}");
      conn.sendControl(Frames.complete(id));
      return null;
    }
    @SuppressWarnings("unchecked")
    Publisher<ExecutionResult> stream = (Publisher<ExecutionResult>) data;
    Group g = new Group(key, holder.source, firstField(query));
    stream.subscribe(g);
    synchronized (groupsLock) {
      Group existing = groups.get(key);
      if (existing != null) {
        g.cancel();
        return existing.join(conn, id);
      }
      groups.put(key, g);
      return g.join(conn, id);
    }
  }

  private static String firstField(String query) {
    return query.length() > 60 ? query.substring(0, 60) + "..." : query;
  }

  /** A member leaves; the last one out cancels the execution. */
  void leave(Member m) {
    if (m.group == null) {
      return;
    }
    synchronized (m.conn) {
      m.removed = true;
      m.buffer.clear();
    }
    synchronized (groupsLock) {
      m.group.members.remove(m);
      if (m.group.members.isEmpty() && groups.get(m.group.key) == m.group) {
        groups.remove(m.group.key);
        m.group.cancel();
      }
    }
  }

  public GraphQLWsStats stats() {
    int subs = 0;
    for (Group g : groups.values()) {
      subs += g.members.size();
    }
    return new GraphQLWsStats(connections.size(), subs, groups.size(), received.get(), droppedQueueFull.sum(),
        duplicates.sum(), messagesSent.sum(), droppedSlowClient.sum(), closedSlowClient.sum());
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    queue.clear();
    queue.offer(POISON);
    for (Connection c : List.copyOf(connections)) {
      c.close(1001, "Server shutting down");
    }
    try {
      worker.join(5000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    scheduler.shutdownNow();
  }

  private static final class SourceHolder {
    final Optional<String> tenant;
    volatile EventSource source;

    SourceHolder(Optional<String> tenant) {
      this.tenant = tenant;
    }
  }

  /** One shared execution and the sockets subscribed to it. */
  static final class Group implements Subscriber<ExecutionResult> {
    final String key;
    final EventSource source;
    final String field;
    final List<Member> members = new CopyOnWriteArrayList<>();
    private volatile Subscription upstream;

    Group(String key, EventSource source, String field) {
      this.key = key;
      this.source = source;
      this.field = field;
    }

    Member join(Connection conn, String id) {
      Member m = new Member(conn, id, this);
      members.add(m);
      return m;
    }

    void cancel() {
      Subscription s = upstream;
      if (s != null) {
        s.cancel();
      }
    }

    @Override
    public void onSubscribe(Subscription s) {
      upstream = s;
      s.request(Long.MAX_VALUE);
    }

    @Override
    public void onNext(ExecutionResult r) {
      String payload = Frames.write(r.toSpecification());
      for (Member m : members) {
        m.conn.enqueueNext(m, payload);
      }
    }

    @Override
    public void onError(Throwable t) {
      log.warn("[graphql-ws] subscription stream failed: {}", t.toString());
      for (Member m : members) {
        m.conn.forget(m.id);
        m.conn.sendControl(Frames.error(m.id, List.of(Map.of("message", "Internal server error"))));
      }
    }

    @Override
    public void onComplete() {
      for (Member m : members) {
        m.conn.forget(m.id);
        m.conn.sendControl(Frames.complete(m.id));
      }
    }
  }

  /** One subscribe of one socket: its id, its bounded buffer (guarded by the connection). */
  static final class Member {
    final Connection conn;
    final String id;
    final Group group;
    final String prefix;
    final ArrayDeque<String> buffer = new ArrayDeque<>();
    boolean ready;
    boolean removed;
    long dropped;

    Member(Connection conn, String id, Group group) {
      this.conn = conn;
      this.id = id;
      this.group = group;
      this.prefix = Frames.nextPrefix(id);
    }

    static Member placeholder(Connection conn, String id) {
      return new Member(conn, id, null);
    }
  }
}

package dev.fraiseql.observers.graphqlws;

import dev.fraiseql.observers.ObservedEvent;
import dev.fraiseql.observers.ObserverConfigException;
import dev.fraiseql.observers.ObserverHandler;
import dev.fraiseql.observers.config.ObserversConfig;
import dev.fraiseql.observers.config.SubscriptionConfig;
import dev.fraiseql.observers.graphqlws.internal.ConfigReader;
import dev.fraiseql.observers.graphqlws.internal.Hub;
import dev.fraiseql.observers.graphqlws.internal.WsEndpoint;
import graphql.schema.GraphQLSchema;
import graphql.schema.idl.SchemaPrinter;
import jakarta.websocket.server.ServerEndpointConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * GraphQL subscriptions over the graphql-ws protocol (subprotocol {@code graphql-transport-ws}), fed by
 * the observer engine's events.
 *
 * <pre>{@code
 * GraphQLWs ws = GraphQLWs.builder()
 *     .config(Path.of("fraiseql.toml"))            // its [graphql_ws] section
 *     .authenticator(init -> contextFromToken(init.string("token")))
 *     .build();
 * ObserverEngine engine = ObserverEngine.builder()
 *     .config(Path.of("fraiseql.toml"))
 *     .handler("graphql-ws", ws.handler())          // routed by a [[observers.handlers]] entry
 *     .build();
 * GraphQLWsServer server = GraphQLWsServer.builder(ws).port(8080).path("/graphql").start();
 * }</pre>
 *
 * <p>Events reach it through {@link #handler()} (a Java handler the engine runs for the tables the
 * TOML routes to it, whether they came from {@code onCommit}, the outbox relay or trigger capture, or
 * from a bus subscription in a deployment of several instances), or through {@link #publish}. Neither
 * ever blocks: events wait in a bounded queue for one dispatcher thread.
 *
 * <p>Mount {@link #endpointConfig(String)} in any jakarta.websocket container (a servlet container,
 * Spring Boot), or start {@link GraphQLWsServer} (Jetty 12). Thread-safe; {@link #close()} closes every
 * socket with 1001.
 */
public final class GraphQLWs implements AutoCloseable {
  /** The default handler name the README's TOML routes events to. */
  public static final String HANDLER_NAME = "graphql-ws";

  private final Hub hub;
  private final List<SubscriptionDefinition> definitions;

  private GraphQLWs(Hub hub, List<SubscriptionDefinition> definitions) {
    this.hub = hub;
    this.definitions = definitions;
  }

  public static Builder builder() {
    return new Builder();
  }

  /**
   * A Java handler for {@code ObserverEngine.builder().handler("graphql-ws", ws.handler())}: it hands
   * the event to the dispatcher and returns at once (so the delivery counts as done).
   */
  public ObserverHandler handler() {
    return hub::publish;
  }

  /**
   * The engine configuration for a deployment of several instances: {@code config} plus a bus
   * subscription to {@code subject} feeding the {@value #HANDLER_NAME} handler through a durable
   * consumer of this instance's own ({@code graphql-ws-<instanceId>}), so every instance receives every
   * event once and a client connected to any instance sees each matching event once. The file
   * publishes the events to the bus ({@code [[observers.rules]] table = "tb_order" subject = "..."});
   * the core loader takes no {@code ${VAR}} in {@code durable}, hence this method. Use a stable id
   * per instance (a pod or host name): a restarted instance resumes its consumer.
   *
   * <pre>{@code
   * ObserversConfig config = GraphQLWs.withBusFeed(ObserversConfig.load(Path.of("fraiseql.toml")),
   *     "fraiseql.order.changed", System.getenv("HOSTNAME"));
   * ObserverEngine engine = ObserverEngine.builder().config(config).handler("graphql-ws", ws.handler()).build();
   * }</pre>
   *
   * An event that reaches an instance twice (from the bus and from a local handler, or a bus
   * redelivery) is pushed once: the endpoint skips ids it has seen among the last 16,384.
   */
  public static ObserversConfig withBusFeed(ObserversConfig config, String subject, String instanceId) {
    Objects.requireNonNull(config, "config");
    if (subject == null || subject.isBlank()) {
      throw new IllegalArgumentException("subject must not be blank");
    }
    if (instanceId == null || !instanceId.matches("[A-Za-z0-9_-]{1,100}")) {
      throw new IllegalArgumentException("instanceId must be 1 to 100 letters, digits, _ or -: " + instanceId);
    }
    return config.toBuilder().subscription(SubscriptionConfig.builder(subject, HANDLER_NAME)
        .durable(HANDLER_NAME + "-" + instanceId).build()).build();
  }

  /** Offers an event directly (without an engine). Never blocks. */
  public void publish(ObservedEvent event) {
    hub.publish(Objects.requireNonNull(event, "event"));
  }

  /** The endpoint's configuration at {@code path}, for {@code ServerContainer.addEndpoint(...)}. */
  public ServerEndpointConfig endpointConfig(String path) {
    return WsEndpoint.config(hub, path);
  }

  /** The declarations. */
  public List<SubscriptionDefinition> definitions() {
    return definitions;
  }

  /** The schema generated from the declarations. */
  public GraphQLSchema schema() {
    return hub.schema();
  }

  /** The schema in SDL, for clients and code generators. */
  public String schemaSdl() {
    return new SchemaPrinter(SchemaPrinter.Options.defaultOptions().includeDirectives(false)).print(hub.schema());
  }

  public GraphQLWsStats stats() {
    return hub.stats();
  }

  /** Closes every socket (1001) and stops the dispatcher. */
  @Override
  public void close() {
    hub.close();
  }

  /**
   * Builds a {@link GraphQLWs}: declarations from {@code fraiseql.toml} ({@link #config(Path)}) or in
   * code ({@link #subscription}), and an {@link #authenticator}, are required.
   */
  public static final class Builder {
    private final List<SubscriptionDefinition> defs = new ArrayList<>();
    private Authenticator authenticator;
    private Duration initTimeout = Duration.ofSeconds(3);
    private int bufferSize = 256;
    private SlowClientPolicy policy = SlowClientPolicy.DROP_OLDEST;
    private int queueCapacity = 10_000;
    private int maxMessageBytes = 64 * 1024;
    private Duration keepAlive = Duration.ofSeconds(12);

    private Builder() {}

    /**
     * Reads the {@code [graphql_ws]} section of a {@code fraiseql.toml}; its settings are defaults that
     * the other builder methods override.
     *
     * @throws ObserverConfigException listing every problem, with file:line and fix
     */
    public Builder config(Path path) {
      try {
        return configToml(Files.readString(path, StandardCharsets.UTF_8), path.toString());
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read " + path, e);
      }
    }

    /** As {@link #config(Path)}, from TOML text; {@code sourceName} names it in errors. */
    public Builder configToml(String toml, String sourceName) {
      ConfigReader.Read r = ConfigReader.read(toml, sourceName);
      defs.addAll(r.subscriptions());
      initTimeout = Duration.ofMillis(r.longSetting("connection_init_timeout_ms", initTimeout.toMillis()));
      bufferSize = (int) r.longSetting("buffer_size", bufferSize);
      queueCapacity = (int) r.longSetting("queue_capacity", queueCapacity);
      maxMessageBytes = (int) r.longSetting("max_message_bytes", maxMessageBytes);
      keepAlive = Duration.ofMillis(r.longSetting("keep_alive_ms", keepAlive.toMillis()));
      r.slowClient().ifPresent(p -> policy = p);
      return this;
    }

    /** Adds a declaration made in code. */
    public Builder subscription(SubscriptionDefinition definition) {
      defs.add(Objects.requireNonNull(definition, "definition"));
      return this;
    }

    /** Required: who may connect, under which context (tenant). */
    public Builder authenticator(Authenticator authenticator) {
      this.authenticator = Objects.requireNonNull(authenticator, "authenticator");
      return this;
    }

    /** How long a socket may wait before {@code connection_init} (then 4408); 3 s by default. */
    public Builder connectionInitTimeout(Duration timeout) {
      if (timeout.isNegative() || timeout.isZero()) {
        throw new IllegalArgumentException("connectionInitTimeout must be positive");
      }
      this.initTimeout = timeout;
      return this;
    }

    /** Unsent events kept per subscription (256 by default); then the {@link SlowClientPolicy}. */
    public Builder bufferSize(int events) {
      if (events < 1) {
        throw new IllegalArgumentException("bufferSize must be at least 1");
      }
      this.bufferSize = events;
      return this;
    }

    public Builder slowClientPolicy(SlowClientPolicy policy) {
      this.policy = Objects.requireNonNull(policy, "policy");
      return this;
    }

    /** Events waiting for the dispatcher (10,000 by default); beyond, they are dropped and counted. */
    public Builder queueCapacity(int events) {
      if (events < 1) {
        throw new IllegalArgumentException("queueCapacity must be at least 1");
      }
      this.queueCapacity = events;
      return this;
    }

    /** Largest client message accepted (64 KiB by default). */
    public Builder maxMessageBytes(int bytes) {
      this.maxMessageBytes = bytes;
      return this;
    }

    /** Interval of the server's {@code ping} messages to acknowledged clients (12 s; zero: none). */
    public Builder keepAlive(Duration interval) {
      this.keepAlive = Objects.requireNonNull(interval, "interval");
      return this;
    }

    /**
     * @throws IllegalStateException without declarations or authenticator
     * @throws IllegalArgumentException when declarations conflict (one field, two types)
     */
    public GraphQLWs build() {
      if (defs.isEmpty()) {
        throw new IllegalStateException("no subscription declared: add [[graphql_ws.subscriptions]] to fraiseql.toml"
            + " and call config(Path), or call subscription(...)");
      }
      if (authenticator == null) {
        throw new IllegalStateException("no authenticator: call authenticator(init -> MutationContext...), or"
            + " authenticator(Authenticator.anonymous()) for clients without tenant");
      }
      List<String> names = new ArrayList<>();
      for (SubscriptionDefinition d : defs) {
        if (names.contains(d.field())) {
          throw new IllegalArgumentException("subscription field " + d.field() + " is declared twice");
        }
        names.add(d.field());
      }
      Hub hub = new Hub(List.copyOf(defs), new Hub.Settings(initTimeout, bufferSize, policy, queueCapacity,
          maxMessageBytes, keepAlive), authenticator);
      return new GraphQLWs(hub, List.copyOf(defs));
    }
  }
}

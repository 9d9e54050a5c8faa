package dev.fraiseql.observers;

import dev.fraiseql.observers.config.ObserversConfig;
import dev.fraiseql.observers.internal.engine.EngineSpec;
import dev.fraiseql.observers.internal.engine.DefaultObserverEngine;
import dev.fraiseql.observers.spi.ActionProvider;
import dev.fraiseql.observers.spi.BackendProvider;
import dev.fraiseql.observers.spi.DeadLetterStore;
import dev.fraiseql.observers.spi.IdempotencyStore;
import java.io.Reader;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The observer engine: the host commits its own transaction, then calls {@link #onCommit}; the
 * engine routes the event to the handlers {@code fraiseql.toml} configures and runs their side
 * effects asynchronously, with retries, dead letters and the configured delivery guarantee.
 *
 * <pre>{@code
 * try (ObserverEngine engine = ObserverEngine.builder()
 *         .config(Path.of("fraiseql.toml"))
 *         .handler("reserveInventory", event -> inventory.reserve(event.newRow().orElseThrow()))
 *         .build()) {
 *   // ... after your transaction commits:
 *   engine.onCommit(ObservedEvent.builder()
 *       .operation(Operation.INSERT).table("tb_user").mutation("createUser")
 *       .newRow(Map.of("id", id, "email", email, "name", name))
 *       .context(MutationContext.builder().userId(currentUser).requestId(requestId).build())
 *       .build());
 * }
 * }</pre>
 *
 * Thread-safe. Subscriptions ({@code [[observers.subscribe]]}) start when the engine is built and
 * stop at {@link #close()}.
 */
public interface ObserverEngine extends AutoCloseable {

  static Builder builder() {
    return new Builder();
  }

  /**
   * Dispatches a committed event. Returns at once: asynchronous handlers run after it returns
   * (seed 001: "the response does not wait for observers"). Under {@code overflow_policy = "block"}
   * it may wait for room up to {@code overflow_timeout_ms}.
   *
   * @throws ObserverOverloadedException under {@code overflow_policy = "reject"} when the bound is reached
   * @throws IllegalStateException after {@link #close()}
   */
  Dispatch onCommit(ObservedEvent event);

  /** Dispatches many events committed together, in order; one {@link Dispatch} each. */
  List<Dispatch> onCommit(List<ObservedEvent> events);

  /** The dead-letter queue. */
  DeadLetters deadLetters();

  /** The configuration the engine runs. */
  ObserversConfig config();

  /** Deliveries pending right now (running or waiting for a retry). */
  int inFlight();

  /**
   * How far the {@code [[observers.subscribe]]} of {@code handler} is behind: messages on its subject
   * not yet delivered to it plus those delivered and not yet acknowledged
   * ({@link dev.fraiseql.observers.spi.BusSubscription#lag()}). Known for the PostgreSQL bus, Redis
   * Streams and NATS JetStream; empty for another bus, for a handler that is no subscription's, or when
   * the bus cannot be asked now. May cost one round trip to the bus: poll it, do not call it per event.
   */
  default java.util.OptionalLong subscriptionLag(String handler) {
    return java.util.OptionalLong.empty();
  }

  /**
   * Whether the configured backend's bus is reachable now ({@code backend = "nats"}: the connection's
   * state; {@code "redis"}: a PING; {@code "postgres"}: a connection checked with a short timeout;
   * {@code "in-memory"}: always UP), with details that hold no secret ({@code backend}, where, how long
   * the check took, the error). May open the bus's connection; never throws; DOWN after {@link #close()}.
   * Health endpoints call it (the Spring Boot starter's {@code observers} indicator does).
   */
  default BackendHealth health() {
    return BackendHealth.unknown("this engine does not report its health");
  }

  /**
   * Stops intake, waits up to {@code timeout} for in-flight deliveries, dead-letters what is still
   * pending (reason {@code shutdown}) and reports it, then closes subscriptions, actions and backends.
   */
  CloseReport shutdown(Duration timeout);

  /** {@link #shutdown(Duration)} with {@code shutdown_timeout_ms}; the report is logged. */
  @Override
  void close();

  /**
   * Builds an {@link ObserverEngine}. Give it a configuration (a file, TOML text, or an
   * {@link ObserversConfig} built in code); everything else is optional.
   */
  final class Builder {
    private Supplier<ObserversConfig> config;
    private Function<String, Optional<String>> env = name -> Optional.ofNullable(System.getenv(name));
    private final Map<String, ObserverHandler> handlers = new LinkedHashMap<>();
    private final List<ActionProvider> actions = new ArrayList<>();
    private final List<BackendProvider> backends = new ArrayList<>();
    private final List<ObserverListener> listeners = new ArrayList<>();
    private final Map<Class<?>, Object> components = new LinkedHashMap<>();
    private DeadLetterStore deadLetterStore;
    private IdempotencyStore idempotencyStore;
    private Executor executor;
    private ScheduledExecutorService scheduler;
    private Clock clock = Clock.systemUTC();
    private boolean openSubscriptions = true;

    private Builder() {}

    /** Reads {@code fraiseql.toml} at {@link #build()} (with the {@link #env} lookup). */
    public Builder config(Path path) {
      Objects.requireNonNull(path, "path");
      this.config = () -> ObserversConfig.load(path, env);
      return this;
    }

    /** Parses TOML text at {@link #build()}; {@code sourceName} names it in errors. */
    public Builder config(String toml, String sourceName) {
      Objects.requireNonNull(toml, "toml");
      this.config = () -> ObserversConfig.parse(toml, sourceName, env);
      return this;
    }

    /** Parses TOML text at {@link #build()}, named {@code <string>} in errors. */
    public Builder configToml(String toml) {
      return config(toml, "<string>");
    }

    public Builder config(Reader reader, String sourceName) {
      Objects.requireNonNull(reader, "reader");
      this.config = () -> ObserversConfig.parse(reader, sourceName, env);
      return this;
    }

    /** A configuration built in code. */
    public Builder config(ObserversConfig config) {
      Objects.requireNonNull(config, "config");
      this.config = () -> config;
      return this;
    }

    /** Where {@code ${VAR}} and {@code url_env} values come from; the process environment by default. */
    public Builder env(Function<String, Optional<String>> lookup) {
      this.env = Objects.requireNonNull(lookup, "lookup");
      return this;
    }

    /** Shorthand for {@link #env(Function)} from a map (tests). */
    public Builder env(Map<String, String> values) {
      Map<String, String> copy = Map.copyOf(values);
      return env(name -> Optional.ofNullable(copy.get(name)));
    }

    /** Registers a Java handler by name (see {@link ObserverHandler}). */
    public Builder handler(String name, ObserverHandler handler) {
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(handler, "handler");
      if (handlers.putIfAbsent(name, handler) != null) {
        throw new IllegalArgumentException("a handler named " + name + " is already registered");
      }
      return this;
    }

    /** Adds an action type (in addition to those found with ServiceLoader; this one wins on a name clash). */
    public Builder action(ActionProvider provider) {
      actions.add(Objects.requireNonNull(provider, "provider"));
      return this;
    }

    /** Adds a backend (in addition to those found with ServiceLoader; this one wins on a name clash). */
    public Builder backend(BackendProvider provider) {
      backends.add(Objects.requireNonNull(provider, "provider"));
      return this;
    }

    /** Uses this dead-letter store instead of the configured one. */
    public Builder deadLetterStore(DeadLetterStore store) {
      this.deadLetterStore = Objects.requireNonNull(store, "store");
      return this;
    }

    /** Uses this idempotency store instead of the configured one. */
    public Builder idempotencyStore(IdempotencyStore store) {
      this.idempotencyStore = Objects.requireNonNull(store, "store");
      return this;
    }

    public Builder listener(ObserverListener listener) {
      listeners.add(Objects.requireNonNull(listener, "listener"));
      return this;
    }

    /**
     * Runs actions on this executor (a virtual-thread executor on newer JDKs, for instance). By
     * default a bounded pool of daemon threads. The engine does not shut down an executor it was given.
     */
    public Builder executor(Executor executor) {
      this.executor = Objects.requireNonNull(executor, "executor");
      return this;
    }

    /** Schedules retries and timeouts on this scheduler (tests pass a virtual-time one). Not shut down by the engine. */
    public Builder scheduler(ScheduledExecutorService scheduler) {
      this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
      return this;
    }

    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /** Makes {@code instance} available to backends and actions (a {@code javax.sql.DataSource}, for instance). */
    public <T> Builder component(Class<T> type, T instance) {
      components.put(Objects.requireNonNull(type, "type"), Objects.requireNonNull(instance, "instance"));
      return this;
    }

    /**
     * Whether {@link #build()} opens the {@code [[observers.subscribe]]} consumers (true by default).
     * Tools that only look at dead letters, replay them or send one event (the command line) pass
     * false: the subscription handlers still exist, so their dead letters replay, but no message is
     * taken from the bus.
     */
    public Builder openSubscriptions(boolean open) {
      this.openSubscriptions = open;
      return this;
    }

    /**
     * Checks the configuration as {@link #build()} does (loader, actions, conditions, backend names
     * and keys) without starting anything: no connection is made and nothing is sent. Empty when
     * {@link #build()} would accept it, as far as it can tell without servers (a backend that cannot
     * connect, or a store that cannot open, is only found by {@code build()}).
     *
     * @return every problem found, each with file, line, key and a fix
     */
    public List<dev.fraiseql.observers.config.ConfigProblem> validate() {
      try (DryRun ignored = dryRun()) {
        return List.of();
      } catch (ObserverConfigException e) {
        return e.problems();
      }
    }

    /**
     * A {@link DryRun}: the configuration checked, actions created and conditions compiled, nothing
     * started; {@link DryRun#explain(ObservedEvent)} tells what an event would do without doing it.
     *
     * @throws ObserverConfigException listing every problem found
     */
    public DryRun dryRun() {
      if (config == null) {
        throw new IllegalStateException("no configuration: call config(Path), config(String, String) or config(ObserversConfig)");
      }
      return DefaultObserverEngine.dryRun(spec());
    }

    private EngineSpec spec() {
      return new EngineSpec(config.get(), env, Map.copyOf(handlers), List.copyOf(actions),
          List.copyOf(backends), List.copyOf(listeners), Map.copyOf(components), Optional.ofNullable(deadLetterStore),
          Optional.ofNullable(idempotencyStore), Optional.ofNullable(executor), Optional.ofNullable(scheduler), clock,
          openSubscriptions);
    }

    /**
     * Loads the configuration, resolves backends and actions, compiles rules and conditions, opens
     * subscriptions, and starts the engine.
     *
     * @throws ObserverConfigException listing every problem found, each with file, line, key and a fix
     */
    public ObserverEngine build() {
      if (config == null) {
        throw new IllegalStateException("no configuration: call config(Path), config(String, String) or config(ObserversConfig)");
      }
      return DefaultObserverEngine.start(spec());
    }
  }
}

package dev.fraiseql.observers.config;

import dev.fraiseql.observers.internal.config.TomlConfigLoader;
import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;

/**
 * Everything {@code fraiseql.toml} says about observers, as one immutable value.
 *
 * <p>Load it with {@link #load(Path)} / {@link #parse(String, String)} (which expand {@code ${VAR}}
 * from the environment; pass a lookup to control that), or build it in code with {@link #builder()}.
 * Both carry the same information; an {@link dev.fraiseql.observers.ObserverEngine} accepts either.
 *
 * <p>Keys of {@code [observers]} and their defaults:
 *
 * <table>
 *   <caption>[observers]</caption>
 *   <tr><th>key</th><th>default</th><th>meaning</th></tr>
 *   <tr><td>backend</td><td>in-memory</td><td>in-memory, nats, redis, postgres, webhook</td></tr>
 *   <tr><td>nats_url, redis_url, database_url</td><td></td><td>the backend's server</td></tr>
 *   <tr><td>checkpoint_strategy</td><td>at_least_once</td><td>or effectively_once</td></tr>
 *   <tr><td>idempotency_table</td><td>observer_idempotency_keys</td><td>PostgreSQL table for effectively_once</td></tr>
 *   <tr><td>max_in_flight</td><td>10000</td><td>deliveries pending at once, retries included</td></tr>
 *   <tr><td>overflow_policy</td><td>block</td><td>block, reject or dead_letter (see {@link OverflowPolicy})</td></tr>
 *   <tr><td>overflow_timeout_ms</td><td>5000</td><td>how long {@code block} waits</td></tr>
 *   <tr><td>dead_letter_capacity</td><td>10000</td><td>in-memory dead letters kept; the oldest go first</td></tr>
 *   <tr><td>shutdown_timeout_ms</td><td>30000</td><td>how long {@code close()} waits for in-flight work</td></tr>
 *   <tr><td>claim_ttl_ms</td><td>300000</td><td>how long an effectively-once claim lives without completion</td></tr>
 *   <tr><td>idempotency_store</td><td>automatic</td><td>which backend keeps idempotency keys (postgres, redis, in-memory)</td></tr>
 *   <tr><td>dead_letter_store</td><td>automatic</td><td>which backend keeps dead letters (postgres, redis, in-memory)</td></tr>
 * </table>
 */
public final class ObserversConfig {
  public static final String DEFAULT_BACKEND = "in-memory";
  public static final String DEFAULT_IDEMPOTENCY_TABLE = "observer_idempotency_keys";
  public static final int DEFAULT_MAX_IN_FLIGHT = 10_000;
  public static final Duration DEFAULT_OVERFLOW_TIMEOUT = Duration.ofSeconds(5);
  public static final int DEFAULT_DEAD_LETTER_CAPACITY = 10_000;
  public static final Duration DEFAULT_SHUTDOWN_TIMEOUT = Duration.ofSeconds(30);
  public static final Duration DEFAULT_CLAIM_TTL = Duration.ofMinutes(5);

  private final String source;
  private final String backend;
  private final Settings backendSettings;
  private final CheckpointStrategy checkpointStrategy;
  private final String idempotencyTable;
  private final List<HandlerConfig> handlers;
  private final List<SubscriptionConfig> subscriptions;
  private final int maxInFlight;
  private final OverflowPolicy overflowPolicy;
  private final Duration overflowTimeout;
  private final int deadLetterCapacity;
  private final Duration shutdownTimeout;
  private final Duration claimTtl;
  private final String idempotencyStore;
  private final String deadLetterStore;
  private final java.util.Map<String, Settings> backendTables;

  private ObserversConfig(Builder b) {
    this.source = b.source;
    this.backend = b.backend;
    this.backendSettings = b.backendSettings;
    this.checkpointStrategy = b.checkpointStrategy;
    this.idempotencyTable = b.idempotencyTable;
    this.handlers = Collections.unmodifiableList(new ArrayList<>(b.handlers));
    this.subscriptions = Collections.unmodifiableList(new ArrayList<>(b.subscriptions));
    if (b.maxInFlight < 1) {
      throw new IllegalArgumentException("maxInFlight must be at least 1");
    }
    if (b.deadLetterCapacity < 1) {
      throw new IllegalArgumentException("deadLetterCapacity must be at least 1");
    }
    this.maxInFlight = b.maxInFlight;
    this.overflowPolicy = b.overflowPolicy;
    this.overflowTimeout = b.overflowTimeout;
    this.deadLetterCapacity = b.deadLetterCapacity;
    this.shutdownTimeout = b.shutdownTimeout;
    this.claimTtl = b.claimTtl;
    this.idempotencyStore = b.idempotencyStore;
    this.deadLetterStore = b.deadLetterStore;
    this.backendTables = java.util.Map.copyOf(b.backendTables);
    List<String> seen = new ArrayList<>();
    for (HandlerConfig h : handlers) {
      if (seen.contains(h.name())) {
        throw new IllegalArgumentException("two handlers are named " + h.name() + ": handler names must be unique");
      }
      seen.add(h.name());
    }
  }

  /** Reads {@code path}, expanding {@code ${VAR}} from {@link System#getenv(String)}. */
  public static ObserversConfig load(Path path) {
    return load(path, name -> Optional.ofNullable(System.getenv(name)));
  }

  /** Reads {@code path}, expanding {@code ${VAR}} and {@code url_env} with {@code env}. */
  public static ObserversConfig load(Path path, Function<String, Optional<String>> env) {
    String text;
    try {
      text = Files.readString(path, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read observer config " + path, e);
    }
    return parse(text, path.toString(), env);
  }

  /** Parses TOML text; {@code sourceName} names it in error messages. */
  public static ObserversConfig parse(String toml, String sourceName) {
    return parse(toml, sourceName, name -> Optional.ofNullable(System.getenv(name)));
  }

  public static ObserversConfig parse(String toml, String sourceName, Function<String, Optional<String>> env) {
    return TomlConfigLoader.load(toml, sourceName, env);
  }

  public static ObserversConfig parse(Reader reader, String sourceName, Function<String, Optional<String>> env) {
    StringBuilder sb = new StringBuilder();
    char[] buf = new char[8192];
    try {
      for (int n; (n = reader.read(buf)) > 0; ) {
        sb.append(buf, 0, n);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read observer config " + sourceName, e);
    }
    return parse(sb.toString(), sourceName, env);
  }

  public static Builder builder() {
    return new Builder();
  }

  /** The file (or other source) it came from, for messages; {@code <code>} when built in code. */
  public String source() {
    return source;
  }

  public String backend() {
    return backend;
  }

  /**
   * The backend's settings: {@code nats_url}, {@code redis_url}, {@code database_url} from
   * {@code [observers]} plus the keys of the backend's own table ({@code [observers.nats]} ...).
   */
  public Settings backendSettings() {
    return backendSettings;
  }

  /**
   * The settings for backend {@code name}: for the configured {@link #backend()} the same as
   * {@link #backendSettings()}; for another one (used only for its stores, e.g.
   * {@code dead_letter_store = "redis"}) the {@code *_url} keys of {@code [observers]} plus its own
   * {@code [observers.<name>]} table.
   */
  public Settings backendSettings(String name) {
    if (name.equals(backend)) {
      return backendSettings;
    }
    Settings own = backendTables.get(name);
    if (own != null) {
      return own;
    }
    Settings.Builder urls = Settings.builder(backendSettings.location());
    for (String k : List.of("nats_url", "redis_url", "database_url")) {
      if (backendSettings.has(k)) {
        urls.put(k, backendSettings.value(k).orElseThrow(), backendSettings.location(k));
      }
    }
    return urls.build();
  }

  public CheckpointStrategy checkpointStrategy() {
    return checkpointStrategy;
  }

  public String idempotencyTable() {
    return idempotencyTable;
  }

  /** Every handler, in definition order (rules' actions included, in file order). */
  public List<HandlerConfig> handlers() {
    return handlers;
  }

  public List<SubscriptionConfig> subscriptions() {
    return subscriptions;
  }

  public int maxInFlight() {
    return maxInFlight;
  }

  public OverflowPolicy overflowPolicy() {
    return overflowPolicy;
  }

  public Duration overflowTimeout() {
    return overflowTimeout;
  }

  public int deadLetterCapacity() {
    return deadLetterCapacity;
  }

  public Duration shutdownTimeout() {
    return shutdownTimeout;
  }

  public Duration claimTtl() {
    return claimTtl;
  }

  /**
   * Which backend's idempotency store to use ({@code idempotency_store = "postgres"}); empty means
   * automatic: the backend's own if it has one, else {@code postgres} when the pg module is present,
   * else in memory (with a warning: not durable across restarts).
   */
  public Optional<String> idempotencyStore() {
    return Optional.ofNullable(idempotencyStore);
  }

  /**
   * Which backend's dead-letter store to use ({@code dead_letter_store = "postgres"}); empty means the
   * backend's own if it has one, else in memory, bounded by {@code dead_letter_capacity}.
   */
  public Optional<String> deadLetterStore() {
    return Optional.ofNullable(deadLetterStore);
  }

  public Builder toBuilder() {
    Builder b = new Builder();
    b.idempotencyStore = idempotencyStore;
    b.deadLetterStore = deadLetterStore;
    b.backendTables.putAll(backendTables);
    b.source = source;
    b.backend = backend;
    b.backendSettings = backendSettings;
    b.checkpointStrategy = checkpointStrategy;
    b.idempotencyTable = idempotencyTable;
    b.handlers.addAll(handlers);
    b.subscriptions.addAll(subscriptions);
    b.maxInFlight = maxInFlight;
    b.overflowPolicy = overflowPolicy;
    b.overflowTimeout = overflowTimeout;
    b.deadLetterCapacity = deadLetterCapacity;
    b.shutdownTimeout = shutdownTimeout;
    b.claimTtl = claimTtl;
    return b;
  }

  @Override
  public String toString() {
    return "ObserversConfig{source=" + source + ", backend=" + backend + ", checkpoint="
        + checkpointStrategy.configName() + ", handlers=" + handlers.size() + ", subscriptions="
        + subscriptions.size() + "}";
  }

  /** Builds an {@link ObserversConfig} in code. */
  public static final class Builder {
    private String source = "<code>";
    private String backend = DEFAULT_BACKEND;
    private Settings backendSettings = Settings.empty();
    private CheckpointStrategy checkpointStrategy = CheckpointStrategy.AT_LEAST_ONCE;
    private String idempotencyTable = DEFAULT_IDEMPOTENCY_TABLE;
    private final List<HandlerConfig> handlers = new ArrayList<>();
    private final List<SubscriptionConfig> subscriptions = new ArrayList<>();
    private int maxInFlight = DEFAULT_MAX_IN_FLIGHT;
    private OverflowPolicy overflowPolicy = OverflowPolicy.BLOCK;
    private Duration overflowTimeout = DEFAULT_OVERFLOW_TIMEOUT;
    private int deadLetterCapacity = DEFAULT_DEAD_LETTER_CAPACITY;
    private Duration shutdownTimeout = DEFAULT_SHUTDOWN_TIMEOUT;
    private Duration claimTtl = DEFAULT_CLAIM_TTL;
    private String idempotencyStore;
    private String deadLetterStore;
    private final java.util.Map<String, Settings> backendTables = new java.util.LinkedHashMap<>();

    private Builder() {}

    /** The settings of a backend other than the main one (its table plus the URL keys). */
    public Builder backendTable(String name, Settings settings) {
      backendTables.put(Objects.requireNonNull(name, "name"), Objects.requireNonNull(settings, "settings"));
      return this;
    }

    /** The backend whose idempotency store to use; null for automatic. */
    public Builder idempotencyStore(String backendName) {
      this.idempotencyStore = backendName;
      return this;
    }

    /** The backend whose dead-letter store to use; null for automatic. */
    public Builder deadLetterStore(String backendName) {
      this.deadLetterStore = backendName;
      return this;
    }

    public Builder source(String source) {
      this.source = Objects.requireNonNull(source, "source");
      return this;
    }

    public Builder backend(String backend) {
      this.backend = Objects.requireNonNull(backend, "backend");
      return this;
    }

    public Builder backendSettings(Settings settings) {
      this.backendSettings = Objects.requireNonNull(settings, "settings");
      return this;
    }

    public Builder checkpointStrategy(CheckpointStrategy strategy) {
      this.checkpointStrategy = Objects.requireNonNull(strategy, "strategy");
      return this;
    }

    public Builder idempotencyTable(String table) {
      this.idempotencyTable = Objects.requireNonNull(table, "table");
      return this;
    }

    public Builder handler(HandlerConfig handler) {
      handlers.add(Objects.requireNonNull(handler, "handler"));
      return this;
    }

    public Builder subscription(SubscriptionConfig subscription) {
      subscriptions.add(Objects.requireNonNull(subscription, "subscription"));
      return this;
    }

    public Builder maxInFlight(int maxInFlight) {
      this.maxInFlight = maxInFlight;
      return this;
    }

    public Builder overflowPolicy(OverflowPolicy policy) {
      this.overflowPolicy = Objects.requireNonNull(policy, "policy");
      return this;
    }

    public Builder overflowTimeout(Duration timeout) {
      this.overflowTimeout = Objects.requireNonNull(timeout, "timeout");
      return this;
    }

    public Builder deadLetterCapacity(int capacity) {
      this.deadLetterCapacity = capacity;
      return this;
    }

    public Builder shutdownTimeout(Duration timeout) {
      this.shutdownTimeout = Objects.requireNonNull(timeout, "timeout");
      return this;
    }

    public Builder claimTtl(Duration ttl) {
      this.claimTtl = Objects.requireNonNull(ttl, "ttl");
      return this;
    }

    public ObserversConfig build() {
      return new ObserversConfig(this);
    }
  }
}

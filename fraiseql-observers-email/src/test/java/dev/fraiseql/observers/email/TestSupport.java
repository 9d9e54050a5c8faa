package dev.fraiseql.observers.email;

import dev.fraiseql.observers.MutationContext;
import dev.fraiseql.observers.ObservedEvent;
import dev.fraiseql.observers.Operation;
import dev.fraiseql.observers.config.ConfigLocation;
import dev.fraiseql.observers.config.ObserversConfig;
import dev.fraiseql.observers.config.Settings;
import dev.fraiseql.observers.internal.EventInternals;
import dev.fraiseql.observers.spi.ActionContext;
import dev.fraiseql.observers.spi.Delivery;
import dev.fraiseql.observers.spi.EventBus;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.function.BooleanSupplier;
import java.util.function.Function;

/** Events, deliveries, an {@link ActionContext} for calling providers directly, and a polling await. */
public final class TestSupport {
  public static final String FILE = "fraiseql.toml";
  public static final ConfigLocation HANDLER_AT = new ConfigLocation(FILE, 7, 1, "[[observers.handlers]] #1");

  private TestSupport() {}

  /** Polls {@code condition} until it holds or {@code timeout} passes. */
  public static void await(Duration timeout, BooleanSupplier condition) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("condition not met within " + timeout);
      }
      try {
        Thread.sleep(10);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted");
      }
    }
  }

  /** Seed 001's user: INSERT into tb_user by createUser. */
  public static ObservedEvent userCreated() {
    Map<String, Object> row = new LinkedHashMap<>();
    row.put("id", "550e8400-e29b-41d4-a716-446655440000");
    row.put("email", "alice@example.com");
    row.put("name", "Alice");
    return userCreated(row);
  }

  public static ObservedEvent userCreated(Map<String, Object> row) {
    return ObservedEvent.builder()
        .id(UUID.fromString("01936b2e-6c1a-7cc0-9a4e-3f2b5d8e9a10"))
        .operation(Operation.INSERT)
        .table("tb_user")
        .mutation("createUser")
        .timestamp(Instant.parse("2026-02-25T10:00:00Z"))
        .newRow(row)
        .context(MutationContext.builder().userId("u-1").tenantId("t-42").requestId("req_01HV3KQBN7").build())
        .build();
  }

  public static Delivery delivery(ObservedEvent event, String handler, int attempt) {
    return new Delivery(event, handler, attempt, EventInternals.payload(event), Delivery.keyOf(event, handler));
  }

  /** Settings as the TOML loader would hand them over, each key with a line in fraiseql.toml. */
  public static Settings settings(Map<String, ?> values) {
    Settings.Builder b = Settings.builder(HANDLER_AT);
    int line = 8;
    for (Map.Entry<String, ?> e : values.entrySet()) {
      b.put(e.getKey(), e.getValue(), new ConfigLocation(FILE, line++, 1, HANDLER_AT.section()));
    }
    return b.build();
  }

  /** An action context for creating actions without an engine. */
  public static final class Ctx implements ActionContext {
    private final String handler;
    private final Settings settings;
    private final Map<String, String> env;
    private final ObserversConfig config;
    private final Clock clock;

    public Ctx(String handler, Map<String, ?> settings) {
      this(handler, settings, Map.of(), ObserversConfig.builder().build(), Clock.systemUTC());
    }

    public Ctx(String handler, Map<String, ?> settings, Map<String, String> env) {
      this(handler, settings, env, ObserversConfig.builder().build(), Clock.systemUTC());
    }

    public Ctx(String handler, Map<String, ?> settings, Map<String, String> env, ObserversConfig config, Clock clock) {
      this.handler = handler;
      this.settings = TestSupport.settings(settings);
      this.env = Map.copyOf(env);
      this.config = config;
      this.clock = clock;
    }

    @Override
    public String handlerName() {
      return handler;
    }

    @Override
    public Settings settings() {
      return settings;
    }

    @Override
    public ConfigLocation location() {
      return HANDLER_AT;
    }

    @Override
    public ObserversConfig config() {
      return config;
    }

    @Override
    public EventBus bus() {
      throw new UnsupportedOperationException("email actions do not use the bus");
    }

    @Override
    public Function<String, Optional<String>> env() {
      return name -> Optional.ofNullable(env.get(name));
    }

    @Override
    @SuppressWarnings("unchecked")
    public <T> Optional<T> component(Class<T> type) {
      return type == Clock.class ? Optional.of((T) clock) : Optional.empty();
    }
  }
}

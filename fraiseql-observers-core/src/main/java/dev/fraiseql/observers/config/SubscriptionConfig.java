package dev.fraiseql.observers.config;

import java.util.Objects;
import java.util.Optional;

/**
 * Seed 000's {@code [[observers.subscribe]]}: messages on {@code subject} (NATS-style wildcards
 * {@code *} and {@code >} allowed where the bus supports them) go to {@code handler}, a
 * host-registered Java handler or, with the pg module, a SQL function that receives the payload as
 * one JSONB argument.
 *
 * <p>{@code durable} names the consumer (group): instances with the same durable name share the work.
 * By default it is derived from the handler name. {@link #settings()} holds any further keys for the
 * bus or the handler ({@code action = "sql"} to force a SQL function, for instance).
 */
public final class SubscriptionConfig {
  private final String subject;
  private final String handler;
  private final String durable;
  private final String condition;
  private final RetryPolicy retry;
  private final Settings settings;
  private final Ordering ordering;
  private final String orderingKey;
  private final ConfigLocation location;

  private SubscriptionConfig(Builder b) {
    if (b.subject == null || b.subject.isBlank()) {
      throw new IllegalArgumentException("a subscription needs a subject");
    }
    if (b.handler == null || b.handler.isBlank()) {
      throw new IllegalArgumentException("subscription to " + b.subject + " needs a handler");
    }
    this.subject = b.subject;
    this.handler = b.handler;
    this.durable = b.durable == null || b.durable.isBlank() ? defaultDurable(b.handler) : b.durable;
    this.condition = b.condition == null || b.condition.isBlank() ? null : b.condition;
    this.retry = b.retry;
    this.settings = b.settings;
    this.ordering = b.ordering;
    this.orderingKey = b.orderingKey == null || b.orderingKey.isBlank() ? null : b.orderingKey.trim();
    this.location = b.location != null ? b.location : ConfigLocation.code("subscription " + b.subject);
  }

  /** A durable/group name safe for NATS, Redis and SQL: letters, digits, {@code _} and {@code -}. */
  static String defaultDurable(String handler) {
    return "fraiseql_" + handler.replaceAll("[^A-Za-z0-9_-]", "_");
  }

  public static Builder builder(String subject, String handler) {
    return new Builder().subject(subject).handler(handler);
  }

  public String subject() {
    return subject;
  }

  public String handler() {
    return handler;
  }

  public String durable() {
    return durable;
  }

  public Optional<String> condition() {
    return Optional.ofNullable(condition);
  }

  public RetryPolicy retry() {
    return retry;
  }

  public Settings settings() {
    return settings;
  }

  /**
   * {@code ordering} of a subscription. Only {@link Ordering#NONE} (the default) is supported for now: the
   * engine refuses to start with {@link Ordering#KEY} on a subscription, naming it (a consumer runs
   * messages concurrently and hands a failed one back to the bus, so per-key order would not hold). Put
   * {@code ordering = "key"} on the handler that runs the effect instead.
   */
  public Ordering ordering() {
    return ordering;
  }

  /** The field path that identifies the entity (as {@link HandlerConfig#orderingKey()}); empty: table and id. */
  public Optional<String> orderingKey() {
    return Optional.ofNullable(orderingKey);
  }

  public ConfigLocation location() {
    return location;
  }

  @Override
  public String toString() {
    return "SubscriptionConfig{" + subject + " → " + handler + " (durable " + durable + ")}";
  }

  /** Builds a {@link SubscriptionConfig}; subject and handler are required. */
  public static final class Builder {
    private String subject;
    private String handler;
    private String durable;
    private String condition;
    private RetryPolicy retry = RetryPolicy.ofDefaults();
    private Settings settings = Settings.empty();
    private Ordering ordering = Ordering.NONE;
    private String orderingKey;
    private ConfigLocation location;

    private Builder() {}

    public Builder subject(String subject) {
      this.subject = subject;
      return this;
    }

    public Builder handler(String handler) {
      this.handler = handler;
      return this;
    }

    public Builder durable(String durable) {
      this.durable = durable;
      return this;
    }

    public Builder condition(String condition) {
      this.condition = condition;
      return this;
    }

    public Builder retry(RetryPolicy retry) {
      this.retry = Objects.requireNonNull(retry, "retry");
      return this;
    }

    public Builder settings(Settings settings) {
      this.settings = Objects.requireNonNull(settings, "settings");
      return this;
    }

    /** {@code ordering = "key"} or {@code "none"} (the default). */
    public Builder ordering(Ordering ordering) {
      this.ordering = Objects.requireNonNull(ordering, "ordering");
      return this;
    }

    /** {@code ordering_key}: a field path; null for the default (table and the row's id). */
    public Builder orderingKey(String path) {
      this.orderingKey = path;
      return this;
    }

    public Builder location(ConfigLocation location) {
      this.location = location;
      return this;
    }

    public SubscriptionConfig build() {
      return new SubscriptionConfig(this);
    }
  }
}

package dev.fraiseql.observers.config;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * One handler: when its {@link Trigger} fires and its condition holds, run its action with its own
 * retry budget. Seed 001's {@code [[observers.handlers]]} entries are handlers; so is each action of a
 * seed-000 {@code [[observers]]} rule (and a rule with only a {@code subject} is a handler whose
 * action is {@code publish}).
 *
 * <p>{@code action} names an {@link dev.fraiseql.observers.spi.ActionProvider} ({@code webhook},
 * {@code slack}, {@code publish}, {@code sql}, {@code handler} for host-registered Java handlers).
 * {@link #settings()} holds the action's own keys ({@code webhook_url}, {@code subject},
 * {@code body_template}, ...), which the action validates.
 */
public final class HandlerConfig {
  /** Default wait for a synchronous handler: 5 s ({@code synchronous_timeout_ms}). */
  public static final Duration DEFAULT_SYNCHRONOUS_TIMEOUT = Duration.ofSeconds(5);

  private final String name;
  private final Trigger trigger;
  private final String action;
  private final Settings settings;
  private final String condition;
  private final RetryPolicy retry;
  private final boolean synchronous;
  private final Duration synchronousTimeout;
  private final Ordering ordering;
  private final String orderingKey;
  private final ConfigLocation location;

  private HandlerConfig(Builder b) {
    if (b.name == null || b.name.isBlank()) {
      throw new IllegalArgumentException("a handler needs a name");
    }
    this.name = b.name;
    this.trigger = Objects.requireNonNull(b.trigger, "handler " + b.name + " needs a trigger (event or table)");
    if (b.action == null || b.action.isBlank()) {
      throw new IllegalArgumentException("handler " + b.name + " needs an action");
    }
    this.action = b.action;
    this.settings = b.settings;
    this.condition = b.condition == null || b.condition.isBlank() ? null : b.condition;
    this.retry = b.retry;
    this.synchronous = b.synchronous;
    this.synchronousTimeout = b.synchronousTimeout;
    this.ordering = b.ordering;
    this.orderingKey = b.orderingKey == null || b.orderingKey.isBlank() ? null : b.orderingKey.trim();
    this.location = b.location != null ? b.location : ConfigLocation.code("handler " + b.name);
  }

  public static Builder builder(String name) {
    return new Builder().name(name);
  }

  public String name() {
    return name;
  }

  public Trigger trigger() {
    return trigger;
  }

  public String action() {
    return action;
  }

  public Settings settings() {
    return settings;
  }

  public Optional<String> condition() {
    return Optional.ofNullable(condition);
  }

  public RetryPolicy retry() {
    return retry;
  }

  /** Whether {@code Dispatch.awaitSynchronous()} waits for this handler (seed 001's {@code synchronous = true}). */
  public boolean synchronous() {
    return synchronous;
  }

  public Duration synchronousTimeout() {
    return synchronousTimeout;
  }

  /** Whether this handler sees one entity's events in commit order ({@code ordering}; default {@link Ordering#NONE}). */
  public Ordering ordering() {
    return ordering;
  }

  /**
   * What identifies the entity when {@link #ordering()} is {@link Ordering#KEY} ({@code ordering_key}): a
   * field path in the condition language ({@code customer_id}, {@code new.customer_id},
   * {@code context.tenant_id}; {@code data.new.x} / {@code data.old.x} read the event JSON's rows). Empty:
   * the table and the row's {@code id}.
   */
  public Optional<String> orderingKey() {
    return Optional.ofNullable(orderingKey);
  }

  public ConfigLocation location() {
    return location;
  }

  public Builder toBuilder() {
    return new Builder().name(name).trigger(trigger).action(action).settings(settings).condition(condition)
        .retry(retry).synchronous(synchronous).synchronousTimeout(synchronousTimeout).ordering(ordering).orderingKey(orderingKey).location(location);
  }

  @Override
  public String toString() {
    return "HandlerConfig{" + name + " on " + trigger + " → " + action
        + (condition != null ? " if " + condition : "") + (synchronous ? " (synchronous)" : "")
        + (ordering == Ordering.KEY ? " (ordered by " + (orderingKey != null ? orderingKey : "table and id") + ")" : "") + "}";
  }

  /** Builds a {@link HandlerConfig}: name, trigger and action are required. */
  public static final class Builder {
    private String name;
    private Trigger trigger;
    private String action;
    private Settings settings = Settings.empty();
    private String condition;
    private RetryPolicy retry = RetryPolicy.ofDefaults();
    private boolean synchronous;
    private Duration synchronousTimeout = DEFAULT_SYNCHRONOUS_TIMEOUT;
    private Ordering ordering = Ordering.NONE;
    private String orderingKey;
    private ConfigLocation location;

    private Builder() {}

    public Builder name(String name) {
      this.name = name;
      return this;
    }

    public Builder trigger(Trigger trigger) {
      this.trigger = trigger;
      return this;
    }

    /** Shorthand for {@code trigger(Trigger.event(eventName))}. */
    public Builder event(String eventName) {
      return trigger(Trigger.event(eventName));
    }

    public Builder action(String action) {
      this.action = action;
      return this;
    }

    public Builder settings(Settings settings) {
      this.settings = Objects.requireNonNull(settings, "settings");
      return this;
    }

    /** A condition in the condition language, e.g. {@code status == 'published'}. */
    public Builder condition(String condition) {
      this.condition = condition;
      return this;
    }

    public Builder retry(RetryPolicy retry) {
      this.retry = Objects.requireNonNull(retry, "retry");
      return this;
    }

    public Builder synchronous(boolean synchronous) {
      this.synchronous = synchronous;
      return this;
    }

    public Builder synchronousTimeout(Duration timeout) {
      this.synchronousTimeout = Objects.requireNonNull(timeout, "timeout");
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

    public HandlerConfig build() {
      return new HandlerConfig(this);
    }
  }
}

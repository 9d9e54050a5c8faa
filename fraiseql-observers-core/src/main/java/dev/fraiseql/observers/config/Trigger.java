package dev.fraiseql.observers.config;

import dev.fraiseql.observers.ObservedEvent;
import dev.fraiseql.observers.Operation;
import java.util.Objects;
import java.util.Optional;

/**
 * What makes a handler fire: an event name ({@code event = "user.created"} in
 * {@code [[observers.handlers]]}) or a table and, optionally, an operation ({@code table = "tb_order"},
 * {@code event = "INSERT"} in a seed-000 rule). Matching is exact; rules are indexed, so a lookup
 * costs the same with 10 rules or 10,000.
 */
public final class Trigger {
  private final String eventName;
  private final String table;
  private final Operation operation;

  private Trigger(String eventName, String table, Operation operation) {
    this.eventName = eventName;
    this.table = table;
    this.operation = operation;
  }

  /** Fires on events named {@code name} ({@code user.created}). */
  public static Trigger event(String name) {
    if (name == null || name.isBlank()) {
      throw new IllegalArgumentException("event name must not be blank");
    }
    return new Trigger(name, null, null);
  }

  /** Fires on {@code operation} of {@code table}. */
  public static Trigger table(String table, Operation operation) {
    if (table == null || table.isBlank()) {
      throw new IllegalArgumentException("table must not be blank");
    }
    return new Trigger(null, table, Objects.requireNonNull(operation, "operation"));
  }

  /** Fires on every operation of {@code table}. */
  public static Trigger anyOperation(String table) {
    if (table == null || table.isBlank()) {
      throw new IllegalArgumentException("table must not be blank");
    }
    return new Trigger(null, table, null);
  }

  public Optional<String> eventName() {
    return Optional.ofNullable(eventName);
  }

  public Optional<String> table() {
    return Optional.ofNullable(table);
  }

  /** Empty for {@link #anyOperation(String)} and for event-name triggers. */
  public Optional<Operation> operation() {
    return Optional.ofNullable(operation);
  }

  public boolean matches(ObservedEvent e) {
    if (eventName != null) {
      return eventName.equals(e.name());
    }
    return table.equals(e.table()) && (operation == null || operation == e.operation());
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof Trigger)) {
      return false;
    }
    Trigger t = (Trigger) o;
    return Objects.equals(eventName, t.eventName) && Objects.equals(table, t.table) && operation == t.operation;
  }

  @Override
  public int hashCode() {
    return Objects.hash(eventName, table, operation);
  }

  @Override
  public String toString() {
    return eventName != null ? eventName : table + (operation == null ? "" : " " + operation);
  }
}

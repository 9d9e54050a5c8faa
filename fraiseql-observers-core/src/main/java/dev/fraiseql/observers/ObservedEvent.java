package dev.fraiseql.observers;

import dev.fraiseql.observers.internal.EventInternals;
import dev.fraiseql.observers.internal.EventJson;
import dev.fraiseql.observers.internal.JsonValues;
import dev.fraiseql.observers.internal.Uuid7;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;

/**
 * One committed row change: what the host tells the engine through {@link ObserverEngine#onCommit}.
 *
 * <p>An event has a time-ordered id (UUID v7), an {@link Operation}, the table ({@code tb_user}),
 * the entity and event name derived from it ({@code tb_user} + INSERT is {@code user.created}; an
 * explicit {@link Builder#name(String) name} overrides), an optional mutation name
 * ({@code createUser}), the commit timestamp, the new and old rows (INSERT has no old row, DELETE no
 * new row) and the {@link MutationContext}.
 *
 * <p>Immutable and thread-safe. Rows are deep-copied at build time from maps or from any
 * Jackson-serializable value. The default JSON ({@link #toJson()}) is the seed's webhook payload plus
 * {@code id} and {@code context}, and it is serialized once per event, however many handlers run:
 *
 * <pre>{@code
 * {"id":"0193...","event":"INSERT","table":"tb_user","timestamp":"2026-02-25T10:00:00Z",
 *  "data":{"new":{"id":"550e...","email":"alice@example.com","name":"Alice"},"old":null},
 *  "context":{"event_name":"user.created","mutation":"createUser","user_id":"u-1",...}}
 * }</pre>
 *
 * <p>Rows (and context attributes) are trees: maps and lists nested at most {@link #MAX_ROW_DEPTH} deep,
 * never containing themselves. The builder refuses anything else with an {@link IllegalArgumentException},
 * so every event the engine accepts can be serialized for webhooks and buses.
 */
public final class ObservedEvent {
  /**
   * How deep maps and lists may be nested in a row, the row itself being level 1 ({@value}): deeper
   * rows, and rows that contain themselves, are refused by {@link Builder#newRow} / {@link Builder#oldRow}.
   */
  public static final int MAX_ROW_DEPTH = JsonValues.MAX_DEPTH;

  static {
    EventInternals.install(ObservedEvent::jsonBytes, (e, json) -> e.json = json);
  }

  private final UUID id;
  private final Operation operation;
  private final String table;
  private final String entity;
  private final String name;
  private final String mutation;
  private final Instant timestamp;
  private final Map<String, Object> newRow;
  private final Map<String, Object> oldRow;
  private final MutationContext context;
  private volatile byte[] json;

  private ObservedEvent(Builder b) {
    this.operation = Objects.requireNonNull(b.operation, "operation is required (INSERT, UPDATE or DELETE)");
    this.table = requireText(b.table, "table");
    this.id = b.id != null ? b.id : Uuid7.next();
    this.entity = entityOf(table);
    this.name = b.name != null ? requireText(b.name, "name") : entity + "." + operation.verb();
    this.mutation = b.mutation;
    this.timestamp = b.timestamp != null ? b.timestamp : Instant.now().truncatedTo(ChronoUnit.MILLIS);
    this.newRow = b.newRow;
    this.oldRow = b.oldRow;
    this.context = b.context;
    if (operation == Operation.INSERT && oldRow != null) {
      throw new IllegalArgumentException("an INSERT event has no old row (table " + table + ")");
    }
    if (operation == Operation.DELETE && newRow != null) {
      throw new IllegalArgumentException("a DELETE event has no new row (table " + table + ")");
    }
  }

  private static String requireText(String s, String what) {
    if (s == null || s.isBlank()) {
      throw new IllegalArgumentException(what + " is required and must not be blank");
    }
    return s;
  }

  /** {@code tb_user} → {@code user}; {@code public.tb_order} → {@code order}; {@code users} → {@code users}. */
  static String entityOf(String table) {
    String t = table;
    int dot = t.lastIndexOf('.');
    if (dot >= 0) {
      t = t.substring(dot + 1);
    }
    if (t.startsWith("tb_") && t.length() > 3) {
      t = t.substring(3);
    }
    return t;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** Shorthand for an INSERT with a new row. */
  public static ObservedEvent insert(String table, Object newRow) {
    return builder().operation(Operation.INSERT).table(table).newRow(newRow).build();
  }

  /** Shorthand for an UPDATE with the new and old rows. */
  public static ObservedEvent update(String table, Object newRow, Object oldRow) {
    return builder().operation(Operation.UPDATE).table(table).newRow(newRow).oldRow(oldRow).build();
  }

  /** Shorthand for a DELETE with the old row. */
  public static ObservedEvent delete(String table, Object oldRow) {
    return builder().operation(Operation.DELETE).table(table).oldRow(oldRow).build();
  }

  /**
   * Reads an event back from its default JSON (as published to a bus by this library). An event
   * read from JSON that carries its id, timestamp and {@code context.event_name} (everything this
   * library writes does) keeps those bytes as its {@link #toJson() default JSON}: forwarding it
   * sends exactly what was read, unknown fields and key order included.
   *
   * @throws IllegalArgumentException naming what is wrong, when the bytes are not such an event
   */
  public static ObservedEvent fromJson(byte[] json) {
    return EventJson.read(json);
  }

  public UUID id() {
    return id;
  }

  public Operation operation() {
    return operation;
  }

  public String table() {
    return table;
  }

  /** The entity: the table without schema and without the {@code tb_} prefix. */
  public String entity() {
    return entity;
  }

  /** The event name handlers match on: {@code user.created} unless overridden. */
  public String name() {
    return name;
  }

  public Optional<String> mutation() {
    return Optional.ofNullable(mutation);
  }

  public Instant timestamp() {
    return timestamp;
  }

  /** The row after the change; empty for DELETE. Unmodifiable, deeply. */
  public Optional<Map<String, Object>> newRow() {
    return Optional.ofNullable(newRow);
  }

  /** The row before the change; empty for INSERT. Unmodifiable, deeply. */
  public Optional<Map<String, Object>> oldRow() {
    return Optional.ofNullable(oldRow);
  }

  public MutationContext context() {
    return context;
  }

  /** The default JSON payload as UTF-8 bytes (a fresh copy). */
  public byte[] toJson() {
    return jsonBytes().clone();
  }

  /** The default JSON payload as a string. */
  public String toJsonString() {
    return new String(jsonBytes(), StandardCharsets.UTF_8);
  }

  /** The cached payload, shared: callers inside the library must not modify it. */
  byte[] jsonBytes() {
    byte[] j = json;
    if (j == null) {
      j = EventJson.write(this);
      json = j;
    }
    return j;
  }

  public Builder toBuilder() {
    Builder b = new Builder();
    b.id = id;
    b.operation = operation;
    b.table = table;
    b.name = name.equals(entity + "." + operation.verb()) ? null : name;
    b.mutation = mutation;
    b.timestamp = timestamp;
    b.newRow = newRow;
    b.oldRow = oldRow;
    b.context = context;
    return b;
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof ObservedEvent)) {
      return false;
    }
    ObservedEvent e = (ObservedEvent) o;
    return id.equals(e.id) && operation == e.operation && table.equals(e.table) && name.equals(e.name)
        && Objects.equals(mutation, e.mutation) && timestamp.equals(e.timestamp)
        && Objects.equals(newRow, e.newRow) && Objects.equals(oldRow, e.oldRow)
        && context.equals(e.context);
  }

  @Override
  public int hashCode() {
    return id.hashCode();
  }

  /** Names the event without its row data (rows may hold personal data). */
  @Override
  public String toString() {
    return "ObservedEvent{" + name + " " + operation + " " + table + " id=" + id
        + (mutation != null ? " mutation=" + mutation : "") + "}";
  }

  /** Builds an {@link ObservedEvent}; {@code operation} and {@code table} are required. */
  public static final class Builder {
    private UUID id;
    private Operation operation;
    private String table;
    private String name;
    private String mutation;
    private Instant timestamp;
    private Map<String, Object> newRow;
    private Map<String, Object> oldRow;
    private MutationContext context = MutationContext.empty();

    private Builder() {}

    /** Sets the id; by default a fresh UUID v7. Keep it stable when re-submitting the same commit. */
    public Builder id(UUID id) {
      this.id = id;
      return this;
    }

    public Builder operation(Operation operation) {
      this.operation = operation;
      return this;
    }

    public Builder table(String table) {
      this.table = table;
      return this;
    }

    /** Overrides the derived event name ({@code user.created}). */
    public Builder name(String name) {
      this.name = name;
      return this;
    }

    /** The mutation that committed, e.g. {@code createUser}; it names the event in logs. */
    public Builder mutation(String mutation) {
      this.mutation = mutation;
      return this;
    }

    /** The commit timestamp; by default now, to the millisecond. */
    public Builder timestamp(Instant timestamp) {
      this.timestamp = timestamp;
      return this;
    }

    /**
     * The new row: a {@code Map} or any Jackson-serializable value that maps to a JSON object.
     *
     * @throws IllegalArgumentException when it is not a JSON object, is nested more than
     *     {@link #MAX_ROW_DEPTH} deep, or contains itself
     */
    public Builder newRow(Object row) {
      this.newRow = JsonValues.freezeRow(row, "new row");
      return this;
    }

    /**
     * The old row: a {@code Map} or any Jackson-serializable value that maps to a JSON object.
     *
     * @throws IllegalArgumentException as {@link #newRow(Object)}
     */
    public Builder oldRow(Object row) {
      this.oldRow = JsonValues.freezeRow(row, "old row");
      return this;
    }

    public Builder context(MutationContext context) {
      this.context = Objects.requireNonNull(context, "context");
      return this;
    }

    public ObservedEvent build() {
      return new ObservedEvent(this);
    }
  }
}

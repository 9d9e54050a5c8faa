package dev.fraiseql.observers;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The context of the request that made the mutation: who, for which tenant, under which request id,
 * plus free attributes. Observer events carry it unchanged to every side effect (seed 000: "observer
 * events carry the same mutation context (user ID, tenant ID) as the originating request").
 *
 * <p>Immutable. Attribute values must be JSON-serializable (strings, numbers, booleans, lists, maps).
 */
public final class MutationContext {
  /**
   * The attribute holding the W3C {@code traceparent} of the trace that made the mutation
   * ({@code 00-<trace id>-<span id>-<flags>}). It travels with the event (its JSON, the outbox, every
   * bus); the webhook action sends it as the {@code traceparent} header, buses as a message header,
   * and the engine puts its trace and span ids in the MDC. The OpenTelemetry module sets it at
   * {@code onCommit}; a host without OpenTelemetry may set it itself.
   */
  public static final String TRACEPARENT = "traceparent";
  /** The attribute holding the W3C {@code tracestate} that goes with {@link #TRACEPARENT}. */
  public static final String TRACESTATE = "tracestate";

  private static final MutationContext EMPTY = new Builder().build();

  private final String userId;
  private final String tenantId;
  private final String requestId;
  private final Map<String, Object> attributes;

  private MutationContext(Builder b) {
    this.userId = b.userId;
    this.tenantId = b.tenantId;
    this.requestId = b.requestId;
    this.attributes = Collections.unmodifiableMap(new LinkedHashMap<>(b.attributes));
  }

  public static MutationContext empty() {
    return EMPTY;
  }

  public static Builder builder() {
    return new Builder();
  }

  public Optional<String> userId() {
    return Optional.ofNullable(userId);
  }

  public Optional<String> tenantId() {
    return Optional.ofNullable(tenantId);
  }

  public Optional<String> requestId() {
    return Optional.ofNullable(requestId);
  }

  /**
   * The {@link #TRACEPARENT} attribute when it is a well-formed W3C {@code traceparent} (version 00
   * layout, lowercase hex, trace and span ids not all zero); empty otherwise, so that a malformed value
   * is never sent on as a header.
   */
  public Optional<String> traceparent() {
    Object v = attributes.get(TRACEPARENT);
    return v instanceof String && isTraceparent((String) v) ? Optional.of((String) v) : Optional.empty();
  }

  /**
   * The {@link #TRACESTATE} attribute when {@link #traceparent()} is present and the value is printable
   * ASCII of at most 512 characters; empty otherwise.
   */
  public Optional<String> tracestate() {
    Object v = attributes.get(TRACESTATE);
    if (!(v instanceof String) || ((String) v).isEmpty() || ((String) v).length() > 512 || traceparent().isEmpty()) {
      return Optional.empty();
    }
    String s = (String) v;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < 0x20 || c > 0x7e) {
        return Optional.empty();
      }
    }
    return Optional.of(s);
  }

  /** {@code 00-<32 hex>-<16 hex>-<2 hex>} (a later version may append fields after a dash). */
  static boolean isTraceparent(String v) {
    if (v.length() < 55 || (v.length() > 55 && v.charAt(55) != '-') || v.charAt(2) != '-' || v.charAt(35) != '-'
        || v.charAt(52) != '-' || v.startsWith("ff")) {
      return false;
    }
    if (v.length() > 55 && v.startsWith("00")) {
      return false; // version 00 has exactly four fields
    }
    return hex(v, 0, 2) && hex(v, 3, 35) && hex(v, 36, 52) && hex(v, 53, 55) && !zeros(v, 3, 35) && !zeros(v, 36, 52);
  }

  private static boolean hex(String v, int from, int to) {
    for (int i = from; i < to; i++) {
      char c = v.charAt(i);
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
        return false;
      }
    }
    return true;
  }

  private static boolean zeros(String v, int from, int to) {
    for (int i = from; i < to; i++) {
      if (v.charAt(i) != '0') {
        return false;
      }
    }
    return true;
  }

  /** Free attributes, in insertion order; never null. */
  public Map<String, Object> attributes() {
    return attributes;
  }

  public Builder toBuilder() {
    Builder b = new Builder();
    b.userId = userId;
    b.tenantId = tenantId;
    b.requestId = requestId;
    b.attributes.putAll(attributes);
    return b;
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof MutationContext)) {
      return false;
    }
    MutationContext c = (MutationContext) o;
    return Objects.equals(userId, c.userId)
        && Objects.equals(tenantId, c.tenantId)
        && Objects.equals(requestId, c.requestId)
        && attributes.equals(c.attributes);
  }

  @Override
  public int hashCode() {
    return Objects.hash(userId, tenantId, requestId, attributes);
  }

  @Override
  public String toString() {
    return "MutationContext{user=" + userId + ", tenant=" + tenantId + ", request=" + requestId
        + ", attributes=" + attributes.keySet() + "}";
  }

  /** Builds a {@link MutationContext}. */
  public static final class Builder {
    private String userId;
    private String tenantId;
    private String requestId;
    private final Map<String, Object> attributes = new LinkedHashMap<>();

    private Builder() {}

    public Builder userId(String userId) {
      this.userId = userId;
      return this;
    }

    public Builder tenantId(String tenantId) {
      this.tenantId = tenantId;
      return this;
    }

    public Builder requestId(String requestId) {
      this.requestId = requestId;
      return this;
    }

    /**
     * A free attribute: a string, number, boolean, or a map, list or bean, deep-copied like a row (nested
     * at most {@value dev.fraiseql.observers.internal.JsonValues#MAX_DEPTH} deep, no cycles).
     *
     * @throws IllegalArgumentException when the value is nested too deeply, contains itself, or is not JSON
     */
    public Builder attribute(String name, Object value) {
      Objects.requireNonNull(name, "name");
      attributes.put(name, dev.fraiseql.observers.internal.JsonValues.freeze(Objects.requireNonNull(value, "value"),
          "context attribute `" + name + "`"));
      return this;
    }

    public Builder attributes(Map<String, ?> values) {
      values.forEach(this::attribute);
      return this;
    }

    public MutationContext build() {
      return new MutationContext(this);
    }
  }
}

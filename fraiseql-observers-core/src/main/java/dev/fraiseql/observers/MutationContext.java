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

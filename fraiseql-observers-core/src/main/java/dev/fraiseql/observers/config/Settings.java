package dev.fraiseql.observers.config;

import dev.fraiseql.observers.ObserverConfigException;
import dev.fraiseql.observers.internal.DidYouMean;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * The keys and values of one TOML table (a handler's, an action's, a backend's), each with the
 * place it was written, so that a module validating its own keys can still point at
 * {@code fraiseql.toml:14:1}. {@code ${VAR}} references are already expanded.
 *
 * <p>Values are {@link String}, {@link Long}, {@link Double}, {@link Boolean}, {@link List} or a nested
 * {@link Settings}. Immutable. {@link #toString()} lists keys only, never values (they may be secrets).
 */
public final class Settings {
  private static final Settings EMPTY = new Settings(ConfigLocation.code(""), Map.of(), Map.of(), Map.of());

  private final ConfigLocation location;
  private final Map<String, Object> values;
  private final Map<String, ConfigLocation> locations;
  private final Map<String, String> written;

  private Settings(ConfigLocation location, Map<String, Object> values, Map<String, ConfigLocation> locations,
      Map<String, String> written) {
    this.location = location;
    this.values = values;
    this.locations = locations;
    this.written = written;
  }

  public static Settings empty() {
    return EMPTY;
  }

  public static Builder builder(ConfigLocation location) {
    return new Builder(location);
  }

  /** Settings built in code from plain values (section names the place in messages). */
  public static Settings of(String section, Map<String, ?> values) {
    Builder b = builder(ConfigLocation.code(section));
    values.forEach(b::put);
    return b.build();
  }

  /** Where the table starts, and its section name. */
  public ConfigLocation location() {
    return location;
  }

  /** Where {@code key} was written, or the table's own location. */
  public ConfigLocation location(String key) {
    return locations.getOrDefault(key, location);
  }

  public Set<String> keys() {
    return values.keySet();
  }

  public boolean has(String key) {
    return values.containsKey(key);
  }

  public boolean isEmpty() {
    return values.isEmpty();
  }

  /** The raw value. */
  public Optional<Object> value(String key) {
    return Optional.ofNullable(values.get(key));
  }

  public Map<String, Object> asMap() {
    return values;
  }

  /** Whether the value of {@code key} came (wholly or partly) from a {@code ${VAR}} of the environment. */
  public boolean fromEnvironment(String key) {
    return written.containsKey(key);
  }

  /**
   * How the value of {@code key} was written in the file, when it used {@code ${VAR}}
   * ({@code ${NATS_URL}}); empty for a value written as it is (or set in code).
   */
  public Optional<String> asWritten(String key) {
    return Optional.ofNullable(written.get(key));
  }

  /**
   * The value of {@code key} as it may appear in a message or a log line: as written when it came from
   * the environment, with URL credentials hidden ({@link ConfigText#shown(Object, String)}).
   */
  public String shown(String key) {
    return ConfigText.shown(values.get(key), written.get(key));
  }

  public Optional<String> string(String key) {
    Object v = values.get(key);
    if (v == null) {
      return Optional.empty();
    }
    if (!(v instanceof String)) {
      throw typeError(key, "a string", v);
    }
    return Optional.of((String) v);
  }

  public String requireString(String key, String fix) {
    return string(key).orElseThrow(() -> new ObserverConfigException(
        new ConfigProblem(location, key, "missing required key `" + key + "`", fix)));
  }

  public Optional<Long> longValue(String key) {
    Object v = values.get(key);
    if (v == null) {
      return Optional.empty();
    }
    if (!(v instanceof Long) && !(v instanceof Integer)) {
      throw typeError(key, "an integer", v);
    }
    return Optional.of(((Number) v).longValue());
  }

  public long longValue(String key, long defaultValue) {
    return longValue(key).orElse(defaultValue);
  }

  /** An integer in [min, max]. */
  public int intValue(String key, int defaultValue, int min, int max) {
    long v = longValue(key, defaultValue);
    if (v < min || v > max) {
      throw new ObserverConfigException(new ConfigProblem(location(key), key,
          "`" + key + "` is " + v + ", out of range", "use a value from " + min + " to " + max));
    }
    return (int) v;
  }

  public Optional<Double> doubleValue(String key) {
    Object v = values.get(key);
    if (v == null) {
      return Optional.empty();
    }
    if (!(v instanceof Number)) {
      throw typeError(key, "a number", v);
    }
    return Optional.of(((Number) v).doubleValue());
  }

  public boolean bool(String key, boolean defaultValue) {
    Object v = values.get(key);
    if (v == null) {
      return defaultValue;
    }
    if (!(v instanceof Boolean)) {
      throw typeError(key, "true or false", v);
    }
    return (Boolean) v;
  }

  /** A duration written as integer milliseconds (keys end in {@code _ms}). */
  public Duration millis(String key, Duration defaultValue) {
    Optional<Long> v = longValue(key);
    if (v.isEmpty()) {
      return defaultValue;
    }
    if (v.get() < 0) {
      throw new ObserverConfigException(new ConfigProblem(location(key), key,
          "`" + key + "` is negative", "give a number of milliseconds, 0 or more"));
    }
    return Duration.ofMillis(v.get());
  }

  public List<String> stringList(String key) {
    Object v = values.get(key);
    if (v == null) {
      return List.of();
    }
    if (v instanceof String) {
      return List.of((String) v);
    }
    if (!(v instanceof List)) {
      throw typeError(key, "an array of strings", v);
    }
    List<String> out = new ArrayList<>();
    for (Object o : (List<?>) v) {
      if (!(o instanceof String)) {
        throw typeError(key, "an array of strings", v);
      }
      out.add((String) o);
    }
    return Collections.unmodifiableList(out);
  }

  public Optional<Settings> table(String key) {
    Object v = values.get(key);
    if (v == null) {
      return Optional.empty();
    }
    if (!(v instanceof Settings)) {
      throw typeError(key, "a table", v);
    }
    return Optional.of((Settings) v);
  }

  /** A table of string values, such as {@code headers = { X-Tenant = "${TENANT}" }}. */
  public Map<String, String> stringMap(String key) {
    Optional<Settings> t = table(key);
    if (t.isEmpty()) {
      return Map.of();
    }
    Map<String, String> out = new LinkedHashMap<>();
    for (String k : t.get().keys()) {
      out.put(k, t.get().string(k).orElseThrow());
    }
    return Collections.unmodifiableMap(out);
  }

  /**
   * One problem per key not in {@code known}, with a "did you mean" when one is close.
   */
  public List<ConfigProblem> unknownKeys(Collection<String> known) {
    List<ConfigProblem> problems = new ArrayList<>();
    for (String k : values.keySet()) {
      if (!known.contains(k)) {
        problems.add(new ConfigProblem(location(k), k, "unknown key `" + ConfigText.visible(k) + "`",
            DidYouMean.hint(k, known)));
      }
    }
    return problems;
  }

  /** A copy with {@code key} set (or replaced). */
  public Settings with(String key, Object value) {
    Builder b = toBuilder();
    b.put(key, value, location(key), null);
    return b.build();
  }

  /** A copy without {@code key}. */
  public Settings without(String key) {
    Builder b = new Builder(location);
    for (String k : values.keySet()) {
      if (!k.equals(key)) {
        b.put(k, values.get(k), locations.get(k), written.get(k));
      }
    }
    return b.build();
  }

  public Builder toBuilder() {
    Builder b = new Builder(location);
    for (String k : values.keySet()) {
      b.put(k, values.get(k), locations.get(k), written.get(k));
    }
    return b;
  }

  private ObserverConfigException typeError(String key, String expected, Object got) {
    return new ObserverConfigException(new ConfigProblem(location(key), key,
        "`" + key + "` must be " + expected + ", not " + describeType(got), "write it as " + expected));
  }

  /** The TOML type of a value, never the value itself. */
  public static String describeType(Object v) {
    if (v instanceof String) {
      return "a string";
    }
    if (v instanceof Long || v instanceof Integer) {
      return "an integer";
    }
    if (v instanceof Number) {
      return "a float";
    }
    if (v instanceof Boolean) {
      return "a boolean";
    }
    if (v instanceof List) {
      return "an array";
    }
    if (v instanceof Settings) {
      return "a table";
    }
    return "a " + v.getClass().getSimpleName();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Settings && values.equals(((Settings) o).values);
  }

  @Override
  public int hashCode() {
    return values.hashCode();
  }

  @Override
  public String toString() {
    return "Settings" + values.keySet();
  }

  /** Builds {@link Settings}; keys keep insertion order. */
  public static final class Builder {
    private final ConfigLocation location;
    private final Map<String, Object> values = new LinkedHashMap<>();
    private final Map<String, ConfigLocation> locations = new LinkedHashMap<>();
    private final Map<String, String> written = new LinkedHashMap<>();

    private Builder(ConfigLocation location) {
      this.location = Objects.requireNonNull(location, "location");
    }

    public Builder put(String key, Object value) {
      return put(key, value, location);
    }

    public Builder put(String key, Object value, ConfigLocation at) {
      return put(key, value, at, null);
    }

    /**
     * Sets {@code key}; {@code asWritten} is the text as written in the file when the value came from
     * {@code ${VAR}} (messages show it instead of the value), or null.
     */
    public Builder put(String key, Object value, ConfigLocation at, String asWritten) {
      Objects.requireNonNull(key, "key");
      Objects.requireNonNull(value, "value of " + key);
      values.put(key, normalize(value, key));
      locations.put(key, at == null ? location : at);
      if (asWritten == null) {
        written.remove(key);
      } else {
        written.put(key, asWritten);
      }
      return this;
    }

    private Object normalize(Object v, String key) {
      if (v instanceof Integer || v instanceof Short || v instanceof Byte) {
        return ((Number) v).longValue();
      }
      if (v instanceof Float) {
        return ((Float) v).doubleValue();
      }
      if (v instanceof Map) {
        Builder nested = new Builder(location.withSection(location.section() + "." + key));
        ((Map<?, ?>) v).forEach((k, x) -> nested.put(String.valueOf(k), x));
        return nested.build();
      }
      if (v instanceof List) {
        List<Object> out = new ArrayList<>();
        for (Object o : (List<?>) v) {
          out.add(normalize(o, key));
        }
        return Collections.unmodifiableList(out);
      }
      return v;
    }

    public Settings build() {
      return new Settings(location, Collections.unmodifiableMap(new LinkedHashMap<>(values)),
          Collections.unmodifiableMap(new LinkedHashMap<>(locations)),
          written.isEmpty() ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(written)));
    }
  }
}

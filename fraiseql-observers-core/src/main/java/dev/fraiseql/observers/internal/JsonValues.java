package dev.fraiseql.observers.internal;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.AbstractList;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.RandomAccess;

/** Deep, immutable copies of JSON-like values, and the library's one ObjectMapper. */
public final class JsonValues {
  /** Shared, configured once; thread-safe for reading and writing. */
  public static final ObjectMapper MAPPER = JsonMapper.builder()
      .addModule(javaTimeAsIso())
      .configure(com.fasterxml.jackson.databind.cfg.JsonNodeFeature.STRIP_TRAILING_BIGDECIMAL_ZEROES, false)
      .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
      .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS)
      .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
      .build();

  private JsonValues() {}

  /** java.time values (and UUIDs) as their ISO-8601 text, without needing jackson-datatype-jsr310. */
  private static com.fasterxml.jackson.databind.Module javaTimeAsIso() {
    com.fasterxml.jackson.databind.module.SimpleModule m = new com.fasterxml.jackson.databind.module.SimpleModule("fraiseql-java-time");
    com.fasterxml.jackson.databind.ser.std.ToStringSerializer s = com.fasterxml.jackson.databind.ser.std.ToStringSerializer.instance;
    for (Class<?> c : new Class<?>[] {java.time.Instant.class, java.time.OffsetDateTime.class, java.time.ZonedDateTime.class,
        java.time.LocalDate.class, java.time.LocalDateTime.class, java.time.LocalTime.class, java.time.OffsetTime.class,
        java.time.Duration.class, java.time.Period.class, java.time.Year.class, java.time.YearMonth.class}) {
      m.addSerializer(c, s);
    }
    return m;
  }

  /**
   * How deep maps and lists may be nested in a row or a context attribute (the row itself is level 1).
   * An event's default JSON adds two levels around a row ({@code {"data": {"new": row}}}), so every
   * accepted event serializes well within Jackson's nesting limit (1000); deeper values, and values that
   * contain themselves, are refused when the event is built.
   */
  public static final int MAX_DEPTH = 100;

  /** A row: null stays null, anything else must become a JSON object. */
  @SuppressWarnings("unchecked")
  public static Map<String, Object> freezeRow(Object row, String what) {
    if (row == null) {
      return null;
    }
    Object frozen = freeze(row, what);
    if (!(frozen instanceof Map)) {
      throw new IllegalArgumentException(what + " must be a JSON object (a Map or a bean), got "
          + row.getClass().getName());
    }
    return (Map<String, Object>) frozen;
  }

  /** Strings, numbers, booleans and null as they are; maps and lists copied and made unmodifiable. */
  public static Object freeze(Object value) {
    return freeze(value, "the value");
  }

  /**
   * Like {@link #freeze(Object)}; {@code what} names the value in errors ({@code new row}).
   *
   * @throws IllegalArgumentException when maps and lists are nested more than {@link #MAX_DEPTH} deep,
   *     when a map or list contains itself, or when a value cannot be turned into JSON
   */
  public static Object freeze(Object value, String what) {
    return new Freezer(what).freeze(value, 1);
  }

  /** One deep copy: the maps and lists on the path from the top, to catch cycles. */
  private static final class Freezer {
    private final String what;
    private Object[] path = new Object[8];

    Freezer(String what) {
      this.what = what;
    }

    Object freeze(Object value, int depth) {
      if (value == null || value instanceof String || value instanceof Boolean) {
        return value;
      }
      if (value instanceof Integer || value instanceof Long || value instanceof Double
          || value instanceof BigDecimal || value instanceof BigInteger || value instanceof Float
          || value instanceof Short || value instanceof Byte) {
        return value;
      }
      if (value instanceof FrozenMap || value instanceof FrozenList) {
        // deep-frozen already (built only from frozen values, so it has no cycle); only its height counts
        if (depth - 1 + height(value) > MAX_DEPTH) {
          throw tooDeep();
        }
        return value;
      }
      if (value instanceof Map) {
        enter(value, depth);
        Map<?, ?> m = (Map<?, ?>) value;
        LinkedHashMap<String, Object> copy = new LinkedHashMap<>(Math.max(4, m.size() * 4 / 3 + 1));
        for (Map.Entry<?, ?> e : m.entrySet()) {
          copy.put(String.valueOf(e.getKey()), freeze(e.getValue(), depth + 1));
        }
        path[depth - 1] = null;
        return new FrozenMap<>(copy);
      }
      if (value instanceof List) {
        enter(value, depth);
        List<?> l = (List<?>) value;
        ArrayList<Object> copy = new ArrayList<>(l.size());
        for (Object o : l) {
          copy.add(freeze(o, depth + 1));
        }
        path[depth - 1] = null;
        return new FrozenList(copy);
      }
      if (value instanceof Character || value instanceof Enum || value instanceof CharSequence
          || value instanceof java.util.UUID || value instanceof java.time.temporal.TemporalAccessor
          || value instanceof java.time.Duration) {
        return value.toString();
      }
      // Beans, JsonNodes, arrays...: let Jackson say what JSON they are (it refuses self-references and
      // stops runaway nesting at its own depth limit, with an IllegalArgumentException).
      Object plain = MAPPER.convertValue(value, Object.class);
      if (plain == value) {
        return value;
      }
      return freeze(plain, depth);
    }

    /** Checks depth and cycles before copying the map or list {@code container} at {@code depth}. */
    private void enter(Object container, int depth) {
      for (int i = 0; i < depth - 1; i++) { // a cycle first: it is the better explanation of a runaway depth
        if (path[i] == container) {
          throw new IllegalArgumentException(what + " contains itself: a map or list " + (depth - 1)
              + " levels down is one of the maps or lists that contain it; a row must be a tree of maps, lists"
              + " and values (copy the shared part instead of referring back to it)");
        }
      }
      if (depth > MAX_DEPTH) {
        throw tooDeep();
      }
      if (depth > path.length) {
        path = java.util.Arrays.copyOf(path, Math.min(MAX_DEPTH, path.length * 2));
      }
      path[depth - 1] = container;
    }

    private IllegalArgumentException tooDeep() {
      return new IllegalArgumentException(what + " is nested more than " + MAX_DEPTH + " levels deep (maps and"
          + " lists inside one another); it could not be sent as JSON to webhooks and buses. Flatten it, or carry"
          + " the deep part as a JSON string");
    }
  }

  /** Levels of maps and lists in {@code v}: 0 for a scalar, 1 for a flat map or list. */
  static int height(Object v) {
    if (v instanceof FrozenMap) {
      return ((FrozenMap<?>) v).height();
    }
    if (v instanceof FrozenList) {
      return ((FrozenList) v).height;
    }
    return 0;
  }

  /** Wraps a map whose values are all frozen already (the caller gives it up). */
  public static Map<String, Object> frozenMap(LinkedHashMap<String, Object> ownedFrozenValues) {
    return new FrozenMap<>(ownedFrozenValues);
  }

  /** Wraps a list whose elements are all frozen already (the caller gives it up). */
  public static List<Object> frozenList(ArrayList<Object> ownedFrozenElements) {
    return new FrozenList(ownedFrozenElements);
  }

  /** An unmodifiable list of frozen values; marks "deep-frozen" so that freezing it again is free. */
  private static final class FrozenList extends AbstractList<Object> implements RandomAccess {
    private final List<Object> l;
    final int height;

    FrozenList(ArrayList<Object> l) {
      this.l = l;
      int h = 0;
      for (Object o : l) {
        if (o instanceof FrozenMap || o instanceof FrozenList) {
          h = Math.max(h, height(o));
        }
      }
      this.height = h + 1;
    }

    @Override
    public Object get(int index) {
      return l.get(index);
    }

    @Override
    public int size() {
      return l.size();
    }
  }
}

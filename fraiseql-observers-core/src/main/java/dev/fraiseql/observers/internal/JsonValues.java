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

  /** A row: null stays null, anything else must become a JSON object. */
  @SuppressWarnings("unchecked")
  public static Map<String, Object> freezeRow(Object row, String what) {
    if (row == null) {
      return null;
    }
    Object frozen = freeze(row);
    if (!(frozen instanceof Map)) {
      throw new IllegalArgumentException(what + " must be a JSON object (a Map or a bean), got "
          + row.getClass().getName());
    }
    return (Map<String, Object>) frozen;
  }

  /** Strings, numbers, booleans and null as they are; maps and lists copied and made unmodifiable. */
  public static Object freeze(Object value) {
    if (value == null || value instanceof String || value instanceof Boolean) {
      return value;
    }
    if (value instanceof Integer || value instanceof Long || value instanceof Double
        || value instanceof BigDecimal || value instanceof BigInteger || value instanceof Float
        || value instanceof Short || value instanceof Byte) {
      return value;
    }
    if (value instanceof FrozenMap || value instanceof FrozenList) {
      return value; // deep-frozen already: built only by this class from frozen values
    }
    if (value instanceof Map) {
      Map<?, ?> m = (Map<?, ?>) value;
      LinkedHashMap<String, Object> copy = new LinkedHashMap<>(Math.max(4, m.size() * 4 / 3 + 1));
      for (Map.Entry<?, ?> e : m.entrySet()) {
        copy.put(String.valueOf(e.getKey()), freeze(e.getValue()));
      }
      return new FrozenMap<>(copy);
    }
    if (value instanceof List) {
      List<?> l = (List<?>) value;
      ArrayList<Object> copy = new ArrayList<>(l.size());
      for (Object o : l) {
        copy.add(freeze(o));
      }
      return new FrozenList(copy);
    }
    if (value instanceof Character || value instanceof Enum || value instanceof CharSequence
        || value instanceof java.util.UUID || value instanceof java.time.temporal.TemporalAccessor
        || value instanceof java.time.Duration) {
      return value.toString();
    }
    // Beans, JsonNodes, dates, UUIDs, arrays...: let Jackson say what JSON they are.
    Object plain = MAPPER.convertValue(value, Object.class);
    if (plain == value) {
      return value;
    }
    return freeze(plain);
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

    FrozenList(ArrayList<Object> l) {
      this.l = l;
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

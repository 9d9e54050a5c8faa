package dev.fraiseql.observers.internal.condition;

import dev.fraiseql.observers.ObservedEvent;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * What {@code ordering_key} names, compiled: the key that says which deliveries of an ordered handler
 * must run one after the other.
 *
 * <ul>
 *   <li>No path: the table and the row's {@code id} (the new row's, or the old row's for DELETE); a row
 *       without {@code id} is keyed by its table alone (all of that table's events in order: correct,
 *       but serial; name the row's key with {@code ordering_key}).
 *   <li>A path in the condition language ({@code customer_id}, {@code new.customer_id},
 *       {@code context.tenant_id}); {@code data.new.x} and {@code data.old.x} read the new / old row, as
 *       the event's JSON spells them. The key is the value alone (so {@code customer_id} orders a
 *       customer's events across tables). An event where the path is missing or null falls back to the
 *       default key.
 * </ul>
 *
 * Numbers are keyed by value ({@code 7}, {@code 7L} and {@code 7.0} are one key); other values by their
 * text.
 */
public final class OrderingKey {
  private static final Function<ObservedEvent, Object> DEFAULT = OrderingKey::defaultKey;

  private OrderingKey() {}

  /**
   * The key function for {@code path} (empty: the default key).
   *
   * @throws ConditionSyntaxException when the path does not parse (position within {@code path})
   */
  public static Function<ObservedEvent, Object> compile(Optional<String> path) {
    if (path.isEmpty() || path.get().isBlank()) {
      return DEFAULT;
    }
    String p = path.get().trim();
    int shift = 0;
    if (p.startsWith("data.new.") || p.startsWith("data.old.")) {
      p = p.substring(5); // the payload's data.new.x is the condition language's new.x
      shift = 5;
    }
    Function<ObservedEvent, Object> f;
    try {
      f = ConditionCompiler.path(p);
    } catch (ConditionSyntaxException e) {
      throw shift == 0 ? e : new ConditionSyntaxException(e.reason(), e.position() + shift, e.hint().orElse(null));
    }
    return e -> {
      Object v = f.apply(e);
      return v == null ? defaultKey(e) : normalise(v);
    };
  }

  static Object defaultKey(ObservedEvent e) {
    Object id = e.newRow().map(OrderingKey::id).orElse(null);
    if (id == null) {
      id = e.oldRow().map(OrderingKey::id).orElse(null);
    }
    return id == null ? e.table() : new RowKey(e.table(), id instanceof String ? id : normalise(id));
  }

  /** The default key: a row of a table (no string built per event). */
  private record RowKey(String table, Object id) {}

  private static Object id(Map<String, Object> row) {
    return row.get("id");
  }

  private static String normalise(Object v) {
    if (v instanceof String) {
      return (String) v;
    }
    if (v instanceof Long || v instanceof Integer || v instanceof Short || v instanceof Byte) {
      return Long.toString(((Number) v).longValue());
    }
    if (v instanceof BigInteger) {
      return v.toString();
    }
    if (v instanceof Number) {
      try {
        BigDecimal d = v instanceof BigDecimal ? (BigDecimal) v : new BigDecimal(v.toString());
        return d.stripTrailingZeros().toPlainString();
      } catch (NumberFormatException e) {
        return v.toString(); // NaN, infinities
      }
    }
    return String.valueOf(v);
  }
}

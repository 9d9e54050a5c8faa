package dev.fraiseql.observers.graphqlws;

import dev.fraiseql.observers.Operation;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * One GraphQL subscription field, the TOML form of seed 000's decorator:
 *
 * <pre>{@code
 * # Python: @fraiseql.subscription(entity_type="Order", operation="UPDATE")
 * def order_updated(customer_id: fraiseql.ID | None = None) -> Order: ...
 * }</pre>
 *
 * is, in {@code fraiseql.toml}:
 *
 * <pre>{@code
 * [[graphql_ws.subscriptions]]
 * field = "orderUpdated"                   # the Subscription field clients select
 * entity_type = "Order"                    # the GraphQL type of each event
 * table = "tb_order"                       # default: tb_ + entity_type in snake case
 * operation = "UPDATE"                     # INSERT, UPDATE, DELETE or any (default any)
 * arguments = { customerId = "customer_id" }   # optional filters: argument -> row field
 * fields = { id = "ID", status = "String", customer_id = "ID", total = "Float" }
 * }</pre>
 *
 * <p>Row fields are exposed in camel case ({@code customer_id} is {@code customerId}). A filter
 * argument has the type of its row field (ID when the field is not selectable); an absent or null
 * argument does not filter. The row is the new row (the old one for a DELETE).
 *
 * @param field the Subscription field name
 * @param entityType the GraphQL object type name of the events
 * @param table the table whose events feed it ({@code tb_order}; a schema-qualified event table
 *     {@code public.tb_order} also matches)
 * @param operation the operation, or empty for any
 * @param arguments filter arguments: GraphQL argument name to row field, in order
 * @param fields selectable row fields: row field name to GraphQL scalar type ({@code ID},
 *     {@code String}, {@code Int}, {@code Float}, {@code Boolean}), in order
 */
public record SubscriptionDefinition(String field, String entityType, String table, Optional<Operation> operation,
    Map<String, String> arguments, Map<String, String> fields) {

  private static final Pattern NAME = Pattern.compile("[_A-Za-z][_0-9A-Za-z]*");
  /** The scalar types a row field may have. */
  public static final java.util.List<String> TYPES = java.util.List.of("ID", "String", "Int", "Float", "Boolean");

  /** Checks names and types; copies the maps (keeping their order). */
  public SubscriptionDefinition {
    Objects.requireNonNull(field, "field");
    Objects.requireNonNull(entityType, "entityType");
    Objects.requireNonNull(table, "table");
    Objects.requireNonNull(operation, "operation");
    requireName(field, "field");
    requireName(entityType, "entity_type");
    if (table.isBlank()) {
      throw new IllegalArgumentException("table must not be blank");
    }
    if (fields.isEmpty()) {
      throw new IllegalArgumentException("subscription " + field + " has no selectable fields: add fields = { id = \"ID\", ... }");
    }
    fields.forEach((column, type) -> {
      requireName(camel(column), "field " + column);
      if (!TYPES.contains(type)) {
        throw new IllegalArgumentException("field " + column + " of " + entityType + " has type " + type
            + ", expected one of " + TYPES);
      }
    });
    arguments.forEach((arg, column) -> {
      requireName(arg, "argument " + arg);
      if (column.isBlank()) {
        throw new IllegalArgumentException("argument " + arg + " of " + field + " names no row field");
      }
    });
    arguments = Collections.unmodifiableMap(new LinkedHashMap<>(arguments));
    fields = Collections.unmodifiableMap(new LinkedHashMap<>(fields));
  }

  /** A definition with the default table ({@code tb_} + entity type in snake case). */
  public static SubscriptionDefinition of(String field, String entityType, Optional<Operation> operation,
      Map<String, String> arguments, Map<String, String> fields) {
    return new SubscriptionDefinition(field, entityType, defaultTable(entityType), operation, arguments, fields);
  }

  /** {@code Order} is {@code tb_order}; {@code OrderLine} is {@code tb_order_line}. */
  public static String defaultTable(String entityType) {
    return "tb_" + snake(entityType);
  }

  /** {@code customer_id} is {@code customerId}. */
  public static String camel(String column) {
    StringBuilder b = new StringBuilder(column.length());
    boolean up = false;
    for (int i = 0; i < column.length(); i++) {
      char c = column.charAt(i);
      if (c == '_' && b.length() > 0) {
        up = true;
      } else {
        b.append(up ? Character.toUpperCase(c) : c);
        up = false;
      }
    }
    return b.toString();
  }

  static String snake(String name) {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      if (Character.isUpperCase(c) && i > 0) {
        b.append('_');
      }
      b.append(Character.toLowerCase(c));
    }
    return b.toString().toLowerCase(Locale.ROOT);
  }

  private static void requireName(String name, String what) {
    if (!NAME.matcher(name).matches() || name.startsWith("__")) {
      throw new IllegalArgumentException(what + ": `" + name + "` is not a GraphQL name (letters, digits and _,"
          + " not starting with a digit or __)");
    }
  }
}

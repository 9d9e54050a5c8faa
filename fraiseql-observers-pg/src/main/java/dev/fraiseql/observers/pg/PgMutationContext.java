package dev.fraiseql.observers.pg;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fraiseql.observers.MutationContext;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Sets the mutation context that {@link PgCapture}'s triggers put into each event's {@code context}:
 * transaction-local settings, which end with the transaction (a pooled connection carries nothing
 * over).
 *
 * <table>
 *   <caption>settings read by the capture triggers</caption>
 *   <tr><th>setting</th><th>event field</th></tr>
 *   <tr><td>fraiseql.user_id</td><td>context.user_id</td></tr>
 *   <tr><td>fraiseql.tenant_id</td><td>context.tenant_id</td></tr>
 *   <tr><td>fraiseql.request_id</td><td>context.request_id</td></tr>
 *   <tr><td>fraiseql.mutation</td><td>context.mutation (e.g. {@code createUser})</td></tr>
 *   <tr><td>fraiseql.attributes</td><td>context.attributes (a JSON object; anything else is left out)</td></tr>
 *   <tr><td>fraiseql.traceparent</td><td>context.attributes.traceparent (reserved for trace propagation)</td></tr>
 * </table>
 *
 * From SQL: {@code SET LOCAL fraiseql.user_id = 'u-1';} (or {@code set_config('fraiseql.user_id', 'u-1', true)}).
 * A setting that is missing or empty is left out of the event, never an error.
 */
public final class PgMutationContext {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String SQL = "SELECT set_config('fraiseql.user_id', ?, true), set_config('fraiseql.tenant_id', ?, true),"
      + " set_config('fraiseql.request_id', ?, true), set_config('fraiseql.mutation', ?, true),"
      + " set_config('fraiseql.attributes', ?, true), set_config('fraiseql.traceparent', ?, true)";

  private PgMutationContext() {}

  /** {@link #set(Connection, String, MutationContext)} without a mutation name. */
  public static void set(Connection connection, MutationContext context) throws SQLException {
    set(connection, null, context);
  }

  /**
   * Sets every context setting for the rest of the current transaction, in <b>one</b> round trip;
   * settings the context lacks are cleared (so a value set earlier in the transaction does not leak
   * into later changes). An attribute named {@code traceparent} goes to {@code fraiseql.traceparent}.
   *
   * @param mutation the mutation's name ({@code createUser}), or null
   * @throws IllegalStateException when the connection is in auto-commit mode (the settings would end
   *     with this very statement): call it after {@code setAutoCommit(false)}, before the writes
   */
  public static void set(Connection connection, String mutation, MutationContext context) throws SQLException {
    Objects.requireNonNull(connection, "connection");
    Objects.requireNonNull(context, "context");
    if (connection.getAutoCommit()) {
      throw new IllegalStateException("PgMutationContext.set needs a transaction: the settings are transaction-local;"
          + " call connection.setAutoCommit(false) first");
    }
    Map<String, Object> attributes = new LinkedHashMap<>(context.attributes());
    Object traceparent = attributes.remove("traceparent");
    String attrs;
    try {
      attrs = attributes.isEmpty() ? "" : JSON.writeValueAsString(attributes);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("the context's attributes cannot be written as JSON: " + e.getOriginalMessage());
    }
    try (PreparedStatement ps = connection.prepareStatement(SQL)) {
      ps.setString(1, orEmpty(context.userId()));
      ps.setString(2, orEmpty(context.tenantId()));
      ps.setString(3, orEmpty(context.requestId()));
      ps.setString(4, mutation == null ? "" : mutation);
      ps.setString(5, attrs);
      ps.setString(6, traceparent == null ? "" : traceparent.toString());
      ps.execute();
    }
  }

  private static String orEmpty(Optional<String> v) {
    return v.orElse("");
  }
}

package dev.fraiseql.observers.pg.internal;

import java.sql.SQLException;
import java.util.Set;
import org.postgresql.util.PSQLException;
import org.postgresql.util.ServerErrorMessage;

/**
 * Classifies PostgreSQL errors by SQLSTATE and renders them without row data.
 *
 * <p>Permanent (retrying the same call cannot succeed): class 42 (undefined function 42883, undefined
 * table 42P01, datatype mismatch 42804, syntax error 42601, insufficient privilege 42501...), class 22
 * (data exceptions such as invalid_text_representation 22P02), class 23 (integrity constraint
 * violations), 0A (feature not supported), 21 (cardinality violation), 2B, 3F (invalid schema name),
 * 44, and 39 (external routine invocation). Everything else is transient: connection errors (08),
 * serialization failures (40001), deadlocks (40P01), admin shutdown (57P01), query cancelled
 * (57014), lock not available (55P03), insufficient resources (53), and errors a function raises
 * itself (P0001), which may depend on state that changes.
 */
public final class SqlErrors {
  private static final Set<String> PERMANENT_CLASSES = Set.of("42", "22", "23", "0A", "21", "2B", "3F", "44", "39");

  private SqlErrors() {}

  /** True when retrying cannot help. */
  public static boolean isPermanent(SQLException e) {
    String state = e.getSQLState();
    if (state == null || state.length() < 2) {
      return false;
    }
    return PERMANENT_CLASSES.contains(state.substring(0, 2));
  }

  /**
   * The server's primary message (without DETAIL, which may quote row values) or the driver's
   * message, one line.
   */
  public static String message(SQLException e) {
    String m = null;
    if (e instanceof PSQLException) {
      ServerErrorMessage sem = ((PSQLException) e).getServerErrorMessage();
      if (sem != null) {
        m = sem.getMessage();
      }
    }
    if (m == null) {
      m = e.getMessage();
    }
    if (m == null) {
      m = e.getClass().getSimpleName();
    }
    m = m.replace('\n', ' ').replace('\r', ' ');
    return m.length() > 500 ? m.substring(0, 500) + "..." : m;
  }

  /** {@code SQLSTATE 42883: function fn_x(jsonb) does not exist}. */
  public static String describe(SQLException e) {
    return "SQLSTATE " + (e.getSQLState() == null ? "?" : e.getSQLState()) + ": " + message(e);
  }
}

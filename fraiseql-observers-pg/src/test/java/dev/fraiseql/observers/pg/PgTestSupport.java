package dev.fraiseql.observers.pg;

import dev.fraiseql.observers.pg.internal.PgDatabase;
import dev.fraiseql.observers.pg.internal.PgUrl;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Locale;
import java.util.UUID;
import java.util.function.BooleanSupplier;
import javax.sql.DataSource;

/** A unique schema per test class on the test PostgreSQL, dropped at the end. */
final class PgTestSupport implements AutoCloseable {
  static final String URL = System.getenv().getOrDefault("FRAISEQL_TEST_PG_URL",
      "jdbc:postgresql://localhost:5432/test?user=root");

  final String schema = "fq_test_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12).toLowerCase(Locale.ROOT);
  final PgDatabase db = PgDatabase.fromUrl(PgUrl.parse(URL), 8);

  PgTestSupport() {
    exec("CREATE SCHEMA " + schema);
  }

  DataSource ds() {
    return db.dataSource();
  }

  /** {@code <schema>.<name>} */
  String t(String name) {
    return schema + "." + name;
  }

  void exec(String sql) {
    try (Connection c = db.dataSource().getConnection(); Statement st = c.createStatement()) {
      st.execute(sql);
    } catch (SQLException e) {
      throw new IllegalStateException(sql + ": " + e.getMessage(), e);
    }
  }

  long count(String sql) {
    try (Connection c = db.dataSource().getConnection(); Statement st = c.createStatement();
         var rs = st.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    } catch (SQLException e) {
      throw new IllegalStateException(sql + ": " + e.getMessage(), e);
    }
  }

  static void await(Duration timeout, BooleanSupplier condition) {
    long end = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > end) {
        throw new AssertionError("condition not met within " + timeout);
      }
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted");
      }
    }
  }

  @Override
  public void close() {
    try {
      exec("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
    } finally {
      db.close();
    }
  }
}

package dev.fraiseql.observers.examples.support;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import javax.sql.DataSource;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * Where the examples find NATS and PostgreSQL: {@code FRAISEQL_TEST_NATS_URL} / {@code NATS_URL}
 * (default {@code nats://localhost:4222}) and {@code FRAISEQL_TEST_PG_URL}, a JDBC URL
 * (default {@code jdbc:postgresql://localhost:5432/test?user=root}).
 */
public final class Services {
  private Services() {}

  /** The NATS server URL. */
  /**
   * The folder of example {@code name}: {@code examples/<name>} from the repository root, or
   * {@code <name>} from the examples module (where the integration tests run).
   */
  public static java.nio.file.Path exampleDir(String name) {
    for (String p : List.of("examples/" + name, name)) {
      if (java.nio.file.Files.isDirectory(java.nio.file.Path.of(p))) {
        return java.nio.file.Path.of(p);
      }
    }
    throw new IllegalStateException("cannot find the " + name + " folder; run from the repository root or pass its path");
  }

  public static String natsUrl() {
    return env("FRAISEQL_TEST_NATS_URL").or(() -> env("NATS_URL")).orElse("nats://localhost:4222");
  }

  /** The PostgreSQL JDBC URL (database {@code test} on localhost by default). */
  public static String pgUrl() {
    String url = env("FRAISEQL_TEST_PG_URL").orElse("jdbc:postgresql://localhost:5432/test?user=root");
    if (!url.startsWith("jdbc:postgresql:")) {
      throw new IllegalStateException("FRAISEQL_TEST_PG_URL must be a JDBC URL (jdbc:postgresql://host:5432/db?user=...)");
    }
    return url;
  }

  /**
   * Fails fast, with the fix, when NATS or PostgreSQL does not answer.
   *
   * @throws IllegalStateException naming the server that is down and how to start it
   */
  public static void preflight(String natsUrl, String jdbcUrl) {
    try (io.nats.client.Connection nc = RunNamespace.connect(natsUrl)) {
      nc.jetStreamManagement().getAccountStatistics();
    } catch (Exception e) {
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      throw new IllegalStateException("cannot reach NATS with JetStream at " + redact(natsUrl) + " ("
          + redact(String.valueOf(e.getMessage())) + "): start it with bin/services, or point FRAISEQL_TEST_NATS_URL at one");
    }
    try (Connection c = connect(jdbcUrl)) {
      c.isValid(2);
    } catch (SQLException e) {
      throw new IllegalStateException("cannot reach PostgreSQL (" + redact(String.valueOf(e.getMessage()))
          + "): start it with bin/services, or point FRAISEQL_TEST_PG_URL at one");
    }
  }

  /** {@code text} with any {@code user:password@} of a URL and any query string replaced by {@code ***}. */
  public static String redact(String text) {
    return text.replaceAll("//[^/@\\s]+@", "//***@").replaceAll("\\?[^\\s\\]]*", "?***");
  }

  /** {@code url} with {@code currentSchema=schema}: unqualified names resolve in that schema. */
  public static String inSchema(String jdbcUrl, String schema) {
    return jdbcUrl + (jdbcUrl.contains("?") ? "&" : "?") + "currentSchema=" + schema;
  }

  /** A short random id for this run (lower-case letters and digits), used in schema, stream and subject names. */
  public static String runId() {
    String alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < 6; i++) {
      b.append(alphabet.charAt(ThreadLocalRandom.current().nextInt(alphabet.length())));
    }
    return b.toString().toLowerCase(Locale.ROOT);
  }

  /**
   * The service's connection pool, as a host application would hand it to the engine
   * ({@code builder().component(DataSource.class, ds)}). For the examples, pgjdbc's simple data source
   * (a new connection per use) is enough; a real service passes its HikariCP (or similar) pool.
   */
  public static DataSource dataSource(String jdbcUrl) {
    PGSimpleDataSource ds = new PGSimpleDataSource();
    ds.setURL(jdbcUrl);
    return ds;
  }

  /** A new JDBC connection. */
  public static Connection connect(String jdbcUrl) throws SQLException {
    return DriverManager.getConnection(jdbcUrl);
  }

  /** Drops {@code schema} and everything in it; never throws (cleanup), says so on {@code out} when it fails. */
  public static void dropSchema(String jdbcUrl, String schema, java.io.PrintStream out) {
    try (Connection c = connect(jdbcUrl); Statement st = c.createStatement()) {
      st.execute("DROP SCHEMA IF EXISTS " + schema + " CASCADE");
    } catch (SQLException e) {
      out.println("cleanup: could not drop schema " + schema + ": " + e.getMessage());
    }
  }

  private static Optional<String> env(String name) {
    return Optional.ofNullable(System.getenv(name)).filter(v -> !v.isBlank());
  }
}

package dev.fraiseql.observers.pg;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fraiseql.observers.ObserverEngine;
import dev.fraiseql.observers.pg.internal.PgDatabase;
import dev.fraiseql.observers.pg.internal.PgUrl;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;

/** Connections whose search_path is the test's schema, as an application's would be, and psql runs. */
final class CaptureSupport {
  private CaptureSupport() {}

  static String urlIn(String schema) {
    String url = PgTestSupport.URL;
    return url + (url.contains("?") ? "&" : "?") + "currentSchema=" + schema;
  }

  static PgDatabase dbIn(String schema) {
    return PgDatabase.fromUrl(PgUrl.parse(urlIn(schema)), 6);
  }

  /** A libpq URI for the test database with search_path set to {@code schema}. */
  static String psqlUri(String schema) {
    String u = PgTestSupport.URL.substring("jdbc:".length());
    return u + (u.contains("?") ? "&" : "?") + "options=-csearch_path%3D" + schema;
  }

  /** Runs {@code sql} in a separate {@code psql} process (ON_ERROR_STOP); returns its output. */
  static String psql(String schema, String sql) throws IOException, InterruptedException {
    Process p = new ProcessBuilder("psql", psqlUri(schema), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", sql)
        .redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as("psql: " + out).isZero();
    return out;
  }

  static ObserverEngine engine(String toml, Map<String, String> env) {
    return ObserverEngine.builder().config(toml, "fraiseql.toml").env(env).build();
  }

  static DataSource ds(PgDatabase db) {
    return db.dataSource();
  }
}

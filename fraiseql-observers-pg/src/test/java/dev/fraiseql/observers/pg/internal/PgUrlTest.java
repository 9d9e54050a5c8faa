package dev.fraiseql.observers.pg.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class PgUrlTest {

  @Test
  void postgresSchemeBecomesJdbcWithCredentialsAsProperties() {
    PgUrl u = PgUrl.parse("postgres://app:p%40ss:w0rd@db.internal:6432/orders?sslmode=require");
    assertThat(u.jdbcUrl()).isEqualTo("jdbc:postgresql://db.internal:6432/orders?sslmode=require");
    assertThat(u.properties()).containsEntry("user", "app").containsEntry("password", "p@ss:w0rd");
    assertThat(u.redacted()).isEqualTo("postgresql://db.internal:6432/orders");
    assertThat(u.toString()).doesNotContain("w0rd").doesNotContain("app").doesNotContain("sslmode");
  }

  @Test
  void defaultsPortAndAcceptsPostgresqlScheme() {
    PgUrl u = PgUrl.parse("postgresql://localhost/test");
    assertThat(u.jdbcUrl()).isEqualTo("jdbc:postgresql://localhost:5432/test");
    assertThat(u.properties()).isEmpty();
  }

  @Test
  void jdbcUrlsPassThroughAndAreRedacted() {
    PgUrl u = PgUrl.parse("jdbc:postgresql://localhost:5432/test?user=root&password=hunter2");
    assertThat(u.jdbcUrl()).isEqualTo("jdbc:postgresql://localhost:5432/test?user=root&password=hunter2");
    assertThat(u.redacted()).isEqualTo("postgresql://localhost:5432/test");
  }

  @Test
  void badUrlsSayWhatIsWrongWithoutEchoingThem() {
    assertThatThrownBy(() -> PgUrl.parse("mysql://u:hunter2@h/db")).hasMessageContaining("postgres://")
        .hasMessageNotContaining("hunter2");
    assertThatThrownBy(() -> PgUrl.parse("postgres://u:hunter2@/db")).hasMessageNotContaining("hunter2");
    assertThatThrownBy(() -> PgUrl.parse("  ")).hasMessageContaining("empty");
  }

  @Test
  void subjectPatternsBecomeAnchoredRegexes() {
    assertThat(PgEventBus.subjectRegex("fraiseql.order.created")).isEqualTo("^fraiseql\\.order\\.created$");
    assertThat(PgEventBus.subjectRegex("fraiseql.*.created")).isEqualTo("^fraiseql\\.[^.]+\\.created$");
    assertThat(PgEventBus.subjectRegex("fraiseql.>")).isEqualTo("^fraiseql\\..+$");
    assertThat(PgEventBus.subjectRegex("a+b.c")).isEqualTo("^a\\+b\\.c$");
  }

  @Test
  void sqlStatesAreClassified() {
    assertThat(SqlErrors.isPermanent(new java.sql.SQLException("x", "42883"))).isTrue();
    assertThat(SqlErrors.isPermanent(new java.sql.SQLException("x", "42P01"))).isTrue();
    assertThat(SqlErrors.isPermanent(new java.sql.SQLException("x", "42804"))).isTrue();
    assertThat(SqlErrors.isPermanent(new java.sql.SQLException("x", "22P02"))).isTrue();
    assertThat(SqlErrors.isPermanent(new java.sql.SQLException("x", "42601"))).isTrue();
    assertThat(SqlErrors.isPermanent(new java.sql.SQLException("x", "08006"))).isFalse();
    assertThat(SqlErrors.isPermanent(new java.sql.SQLException("x", "40001"))).isFalse();
    assertThat(SqlErrors.isPermanent(new java.sql.SQLException("x", "40P01"))).isFalse();
    assertThat(SqlErrors.isPermanent(new java.sql.SQLException("x", "57P01"))).isFalse();
    assertThat(SqlErrors.isPermanent(new java.sql.SQLException("x", "P0001"))).isFalse();
    assertThat(SqlErrors.isPermanent(new java.sql.SQLException("x", (String) null))).isFalse();
    assertThat(SqlErrors.describe(new java.sql.SQLException("line1\nline2", "42883")))
        .isEqualTo("SQLSTATE 42883: line1 line2");
  }
}

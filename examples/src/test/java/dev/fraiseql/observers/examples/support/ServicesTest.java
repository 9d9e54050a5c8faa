package dev.fraiseql.observers.examples.support;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** Service URLs: redaction and the fail-fast message when a server is down. */
class ServicesTest {
  @Test
  void redactsUserInfoAndQueryStrings() {
    assertThat(Services.redact("nats://alice:s3cret@nats.internal:4222")).isEqualTo("nats://***@nats.internal:4222");
    assertThat(Services.redact("jdbc:postgresql://db:5432/test?user=root&password=s3cret"))
        .isEqualTo("jdbc:postgresql://db:5432/test?***");
    assertThat(Services.redact("Unable to connect to NATS servers: [nats://u:p@h:4222]"))
        .doesNotContain("u:p").contains("nats://***@h:4222");
  }

  @Test
  void aDownNatsServerIsReportedWithTheFixAndWithoutItsCredentials() {
    assertThatThrownBy(() -> Services.preflight("nats://bob:s3cret@127.0.0.1:1", "jdbc:postgresql://127.0.0.1:1/x"))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("cannot reach NATS with JetStream at nats://***@127.0.0.1:1")
        .hasMessageContaining("bin/services")
        .hasMessageNotContaining("s3cret");
  }

  @Test
  void schemaGoesIntoTheJdbcUrl() {
    assertThat(Services.inSchema("jdbc:postgresql://localhost:5432/test?user=root", "choreo_orders_ab12cd"))
        .isEqualTo("jdbc:postgresql://localhost:5432/test?user=root&currentSchema=choreo_orders_ab12cd");
    assertThat(Services.inSchema("jdbc:postgresql://localhost:5432/test", "s")).endsWith("/test?currentSchema=s");
    assertThat(Services.runId()).matches("[a-z0-9]{6}");
  }
}

package dev.fraiseql.observers;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class BackendHealthTest {

  @Test
  void urlsAndPasswordsInDetailsAreScrubbed() {
    Map<String, Object> d = new LinkedHashMap<>();
    d.put("servers", "nats://app:s3cret@nats-1:4222,nats://app:s3cret@nats-2:4222");
    d.put("port", 4222);
    d.put("tls", true);
    BackendHealth h = BackendHealth.down("Connection to postgres://app:s3cret@db:5432/app?sslpassword=x refused;"
        + " jdbc password=s3cret&ssl=true", d);
    assertThat(h.status()).isEqualTo(BackendHealth.Status.DOWN);
    assertThat(h.details().toString()).doesNotContain("s3cret").doesNotContain("sslpassword=x");
    assertThat(h.details().get("servers")).isEqualTo("nats://***@nats-1:4222,nats://***@nats-2:4222");
    assertThat((String) h.details().get("error")).startsWith("Connection to postgres://***@db:5432/app?*** refused")
        .contains("password=***");
    assertThat(h.details().get("port")).isEqualTo(4222);
    assertThat(h.details().get("tls")).isEqualTo(true);
    assertThat(h.withDetail("where", "redis://:pw@r:6379").details().get("where")).isEqualTo("redis://***@r:6379");
  }

  @Test
  void theInMemoryEngineIsUpAndDownOnceClosed() {
    ObserverEngine engine = ObserverEngine.builder().configToml("[observers]\nbackend = \"in-memory\"\n").build();
    BackendHealth up = engine.health();
    assertThat(up.isUp()).isTrue();
    assertThat(up.details()).containsEntry("backend", "in-memory");
    engine.close();
    BackendHealth down = engine.health();
    assertThat(down.status()).isEqualTo(BackendHealth.Status.DOWN);
    assertThat(down.details()).containsEntry("error", "the engine is closed");
  }

  @Test
  void aBackendThatDoesNotReportIsUnknown() {
    BackendHealth h = new dev.fraiseql.observers.spi.Backend() {
      @Override
      public dev.fraiseql.observers.spi.EventBus bus() {
        throw new UnsupportedOperationException();
      }
    }.health();
    assertThat(h.status()).isEqualTo(BackendHealth.Status.UNKNOWN);
    assertThat(h.details()).containsKey("reason");
  }
}

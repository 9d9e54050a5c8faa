package dev.fraiseql.observers.nats;

import dev.fraiseql.observers.nats.internal.NatsBackend;
import dev.fraiseql.observers.spi.IdempotencyStore;
import dev.fraiseql.observers.testkit.IdempotencyStoreConformance;
import io.nats.client.Connection;
import io.nats.client.JetStreamApiException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;

/** Core's idempotency-store kit against the JetStream key-value store ({@code idempotency_bucket}). */
class NatsKvIdempotencyStoreConformanceIT extends IdempotencyStoreConformance {
  /** The kit runs against the store this module provides, not a stand-in. */
  @org.junit.jupiter.api.Test
  void theKitRunsAgainstTheKeyValueStore() throws Exception {
    org.assertj.core.api.Assertions.assertThat(createStore().getClass().getSimpleName()).isEqualTo("KvIdempotencyStore");
  }

  private static final String ID = NatsTestSupport.unique();
  private static final List<NatsBackend> BACKENDS = new CopyOnWriteArrayList<>();

  @Override
  protected IdempotencyStore createStore() {
    Map<String, Object> s = NatsTestSupport.settingsFor(ID);
    s.put("idempotency_bucket", "K" + ID);
    NatsBackend backend = NatsTestSupport.backend(s);
    BACKENDS.add(backend);
    return backend.idempotencyStore().orElseThrow();
  }

  @AfterAll
  static void cleanUp() throws Exception {
    BACKENDS.forEach(NatsBackend::close);
    try (Connection c = NatsTestSupport.rawConnection()) {
      c.keyValueManagement().delete("K" + ID);
    } catch (JetStreamApiException e) {
      // never created
    }
    NatsTestSupport.deleteStream("S" + ID);
  }
}

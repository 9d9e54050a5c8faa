package dev.fraiseql.observers;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fraiseql.observers.internal.memory.InMemoryBackendProvider;
import dev.fraiseql.observers.spi.Backend;
import dev.fraiseql.observers.spi.BackendContext;
import dev.fraiseql.observers.spi.BackendProvider;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * A store backend beside the main one ({@code dead_letter_store}, {@code idempotency_store}) gets the
 * connection URLs of {@code [observers]}, not the main backend's own keys (which it would reject).
 */
class StoreBackendSettingsTest {
  private static final List<Set<String>> SEEN = new CopyOnWriteArrayList<>();

  /** A main backend with a key of its own ({@code stream}), running on the in-memory backend. */
  private static final class BusWithStream implements BackendProvider {
    @Override
    public String name() {
      return "bus-with-stream";
    }

    @Override
    public Set<String> settingKeys() {
      return Set.of("stream");
    }

    @Override
    public Backend create(BackendContext context) {
      SEEN.add(context.settings().keys());
      return new InMemoryBackendProvider().create(context);
    }
  }

  /** The in-memory backend as a store backend, recording the settings it was given. */
  private static final class RecordingInMemory implements BackendProvider {
    @Override
    public String name() {
      return "in-memory";
    }

    @Override
    public Set<String> settingKeys() {
      return Set.of();
    }

    @Override
    public Backend create(BackendContext context) {
      SEEN.add(context.settings().keys());
      return new InMemoryBackendProvider().create(context);
    }
  }

  @Test
  void theStoreBackendGetsOnlyTheConnectionUrls() {
    SEEN.clear();
    String toml = """
        [observers]
        backend = "bus-with-stream"
        database_url = "${DATABASE_URL}"
        dead_letter_store = "in-memory"
        [observers.bus-with-stream]
        stream = "ORDERS"
        """;
    try (ObserverEngine engine = ObserverEngine.builder().backend(new BusWithStream()).backend(new RecordingInMemory())
        .env(Map.of("DATABASE_URL", "postgres://localhost/db")).config(toml, "fraiseql.toml").build()) {
      assertThat(engine.deadLetters().count()).isZero();
    }
    assertThat(SEEN).containsExactly(Set.of("stream", "database_url"), Set.of("database_url"));
  }
}

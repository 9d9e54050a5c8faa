package dev.fraiseql.observers.redis;

import dev.fraiseql.observers.redis.internal.RedisBackend;
import dev.fraiseql.observers.spi.DeadLetterStore;
import dev.fraiseql.observers.spi.EventBus;
import dev.fraiseql.observers.spi.IdempotencyStore;
import dev.fraiseql.observers.testkit.DeadLetterStoreConformance;
import dev.fraiseql.observers.testkit.EventBusConformance;
import dev.fraiseql.observers.testkit.IdempotencyStoreConformance;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Nested;

/** Core's conformance kit, run against Redis. */
class RedisConformanceIT {

  /** Backends opened by a test, closed and their keys deleted after it. */
  abstract static class Scoped {
    final String prefix = RedisTestSupport.uniquePrefix();
    final List<RedisBackend> backends = new ArrayList<>();

    RedisBackend open(Map<String, Object> extra) {
      RedisBackend b = RedisTestSupport.backend(prefix, extra);
      synchronized (backends) {
        backends.add(b);
      }
      return b;
    }

    void closeAll() {
      synchronized (backends) {
        backends.forEach(RedisBackend::close);
        backends.clear();
      }
      RedisTestSupport.cleanup(prefix);
    }
  }

  @Nested
  class Bus extends EventBusConformance {
    /** The kit runs against the bus this module provides, not a stand-in. */
    @org.junit.jupiter.api.Test
    void theKitRunsAgainstTheRedisBus() throws Exception {
      try (dev.fraiseql.observers.spi.EventBus b = createBus()) {
        org.assertj.core.api.Assertions.assertThat(b.name()).isEqualTo("redis");
      }
    }

    private final Scoped scope = new Scoped() {};

    @Override
    protected EventBus createBus() {
      return scope.open(Map.of("block_ms", 200L, "timeout_ms", 1000L)).bus();
    }

    @Override
    protected void restartServer() throws Exception {
      RedisServer.restart();
    }

    @AfterEach
    void cleanup() {
      scope.closeAll();
    }
  }

  @Nested
  class DeadLetters extends DeadLetterStoreConformance {
    private final Scoped scope = new Scoped() {};

    @Override
    protected DeadLetterStore createStore() {
      return scope.open(Map.of()).deadLetterStore().orElseThrow();
    }

    @Override
    protected DeadLetterStore reopen(DeadLetterStore store) {
      return scope.open(Map.of()).deadLetterStore().orElseThrow();
    }

    @AfterEach
    void cleanup() {
      scope.closeAll();
    }
  }

  @Nested
  class Idempotency extends IdempotencyStoreConformance {
    private final Scoped scope = new Scoped() {};

    @Override
    protected IdempotencyStore createStore() {
      return scope.open(Map.of()).idempotencyStore().orElseThrow();
    }

    @AfterEach
    void cleanup() {
      scope.closeAll();
    }
  }
}

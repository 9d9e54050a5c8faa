package dev.fraiseql.observers.webhook;

import dev.fraiseql.observers.config.ObserversConfig;
import dev.fraiseql.observers.config.Settings;
import dev.fraiseql.observers.spi.Backend;
import dev.fraiseql.observers.spi.BackendContext;
import dev.fraiseql.observers.spi.BusSubscription;
import dev.fraiseql.observers.spi.DeadLetterStore;
import dev.fraiseql.observers.spi.EventBus;
import dev.fraiseql.observers.spi.IdempotencyStore;
import dev.fraiseql.observers.spi.InboundHandler;
import dev.fraiseql.observers.spi.OutboundMessage;
import dev.fraiseql.observers.spi.PublishAck;
import dev.fraiseql.observers.spi.SubscriptionSpec;
import dev.fraiseql.observers.testkit.DeadLetterStoreConformance;
import dev.fraiseql.observers.testkit.EventBusConformance;
import dev.fraiseql.observers.testkit.IdempotencyStoreConformance;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.Function;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Nested;

/** {@code backend = "webhook"} runs core's conformance kit: its in-process bus and in-memory stores. */
class WebhookBackendConformanceTest {
  private static final ScheduledExecutorService SCHEDULER = Executors.newScheduledThreadPool(2);

  private static Backend backend() {
    return new WebhookBackendProvider().create(new BackendContext() {
      @Override
      public ObserversConfig config() {
        return ObserversConfig.builder().backend("webhook").deadLetterCapacity(100).build();
      }

      @Override
      public Settings settings() {
        return Settings.of("[observers.webhook]", Map.of("egress", "strict"));
      }

      @Override
      public Function<String, Optional<String>> env() {
        return name -> Optional.empty();
      }

      @Override
      public <T> Optional<T> component(Class<T> type) {
        return Optional.empty();
      }

      @Override
      public ScheduledExecutorService scheduler() {
        return SCHEDULER;
      }
    });
  }

  /** One backend per "process": the kit's clients share its bus, as NATS clients share a server. */
  private static final Backend SHARED = backend();

  @AfterAll
  static void stop() {
    SHARED.close();
    SCHEDULER.shutdownNow();
  }

  @Nested
  class Bus extends EventBusConformance {
    /** The kit runs against the bus this module provides, not a stand-in. */
    @org.junit.jupiter.api.Test
    void theKitRunsAgainstTheInmemoryBus() throws Exception {
      try (dev.fraiseql.observers.spi.EventBus b = createBus()) {
        org.assertj.core.api.Assertions.assertThat(b.name()).isEqualTo("in-memory");
      }
    }

    @Override
    protected EventBus createBus() {
      EventBus shared = SHARED.bus();
      return new EventBus() {
        private final List<BusSubscription> mine = new CopyOnWriteArrayList<>();

        @Override
        public String name() {
          return shared.name();
        }

        @Override
        public CompletionStage<PublishAck> publish(OutboundMessage message) {
          return shared.publish(message);
        }

        @Override
        public BusSubscription subscribe(SubscriptionSpec spec, InboundHandler handler) {
          BusSubscription s = shared.subscribe(spec, handler);
          mine.add(s);
          return s;
        }

        @Override
        public void close() {
          mine.forEach(BusSubscription::close);
        }
      };
    }

    @Override
    public void aConsumerThatDiesBeforeAcknowledgingHasItsMessageRedelivered() {
      Assumptions.abort("the in-process bus has no ack timeout: a handler that never answers holds its message");
    }
  }

  @Nested
  class DeadLetters extends DeadLetterStoreConformance {
    @Override
    protected DeadLetterStore createStore() {
      return backend().deadLetterStore().orElseThrow();
    }
  }

  @Nested
  class Idempotency extends IdempotencyStoreConformance {
    @Override
    protected IdempotencyStore createStore() {
      return backend().idempotencyStore().orElseThrow();
    }
  }
}

package dev.fraiseql.observers.internal.memory;

import dev.fraiseql.observers.spi.DeadLetterStore;
import dev.fraiseql.observers.spi.EventBus;
import dev.fraiseql.observers.spi.IdempotencyStore;
import dev.fraiseql.observers.testkit.DeadLetterStoreConformance;
import dev.fraiseql.observers.testkit.EventBusConformance;
import dev.fraiseql.observers.testkit.IdempotencyStoreConformance;
import java.time.Clock;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Nested;

/** The in-memory backend runs the same conformance kit as the server-backed ones. */
class InMemoryConformanceTest {
  private static final ScheduledExecutorService SCHEDULER = Executors.newScheduledThreadPool(2);

  @AfterAll
  static void stop() {
    SCHEDULER.shutdownNow();
  }

  /** One shared bus: in-memory "instances" of one process share it, as NATS clients share a server. */
  private static final InMemoryBus SHARED = new InMemoryBus(SCHEDULER, 10_000, 10_000);

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
      // Closing a client must not close the shared "server": hand out a view that only closes its subscriptions.
      return new EventBus() {
        private final java.util.List<dev.fraiseql.observers.spi.BusSubscription> mine = new java.util.concurrent.CopyOnWriteArrayList<>();

        @Override
        public String name() {
          return SHARED.name();
        }

        @Override
        public java.util.concurrent.CompletionStage<dev.fraiseql.observers.spi.PublishAck> publish(
            dev.fraiseql.observers.spi.OutboundMessage message) {
          return SHARED.publish(message);
        }

        @Override
        public dev.fraiseql.observers.spi.BusSubscription subscribe(dev.fraiseql.observers.spi.SubscriptionSpec spec,
            dev.fraiseql.observers.spi.InboundHandler handler) {
          dev.fraiseql.observers.spi.BusSubscription s = SHARED.subscribe(spec, handler);
          mine.add(s);
          return s;
        }

        @Override
        public void close() {
          mine.forEach(dev.fraiseql.observers.spi.BusSubscription::close);
        }
      };
    }

    @Override
    protected void prepareSubject(String subject) {}

    @Override
    public void aConsumerThatDiesBeforeAcknowledgingHasItsMessageRedelivered() {
      org.junit.jupiter.api.Assumptions.abort("the in-memory bus has no ack timeout: a handler that never answers holds its message");
    }
  }

  @Nested
  class DeadLetters extends DeadLetterStoreConformance {
    @Override
    protected DeadLetterStore createStore() {
      return new InMemoryDeadLetterStore(100);
    }
  }

  @Nested
  class Idempotency extends IdempotencyStoreConformance {
    @Override
    protected IdempotencyStore createStore() {
      return new InMemoryIdempotencyStore(1000, Clock.systemUTC());
    }
  }
}

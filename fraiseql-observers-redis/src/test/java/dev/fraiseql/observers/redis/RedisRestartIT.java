package dev.fraiseql.observers.redis;

import static dev.fraiseql.observers.redis.RedisTestSupport.await;
import static org.assertj.core.api.Assertions.assertThat;

import dev.fraiseql.observers.config.Settings;
import dev.fraiseql.observers.redis.internal.RedisBackend;
import dev.fraiseql.observers.spi.BusSubscription;
import dev.fraiseql.observers.spi.Disposition;
import dev.fraiseql.observers.spi.EventBus;
import dev.fraiseql.observers.spi.IdempotencyStore;
import dev.fraiseql.observers.spi.OutboundMessage;
import dev.fraiseql.observers.spi.PublishAck;
import dev.fraiseql.observers.spi.SubscriptionSpec;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.resps.StreamGroupInfo;

/**
 * Redis restarted mid-stream. Redis here runs without persistence, so the restart loses every stream
 * and consumer group: the subscription must recreate its group and deliver everything published after
 * the restart. Stops and restarts the local server with the project's exact commands, and always
 * leaves it running.
 */
class RedisRestartIT {
  @Test
  void groupsAreRecreatedAndEverythingPublishedAfterTheRestartIsDelivered() throws Exception {
    RedisServer.assumeLocal();
    String prefix = RedisTestSupport.uniquePrefix();
    Set<String> received = ConcurrentHashMap.newKeySet();
    AtomicInteger deliveries = new AtomicInteger();
    try (RedisBackend backend = RedisTestSupport.backend(prefix, Map.of("block_ms", 200L, "timeout_ms", 500L))) {
      EventBus bus = backend.bus();
      BusSubscription sub = bus.subscribe(new SubscriptionSpec("orders", "fulfilment", Duration.ofSeconds(30), 16,
          Settings.empty()), m -> {
            deliveries.incrementAndGet();
            received.add(new String(m.payload(), StandardCharsets.UTF_8));
            return CompletableFuture.completedFuture(Disposition.ack());
          });
      for (int i = 0; i < 5; i++) {
        publish(bus, "before-" + i);
      }
      assertThat(await(Duration.ofSeconds(10), () -> received.size() == 5)).isTrue();

      boolean publishFailedWhileDown;
      try {
        RedisServer.stop();
        // while Redis is down a publish fails (the engine would retry it); it is never silently lost
        CompletableFuture<PublishAck> down = bus.publish(new OutboundMessage("orders",
            "during".getBytes(StandardCharsets.UTF_8), Map.of(), "during")).toCompletableFuture();
        publishFailedWhileDown = await(Duration.ofSeconds(10), down::isDone) && down.isCompletedExceptionally();
      } finally {
        RedisServer.start();
      }
      assertThat(publishFailedWhileDown).isTrue();

      List<String> after = new ArrayList<>();
      for (int i = 0; i < 20; i++) {
        after.add("after-" + i);
        publish(bus, "after-" + i);
      }
      assertThat(await(Duration.ofSeconds(20), () -> received.containsAll(after)))
          .as("everything published after the restart is delivered").isTrue();
      try (RedisClient raw = RedisTestSupport.raw()) {
        String key = prefix + "stream:orders";
        List<StreamGroupInfo> groups = raw.xinfoGroups(key);
        assertThat(groups).extracting(StreamGroupInfo::getName).containsExactly("fulfilment");
        assertThat(await(Duration.ofSeconds(10), () -> raw.xpending(key, "fulfilment").getTotal() == 0)).isTrue();
        assertThat(raw.xlen(key)).isEqualTo(20);
      }
      assertThat(deliveries.get()).isEqualTo(25);

      // the stores keep working on the same backend after the restart
      IdempotencyStore idem = backend.idempotencyStore().orElseThrow();
      assertThat(idem.claim("e-1", "h", Duration.ofSeconds(30)).toCompletableFuture().get(5, TimeUnit.SECONDS))
          .isEqualTo(IdempotencyStore.Claim.CLAIMED);
      assertThat(backend.deadLetterStore().orElseThrow().count()).isZero();
      sub.close();
    } finally {
      RedisServer.start();
      RedisTestSupport.cleanup(prefix);
    }
  }

  /** Publishes like the engine does: retrying (same de-duplication id) until Redis acknowledges. */
  private static void publish(EventBus bus, String payload) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (true) {
      try {
        bus.publish(new OutboundMessage("orders", payload.getBytes(StandardCharsets.UTF_8), Map.of(), payload))
            .toCompletableFuture().get(5, TimeUnit.SECONDS);
        return;
      } catch (java.util.concurrent.ExecutionException e) {
        if (System.nanoTime() > deadline) {
          throw e;
        }
        Thread.sleep(50);
      }
    }
  }
}

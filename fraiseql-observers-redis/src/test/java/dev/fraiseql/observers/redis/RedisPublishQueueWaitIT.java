package dev.fraiseql.observers.redis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fraiseql.observers.CloseReport;
import dev.fraiseql.observers.DeliveryOutcome;
import dev.fraiseql.observers.ObservedEvent;
import dev.fraiseql.observers.ObserverEngine;
import dev.fraiseql.observers.Operation;
import dev.fraiseql.observers.config.BackoffStrategy;
import dev.fraiseql.observers.config.HandlerConfig;
import dev.fraiseql.observers.config.ObserversConfig;
import dev.fraiseql.observers.config.RetryPolicy;
import dev.fraiseql.observers.config.Settings;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.StreamEntryID;
import redis.clients.jedis.resps.StreamEntry;

/**
 * Waiting in the Redis publish queue is not part of a publish attempt (issue #15). The engine talks to
 * Redis through {@link SlowRedisProxy}, which slows or holds what it sends, so the single publisher
 * (batch 1) falls behind a burst without touching the shared server; what arrived is read back from
 * the stream directly.
 */
class RedisPublishQueueWaitIT {
  private static final String SUBJECT = "orders.created";
  private final String prefix = RedisTestSupport.uniquePrefix();

  @AfterEach
  void tearDown() {
    RedisTestSupport.cleanup(prefix);
  }

  private ObserverEngine engine(SlowRedisProxy proxy, Duration timeout) {
    Map<String, Object> backend = new LinkedHashMap<>();
    backend.put("redis_url", proxy.url());
    backend.put("key_prefix", prefix);
    backend.put("publishers", 1L);
    backend.put("batch", 1L);
    backend.put("publish_queue", 4L);
    backend.put("timeout_ms", 5000L);
    ObserversConfig config = ObserversConfig.builder().backend("redis")
        .backendSettings(Settings.of("[observers]", backend))
        .deadLetterStore("in-memory")
        .handler(HandlerConfig.builder("order-created").event("order.created").action("publish")
            .settings(Settings.of("[[observers.handlers]] #1", Map.of("subject", SUBJECT)))
            .retry(RetryPolicy.custom().maxAttempts(2).backoff(BackoffStrategy.FIXED)
                .initialDelay(Duration.ofMillis(50)).maxDelay(Duration.ofMillis(50)).jitter(0)
                .attemptTimeout(timeout).build())
            .build())
        .build();
    return ObserverEngine.builder().config(config).build();
  }

  private static ObservedEvent order(String id) {
    return ObservedEvent.builder().operation(Operation.INSERT).table("tb_order").newRow(Map.of("id", id)).build();
  }

  /** The dedup field (event id:subject) of every entry in the stream, in order. */
  private List<String> stored() {
    try (RedisClient raw = RedisTestSupport.raw()) {
      List<String> ids = new ArrayList<>();
      for (StreamEntry e : raw.xrange(prefix + "stream:" + SUBJECT, (StreamEntryID) null, (StreamEntryID) null)) {
        ids.add(e.getFields().get("dedup"));
      }
      return ids;
    }
  }

  @Test
  void aBurstLargerThanTheQueueSpendsNoBudgetWaitingInIt() throws Exception {
    try (SlowRedisProxy proxy = new SlowRedisProxy(); ObserverEngine engine = engine(proxy, Duration.ofMillis(300))) {
      // warm up (connections, script) at full speed, then every round takes 50 ms more
      ObservedEvent warm = order("warm");
      assertThat(engine.onCommit(warm).completion().toCompletableFuture().get(30, TimeUnit.SECONDS))
          .singleElement().satisfies(o -> assertThat(o.status()).isEqualTo(DeliveryOutcome.Status.DELIVERED));
      proxy.delay(50);
      // 30 events, one publisher, one message per round, queue of 4: the last wait ~1.5 s; timeout_ms is 300
      List<String> expected = new ArrayList<>();
      expected.add(warm.id() + ":" + SUBJECT);
      List<CompletableFuture<List<DeliveryOutcome>>> fs = new ArrayList<>();
      for (int i = 0; i < 30; i++) {
        ObservedEvent e = order("burst-" + i);
        expected.add(e.id() + ":" + SUBJECT);
        fs.add(engine.onCommit(e).completion().toCompletableFuture());
      }
      List<DeliveryOutcome> all = new ArrayList<>();
      for (var f : fs) {
        all.addAll(f.get(60, TimeUnit.SECONDS));
      }
      assertThat(all).hasSize(30).allSatisfy(o -> {
        assertThat(o.status()).as(o.detail()).isEqualTo(DeliveryOutcome.Status.DELIVERED);
        assertThat(o.attempts()).as(o.detail()).isEqualTo(1);
      });
      assertThat(stored()).hasSize(31).containsExactlyInAnyOrderElementsOf(expected);
    }
  }

  @Test
  void anAttemptAbandonedWhileQueuedIsNeverPublished() throws Exception {
    try (SlowRedisProxy proxy = new SlowRedisProxy()) {
      ObserverEngine engine = engine(proxy, Duration.ofSeconds(10));
      ObservedEvent warm = order("warm");
      assertThat(engine.onCommit(warm).completion().toCompletableFuture().get(30, TimeUnit.SECONDS))
          .singleElement().satisfies(o -> assertThat(o.status()).isEqualTo(DeliveryOutcome.Status.DELIVERED));
      // Redis stalls: the publisher sends the first event's round and waits for its reply; the second queues
      proxy.hold();
      ObservedEvent sent = order("sent");
      ObservedEvent queued = order("queued");
      CompletableFuture<List<DeliveryOutcome>> f1 = engine.onCommit(sent).completion().toCompletableFuture();
      Thread.sleep(200);
      CompletableFuture<List<DeliveryOutcome>> f2 = engine.onCommit(queued).completion().toCompletableFuture();
      Thread.sleep(300);
      // the engine gives up on both; then Redis answers, and the publisher would be free for the queued one
      CompletableFuture<CloseReport> closing = CompletableFuture.supplyAsync(() -> engine.shutdown(Duration.ofMillis(200)));
      Thread.sleep(500);
      proxy.release();
      CloseReport report = closing.get(30, TimeUnit.SECONDS);
      assertThat(report.deadLettered()).isEqualTo(2);
      assertThat(f1.get(10, TimeUnit.SECONDS)).singleElement()
          .satisfies(o -> assertThat(o.status()).isEqualTo(DeliveryOutcome.Status.DEAD_LETTERED));
      assertThat(f2.get(10, TimeUnit.SECONDS)).singleElement()
          .satisfies(o -> assertThat(o.status()).isEqualTo(DeliveryOutcome.Status.DEAD_LETTERED));
      Thread.sleep(500);
      // what was sent before the engine gave up arrived; the abandoned queued one never did
      assertThat(stored()).containsExactly(warm.id() + ":" + SUBJECT, sent.id() + ":" + SUBJECT);
    }
  }
}

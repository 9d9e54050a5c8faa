package dev.fraiseql.observers.redis;

import dev.fraiseql.observers.ObservedEvent;
import dev.fraiseql.observers.redis.internal.RedisBackend;
import dev.fraiseql.observers.spi.EventBus;
import dev.fraiseql.observers.spi.OutboundMessage;
import dev.fraiseql.observers.spi.PublishAck;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.Pipeline;
import redis.clients.jedis.params.XAddParams;

/**
 * A ratio harness (not a test): publishes N events through the bus and the same entries with raw
 * pipelined Jedis XADD, in the same run, and prints both rates and their ratio. Run it by hand:
 * {@code java -cp <test classpath> dev.fraiseql.observers.redis.RedisPublishRatio [n]}.
 */
public final class RedisPublishRatio {
  private RedisPublishRatio() {}

  public static void main(String[] args) throws Exception {
    int n = args.length > 0 ? Integer.parseInt(args[0]) : 50_000;
    String prefix = RedisTestSupport.uniquePrefix();
    ObservedEvent event = ObservedEvent.insert("tb_user", Map.of("id", "550e8400-e29b-41d4-a716-446655440000",
        "email", "alice@example.com", "name", "Alice"));
    try (RedisClient raw = RedisTestSupport.raw()) {
      for (int round = 0; round < 2; round++) {
        double rawRate = rawRate(raw, prefix + "raw", event, n);
        double plainRate = busRate(prefix, Map.of("dedup_window_ms", 0L), event, n, "plain" + round);
        double dedupRate = busRate(prefix, Map.of(), event, n, "dedup" + round);
        System.out.printf("round %d: raw pipelined XADD %.0f/s | bus (plain XADD) %.0f/s = %.2f of raw"
            + " | bus (de-duplicating script) %.0f/s = %.2f of raw%n", round, rawRate, plainRate, plainRate / rawRate,
            dedupRate, dedupRate / rawRate);
      }
    } finally {
      RedisTestSupport.cleanup(prefix);
    }
  }

  private static double rawRate(RedisClient raw, String key, ObservedEvent event, int n) {
    OutboundMessage m = OutboundMessage.forEvent("s", event);
    long t0 = System.nanoTime();
    for (int done = 0; done < n; done += 100) {
      try (Pipeline p = raw.pipelined()) {
        for (int i = 0; i < 100; i++) {
          Map<byte[], byte[]> f = new LinkedHashMap<>();
          f.put("payload".getBytes(StandardCharsets.UTF_8), m.payload());
          f.put("dedup".getBytes(StandardCharsets.UTF_8), (m.deduplicationId() + done + i).getBytes(StandardCharsets.UTF_8));
          for (Map.Entry<String, String> h : m.headers().entrySet()) {
            f.put(("h:" + h.getKey()).getBytes(StandardCharsets.UTF_8), h.getValue().getBytes(StandardCharsets.UTF_8));
          }
          p.xadd(key.getBytes(StandardCharsets.UTF_8), XAddParams.xAddParams().maxLen(100_000).approximateTrimming(), f);
        }
        p.sync();
      }
    }
    return n / ((System.nanoTime() - t0) / 1e9);
  }

  private static double busRate(String prefix, Map<String, Object> cfg, ObservedEvent event, int n, String subject)
      throws Exception {
    try (RedisBackend b = RedisTestSupport.backend(prefix, cfg)) {
      EventBus bus = b.bus();
      OutboundMessage m = OutboundMessage.forEvent(subject, event);
      long t0 = System.nanoTime();
      List<CompletableFuture<PublishAck>> window = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        window.add(bus.publish(new OutboundMessage(subject, m.payload(), m.headers(), m.deduplicationId() + i))
            .toCompletableFuture());
        if (window.size() == 5000) {
          CompletableFuture.allOf(window.toArray(new CompletableFuture<?>[0])).get();
          window.clear();
        }
      }
      CompletableFuture.allOf(window.toArray(new CompletableFuture<?>[0])).get();
      return n / ((System.nanoTime() - t0) / 1e9);
    }
  }
}

package dev.fraiseql.observers.redis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fraiseql.observers.ObservedEvent;
import dev.fraiseql.observers.ObserverEngine;
import dev.fraiseql.observers.Operation;
import dev.fraiseql.observers.config.HandlerConfig;
import dev.fraiseql.observers.config.ObserversConfig;
import dev.fraiseql.observers.config.Ordering;
import dev.fraiseql.observers.config.Settings;
import dev.fraiseql.observers.config.Trigger;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.resps.StreamEntry;

/**
 * A publish handler with {@code ordering = "key"}: the next {@code XADD} of a key is sent only once
 * Redis stored the previous one, so each key's entries are in commit order in the stream, whatever the
 * number of publisher threads and pipelined rounds. Read back with {@code XRANGE}.
 */
class RedisOrderingIT {
  private final String prefix = RedisTestSupport.uniquePrefix();

  @AfterEach
  void cleanup() {
    RedisTestSupport.cleanup(prefix);
  }

  @Test
  void anOrderedPublishHandlerStoresEachKeysEntriesInCommitOrder() {
    String subject = "fraiseql.order.updated";
    int keys = 100;
    int events = 3_000;
    ObserversConfig config = ObserversConfig.builder().backend("redis")
        .backendSettings(Settings.of("[observers]", Map.of("redis_url", RedisTestSupport.url(), "key_prefix", prefix)))
        .handler(HandlerConfig.builder("order-updated").trigger(Trigger.table("tb_order", Operation.UPDATE))
            .action("publish").settings(Settings.of("[[observers.handlers]] #1", Map.of("subject", subject)))
            .ordering(Ordering.KEY).build())
        .build();
    String stream = prefix + "stream:" + subject;
    try (ObserverEngine engine = ObserverEngine.builder().config(config).build();
         RedisClient raw = RedisTestSupport.raw()) {
      for (int i = 0; i < events; i++) {
        engine.onCommit(ObservedEvent.builder().operation(Operation.UPDATE).table("tb_order")
            .newRow(Map.of("id", "o-" + (i % keys), "seq", (long) (i / keys))).build());
      }
      assertThat(RedisTestSupport.await(Duration.ofSeconds(60), () -> raw.xlen(stream) == events))
          .as("every event stored once").isTrue();
      List<StreamEntry> entries = raw.xrange(stream, (redis.clients.jedis.StreamEntryID) null, null, events + 1);
      assertThat(entries).hasSize(events);
      Map<String, Long> last = new HashMap<>();
      for (int i = 0; i < entries.size(); i++) {
        String json = entries.get(i).getFields().get("payload");
        Map<String, Object> row = ObservedEvent.fromJson(json.getBytes(StandardCharsets.UTF_8)).newRow().orElseThrow();
        String key = (String) row.get("id");
        long s = ((Number) row.get("seq")).longValue();
        Long prev = last.put(key, s);
        assertThat(s).as("entry %d, key %s", i, key).isEqualTo(prev == null ? 0 : prev + 1);
      }
      assertThat(last).hasSize(keys);
    }
  }
}

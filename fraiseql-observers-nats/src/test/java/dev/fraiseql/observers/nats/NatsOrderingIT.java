package dev.fraiseql.observers.nats;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fraiseql.observers.ObservedEvent;
import dev.fraiseql.observers.ObserverEngine;
import dev.fraiseql.observers.Operation;
import dev.fraiseql.observers.config.HandlerConfig;
import dev.fraiseql.observers.config.ObserversConfig;
import dev.fraiseql.observers.config.Ordering;
import dev.fraiseql.observers.config.Settings;
import dev.fraiseql.observers.config.Trigger;
import io.nats.client.Connection;
import io.nats.client.JetStreamManagement;
import io.nats.client.api.MessageInfo;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A publish handler with {@code ordering = "key"}: the next publish of a key starts only once the
 * server acknowledged the previous one, so each key's messages enter the stream in commit order.
 * Read back from the stream itself, by stream sequence.
 */
class NatsOrderingIT {
  private final String id = NatsTestSupport.unique();

  @AfterEach
  void tearDown() {
    NatsTestSupport.deleteStream("S" + id);
  }

  @Test
  void anOrderedPublishHandlerStoresEachKeysMessagesInCommitOrder() throws Exception {
    String subject = "t" + id + ".order.updated";
    int keys = 100;
    int events = 3_000;
    ObserversConfig config = ObserversConfig.builder().backend("nats")
        .backendSettings(Settings.of("[observers]", NatsTestSupport.settingsFor(id)))
        .handler(HandlerConfig.builder("order-updated").trigger(Trigger.table("tb_order", Operation.UPDATE))
            .action("publish").settings(Settings.of("[[observers.handlers]] #1", Map.of("subject", subject)))
            .ordering(Ordering.KEY).build())
        .build();
    try (ObserverEngine engine = ObserverEngine.builder().config(config).build();
         Connection plain = NatsTestSupport.rawConnection()) {
      for (int i = 0; i < events; i++) {
        engine.onCommit(ObservedEvent.builder().operation(Operation.UPDATE).table("tb_order")
            .newRow(Map.of("id", "o-" + (i % keys), "seq", (long) (i / keys))).build());
      }
      JetStreamManagement jsm = plain.jetStreamManagement();
      assertThat(NatsTestSupport.await(Duration.ofSeconds(60), () -> {
        try {
          return jsm.getStreamInfo("S" + id).getStreamState().getMsgCount() == events;
        } catch (Exception e) {
          return false;
        }
      })).as("every event stored once").isTrue();
      Map<String, Long> last = new HashMap<>();
      for (long seq = 1; seq <= events; seq++) {
        MessageInfo m = jsm.getMessage("S" + id, seq);
        Map<String, Object> row = ObservedEvent.fromJson(m.getData()).newRow().orElseThrow();
        String key = (String) row.get("id");
        long s = ((Number) row.get("seq")).longValue();
        Long prev = last.put(key, s);
        assertThat(s).as("stream seq %d, key %s", seq, key).isEqualTo(prev == null ? 0 : prev + 1);
      }
      assertThat(last).hasSize(keys).allSatisfy((k, v) -> assertThat(v).isEqualTo(events / keys - 1L));
    }
  }
}

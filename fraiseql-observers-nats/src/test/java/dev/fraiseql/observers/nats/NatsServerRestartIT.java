package dev.fraiseql.observers.nats;

import static dev.fraiseql.observers.nats.NatsTestSupport.await;
import static org.assertj.core.api.Assertions.assertThat;

import dev.fraiseql.observers.config.Settings;
import dev.fraiseql.observers.nats.internal.NatsBackend;
import dev.fraiseql.observers.spi.Disposition;
import dev.fraiseql.observers.spi.EventBus;
import dev.fraiseql.observers.spi.OutboundMessage;
import dev.fraiseql.observers.spi.PublishAck;
import dev.fraiseql.observers.spi.SubscriptionSpec;
import io.nats.client.Connection;
import io.nats.client.api.StreamInfo;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * nats-server stopped and restarted (same port, same storage) while events are being published and
 * consumed. The publisher retries each failed attempt with the same de-duplication id, as the engine
 * does within a handler's budget.
 */
class NatsServerRestartIT {
  private final String id = NatsTestSupport.unique();
  private final String subject = "t" + id + ".order.created";

  @Test
  void everyCommittedEventArrivesAcrossAServerRestartAndNoneIsStoredTwice() throws Exception {
    int n = 80;
    NatsBackend pubBackend = NatsTestSupport.backend(NatsTestSupport.settingsFor(id));
    NatsBackend subBackend = NatsTestSupport.backend(NatsTestSupport.settingsFor(id));
    Map<String, AtomicInteger> handled = new ConcurrentHashMap<>();
    AtomicInteger failedAttempts = new AtomicInteger();
    AtomicInteger duplicateAcks = new AtomicInteger();
    Set<String> acked = ConcurrentHashMap.newKeySet();
    boolean stopped = false;
    try {
      EventBus pub = pubBackend.bus();
      EventBus sub = subBackend.bus();
      sub.subscribe(new SubscriptionSpec(subject, "d" + id, Duration.ofSeconds(2), 16, Settings.empty()), m -> {
        handled.computeIfAbsent(new String(m.payload(), StandardCharsets.UTF_8), k -> new AtomicInteger())
            .incrementAndGet();
        return CompletableFuture.completedFuture(Disposition.ack());
      });
      CompletableFuture<Void> publisher = CompletableFuture.runAsync(() -> {
        for (int i = 0; i < n; i++) {
          OutboundMessage m = new OutboundMessage(subject, ("event-" + i).getBytes(StandardCharsets.UTF_8), Map.of(),
              id + ":" + i);
          // the engine's retry: the same message with the same Nats-Msg-Id until acknowledged, within a budget
          boolean ok = await(Duration.ofSeconds(60), () -> {
            try {
              PublishAck ack = pub.publish(m).toCompletableFuture().get(10, TimeUnit.SECONDS);
              if (ack.duplicate()) {
                duplicateAcks.incrementAndGet();
              }
              acked.add(m.deduplicationId());
              return true;
            } catch (Exception e) {
              failedAttempts.incrementAndGet();
              return false;
            }
          });
          if (!ok) {
            throw new AssertionError("event " + i + " was never acknowledged");
          }
        }
      });
      assertThat(await(Duration.ofSeconds(20), () -> acked.size() >= n / 3)).isTrue();
      NatsTestSupport.stopServer();
      stopped = true;
      int ackedBeforeOutage = acked.size();
      // the outage: the publisher keeps committing and retrying meanwhile
      await(Duration.ofMillis(1500), () -> false);
      int ackedDuringOutage = acked.size() - ackedBeforeOutage;
      NatsTestSupport.startServer();
      stopped = false;
      publisher.get(90, TimeUnit.SECONDS);
      assertThat(ackedDuringOutage).as("acknowledged while the server was down").isZero();
      assertThat(acked).hasSize(n);
      assertThat(await(Duration.ofSeconds(30), () -> handled.size() == n)).isTrue();
      try (Connection c = NatsTestSupport.rawConnection()) {
        StreamInfo info = c.jetStreamManagement().getStreamInfo("S" + id);
        assertThat(info.getStreamState().getMsgCount()).as("messages stored").isEqualTo(n);
      }
      int redelivered = handled.values().stream().mapToInt(a -> a.get() - 1).sum();
      System.out.printf("restart: %d events, %d failed publish attempts, %d duplicate acks (stored once), "
          + "%d stored, %d handled, %d redelivered to the subscriber%n", n, failedAttempts.get(), duplicateAcks.get(), n,
          handled.size(), redelivered);
      for (int i = 0; i < n; i++) {
        assertThat(handled).containsKey("event-" + i);
      }
    } finally {
      if (stopped || !NatsTestSupport.portOpen()) {
        NatsTestSupport.startServer();
      }
      pubBackend.close();
      subBackend.close();
      NatsTestSupport.deleteStream("S" + id);
    }
  }
}

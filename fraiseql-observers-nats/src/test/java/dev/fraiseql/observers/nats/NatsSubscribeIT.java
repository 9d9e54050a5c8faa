package dev.fraiseql.observers.nats;

import static dev.fraiseql.observers.nats.NatsTestSupport.await;
import static org.assertj.core.api.Assertions.assertThat;

import dev.fraiseql.observers.config.Settings;
import dev.fraiseql.observers.nats.internal.NatsBackend;
import dev.fraiseql.observers.spi.BusSubscription;
import dev.fraiseql.observers.spi.Disposition;
import dev.fraiseql.observers.spi.EventBus;
import dev.fraiseql.observers.spi.InboundMessage;
import dev.fraiseql.observers.spi.OutboundMessage;
import dev.fraiseql.observers.spi.SubscriptionSpec;
import io.nats.client.Connection;
import io.nats.client.api.ConsumerInfo;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Subscriptions through the bus, with hand-written handlers standing in for the engine. */
class NatsSubscribeIT {
  private final String id = NatsTestSupport.unique();
  private final String subject = "t" + id + ".order.created";
  private final List<AutoCloseable> closeables = new ArrayList<>();

  @AfterEach
  void tearDown() throws Exception {
    Collections.reverse(closeables);
    for (AutoCloseable c : closeables) {
      c.close();
    }
    NatsTestSupport.deleteStream("S" + id);
  }

  private EventBus newBus() {
    NatsBackend backend = NatsTestSupport.backend(NatsTestSupport.settingsFor(id));
    closeables.add(backend);
    return backend.bus();
  }

  private static SubscriptionSpec spec(String subject, String durable, Duration ackWait, int maxInFlight) {
    return new SubscriptionSpec(subject, durable, ackWait, maxInFlight, Settings.empty());
  }

  private void publish(EventBus bus, int n) throws Exception {
    for (int i = 0; i < n; i++) {
      OutboundMessage m = new OutboundMessage(subject, ("{\"n\":" + i + "}").getBytes(StandardCharsets.UTF_8),
          Map.of("X-Seq", Integer.toString(i)), id + "-" + i);
      CompletableFuture<?>[] f = new CompletableFuture[1];
      assertThat(await(Duration.ofSeconds(10), () -> {
        try {
          bus.publish(m).toCompletableFuture().get(5, TimeUnit.SECONDS);
          return true;
        } catch (Exception e) {
          return false;
        }
      })).as("publish %d", i).isTrue();
    }
  }

  private ConsumerInfo consumer(String durable) throws Exception {
    try (Connection c = NatsTestSupport.rawConnection()) {
      return c.jetStreamManagement().getConsumerInfo("S" + id, durable);
    }
  }

  @Test
  void roundTripDeliversPayloadHeadersAndCountOneThenAcks() throws Exception {
    EventBus bus = newBus();
    List<InboundMessage> got = new CopyOnWriteArrayList<>();
    BusSubscription sub = bus.subscribe(spec(subject, "d" + id, Duration.ofSeconds(5), 8), m -> {
      got.add(m);
      return CompletableFuture.completedFuture(Disposition.ack());
    });
    closeables.add(sub);
    publish(bus, 3);

    assertThat(await(Duration.ofSeconds(10), () -> got.size() >= 3)).isTrue();
    assertThat(got).extracting(InboundMessage::subject).containsOnly(subject);
    assertThat(got).extracting(m -> new String(m.payload(), StandardCharsets.UTF_8))
        .containsExactlyInAnyOrder("{\"n\":0}", "{\"n\":1}", "{\"n\":2}");
    assertThat(got).extracting(m -> m.headers().get("X-Seq")).containsExactlyInAnyOrder("0", "1", "2");
    assertThat(got).extracting(m -> m.headers().get("Nats-Msg-Id")).containsExactlyInAnyOrder(id + "-0", id + "-1", id + "-2");
    assertThat(got).extracting(InboundMessage::deliveryCount).containsOnly(1);
    assertThat(got).extracting(InboundMessage::messageId).containsExactlyInAnyOrder("1", "2", "3");
    assertThat(await(Duration.ofSeconds(5), () -> {
      try {
        ConsumerInfo ci = consumer("d" + id);
        return ci.getNumAckPending() == 0 && ci.getAckFloor().getStreamSequence() == 3;
      } catch (Exception e) {
        return false;
      }
    })).isTrue();
    assertThat(got).hasSize(3);
  }

  @Test
  void aMessageIsHandedOverWithoutWaitingForAFullBatch() throws Exception {
    EventBus bus = newBus();
    List<Long> arrivals = new CopyOnWriteArrayList<>();
    closeables.add(bus.subscribe(spec(subject, "d" + id, Duration.ofSeconds(5), 64), m -> {
      arrivals.add(System.nanoTime());
      return CompletableFuture.completedFuture(Disposition.ack());
    }));
    publish(bus, 1); // warm up: the consumer exists and is fetching
    assertThat(await(Duration.ofSeconds(10), () -> arrivals.size() == 1)).isTrue();
    long[] latencies = new long[5];
    for (int i = 0; i < latencies.length; i++) {
      OutboundMessage m = new OutboundMessage(subject, new byte[] {1}, Map.of(), id + "-lat-" + i);
      long sent = System.nanoTime();
      bus.publish(m).toCompletableFuture().get(5, TimeUnit.SECONDS);
      int expected = i + 2;
      assertThat(await(Duration.ofSeconds(5), () -> arrivals.size() == expected)).isTrue();
      latencies[i] = (arrivals.get(expected - 1) - sent) / 1_000_000;
    }
    System.out.println("publish to handler latencies (ms): " + java.util.Arrays.toString(latencies));
    // fetch_wait_ms is 250 in these tests and a batch is 64: a single message must not wait for either
    assertThat(java.util.Arrays.stream(latencies).sorted().toArray()[2]).isLessThan(200);
  }

  @Test
  void failsTwiceThenSucceedsIsRedeliveredWithBackoffAndAckedOnce() throws Exception {
    EventBus bus = newBus();
    List<Integer> counts = new CopyOnWriteArrayList<>();
    List<Long> times = new CopyOnWriteArrayList<>();
    AtomicInteger acks = new AtomicInteger();
    BusSubscription sub = bus.subscribe(spec(subject, "d" + id, Duration.ofSeconds(5), 8), m -> {
      counts.add(m.deliveryCount());
      times.add(System.nanoTime());
      if (m.deliveryCount() < 3) {
        return CompletableFuture.completedFuture(Disposition.redeliverAfter(Duration.ofMillis(400 * m.deliveryCount())));
      }
      acks.incrementAndGet();
      return CompletableFuture.completedFuture(Disposition.ack());
    });
    closeables.add(sub);
    publish(bus, 1);

    assertThat(await(Duration.ofSeconds(10), () -> acks.get() == 1)).isTrue();
    assertThat(await(Duration.ofSeconds(5), () -> {
      try {
        return consumer("d" + id).getNumAckPending() == 0;
      } catch (Exception e) {
        return false;
      }
    })).isTrue();
    assertThat(counts).containsExactly(1, 2, 3);
    assertThat(Duration.ofNanos(times.get(1) - times.get(0))).isGreaterThanOrEqualTo(Duration.ofMillis(380));
    assertThat(Duration.ofNanos(times.get(2) - times.get(1))).isGreaterThanOrEqualTo(Duration.ofMillis(780));
    // nothing more arrives after the ack
    assertThat(await(Duration.ofMillis(1200), () -> counts.size() > 3)).isFalse();
    assertThat(acks.get()).isEqualTo(1);
  }

  @Test
  void alwaysFailingHandlerIsTerminatedAfterItsBudget() throws Exception {
    EventBus bus = newBus();
    int maxAttempts = 3;
    List<Integer> counts = new CopyOnWriteArrayList<>();
    List<String> deadLetters = new CopyOnWriteArrayList<>();
    BusSubscription sub = bus.subscribe(spec(subject, "d" + id, Duration.ofSeconds(5), 8), m -> {
      counts.add(m.deliveryCount());
      if (m.deliveryCount() >= maxAttempts) {
        deadLetters.add(m.messageId());
        return CompletableFuture.completedFuture(Disposition.term());
      }
      return CompletableFuture.completedFuture(Disposition.redeliverAfter(Duration.ofMillis(200)));
    });
    closeables.add(sub);
    publish(bus, 1);

    assertThat(await(Duration.ofSeconds(10), () -> deadLetters.size() == 1)).isTrue();
    assertThat(await(Duration.ofMillis(1500), () -> counts.size() > maxAttempts)).isFalse();
    assertThat(counts).containsExactly(1, 2, 3);
    assertThat(deadLetters).containsExactly("1");
    assertThat(consumer("d" + id).getNumAckPending()).isZero();
  }

  @Test
  void twoInstancesWithOneDurableShareTheWorkAndHandleEachMessageOnce() throws Exception {
    EventBus a = newBus();
    EventBus b = newBus();
    Map<String, AtomicInteger> handled = new ConcurrentHashMap<>();
    Set<String> byA = ConcurrentHashMap.newKeySet();
    Set<String> byB = ConcurrentHashMap.newKeySet();
    SubscriptionSpec spec = spec(subject, "shared" + id, Duration.ofSeconds(10), 4);
    closeables.add(a.subscribe(spec, m -> {
      handled.computeIfAbsent(m.messageId(), k -> new AtomicInteger()).incrementAndGet();
      byA.add(m.messageId());
      return CompletableFuture.supplyAsync(Disposition::ack, CompletableFuture.delayedExecutor(5, TimeUnit.MILLISECONDS));
    }));
    closeables.add(b.subscribe(spec, m -> {
      handled.computeIfAbsent(m.messageId(), k -> new AtomicInteger()).incrementAndGet();
      byB.add(m.messageId());
      return CompletableFuture.supplyAsync(Disposition::ack, CompletableFuture.delayedExecutor(5, TimeUnit.MILLISECONDS));
    }));
    int n = 60;
    publish(a, n);

    assertThat(await(Duration.ofSeconds(15), () -> handled.size() == n)).isTrue();
    assertThat(await(Duration.ofMillis(800), () -> handled.values().stream().anyMatch(c -> c.get() > 1))).isFalse();
    assertThat(handled.values()).allMatch(c -> c.get() == 1);
    assertThat(byA.size() + byB.size()).isEqualTo(n);
    assertThat(Collections.disjoint(byA, byB)).isTrue();
    System.out.printf("shared durable: instance A handled %d, instance B handled %d%n", byA.size(), byB.size());
  }

  @Test
  void aConsumerKilledBeforeAcknowledgingGetsTheMessageRedelivered() throws Exception {
    EventBus dying = newBus();
    SubscriptionSpec spec = spec(subject, "d" + id, Duration.ofSeconds(1), 4);
    List<InboundMessage> first = new CopyOnWriteArrayList<>();
    BusSubscription doomed = dying.subscribe(spec, m -> {
      first.add(m);
      return new CompletableFuture<>(); // never answers: the process "dies" holding it
    });
    publish(dying, 1);
    assertThat(await(Duration.ofSeconds(10), () -> first.size() == 1)).isTrue();
    doomed.close();
    dying.close();

    EventBus survivor = newBus();
    List<InboundMessage> second = new CopyOnWriteArrayList<>();
    closeables.add(survivor.subscribe(spec, m -> {
      second.add(m);
      return CompletableFuture.completedFuture(Disposition.ack());
    }));
    assertThat(await(Duration.ofSeconds(10), () -> second.size() == 1)).isTrue();
    assertThat(first.get(0).deliveryCount()).isEqualTo(1);
    assertThat(second.get(0).deliveryCount()).isEqualTo(2);
    assertThat(second.get(0).messageId()).isEqualTo(first.get(0).messageId());
    assertThat(second.get(0).payload()).isEqualTo(first.get(0).payload());
  }

  @Test
  void aConsumerTheServerLostIsCreatedAgain() throws Exception {
    EventBus bus = newBus();
    Set<String> got = ConcurrentHashMap.newKeySet();
    AtomicInteger deliveries = new AtomicInteger();
    closeables.add(bus.subscribe(spec(subject, "d" + id, Duration.ofSeconds(5), 8), m -> {
      deliveries.incrementAndGet();
      got.add(new String(m.payload(), StandardCharsets.UTF_8));
      return CompletableFuture.completedFuture(Disposition.ack());
    }));
    publish(bus, 2);
    assertThat(await(Duration.ofSeconds(10), () -> got.size() == 2)).isTrue();
    long start = System.nanoTime();
    try (Connection c = NatsTestSupport.rawConnection()) {
      assertThat(c.jetStreamManagement().deleteConsumer("S" + id, "d" + id)).isTrue();
    }
    publish(bus, 4);
    assertThat(await(Duration.ofSeconds(20), () -> got.size() == 4)).isTrue();
    System.out.printf("consumer re-created and caught up in %dms%n", (System.nanoTime() - start) / 1_000_000);
    assertThat(consumer("d" + id).getConsumerConfiguration().getFilterSubject()).isEqualTo(subject);
    // resumed after the last acknowledged message: nothing acknowledged before was replayed
    assertThat(await(Duration.ofMillis(500), () -> deliveries.get() > 4)).isFalse();
    assertThat(deliveries.get()).isEqualTo(4);
  }

  @Test
  void aSubscriptionStartedWhileTheServerIsUnreachableDoesNotThrow() {
    Map<String, Object> s = NatsTestSupport.settingsFor(id);
    s.put("nats_url", "nats://127.0.0.1:4299");
    NatsBackend backend = NatsTestSupport.backend(s);
    closeables.add(backend);
    long start = System.nanoTime();
    BusSubscription sub = backend.bus().subscribe(spec(subject, "d" + id, Duration.ofSeconds(1), 1),
        m -> CompletableFuture.completedFuture(Disposition.ack()));
    sub.close();
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(3));
  }
}

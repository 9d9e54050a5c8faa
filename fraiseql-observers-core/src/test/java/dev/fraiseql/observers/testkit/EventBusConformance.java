package dev.fraiseql.observers.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.fraiseql.observers.MutationContext;
import dev.fraiseql.observers.ObservedEvent;
import dev.fraiseql.observers.ObserverEngine;
import dev.fraiseql.observers.Operation;
import dev.fraiseql.observers.config.BackoffStrategy;
import dev.fraiseql.observers.config.ObserversConfig;
import dev.fraiseql.observers.config.RetryPolicy;
import dev.fraiseql.observers.config.Settings;
import dev.fraiseql.observers.config.SubscriptionConfig;
import dev.fraiseql.observers.spi.Backend;
import dev.fraiseql.observers.spi.BackendContext;
import dev.fraiseql.observers.spi.BackendProvider;
import dev.fraiseql.observers.spi.BusSubscription;
import dev.fraiseql.observers.spi.DeadLetter;
import dev.fraiseql.observers.spi.Disposition;
import dev.fraiseql.observers.spi.EventBus;
import dev.fraiseql.observers.spi.InboundMessage;
import dev.fraiseql.observers.spi.OutboundMessage;
import dev.fraiseql.observers.spi.PublishAck;
import dev.fraiseql.observers.spi.SubscriptionSpec;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The conformance kit every {@link EventBus} runs (one kit, many backends, like Micrometer's TCK).
 * Subclass it in an {@code *IT} class of your module and implement {@link #createBus()}; override
 * the capability methods where your bus differs. Each test uses fresh subjects and durable names.
 *
 * <p>Covers: publish/subscribe round trip with headers; redelivery after a failed handler, with an
 * increasing delivery count; de-duplication by id; terminate; several instances sharing one durable;
 * a consumer that dies before acknowledging; dead-lettering through a real engine; and a server restart
 * mid-stream (when {@link #restartServer()} is implemented).
 */
public abstract class EventBusConformance {
  private final List<AutoCloseable> closeables = Collections.synchronizedList(new ArrayList<>());

  /** A new client to the same server (each call its own connection). */
  protected abstract EventBus createBus() throws Exception;

  /** A subject prefix valid on this bus; each test appends unique tokens. */
  protected String subjectPrefix() {
    return "conformance";
  }

  /** Whether the bus drops a second publish with the same de-duplication id. */
  protected boolean deduplicates() {
    return true;
  }

  /** Whether headers travel with messages. */
  protected boolean carriesHeaders() {
    return true;
  }

  /** The ack wait used by the kit: a dead consumer's message comes back after about this long. */
  protected Duration ackWait() {
    return Duration.ofSeconds(2);
  }

  /** How long to wait for deliveries. */
  protected Duration patience() {
    return Duration.ofSeconds(20);
  }

  /** Stops and restarts the server (same port, same storage); leave it running. Default: not supported. */
  protected void restartServer() throws Exception {
    Assumptions.abort("this bus's test does not restart its server");
  }

  /** Called before the kit subscribes to a fresh subject (create streams etc. if the bus needs that). */
  protected void prepareSubject(String subject) throws Exception {}

  @AfterEach
  void closeAll() throws Exception {
    List<AutoCloseable> all = new ArrayList<>(closeables);
    Collections.reverse(all);
    for (AutoCloseable c : all) {
      try {
        c.close();
      } catch (Exception ignored) {
        // best effort
      }
    }
    closeables.clear();
  }

  protected final EventBus bus() throws Exception {
    EventBus b = createBus();
    closeables.add(b);
    return b;
  }

  protected final String uniqueSubject() throws Exception {
    String s = subjectPrefix() + "." + UUID.randomUUID().toString().replace("-", "").substring(0, 12) + ".events";
    prepareSubject(s);
    return s;
  }

  private SubscriptionSpec spec(String subject, String durable) {
    return new SubscriptionSpec(subject, durable, ackWait(), 16, Settings.empty());
  }

  private static String durable() {
    return "conf_" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
  }

  private static OutboundMessage message(String subject, String body, String dedup) {
    return new OutboundMessage(subject, body.getBytes(StandardCharsets.UTF_8),
        Map.of(OutboundMessage.HEADER_EVENT_ID, dedup, "X-Test", "yes"), dedup);
  }

  private static PublishAck publish(EventBus bus, OutboundMessage m) throws Exception {
    return bus.publish(m).toCompletableFuture().get(20, TimeUnit.SECONDS);
  }

  @Test
  public void roundTripCarriesPayloadAndHeaders() throws Exception {
    EventBus bus = bus();
    String subject = uniqueSubject();
    List<InboundMessage> got = Collections.synchronizedList(new ArrayList<>());
    closeables.add(bus.subscribe(spec(subject, durable()), m -> {
      got.add(m);
      return CompletableFuture.completedFuture(Disposition.ack());
    }));
    for (int i = 0; i < 3; i++) {
      PublishAck ack = publish(bus, message(subject, "{\"n\":" + i + "}", "id-" + i + "-" + subject));
      assertThat(ack.duplicate()).isFalse();
      assertThat(ack.subject()).isEqualTo(subject);
    }
    Await.until(patience(), () -> got.size() >= 3, () -> "3 messages, got " + got.size());
    assertThat(got).extracting(m -> new String(m.payload(), StandardCharsets.UTF_8))
        .containsExactlyInAnyOrder("{\"n\":0}", "{\"n\":1}", "{\"n\":2}");
    assertThat(got).allSatisfy(m -> {
      assertThat(m.subject()).isEqualTo(subject);
      assertThat(m.deliveryCount()).isEqualTo(1);
      if (carriesHeaders()) {
        assertThat(m.headers()).containsEntry("X-Test", "yes");
        assertThat(m.headers().get(OutboundMessage.HEADER_EVENT_ID)).startsWith("id-");
      }
    });
    Await.holdsFor(ackWait().plusMillis(500), () -> got.size() == 3, () -> "acknowledged messages came back: " + got.size());
  }

  @Test
  public void redeliversAfterAFailedHandlerWithAGrowingDeliveryCount() throws Exception {
    EventBus bus = bus();
    String subject = uniqueSubject();
    List<Integer> counts = Collections.synchronizedList(new ArrayList<>());
    closeables.add(bus.subscribe(spec(subject, durable()), m -> {
      counts.add(m.deliveryCount());
      return CompletableFuture.completedFuture(m.deliveryCount() < 3
          ? Disposition.redeliverAfter(Duration.ofMillis(200)) : Disposition.ack());
    }));
    publish(bus, message(subject, "{}", "once-" + subject));
    Await.until(patience(), () -> counts.size() >= 3, () -> "3 deliveries, got " + counts);
    assertThat(counts).containsExactly(1, 2, 3);
    Await.holdsFor(ackWait().plusMillis(500), () -> counts.size() == 3, () -> "acked message came back: " + counts);
  }

  @Test
  public void deduplicatesByMessageId() throws Exception {
    Assumptions.assumeTrue(deduplicates(), "bus does not de-duplicate");
    EventBus bus = bus();
    String subject = uniqueSubject();
    AtomicInteger handled = new AtomicInteger();
    closeables.add(bus.subscribe(spec(subject, durable()), m -> {
      handled.incrementAndGet();
      return CompletableFuture.completedFuture(Disposition.ack());
    }));
    PublishAck first = publish(bus, message(subject, "{\"x\":1}", "dup-" + subject));
    PublishAck second = publish(bus, message(subject, "{\"x\":1}", "dup-" + subject));
    assertThat(first.duplicate()).isFalse();
    assertThat(second.duplicate()).isTrue();
    Await.until(patience(), () -> handled.get() >= 1);
    Await.holdsFor(Duration.ofSeconds(1), () -> handled.get() == 1, () -> "handled " + handled.get() + " times");
  }

  @Test
  public void terminatedMessagesAreNotRedelivered() throws Exception {
    EventBus bus = bus();
    String subject = uniqueSubject();
    AtomicInteger handled = new AtomicInteger();
    closeables.add(bus.subscribe(spec(subject, durable()), m -> {
      handled.incrementAndGet();
      return CompletableFuture.completedFuture(Disposition.term());
    }));
    publish(bus, message(subject, "{}", "term-" + subject));
    Await.until(patience(), () -> handled.get() >= 1);
    Await.holdsFor(ackWait().plusMillis(800), () -> handled.get() == 1, () -> "terminated message came back");
  }

  @Test
  public void instancesWithOneDurableShareTheWork() throws Exception {
    EventBus a = bus();
    EventBus b = bus();
    String subject = uniqueSubject();
    String durable = durable();
    Map<String, Integer> seen = new ConcurrentHashMap<>();
    Set<String> byA = ConcurrentHashMap.newKeySet();
    Set<String> byB = ConcurrentHashMap.newKeySet();
    closeables.add(a.subscribe(spec(subject, durable), m -> {
      String body = new String(m.payload(), StandardCharsets.UTF_8);
      seen.merge(body, 1, Integer::sum);
      byA.add(body);
      return CompletableFuture.completedFuture(Disposition.ack());
    }));
    closeables.add(b.subscribe(spec(subject, durable), m -> {
      String body = new String(m.payload(), StandardCharsets.UTF_8);
      seen.merge(body, 1, Integer::sum);
      byB.add(body);
      return CompletableFuture.completedFuture(Disposition.ack());
    }));
    int n = 40;
    for (int i = 0; i < n; i++) {
      publish(a, message(subject, "{\"i\":" + i + "}", "share-" + i + "-" + subject));
    }
    Await.until(patience(), () -> seen.size() >= n, () -> n + " distinct messages, got " + seen.size());
    Await.holdsFor(Duration.ofMillis(800), () -> seen.values().stream().allMatch(c -> c == 1), () -> "a message was handled twice: " + seen);
    assertThat(seen).hasSize(n);
    assertThat(byA.size() + byB.size()).isEqualTo(n);
  }

  @Test
  public void aConsumerThatDiesBeforeAcknowledgingHasItsMessageRedelivered() throws Exception {
    EventBus dying = bus();
    String subject = uniqueSubject();
    String durable = durable();
    AtomicInteger firstSaw = new AtomicInteger();
    BusSubscription sub = dying.subscribe(spec(subject, durable), m -> {
      firstSaw.incrementAndGet();
      return new CompletableFuture<>(); // never answers: the consumer "dies" holding it
    });
    publish(dying, message(subject, "{\"k\":1}", "dies-" + subject));
    Await.until(patience(), () -> firstSaw.get() >= 1);
    sub.close();
    dying.close();
    EventBus survivor = bus();
    List<InboundMessage> got = Collections.synchronizedList(new ArrayList<>());
    closeables.add(survivor.subscribe(spec(subject, durable), m -> {
      got.add(m);
      return CompletableFuture.completedFuture(Disposition.ack());
    }));
    Await.until(patience().plus(ackWait()), () -> !got.isEmpty(), () -> "redelivery to the surviving consumer");
    assertThat(new String(got.get(0).payload(), StandardCharsets.UTF_8)).isEqualTo("{\"k\":1}");
    assertThat(got.get(0).deliveryCount()).isGreaterThanOrEqualTo(2);
  }

  @Test
  public void anEngineDeadLettersAfterTheBudgetAndRetriesBeforeIt() throws Exception {
    EventBus bus = bus();
    String subject = uniqueSubject();
    AtomicInteger calls = new AtomicInteger();
    List<String> okFor = Collections.synchronizedList(new ArrayList<>());
    ObserversConfig config = ObserversConfig.builder().backend("conformance")
        .subscription(SubscriptionConfig.builder(subject, "flaky").durable(durable())
            .settings(Settings.of("[[observers.subscribe]]", Map.of("ack_wait_ms", ackWait().toMillis())))
            .retry(RetryPolicy.custom().maxAttempts(3).backoff(BackoffStrategy.FIXED)
                .initialDelay(Duration.ofMillis(100)).maxDelay(Duration.ofMillis(100)).jitter(0).build()).build())
        .build();
    try (ObserverEngine engine = ObserverEngine.builder().config(config).backend(fixed(bus))
        .handler("flaky", e -> {
          calls.incrementAndGet();
          if (e.newRow().orElseThrow().get("ok").equals(Boolean.TRUE)) {
            okFor.add(e.id().toString());
            return;
          }
          throw new IllegalStateException("downstream unavailable");
        }).build()) {
      ObservedEvent bad = ObservedEvent.builder().operation(Operation.INSERT).table("tb_order")
          .newRow(Map.of("ok", false)).context(MutationContext.builder().requestId("req-conf").build()).build();
      ObservedEvent good = ObservedEvent.builder().operation(Operation.INSERT).table("tb_order")
          .newRow(Map.of("ok", true)).build();
      publish(bus, OutboundMessage.forEvent(subject, bad));
      publish(bus, OutboundMessage.forEvent(subject, good));
      Await.until(patience(), () -> engine.deadLetters().count() >= 1 && okFor.size() == 1,
          () -> "a dead letter and one success; calls=" + calls.get());
      DeadLetter d = engine.deadLetters().list().get(0);
      assertThat(d.handler()).isEqualTo("flaky");
      assertThat(d.subject()).contains(subject);
      assertThat(d.event().id()).isEqualTo(bad.id());
      assertThat(d.event().context().requestId()).contains("req-conf");
      assertThat(d.reason()).contains("budget spent after 3").contains("downstream unavailable");
      assertThat(okFor).containsExactly(good.id().toString());
      Await.holdsFor(Duration.ofMillis(500), () -> calls.get() == 4, () -> "3 failing deliveries + 1 success, got " + calls.get());
    }
  }

  @Test
  public void everyMessageArrivesAcrossAServerRestart() throws Exception {
    EventBus bus = bus();
    String subject = uniqueSubject();
    Map<String, Integer> seen = new ConcurrentHashMap<>();
    closeables.add(bus.subscribe(spec(subject, durable()), m -> {
      seen.merge(new String(m.payload(), StandardCharsets.UTF_8), 1, Integer::sum);
      return CompletableFuture.completedFuture(Disposition.ack());
    }));
    for (int i = 0; i < 10; i++) {
      publish(bus, message(subject, "{\"i\":" + i + "}", "r-" + i + "-" + subject));
    }
    Await.until(patience(), () -> seen.size() >= 10, () -> "10 before restart, got " + seen.size());
    restartServer();
    prepareSubject(subject);
    for (int i = 10; i < 20; i++) {
      OutboundMessage m = message(subject, "{\"i\":" + i + "}", "r-" + i + "-" + subject);
      PublishAck ack = null;
      long deadline = System.nanoTime() + patience().toNanos();
      while (ack == null) {
        try {
          ack = publish(bus, m);
        } catch (Exception e) {
          if (System.nanoTime() > deadline) {
            throw e;
          }
          Thread.sleep(200); // the server is coming back: the engine would retry the same way
        }
      }
    }
    Await.until(patience(), () -> seen.size() >= 20, () -> "20 in all, got " + seen.size() + ": " + seen.keySet());
    if (deduplicates()) {
      assertThat(seen.values()).allMatch(c -> c == 1);
    }
  }

  /** A backend provider named {@code conformance} that hands out the given bus. */
  protected static BackendProvider fixed(EventBus bus) {
    return new BackendProvider() {
      @Override
      public String name() {
        return "conformance";
      }

      @Override
      public Set<String> settingKeys() {
        return Set.of();
      }

      @Override
      public Backend create(BackendContext context) {
        return () -> bus;
      }
    };
  }
}

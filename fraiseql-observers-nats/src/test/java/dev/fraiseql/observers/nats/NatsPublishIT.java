package dev.fraiseql.observers.nats;

import static dev.fraiseql.observers.nats.NatsTestSupport.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.fraiseql.observers.MutationContext;
import dev.fraiseql.observers.ObservedEvent;
import dev.fraiseql.observers.Operation;
import dev.fraiseql.observers.nats.internal.NatsBackend;
import dev.fraiseql.observers.spi.EventBus;
import dev.fraiseql.observers.spi.OutboundMessage;
import dev.fraiseql.observers.spi.PermanentFailureException;
import dev.fraiseql.observers.spi.PublishAck;
import io.nats.client.Connection;
import io.nats.client.Message;
import io.nats.client.Subscription;
import io.nats.client.api.StreamInfo;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class NatsPublishIT {
  private final String id = NatsTestSupport.unique();
  private NatsBackend backend;

  @AfterEach
  void tearDown() {
    if (backend != null) {
      backend.close();
    }
    NatsTestSupport.deleteStream("S" + id);
  }

  private static ObservedEvent orderCreated() {
    return ObservedEvent.builder()
        .operation(Operation.INSERT).table("tb_order").mutation("createOrder")
        .newRow(Map.of("id", "ord-1", "total", 42))
        .context(MutationContext.builder().userId("user-7").tenantId("tenant-3").requestId("req_01HV3KQBN7").build())
        .build();
  }

  @Test
  void publishesTheEventJsonWithHeadersAndCompletesOnTheServerAck() throws Exception {
    backend = NatsTestSupport.backend(NatsTestSupport.settingsFor(id));
    EventBus bus = backend.bus();
    String subject = "t" + id + ".order.created";
    ObservedEvent event = orderCreated();
    try (Connection plain = NatsTestSupport.rawConnection()) {
      Subscription sub = plain.subscribe(subject);
      plain.flush(Duration.ofSeconds(2));
      assertThat(await(Duration.ofSeconds(10), () -> backend.bus() != null && publishable(bus, subject))).isTrue();

      PublishAck ack = bus.publish(OutboundMessage.forEvent(subject, event)).toCompletableFuture().get(10, TimeUnit.SECONDS);

      assertThat(ack.subject()).isEqualTo(subject);
      assertThat(ack.duplicate()).isFalse();
      Message m = sub.nextMessage(Duration.ofSeconds(5));
      while (m != null && !event.id().toString().equals(m.getHeaders().getFirst(OutboundMessage.HEADER_EVENT_ID))) {
        m = sub.nextMessage(Duration.ofSeconds(5));
      }
      assertThat(m).isNotNull();
      assertThat(new String(m.getData(), StandardCharsets.UTF_8)).isEqualTo(event.toJsonString());
      assertThat(ObservedEvent.fromJson(m.getData()).id()).isEqualTo(event.id());
      assertThat(m.getHeaders().getFirst(OutboundMessage.HEADER_TABLE)).isEqualTo("tb_order");
      assertThat(m.getHeaders().getFirst(OutboundMessage.HEADER_OPERATION)).isEqualTo("INSERT");
      assertThat(m.getHeaders().getFirst(OutboundMessage.HEADER_EVENT_NAME)).isEqualTo(event.name());
      assertThat(m.getHeaders().getFirst(OutboundMessage.HEADER_USER_ID)).isEqualTo("user-7");
      assertThat(m.getHeaders().getFirst(OutboundMessage.HEADER_TENANT_ID)).isEqualTo("tenant-3");
      assertThat(m.getHeaders().getFirst(OutboundMessage.HEADER_REQUEST_ID)).isEqualTo("req_01HV3KQBN7");
      assertThat(m.getHeaders().getFirst("Nats-Msg-Id")).isEqualTo(event.id() + ":" + subject);
      StreamInfo info = plain.jetStreamManagement().getStreamInfo("S" + id,
          io.nats.client.api.StreamInfoOptions.filterSubjects(subject));
      assertThat(info.getStreamState().getSubjects()).hasSize(1);
      assertThat(info.getStreamState().getSubjects().get(0).getCount()).isEqualTo(1);
      assertThat(ack.position()).isEqualTo(Long.toString(info.getStreamState().getLastSequence()));
    }
  }

  /** Waits for the connection and the stream: a probe publish on a separate subject. */
  private static boolean publishable(EventBus bus, String subject) {
    try {
      bus.publish(new OutboundMessage(subject + ".probe", new byte[0], Map.of(), "probe")).toCompletableFuture()
          .get(5, TimeUnit.SECONDS);
      return true;
    } catch (Exception e) {
      return false;
    }
  }

  @Test
  void aDuplicatePublishOfOneEventIsStoredOnce() throws Exception {
    backend = NatsTestSupport.backend(NatsTestSupport.settingsFor(id));
    EventBus bus = backend.bus();
    String subject = "t" + id + ".order.created";
    assertThat(await(Duration.ofSeconds(10), () -> publishable(bus, "t" + id + ".warmup"))).isTrue();
    OutboundMessage message = OutboundMessage.forEvent(subject, orderCreated());

    PublishAck first = bus.publish(message).toCompletableFuture().get(10, TimeUnit.SECONDS);
    PublishAck second = bus.publish(message).toCompletableFuture().get(10, TimeUnit.SECONDS);
    PublishAck third = bus.publish(OutboundMessage.forEvent(subject, orderCreated())).toCompletableFuture()
        .get(10, TimeUnit.SECONDS);

    assertThat(first.duplicate()).isFalse();
    assertThat(second.duplicate()).isTrue();
    assertThat(second.position()).isEqualTo(first.position());
    assertThat(third.duplicate()).isFalse();
    try (Connection plain = NatsTestSupport.rawConnection()) {
      StreamInfo info = plain.jetStreamManagement().getStreamInfo("S" + id);
      assertThat(info.getStreamState().getSubjectCount()).isEqualTo(2); // warmup probe + order.created
      assertThat(plain.jetStreamManagement().getStreamInfo("S" + id,
          io.nats.client.api.StreamInfoOptions.filterSubjects(subject)).getStreamState().getSubjects().get(0).getCount())
          .isEqualTo(2); // the first and third publish; the duplicate was not stored
    }
  }

  /** A publish the stream refuses: jnats' PublishAck reading of the error reply fails the attempt, nothing is stored. */
  @Test
  void aPublishTheStreamRefusesFailsWithTheServersReasonAndStoresNothing() throws Exception {
    backend = NatsTestSupport.backend(NatsTestSupport.settingsFor(id));
    EventBus bus = backend.bus();
    String subject = "t" + id + ".order.refused";
    assertThat(await(Duration.ofSeconds(10), () -> publishable(bus, "t" + id + ".warmup"))).isTrue();
    // an expected last sequence the stream does not have: JetStream answers with an error, not an ack
    CompletableFuture<PublishAck> refused = bus.publish(new OutboundMessage(subject, "x".getBytes(StandardCharsets.UTF_8),
        Map.of("Nats-Expected-Last-Sequence", "999999"), "refused-1")).toCompletableFuture();
    assertThatThrownBy(() -> refused.get(10, TimeUnit.SECONDS)).hasCauseInstanceOf(dev.fraiseql.observers.ObserverException.class)
        .cause().hasMessageContaining(subject).hasMessageContaining("wrong last sequence")
        .hasRootCauseInstanceOf(io.nats.client.JetStreamApiException.class);
    PublishAck stored = bus.publish(new OutboundMessage(subject, "y".getBytes(StandardCharsets.UTF_8), Map.of(),
        "stored-1")).toCompletableFuture().get(10, TimeUnit.SECONDS);
    assertThat(stored.duplicate()).isFalse();
    try (Connection plain = NatsTestSupport.rawConnection()) {
      StreamInfo info = plain.jetStreamManagement().getStreamInfo("S" + id,
          io.nats.client.api.StreamInfoOptions.filterSubjects(subject));
      assertThat(info.getStreamState().getSubjects()).hasSize(1);
      assertThat(info.getStreamState().getSubjects().get(0).getCount()).isEqualTo(1); // only the second
      assertThat(stored.position()).isEqualTo(Long.toString(info.getStreamState().getLastSequence()));
    }
  }

  @Test
  void withoutAutoCreateAMissingStreamIsAClearErrorNamingTheSubject() throws Exception {
    Map<String, Object> s = NatsTestSupport.settingsFor(id);
    s.put("auto_create_stream", false);
    backend = NatsTestSupport.backend(s);
    EventBus bus = backend.bus();
    String subject = "t" + id + ".order.created";
    CompletableFuture<PublishAck>[] last = new CompletableFuture[1];
    assertThat(await(Duration.ofSeconds(10), () -> {
      last[0] = bus.publish(OutboundMessage.forEvent(subject, orderCreated())).toCompletableFuture();
      try {
        last[0].get(5, TimeUnit.SECONDS);
        return true;
      } catch (Exception e) {
        return true;
      }
    })).isTrue();
    assertThat(last[0]).isCompletedExceptionally();
    try {
      last[0].join();
    } catch (CompletionException e) {
      assertThat(e.getCause()).hasMessageContaining("no JetStream stream captures subject " + subject)
          .hasMessageContaining("nats stream add S" + id)
          .hasMessageContaining("auto_create_stream = true");
    }
    try (Connection plain = NatsTestSupport.rawConnection()) {
      assertThat(plain.jetStreamManagement().getStreamNames()).doesNotContain("S" + id);
    }
  }

  @Test
  void aHostSuppliedOptionsIsUsedAndItsListenerStillHearsEvents() throws Exception {
    java.util.List<io.nats.client.ConnectionListener.Events> heard = new java.util.concurrent.CopyOnWriteArrayList<>();
    io.nats.client.Options options = new io.nats.client.Options.Builder().server(NatsTestSupport.URL)
        .connectionListener((conn, type) -> heard.add(type)).build();
    backend = new NatsBackend(dev.fraiseql.observers.nats.internal.NatsSettings.parse(
        dev.fraiseql.observers.config.Settings.of("[observers.nats]", NatsTestSupport.settingsFor(id)),
        v -> java.util.Optional.empty()), java.util.Optional.of(options));
    PublishAck ack = backend.bus().publish(OutboundMessage.forEvent("t" + id + ".order.created", orderCreated()))
        .toCompletableFuture().get(10, TimeUnit.SECONDS);
    assertThat(ack.duplicate()).isFalse();
    assertThat(heard).contains(io.nats.client.ConnectionListener.Events.CONNECTED);
  }

  @Test
  void aBadSubjectFailsPermanently() throws Exception {
    backend = NatsTestSupport.backend(NatsTestSupport.settingsFor(id));
    EventBus bus = backend.bus();
    assertThat(await(Duration.ofSeconds(10), () -> publishable(bus, "t" + id + ".warmup"))).isTrue();
    CompletableFuture<PublishAck> f = bus.publish(new OutboundMessage("bad subject", new byte[1], Map.of(), "x"))
        .toCompletableFuture();
    assertThat(f).failsWithin(Duration.ofSeconds(5)).withThrowableOfType(java.util.concurrent.ExecutionException.class)
        .havingCause().isInstanceOf(PermanentFailureException.class).withMessageContaining("bad subject");
  }

  @Test
  void aServerThatIsDownDoesNotFailStartUpAndPublishesFailTheirAttempt() {
    Map<String, Object> s = NatsTestSupport.settingsFor(id);
    s.put("nats_url", "nats://127.0.0.1:4299");
    s.put("publish_timeout_ms", 500L);
    backend = NatsTestSupport.backend(s);
    long start = System.nanoTime();
    EventBus bus = backend.bus();
    CompletableFuture<PublishAck> f = bus.publish(OutboundMessage.forEvent("t" + id + ".x", orderCreated()))
        .toCompletableFuture();
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(1));
    assertThat(f).failsWithin(Duration.ofSeconds(5)).withThrowableOfType(java.util.concurrent.ExecutionException.class)
        .withMessageContaining("not connected to NATS at nats://127.0.0.1:4299");
  }

  /**
   * A publish nobody answers (a plain subscriber, no stream, takes the request and stays silent):
   * failed as retryable after publish_timeout_ms by jnats' request sweep (no timer per publish), and
   * its window permit comes back: with publish_window = 1 the next publish goes through.
   * (A publish waiting for room meanwhile could time out too: it waits publish_timeout_ms.)
   */
  @Test
  void anUnansweredPublishFailsAfterThePublishTimeoutAndGivesItsWindowPermitBack() throws Exception {
    Map<String, Object> s = NatsTestSupport.settingsFor(id);
    s.put("publish_timeout_ms", 500L);
    s.put("publish_window", 1L);
    backend = NatsTestSupport.backend(s);
    EventBus bus = backend.bus();
    assertThat(await(Duration.ofSeconds(10), () -> publishable(bus, "t" + id + ".warmup"))).isTrue();
    String silent = "silent" + id + ".order.created";
    try (Connection plain = NatsTestSupport.rawConnection()) {
      Subscription sink = plain.subscribe(silent);
      plain.flush(Duration.ofSeconds(2));
      long start = System.nanoTime();
      CompletableFuture<PublishAck> unanswered = bus.publish(OutboundMessage.forEvent(silent, orderCreated()))
          .toCompletableFuture();
      assertThat(unanswered).failsWithin(Duration.ofSeconds(5))
          .withThrowableOfType(java.util.concurrent.ExecutionException.class)
          .havingCause().isInstanceOf(dev.fraiseql.observers.ObserverException.class)
          .isNotInstanceOf(PermanentFailureException.class)
          .withMessageContaining("no acknowledgement from NATS within 500ms for " + silent)
          .withMessageContaining("same Nats-Msg-Id");
      Duration took = Duration.ofNanos(System.nanoTime() - start);
      assertThat(took).as("failed by the sweep: after the timeout, within two sweep periods")
          .isGreaterThanOrEqualTo(Duration.ofMillis(500)).isLessThan(Duration.ofMillis(2500));
      assertThat(sink.nextMessage(Duration.ofSeconds(1))).as("the request did reach the server").isNotNull();
      // the window (1) was held by the unanswered publish; failing it gave the permit back
      PublishAck next = bus.publish(OutboundMessage.forEvent("t" + id + ".order.created", orderCreated()))
          .toCompletableFuture().get(5, TimeUnit.SECONDS);
      assertThat(next.duplicate()).isFalse();
    }
  }

  @Test
  void closingTheBackendFailsPublishesStillAwaitingTheirAcknowledgement() throws Exception {
    Map<String, Object> s = NatsTestSupport.settingsFor(id);
    s.put("publish_timeout_ms", 30_000L);
    backend = NatsTestSupport.backend(s);
    EventBus bus = backend.bus();
    assertThat(await(Duration.ofSeconds(10), () -> publishable(bus, "t" + id + ".warmup"))).isTrue();
    String silent = "silent" + id + ".order.created";
    try (Connection plain = NatsTestSupport.rawConnection()) {
      plain.subscribe(silent);
      plain.flush(Duration.ofSeconds(2));
      CompletableFuture<PublishAck> unanswered = bus.publish(OutboundMessage.forEvent(silent, orderCreated()))
          .toCompletableFuture();
      Thread.sleep(200);
      assertThat(unanswered).isNotDone();
      backend.close();
      assertThat(unanswered).failsWithin(Duration.ofSeconds(5))
          .withThrowableOfType(java.util.concurrent.ExecutionException.class)
          .havingCause().isInstanceOf(dev.fraiseql.observers.ObserverException.class)
          .withMessageContaining("publish to NATS subject " + silent + " was interrupted")
          .withMessageContaining("retried with the same Nats-Msg-Id");
    }
  }

  /**
   * The server is unreachable when the backend starts and reachable later: a publish before the
   * first connection fails its attempt after publish_timeout_ms; once connected, publishes and
   * subscriptions work (the failed wait must not have settled the connector's own future).
   */
  @Test
  void aServerReachableOnlyAfterStartUpServesPublishesAndSubscriptionsOnceConnected() throws Exception {
    try (GatedProxy proxy = new GatedProxy()) {
      Map<String, Object> s = NatsTestSupport.settingsFor(id);
      s.put("nats_url", proxy.url());
      s.put("publish_timeout_ms", 300L);
      s.put("reconnect_wait_ms", 100L);
      backend = NatsTestSupport.backend(s);
      EventBus bus = backend.bus();
      String subject = "t" + id + ".order.created";
      CompletableFuture<PublishAck> early = bus.publish(OutboundMessage.forEvent(subject, orderCreated()))
          .toCompletableFuture();
      assertThat(early).failsWithin(Duration.ofSeconds(5))
          .withThrowableOfType(java.util.concurrent.ExecutionException.class)
          .withMessageContaining("not connected to NATS at " + proxy.url());

      proxy.open();
      assertThat(await(Duration.ofSeconds(20), () -> publishable(bus, "t" + id + ".warmup"))).isTrue();
      java.util.Set<String> received = java.util.concurrent.ConcurrentHashMap.newKeySet();
      bus.subscribe(new dev.fraiseql.observers.spi.SubscriptionSpec(subject, "d" + id, Duration.ofSeconds(5), 8,
          dev.fraiseql.observers.config.Settings.empty()), m -> {
            received.add(new String(m.payload(), StandardCharsets.UTF_8));
            return CompletableFuture.completedFuture(dev.fraiseql.observers.spi.Disposition.ack());
          });
      ObservedEvent event = orderCreated();
      assertThat(bus.publish(OutboundMessage.forEvent(subject, event)).toCompletableFuture().get(5, TimeUnit.SECONDS)
          .duplicate()).isFalse();
      assertThat(await(Duration.ofSeconds(15), () -> received.contains(event.toJsonString())))
          .as("the subscription started once connected and received the event").isTrue();
    }
  }
}

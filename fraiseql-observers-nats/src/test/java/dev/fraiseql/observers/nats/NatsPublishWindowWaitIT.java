package dev.fraiseql.observers.nats;

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
import dev.fraiseql.observers.config.Trigger;
import io.nats.client.Connection;
import io.nats.client.Dispatcher;
import io.nats.client.Message;
import io.nats.client.api.MessageInfo;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Waiting for room in the NATS publish window is not part of a publish attempt (issue #15). The
 * handler publishes to {@code p<id>.order.created}, which no stream captures: a plain subscriber there
 * (a slow "server") forwards each publish to the real stream {@code S<id>} ({@code t<id>.>}) and answers
 * with the stream's acknowledgement, after a delay or only when released. So acknowledgements are slow
 * without touching the shared server, and what arrived is read back from the stream.
 */
class NatsPublishWindowWaitIT {
  private final String id = NatsTestSupport.unique();

  @AfterEach
  void tearDown() {
    NatsTestSupport.deleteStream("S" + id);
  }

  private ObserverEngine engine(long window, Duration timeout) {
    Map<String, Object> backend = NatsTestSupport.settingsFor(id);
    backend.put("publish_window", window);
    backend.put("publish_timeout_ms", 20_000L);
    ObserversConfig config = ObserversConfig.builder().backend("nats")
        .backendSettings(Settings.of("[observers]", backend))
        .handler(HandlerConfig.builder("order-created").trigger(Trigger.table("tb_order", Operation.INSERT))
            .action("publish").settings(Settings.of("[[observers]] #1", Map.of("subject", "p" + id + ".order.created")))
            .retry(RetryPolicy.custom().maxAttempts(2).backoff(BackoffStrategy.FIXED)
                .initialDelay(Duration.ofMillis(50)).maxDelay(Duration.ofMillis(50)).jitter(0)
                .attemptTimeout(timeout).build())
            .build())
        .build();
    return ObserverEngine.builder().config(config).build();
  }

  private static ObservedEvent order(String orderId) {
    return ObservedEvent.builder().operation(Operation.INSERT).table("tb_order").newRow(Map.of("id", orderId)).build();
  }

  /** Forwards a publish to the real stream and answers the publisher with the stream's acknowledgement. */
  private void forward(Connection plain, Message m) {
    try {
      Message ack = plain.request("t" + id + ".order.created", m.getHeaders(), m.getData(), Duration.ofSeconds(5));
      plain.publish(m.getReplyTo(), ack.getData());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** The Nats-Msg-Id of every message stored in the stream. */
  private List<String> storedIds(Connection plain) throws Exception {
    var jsm = plain.jetStreamManagement();
    long count = jsm.getStreamInfo("S" + id).getStreamState().getMsgCount();
    List<String> ids = new ArrayList<>();
    for (long seq = 1; seq <= count; seq++) {
      MessageInfo mi = jsm.getMessage("S" + id, seq);
      ids.add(mi.getHeaders().getFirst("Nats-Msg-Id"));
    }
    return ids;
  }

  @Test
  void aBurstLargerThanTheWindowSpendsNoBudgetWaitingForRoom() throws Exception {
    List<String> arrived = new CopyOnWriteArrayList<>();
    try (Connection plain = NatsTestSupport.rawConnection()) {
      // the slow server: one acknowledgement every 60 ms
      Dispatcher d = plain.createDispatcher(m -> {
        arrived.add(m.getHeaders().getFirst("Nats-Msg-Id"));
        try {
          Thread.sleep(60);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        forward(plain, m);
      });
      d.subscribe("p" + id + ".order.created");
      plain.flush(Duration.ofSeconds(2));
      // window 2, 30 events: the last wait ~1 s for room; timeout_ms is 400
      try (ObserverEngine engine = engine(2, Duration.ofMillis(400))) {
        List<ObservedEvent> events = new ArrayList<>();
        List<CompletableFuture<List<DeliveryOutcome>>> fs = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
          ObservedEvent e = order("burst-" + i);
          events.add(e);
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
        Set<String> expected = new HashSet<>();
        for (ObservedEvent e : events) {
          expected.add(e.id() + ":p" + id + ".order.created");
        }
        // each event sent once and stored once
        assertThat(arrived).hasSize(30).containsExactlyInAnyOrderElementsOf(expected);
        assertThat(storedIds(plain)).hasSize(30).containsExactlyInAnyOrderElementsOf(expected);
      }
    }
  }

  @Test
  void anAttemptAbandonedWhileWaitingForTheWindowIsNeverPublished() throws Exception {
    List<String> arrived = new CopyOnWriteArrayList<>();
    List<Message> held = new CopyOnWriteArrayList<>();
    CountDownLatch release = new CountDownLatch(1);
    try (Connection plain = NatsTestSupport.rawConnection()) {
      // the server holds every acknowledgement until released
      Dispatcher d = plain.createDispatcher(m -> {
        arrived.add(m.getHeaders().getFirst("Nats-Msg-Id"));
        held.add(m);
      });
      d.subscribe("p" + id + ".order.created");
      plain.flush(Duration.ofSeconds(2));
      ObserverEngine engine = engine(1, Duration.ofSeconds(10));
      ObservedEvent first = order("held-1");
      ObservedEvent waiting = order("held-2");
      CompletableFuture<List<DeliveryOutcome>> f1 = engine.onCommit(first).completion().toCompletableFuture();
      assertThat(NatsTestSupport.await(Duration.ofSeconds(10), () -> arrived.size() == 1)).isTrue();
      // the window (1) is held by the first publish: the second waits for room
      CompletableFuture<List<DeliveryOutcome>> f2 = engine.onCommit(waiting).completion().toCompletableFuture();
      Thread.sleep(300);
      assertThat(arrived).hasSize(1);
      // the engine gives up on both; then the first publish is acknowledged, which frees the window
      CompletableFuture<CloseReport> closing = CompletableFuture.supplyAsync(() -> engine.shutdown(Duration.ofMillis(200)));
      Thread.sleep(400);
      for (Message m : held) {
        forward(plain, m);
      }
      CloseReport report = closing.get(30, TimeUnit.SECONDS);
      assertThat(report.deadLettered()).isEqualTo(2);
      assertThat(f1.get(10, TimeUnit.SECONDS)).singleElement()
          .satisfies(o -> assertThat(o.status()).isEqualTo(DeliveryOutcome.Status.DEAD_LETTERED));
      assertThat(f2.get(10, TimeUnit.SECONDS)).singleElement()
          .satisfies(o -> assertThat(o.status()).isEqualTo(DeliveryOutcome.Status.DEAD_LETTERED));
      Thread.sleep(500);
      // only the publish sent before the engine gave up arrived; the abandoned one was never sent
      assertThat(arrived).containsExactly(first.id() + ":p" + id + ".order.created");
      assertThat(storedIds(plain)).containsExactly(first.id() + ":p" + id + ".order.created");
    }
  }
}

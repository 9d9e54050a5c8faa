package dev.fraiseql.observers.redis;

import static dev.fraiseql.observers.redis.RedisTestSupport.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.fraiseql.observers.MutationContext;
import dev.fraiseql.observers.ObservedEvent;
import dev.fraiseql.observers.ObserverConfigException;
import dev.fraiseql.observers.config.Settings;
import dev.fraiseql.observers.redis.internal.RedisBackend;
import dev.fraiseql.observers.redis.internal.RedisEventBus;
import dev.fraiseql.observers.spi.BusSubscription;
import dev.fraiseql.observers.spi.Disposition;
import dev.fraiseql.observers.spi.EventBus;
import dev.fraiseql.observers.spi.InboundMessage;
import dev.fraiseql.observers.spi.OutboundMessage;
import dev.fraiseql.observers.spi.PublishAck;
import dev.fraiseql.observers.spi.SubscriptionSpec;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.StreamEntryID;
import redis.clients.jedis.params.XPendingParams;
import redis.clients.jedis.params.XReadGroupParams;
import redis.clients.jedis.resps.StreamEntry;
import redis.clients.jedis.resps.StreamPendingEntry;

class RedisEventBusIT extends RedisScope {
  private static final Duration WAIT = Duration.ofSeconds(15);

  private static SubscriptionSpec spec(String subject, String group, Duration ackWait, int maxInFlight) {
    return new SubscriptionSpec(subject, group, ackWait, maxInFlight, Settings.empty());
  }

  private static ObservedEvent event(String email) {
    return ObservedEvent.builder().operation(dev.fraiseql.observers.Operation.INSERT).table("tb_user")
        .mutation("createUser").newRow(Map.of("id", "u-" + email, "email", email))
        .context(MutationContext.builder().userId("user-7").tenantId("t-1").requestId("req_01HV").build()).build();
  }

  @Test
  void publishThenConsumeRoundTripWithPayloadAndFields() throws Exception {
    EventBus bus = backend(Map.of()).bus();
    List<InboundMessage> got = new CopyOnWriteArrayList<>();
    BusSubscription sub = bus.subscribe(spec("fraiseql.user.created", "g1", Duration.ofSeconds(30), 16), m -> {
      got.add(m);
      return CompletableFuture.completedFuture(Disposition.ack());
    });
    toClose.add(sub);

    ObservedEvent e = event("alice@example.com");
    OutboundMessage out = OutboundMessage.forEvent("fraiseql.user.created", e);
    PublishAck ack = bus.publish(out).toCompletableFuture().get(10, TimeUnit.SECONDS);
    assertThat(ack.subject()).isEqualTo("fraiseql.user.created");
    assertThat(ack.duplicate()).isFalse();
    assertThat(ack.position()).matches("\\d+-\\d+");

    assertThat(await(WAIT, () -> got.size() == 1)).isTrue();
    InboundMessage m = got.get(0);
    assertThat(m.subject()).isEqualTo("fraiseql.user.created");
    assertThat(m.messageId()).isEqualTo(ack.position());
    assertThat(m.deliveryCount()).isEqualTo(1);
    assertThat(m.payload()).isEqualTo(e.toJson());
    assertThat(m.event()).isEqualTo(e);
    assertThat(m.event().newRow().orElseThrow()).containsEntry("email", "alice@example.com");
    assertThat(m.headers())
        .containsEntry(OutboundMessage.HEADER_EVENT_ID, e.id().toString())
        .containsEntry(OutboundMessage.HEADER_EVENT_NAME, "user.created")
        .containsEntry(OutboundMessage.HEADER_TABLE, "tb_user")
        .containsEntry(OutboundMessage.HEADER_OPERATION, "INSERT")
        .containsEntry(OutboundMessage.HEADER_MUTATION, "createUser")
        .containsEntry(OutboundMessage.HEADER_USER_ID, "user-7")
        .containsEntry(OutboundMessage.HEADER_TENANT_ID, "t-1")
        .containsEntry(OutboundMessage.HEADER_REQUEST_ID, "req_01HV")
        .hasSize(8);

    // the stored entry, as another Redis client sees it
    String key = prefix + "stream:fraiseql.user.created";
    List<StreamEntry> stored = raw.xrange(key, (StreamEntryID) null, (StreamEntryID) null);
    assertThat(stored).hasSize(1);
    Map<String, String> fields = stored.get(0).getFields();
    assertThat(fields.get("payload")).isEqualTo(e.toJsonString());
    assertThat(fields.get("dedup")).isEqualTo(e.id() + ":fraiseql.user.created");
    assertThat(fields.get("h:Fraiseql-Event-Id")).isEqualTo(e.id().toString());
    // acknowledged: nothing pending in the group
    assertThat(await(WAIT, () -> raw.xpending(key, "g1").getTotal() == 0)).isTrue();
    assertThat(raw.xinfoConsumers2(key, "g1")).hasSize(1);
    // a closed instance with nothing pending leaves no consumer behind in the group
    sub.close();
    assertThat(raw.xinfoConsumers2(key, "g1")).isEmpty();
    assertThat(raw.xinfoGroups(key)).hasSize(1);
  }

  @Test
  void pipelinedBurstStoresEveryMessageOnceInOrder() throws Exception {
    // one publisher keeps the publish order (several may interleave their rounds)
    RedisEventBus bus = (RedisEventBus) backend(Map.of("batch", 200L, "publishers", 1L)).bus();
    int n = 5000;
    List<CompletableFuture<PublishAck>> acks = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      acks.add(bus.publish(new OutboundMessage("burst", ("m" + i).getBytes(StandardCharsets.UTF_8),
          Map.of("n", Integer.toString(i)), "d" + i)).toCompletableFuture());
    }
    CompletableFuture.allOf(acks.toArray(new CompletableFuture<?>[0])).get(30, TimeUnit.SECONDS);
    Set<String> ids = new HashSet<>();
    for (CompletableFuture<PublishAck> a : acks) {
      ids.add(a.get().position());
    }
    assertThat(ids).hasSize(n);
    String key = bus.streamKey("burst");
    assertThat(raw.xlen(key)).isEqualTo(n);
    List<StreamEntry> first = raw.xrange(key, (StreamEntryID) null, (StreamEntryID) null, 3);
    assertThat(first).extracting(x -> x.getFields().get("payload")).containsExactly("m0", "m1", "m2");
    assertThat(first.get(2).getFields()).containsEntry("h:n", "2").containsEntry("dedup", "d2");
  }

  @Test
  void aRepublishWithTheSameDeduplicationIdIsNotStoredTwice() throws Exception {
    RedisEventBus bus = (RedisEventBus) backend(Map.of()).bus();
    OutboundMessage m = new OutboundMessage("dedup", "once".getBytes(StandardCharsets.UTF_8), Map.of("a", "b"), "evt-1:dedup");
    PublishAck first = bus.publish(m).toCompletableFuture().get(10, TimeUnit.SECONDS);
    PublishAck again = bus.publish(m).toCompletableFuture().get(10, TimeUnit.SECONDS);
    assertThat(first.duplicate()).isFalse();
    assertThat(again.duplicate()).isTrue();
    assertThat(again.position()).isEqualTo(first.position());
    assertThat(raw.xlen(bus.streamKey("dedup"))).isEqualTo(1);
    // the id is remembered in the subject's hash for the current window-long time bucket
    Set<String> buckets = raw.keys(prefix + "dedup:5:dedup:*");
    assertThat(buckets).hasSize(1);
    String bucket = buckets.iterator().next();
    assertThat(raw.hget(bucket, "evt-1:dedup")).isEqualTo(first.position());
    assertThat(raw.pttl(bucket)).isBetween(120_000L, 360_000L);
    // Redis lost its script cache (as after a restart): the publisher reloads the script and goes on
    raw.scriptFlush();
    PublishAck afterFlush = bus.publish(new OutboundMessage("dedup", "two".getBytes(StandardCharsets.UTF_8), Map.of(),
        "evt-3:dedup")).toCompletableFuture().get(10, TimeUnit.SECONDS);
    assertThat(afterFlush.duplicate()).isFalse();
    assertThat(raw.xlen(bus.streamKey("dedup"))).isEqualTo(2);

    RedisEventBus plain = (RedisEventBus) backend(Map.of("dedup_window_ms", 0L)).bus();
    OutboundMessage p = new OutboundMessage("plain", "twice".getBytes(StandardCharsets.UTF_8), Map.of(), "evt-2");
    assertThat(plain.publish(p).toCompletableFuture().get(10, TimeUnit.SECONDS).duplicate()).isFalse();
    assertThat(plain.publish(p).toCompletableFuture().get(10, TimeUnit.SECONDS).duplicate()).isFalse();
    assertThat(raw.xlen(plain.streamKey("plain"))).isEqualTo(2);
  }

  @Test
  void streamsAreTrimmedToAboutMaxLen() throws Exception {
    RedisEventBus bus = (RedisEventBus) backend(Map.of("max_len", 100L)).bus();
    List<CompletableFuture<PublishAck>> acks = new ArrayList<>();
    for (int i = 0; i < 2000; i++) {
      acks.add(bus.publish(new OutboundMessage("trim", new byte[] {1, 2, (byte) 0xff}, Map.of(), "d" + i))
          .toCompletableFuture());
    }
    CompletableFuture.allOf(acks.toArray(new CompletableFuture<?>[0])).get(30, TimeUnit.SECONDS);
    long len = raw.xlen(bus.streamKey("trim"));
    assertThat(len).isBetween(100L, 400L); // MAXLEN ~ trims whole macro nodes
  }

  @Test
  void redeliveryCountsDeliveriesAccuratelyAndTermRemovesTheEntry() throws Exception {
    EventBus bus = backend(Map.of()).bus();
    List<Integer> counts = new CopyOnWriteArrayList<>();
    List<Integer> pendingCounts = new CopyOnWriteArrayList<>();
    String key = prefix + "stream:retry";
    BusSubscription sub = bus.subscribe(spec("retry", "g", Duration.ofSeconds(30), 4), m -> {
      counts.add(m.deliveryCount());
      List<StreamPendingEntry> p = raw.xpending(key, "g", XPendingParams.xPendingParams().count(10));
      pendingCounts.add(p.isEmpty() ? -1 : (int) p.get(0).getDeliveredTimes());
      Disposition d = m.deliveryCount() < 3 ? Disposition.redeliverAfter(Duration.ofMillis(100)) : Disposition.term();
      return CompletableFuture.completedFuture(d);
    });
    toClose.add(sub);
    bus.publish(new OutboundMessage("retry", "x".getBytes(StandardCharsets.UTF_8), Map.of(), "r1"))
        .toCompletableFuture().get(10, TimeUnit.SECONDS);
    // the handler records pendingCounts after counts (an XPENDING round trip later): wait for both
    assertThat(await(WAIT, () -> counts.size() == 3 && pendingCounts.size() == 3)).isTrue();
    assertThat(counts).containsExactly(1, 2, 3);
    assertThat(pendingCounts).containsExactly(1, 2, 3); // Redis' PEL agrees with deliveryCount
    assertThat(await(WAIT, () -> raw.xpending(key, "g").getTotal() == 0)).isTrue();
    Thread.sleep(300); // nothing further may arrive after term (bounded wait for absence)
    assertThat(counts).hasSize(3);
  }

  @Test
  void entriesLeftPendingByADeadConsumerAreReclaimedByAnother() throws Exception {
    EventBus bus = backend(Map.of("claim_idle_ms", 300L)).bus();
    String key = prefix + "stream:orders";
    // subscribe once so the group exists, then close it: the group remains
    bus.subscribe(spec("orders", "workers", Duration.ofSeconds(30), 8),
        m -> new CompletableFuture<>()).close();
    bus.publish(new OutboundMessage("orders", "order-1".getBytes(StandardCharsets.UTF_8), Map.of("k", "v"), "o1"))
        .toCompletableFuture().get(10, TimeUnit.SECONDS);
    // a consumer reads it and dies without acknowledging
    List<Map.Entry<String, List<StreamEntry>>> read = raw.xreadGroup("workers", "dead-consumer",
        XReadGroupParams.xReadGroupParams().count(1), Map.of(key, StreamEntryID.XREADGROUP_UNDELIVERED_ENTRY));
    assertThat(read.get(0).getValue()).hasSize(1);

    List<InboundMessage> got = new CopyOnWriteArrayList<>();
    BusSubscription sub = bus.subscribe(spec("orders", "workers", Duration.ofSeconds(30), 8), m -> {
      got.add(m);
      return CompletableFuture.completedFuture(Disposition.ack());
    });
    toClose.add(sub);
    assertThat(await(WAIT, () -> got.size() == 1)).isTrue();
    assertThat(new String(got.get(0).payload(), StandardCharsets.UTF_8)).isEqualTo("order-1");
    assertThat(got.get(0).headers()).containsEntry("k", "v");
    assertThat(got.get(0).deliveryCount()).isEqualTo(2);
    assertThat(await(WAIT, () -> raw.xpending(key, "workers").getTotal() == 0)).isTrue();
  }

  @Test
  void aHungHandlerInAClosedInstanceIsReclaimedByAnotherInstance() throws Exception {
    Map<String, Object> cfg = Map.of("claim_idle_ms", 300L);
    EventBus busA = backend(cfg).bus();
    EventBus busB = backend(cfg).bus();
    AtomicInteger seenByA = new AtomicInteger();
    // instance A takes the message and never answers; its close gives up after the ack wait (200ms)
    BusSubscription a = busA.subscribe(spec("jobs", "pool", Duration.ofMillis(200), 8), m -> {
      seenByA.incrementAndGet();
      return new CompletableFuture<>();
    });
    busA.publish(new OutboundMessage("jobs", "job-1".getBytes(StandardCharsets.UTF_8), Map.of(), "j1"))
        .toCompletableFuture().get(10, TimeUnit.SECONDS);
    assertThat(await(WAIT, () -> seenByA.get() == 1)).isTrue();
    a.close();

    List<InboundMessage> gotB = new CopyOnWriteArrayList<>();
    BusSubscription b = busB.subscribe(spec("jobs", "pool", Duration.ofSeconds(30), 8), m -> {
      gotB.add(m);
      return CompletableFuture.completedFuture(Disposition.ack());
    });
    toClose.add(b);
    assertThat(await(WAIT, () -> gotB.size() == 1)).isTrue();
    assertThat(gotB.get(0).deliveryCount()).isEqualTo(2);
    assertThat(new String(gotB.get(0).payload(), StandardCharsets.UTF_8)).isEqualTo("job-1");
  }

  @Test
  void severalInstancesInOneGroupShareTheWork() throws Exception {
    EventBus busA = backend(Map.of()).bus();
    EventBus busB = backend(Map.of()).bus();
    Map<String, String> byPayload = new ConcurrentHashMap<>();
    AtomicInteger deliveries = new AtomicInteger();
    for (EventBus bus : List.of(busA, busB)) {
      String who = bus == busA ? "A" : "B";
      toClose.add(bus.subscribe(spec("shared", "team", Duration.ofSeconds(30), 4), m -> {
        deliveries.incrementAndGet();
        byPayload.put(new String(m.payload(), StandardCharsets.UTF_8), who);
        // slow enough that one instance alone cannot hog every entry
        return CompletableFuture.supplyAsync(Disposition::ack,
            CompletableFuture.delayedExecutor(5, TimeUnit.MILLISECONDS));
      }));
    }
    int n = 200;
    List<CompletableFuture<PublishAck>> acks = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      acks.add(busA.publish(new OutboundMessage("shared", ("p" + i).getBytes(StandardCharsets.UTF_8), Map.of(), "s" + i))
          .toCompletableFuture());
    }
    CompletableFuture.allOf(acks.toArray(new CompletableFuture<?>[0])).get(30, TimeUnit.SECONDS);
    assertThat(await(WAIT, () -> byPayload.size() == n)).isTrue();
    assertThat(deliveries.get()).isEqualTo(n); // each exactly once
    assertThat(byPayload.values()).contains("A", "B");
  }

  @Test
  void maxInFlightBoundsConcurrentHandling() throws Exception {
    EventBus bus = backend(Map.of()).bus();
    AtomicInteger now = new AtomicInteger();
    AtomicInteger peak = new AtomicInteger();
    AtomicInteger done = new AtomicInteger();
    toClose.add(bus.subscribe(spec("bounded", "g", Duration.ofSeconds(30), 3), m -> {
      peak.accumulateAndGet(now.incrementAndGet(), Math::max);
      return CompletableFuture.supplyAsync(() -> {
        now.decrementAndGet();
        done.incrementAndGet();
        return Disposition.ack();
      }, CompletableFuture.delayedExecutor(20, TimeUnit.MILLISECONDS));
    }));
    for (int i = 0; i < 30; i++) {
      bus.publish(new OutboundMessage("bounded", new byte[] {(byte) i}, Map.of(), "b" + i));
    }
    assertThat(await(WAIT, () -> done.get() == 30)).isTrue();
    assertThat(peak.get()).isBetween(1, 3);
  }

  @Test
  void wildcardSubjectsAreRejected() {
    EventBus bus = backend(Map.of()).bus();
    assertThatThrownBy(() -> bus.subscribe(spec("fraiseql.order.*", "g", Duration.ofSeconds(30), 1),
        m -> CompletableFuture.completedFuture(Disposition.ack())))
        .isInstanceOf(ObserverConfigException.class)
        .hasMessageContaining("fraiseql.order.*").hasMessageContaining("wildcard").hasMessageContaining("nats");
    assertThatThrownBy(() -> bus.subscribe(spec("fraiseql.>", "g", Duration.ofSeconds(30), 1),
        m -> CompletableFuture.completedFuture(Disposition.ack())))
        .isInstanceOf(ObserverConfigException.class);
  }

  @Test
  void unreachableRedisFailsPublishesWithoutCredentialsAndNeverFailsSubscribe() throws Exception {
    RedisBackend b = new RedisBackend(dev.fraiseql.observers.redis.internal.RedisSettings.from(Settings.of(
        "[observers.redis]", Map.of("redis_url", "redis://admin:hunter2@127.0.0.1:1", "key_prefix", prefix,
            "publish_queue", 5L, "timeout_ms", 200L))));
    toClose.add(b);
    EventBus bus = b.bus();
    // subscribing while Redis is down does not throw: the reader keeps retrying
    BusSubscription sub = bus.subscribe(spec("down", "g", Duration.ofMillis(100), 1),
        m -> CompletableFuture.completedFuture(Disposition.ack()));
    List<CompletableFuture<PublishAck>> acks = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      acks.add(bus.publish(new OutboundMessage("down", new byte[] {1}, Map.of(), "x" + i)).toCompletableFuture());
    }
    int rejected = 0;
    for (CompletableFuture<PublishAck> a : acks) {
      try {
        a.get(10, TimeUnit.SECONDS);
      } catch (ExecutionException e) {
        assertThat(e.getCause().getMessage()).doesNotContain("hunter2").doesNotContain("admin");
        if (e.getCause() instanceof RejectedExecutionException) {
          rejected++;
        }
      }
      assertThat(a).isCompletedExceptionally();
    }
    assertThat(rejected).isGreaterThan(0); // the bounded queue refused some at once
    sub.close();
  }
}

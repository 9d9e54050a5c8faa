package dev.fraiseql.observers.redis;

import static dev.fraiseql.observers.redis.RedisTestSupport.await;
import static org.assertj.core.api.Assertions.assertThat;

import dev.fraiseql.observers.redis.internal.RedisBackend;
import dev.fraiseql.observers.redis.internal.RedisEventBus;
import dev.fraiseql.observers.spi.OutboundMessage;
import dev.fraiseql.observers.spi.PublishAck;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.StreamEntryID;
import redis.clients.jedis.resps.StreamEntry;

/**
 * The pipelined publisher: the batch de-duplication script (duplicates inside one round and across
 * rounds, the exact window, per-entry errors), several publisher threads, and completion of the
 * callers' futures off the publisher threads. Asserts what arrived in Redis, not only the acks.
 */
class RedisPublisherIT extends RedisScope {
  private RedisEventBus bus(Map<String, Object> extra) {
    return (RedisEventBus) backend(extra).bus();
  }

  private static OutboundMessage message(String subject, String payload, String dedupId) {
    return new OutboundMessage(subject, payload.getBytes(StandardCharsets.UTF_8),
        Map.of("Fraiseql-Event-Id", dedupId, "n", payload), dedupId);
  }

  private List<StreamEntry> entries(String key) {
    return raw.xrange(key, (StreamEntryID) null, (StreamEntryID) null);
  }

  private static List<PublishAck> all(List<CompletableFuture<PublishAck>> acks) throws Exception {
    CompletableFuture.allOf(acks.toArray(new CompletableFuture<?>[0])).get(60, TimeUnit.SECONDS);
    List<PublishAck> out = new ArrayList<>();
    for (CompletableFuture<PublishAck> a : acks) {
      out.add(a.get());
    }
    return out;
  }

  @Test
  void duplicatesInsideOneRoundAndAcrossRoundsAreStoredOnce() throws Exception {
    // one publisher and a large batch: the burst below goes out in few rounds, each holding repeats
    RedisEventBus bus = bus(Map.of("publishers", 1L, "batch", 1000L));
    PublishAck earlier = bus.publish(message("orders", "first-7", "id-7")).toCompletableFuture().get(10, TimeUnit.SECONDS);
    assertThat(earlier.duplicate()).isFalse();

    int distinct = 100;
    List<CompletableFuture<PublishAck>> acks = new ArrayList<>();
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 3 * distinct; i++) {
      String id = "id-" + (i % distinct);
      ids.add(id);
      acks.add(bus.publish(message("orders", "p" + i, id)).toCompletableFuture());
    }
    List<PublishAck> got = all(acks);

    String key = bus.streamKey("orders");
    List<StreamEntry> stored = entries(key);
    assertThat(stored).hasSize(distinct); // id-7 once (before the burst), 99 others once each
    Map<String, String> entryOfId = new HashMap<>();
    for (StreamEntry e : stored) {
      assertThat(entryOfId.put(e.getFields().get("dedup"), e.getID().toString())).isNull();
    }
    assertThat(entryOfId.get("id-7")).isEqualTo(earlier.position());
    assertThat(stored.get(0).getFields()).containsEntry("payload", "first-7").containsEntry("h:n", "first-7");

    int duplicates = 0;
    for (int i = 0; i < got.size(); i++) {
      PublishAck a = got.get(i);
      assertThat(a.subject()).isEqualTo("orders");
      // every ack names the one entry stored for its id, whether it stored it or found it
      assertThat(a.position()).as("ack %d", i).isEqualTo(entryOfId.get(ids.get(i)));
      if (a.duplicate()) {
        duplicates++;
      } else {
        // the entry it stored carries this publish's own payload
        assertThat(stored.stream().filter(e -> e.getID().toString().equals(a.position())).findFirst().orElseThrow()
            .getFields()).containsEntry("payload", "p" + i);
      }
    }
    assertThat(duplicates).isEqualTo(3 * distinct - (distinct - 1));
    // the first publish of each id in the burst stored it (id-7 was stored before)
    for (int i = 0; i < distinct; i++) {
      assertThat(got.get(i).duplicate()).as("first of %s", ids.get(i)).isEqualTo(i == 7);
      assertThat(got.get(i + distinct).duplicate()).isTrue();
      assertThat(got.get(i + 2 * distinct).duplicate()).isTrue();
    }
  }

  @Test
  void aDuplicateIsOnlyRecognisedWithinTheWindow() throws Exception {
    RedisEventBus bus = bus(Map.of("dedup_window_ms", 300L));
    PublishAck a = bus.publish(message("w", "one", "same")).toCompletableFuture().get(10, TimeUnit.SECONDS);
    PublishAck b = bus.publish(message("w", "two", "same")).toCompletableFuture().get(10, TimeUnit.SECONDS);
    assertThat(a.duplicate()).isFalse();
    assertThat(b.duplicate()).isTrue();
    assertThat(b.position()).isEqualTo(a.position());
    Thread.sleep(450); // past the window (the id may still sit in the previous bucket: its age decides)
    PublishAck c = bus.publish(message("w", "three", "same")).toCompletableFuture().get(10, TimeUnit.SECONDS);
    assertThat(c.duplicate()).isFalse();
    assertThat(c.position()).isNotEqualTo(a.position());
    PublishAck d = bus.publish(message("w", "four", "same")).toCompletableFuture().get(10, TimeUnit.SECONDS);
    assertThat(d.duplicate()).isTrue();
    assertThat(d.position()).isEqualTo(c.position());
    assertThat(entries(bus.streamKey("w"))).extracting(e -> e.getFields().get("payload")).containsExactly("one", "three");
    // buckets older than the previous one are removed by the next call that finds them
    Thread.sleep(700);
    bus.publish(message("w", "five", "other")).toCompletableFuture().get(10, TimeUnit.SECONDS);
    assertThat(raw.keys(prefix + "dedup:1:w:*").size()).isBetween(1, 2);
  }

  @Test
  void severalSubjectsInOneRoundGoToTheirOwnStreamsAndDeduplicatePerSubject() throws Exception {
    RedisEventBus bus = bus(Map.of("publishers", 1L, "batch", 1000L));
    List<CompletableFuture<PublishAck>> acks = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      String subject = "s" + (i % 3);
      acks.add(bus.publish(message(subject, subject + "-" + (i / 3 % 50), "id-" + (i / 3 % 50))).toCompletableFuture());
    }
    List<PublishAck> got = all(acks);
    for (int s = 0; s < 3; s++) {
      List<StreamEntry> stored = entries(bus.streamKey("s" + s));
      assertThat(stored).hasSize(50);
      Set<String> dedups = new HashSet<>();
      for (StreamEntry e : stored) {
        assertThat(e.getFields().get("payload")).startsWith("s" + s + "-");
        dedups.add(e.getFields().get("dedup"));
      }
      assertThat(dedups).hasSize(50);
    }
    assertThat(got.stream().filter(PublishAck::duplicate).count()).isEqualTo(150);
  }

  @Test
  void messagesWithDifferentHeadersInOneRoundKeepExactlyTheirOwnFields() throws Exception {
    for (long window : new long[] {120_000L, 0L}) {
      RedisEventBus bus = bus(Map.of("publishers", 1L, "batch", 1000L, "dedup_window_ms", window));
      String subject = "mixed" + window;
      List<Map<String, String>> headers = List.of(
          Map.of(),
          Map.of("a", "1"),
          new java.util.LinkedHashMap<>(Map.of("a", "2")) {{ put("b", "x"); }},
          new java.util.LinkedHashMap<>(Map.of("b", "y")) {{ put("a", "3"); }}, // same names, other order
          Map.of("unicode", "h\u00e9 \u2603", "a", "4"));
      List<CompletableFuture<PublishAck>> acks = new ArrayList<>();
      for (int i = 0; i < 100; i++) {
        acks.add(bus.publish(new OutboundMessage(subject, ("m" + i).getBytes(StandardCharsets.UTF_8),
            headers.get(i % headers.size()), subject + "-" + i)).toCompletableFuture());
      }
      all(acks);
      // the raw reply keeps the fields' order: [[id, [field, value, ...]], ...]
      List<?> stored = (List<?>) raw.sendCommand(redis.clients.jedis.Protocol.Command.XRANGE, bus.streamKey(subject),
          "-", "+");
      assertThat(stored).hasSize(100);
      for (int i = 0; i < 100; i++) {
        List<String> expected = new ArrayList<>(List.of("payload", "m" + i, "dedup", subject + "-" + i));
        headers.get(i % headers.size()).forEach((k, v) -> expected.addAll(List.of("h:" + k, v)));
        List<String> fields = new ArrayList<>();
        for (Object f : (List<?>) ((List<?>) stored.get(i)).get(1)) {
          fields.add(new String((byte[]) f, StandardCharsets.UTF_8));
        }
        assertThat(fields).as("entry %d", i).isEqualTo(expected);
      }
    }
  }

  @Test
  void anEntryRedisRefusesFailsAloneAndTheRestOfTheRoundIsStored() throws Exception {
    raw.set(prefix + "stream:broken", "not a stream");
    for (long window : new long[] {120_000L, 0L}) {
      RedisEventBus bus = bus(Map.of("publishers", 1L, "batch", 1000L, "dedup_window_ms", window));
      List<CompletableFuture<PublishAck>> acks = new ArrayList<>();
      for (int i = 0; i < 50; i++) {
        String subject = i == 20 ? "broken" : "fine" + window;
        acks.add(bus.publish(message(subject, "m" + i, "w" + window + "-" + i)).toCompletableFuture());
      }
      for (int i = 0; i < 50; i++) {
        CompletableFuture<PublishAck> a = acks.get(i);
        if (i == 20) {
          ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
              () -> a.get(10, TimeUnit.SECONDS));
          assertThat(e.getCause().getMessage()).contains("WRONGTYPE").contains(prefix + "stream:broken");
        } else {
          assertThat(a.get(10, TimeUnit.SECONDS).duplicate()).isFalse();
        }
      }
      assertThat(raw.xlen(bus.streamKey("fine" + window))).isEqualTo(49);
      assertThat(raw.get(prefix + "stream:broken")).isEqualTo("not a stream");
    }
  }

  @Test
  void aBurstBeyondTheQueueWaitsForRoomInsteadOfFailing() throws Exception {
    // a queue of 5 and rounds of 5: a burst of 300 from one caller outruns the publisher many times over
    RedisEventBus bus = bus(Map.of("publishers", 1L, "batch", 5L, "publish_queue", 5L, "timeout_ms", 2000L));
    List<CompletableFuture<PublishAck>> acks = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      acks.add(bus.publish(message("burst", "b" + i, "burst-" + i)).toCompletableFuture());
    }
    List<PublishAck> got = all(acks); // throws if any publish was refused
    assertThat(got).hasSize(300).noneMatch(PublishAck::duplicate);
    List<StreamEntry> stored = entries(bus.streamKey("burst"));
    assertThat(stored).hasSize(300);
    // one publisher: stored in the order of the publish calls
    for (int i = 0; i < 300; i++) {
      assertThat(stored.get(i).getFields()).containsEntry("payload", "b" + i);
    }
  }

  @Test
  void severalPublishersStoreEveryMessageExactlyOnce() throws Exception {
    for (long window : new long[] {120_000L, 0L}) {
      RedisEventBus bus = bus(Map.of("publishers", 4L, "batch", 50L, "dedup_window_ms", window, "publish_queue", 100_000L));
      String subject = "many" + window;
      int producers = 4;
      int each = 5000;
      List<CompletableFuture<PublishAck>> acks = Collections.synchronizedList(new ArrayList<>());
      Set<String> publisherThreads = java.util.concurrent.ConcurrentHashMap.newKeySet();
      List<Thread> threads = new ArrayList<>();
      for (int p = 0; p < producers; p++) {
        int me = p;
        Thread t = new Thread(() -> {
          for (int i = 0; i < each; i++) {
            String id = "p" + me + "-" + i;
            CompletableFuture<PublishAck> f = bus.publish(message(subject, id, id)).toCompletableFuture();
            acks.add(f);
          }
        });
        threads.add(t);
        t.start();
      }
      for (Thread t : threads) {
        t.join();
      }
      List<PublishAck> got = all(new ArrayList<>(acks));
      assertThat(got).hasSize(producers * each).noneMatch(PublishAck::duplicate);
      assertThat(got.stream().map(PublishAck::position).distinct().count()).isEqualTo(producers * each);
      List<StreamEntry> stored = entries(bus.streamKey(subject));
      assertThat(stored).hasSize(producers * each);
      Set<String> payloads = new HashSet<>();
      for (StreamEntry e : stored) {
        assertThat(e.getFields().get("dedup")).isEqualTo(e.getFields().get("payload"));
        assertThat(e.getFields().get("h:Fraiseql-Event-Id")).isEqualTo(e.getFields().get("payload"));
        payloads.add(e.getFields().get("payload"));
      }
      assertThat(payloads).hasSize(producers * each);
      // every publisher thread took part, each on its own connection
      for (Map<String, String> c : clients()) {
        if (c.get("name").startsWith("fraiseql-observers-publisher-")) {
          publisherThreads.add(c.get("name"));
        }
      }
      assertThat(publisherThreads).hasSizeGreaterThanOrEqualTo(4);
    }
  }

  @Test
  void aPublisherWhoseConnectionIsKilledReconnectsAndNothingIsLostOrStoredTwice() throws Exception {
    for (long window : new long[] {120_000L, 0L}) {
      RedisEventBus bus = bus(Map.of("publishers", 1L, "timeout_ms", 500L, "dedup_window_ms", window));
      String subject = "kill" + window;
      Set<String> before = publisherConnections();
      assertThat(bus.publish(message(subject, "m1", "k1")).toCompletableFuture().get(10, TimeUnit.SECONDS).duplicate())
          .isFalse();
      Set<String> ours = publisherConnections();
      ours.removeAll(before);
      assertThat(ours).hasSize(1);
      raw.sendCommand(redis.clients.jedis.Protocol.Command.CLIENT, "KILL", "ID", ours.iterator().next());

      // like the engine: retry a failed publish (same de-duplication id) until Redis confirms it
      int failures = 0;
      for (String id : List.of("k2", "k3", "k1")) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (true) {
          try {
            PublishAck a = bus.publish(message(subject, "m-" + id, id)).toCompletableFuture().get(10, TimeUnit.SECONDS);
            assertThat(a.duplicate()).isEqualTo(window > 0 && id.equals("k1"));
            break;
          } catch (ExecutionException e) {
            failures++;
            assertThat(e.getCause()).isInstanceOf(dev.fraiseql.observers.redis.internal.RedisBusException.class)
                .hasMessageContaining("redis://localhost:6379");
            assertThat(System.nanoTime()).isLessThan(deadline);
            Thread.sleep(50);
          }
        }
      }
      List<String> payloads = new ArrayList<>();
      entries(bus.streamKey(subject)).forEach(e -> payloads.add(e.getFields().get("payload")));
      if (window > 0) {
        // with de-duplication the round that found the dead connection is resent at once on a new one
        assertThat(failures).isZero();
        assertThat(payloads).containsExactly("m1", "m-k2", "m-k3");
      } else {
        // without, that round fails (the engine retries it) and k1 is stored again
        assertThat(failures).isLessThanOrEqualTo(1);
        assertThat(payloads).containsExactly("m1", "m-k2", "m-k3", "m-k1");
      }
      Set<String> now = publisherConnections();
      now.removeAll(before);
      assertThat(now).hasSize(1).doesNotContainAnyElementsOf(ours); // a new connection replaced the killed one
      before.addAll(now);
    }
  }

  /** Jedis 8 negotiates RESP3 by default; every connection of ours stays on RESP2, whose reply shapes it reads. */
  @Test
  void everyConnectionOfTheBackendSpeaksResp2() throws Exception {
    RedisBackend b = backend(Map.of("publishers", 2L));
    RedisEventBus bus = (RedisEventBus) b.bus();
    bus.publish(message("resp", "m", "resp-1")).toCompletableFuture().get(10, TimeUnit.SECONDS);
    b.deadLetterStore().orElseThrow().count(); // a pooled connection too
    List<Map<String, String>> ours = new ArrayList<>();
    for (Map<String, String> c : clients()) {
      if (c.get("name").startsWith("fraiseql-observers")) {
        ours.add(c);
      }
    }
    assertThat(ours).extracting(c -> c.get("name")).anyMatch(n -> n.startsWith("fraiseql-observers-publisher-"))
        .anyMatch(n -> n.equals("fraiseql-observers"));
    assertThat(ours).allSatisfy(c -> assertThat(c.get("resp")).as(c.get("name")).isEqualTo("2"));
  }

  /** The ids of the connections publisher threads opened (named {@code fraiseql-observers-publisher-N}). */
  private Set<String> publisherConnections() {
    Set<String> ids = new HashSet<>();
    for (Map<String, String> c : clients()) {
      if (c.get("name").startsWith("fraiseql-observers-publisher-")) {
        ids.add(c.get("id"));
      }
    }
    return ids;
  }

  /** CLIENT LIST, parsed. */
  private List<Map<String, String>> clients() {
    List<Map<String, String>> out = new ArrayList<>();
    String list = new String((byte[]) raw.sendCommand(redis.clients.jedis.Protocol.Command.CLIENT, "LIST"),
        StandardCharsets.UTF_8);
    for (String line : list.split("\n")) {
      Map<String, String> c = new HashMap<>();
      for (String kv : line.trim().split(" ")) {
        int eq = kv.indexOf('=');
        if (eq > 0) {
          c.put(kv.substring(0, eq), kv.substring(eq + 1));
        }
      }
      c.putIfAbsent("name", "");
      out.add(c);
    }
    return out;
  }

  @Test
  void callersAreCompletedOffThePublisherThreadAndASlowCallerDoesNotHoldPublishingUp() throws Exception {
    RedisEventBus bus = bus(Map.of("publishers", 1L));
    String me = Thread.currentThread().getName();
    CountDownLatch release = new CountDownLatch(1);
    AtomicReference<String> completedOn = new AtomicReference<>();
    CompletableFuture<Void> slowCaller = null;
    try {
      // a dependent added after the reply arrived would run here, on the test thread: try until it was in time
      for (int attempt = 0; attempt < 20 && (completedOn.get() == null || completedOn.get().equals(me)); attempt++) {
        completedOn.set(null);
        CompletableFuture<PublishAck> f = bus.publish(message("slow", "m" + attempt, "s" + attempt)).toCompletableFuture();
        slowCaller = f.thenRun(() -> {
          completedOn.set(Thread.currentThread().getName());
          if (!Thread.currentThread().getName().equals(me)) {
            try {
              release.await(30, TimeUnit.SECONDS); // a caller that holds the completing thread
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
          }
        });
        assertThat(await(Duration.ofSeconds(10), () -> completedOn.get() != null)).isTrue();
      }
      assertThat(completedOn.get()).startsWith("fraiseql-redis-acks-");
      long before = raw.xlen(bus.streamKey("slow"));
      // the one publisher thread goes on publishing while that caller still holds its completion
      List<CompletableFuture<PublishAck>> more = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        more.add(bus.publish(message("slow", "more" + i, "more" + i)).toCompletableFuture());
      }
      assertThat(await(Duration.ofSeconds(10), () -> raw.xlen(bus.streamKey("slow")) == before + 4)).isTrue();
      assertThat(slowCaller).isNotDone();
    } finally {
      release.countDown();
    }
    slowCaller.get(10, TimeUnit.SECONDS);
  }
}

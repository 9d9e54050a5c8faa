package dev.fraiseql.observers.nats;

import static dev.fraiseql.observers.nats.NatsTestSupport.await;
import static org.assertj.core.api.Assertions.assertThat;

import dev.fraiseql.observers.MutationContext;
import dev.fraiseql.observers.ObservedEvent;
import dev.fraiseql.observers.Operation;
import dev.fraiseql.observers.config.Settings;
import dev.fraiseql.observers.nats.internal.NatsBackend;
import dev.fraiseql.observers.spi.BusSubscription;
import dev.fraiseql.observers.spi.Disposition;
import dev.fraiseql.observers.spi.EventBus;
import dev.fraiseql.observers.spi.OutboundMessage;
import dev.fraiseql.observers.spi.SubscriptionSpec;
import io.nats.client.Connection;
import io.nats.client.JetStreamSubscription;
import io.nats.client.Message;
import io.nats.client.Nats;
import io.nats.client.Options;
import io.nats.client.PullSubscribeOptions;
import io.nats.client.api.AckPolicy;
import io.nats.client.api.ConsumerConfiguration;
import io.nats.client.api.DeliverPolicy;
import io.nats.client.api.StreamInfo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A three-node JetStream cluster ({@code bin/cluster nats start}, ports 14222-14224, never the standard
 * 4222): a stream with {@code replicas = 3}; events published through the backend while the node leading
 * the stream is killed and restarted, then another node; no event lost, none stored twice (counted by
 * message id over the whole stream), and a durable subscription delivers every one.
 *
 * <p>{@code -Dfraiseql.cluster.events=N} sets the count (default 50,000, about 30 s).
 */
class NatsClusterFailoverIT {
  static final String SEEDS = "nats://127.0.0.1:14222,nats://127.0.0.1:14223,nats://127.0.0.1:14224";
  static final int EVENTS = Integer.getInteger("fraiseql.cluster.events", 50_000);
  private static final Path SCRIPT = Path.of("..", "bin", "cluster").toAbsolutePath().normalize();

  @BeforeAll
  static void startCluster() throws Exception {
    Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/sbin/nats-server"))
        || Files.isExecutable(Path.of("/usr/local/bin/nats-server")) || Files.isExecutable(Path.of("/usr/bin/nats-server")),
        "nats-server is not installed: the cluster test needs it (bin/cluster nats start)");
    cluster("start");
  }

  @AfterAll
  static void stopCluster() throws Exception {
    if (!"1".equals(System.getenv("FRAISEQL_CLUSTER_KEEP"))) {
      cluster("stop");
    }
  }

  static void cluster(String... args) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of(SCRIPT.toString(), "nats"));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).inheritIO().start();
    if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IllegalStateException("bin/cluster nats " + String.join(" ", args) + " failed");
    }
  }

  @Test
  void aReplicatedStreamLosesNothingAndStoresNothingTwiceWhenNodesIncludingTheLeaderAreKilled() throws Exception {
    String id = NatsTestSupport.unique();
    String stream = "S" + id;
    String subject = "t" + id + ".order.created";
    Map<String, Object> m = NatsTestSupport.settingsFor(id);
    m.put("nats_url", SEEDS);
    m.put("replicas", 3L);
    m.put("publish_timeout_ms", 2000L);
    m.put("reconnect_wait_ms", 100L);
    NatsBackend backend = NatsTestSupport.backend(m);
    try (Connection raw = Nats.connect(new Options.Builder().server(SEEDS).maxReconnects(-1)
        .reconnectWait(Duration.ofMillis(100)).connectionTimeout(Duration.ofSeconds(2)).build())) {
      EventBus bus = backend.bus();
      assertThat(await(Duration.ofSeconds(30), () -> publishable(bus, "t" + id + ".probe"))).as("stream ready").isTrue();
      StreamInfo created = raw.jetStreamManagement().getStreamInfo(stream);
      assertThat(created.getConfiguration().getReplicas()).isEqualTo(3);

      // a durable subscription through the backend, counting deliveries per event id
      Map<String, AtomicInteger> delivered = new ConcurrentHashMap<>();
      BusSubscription sub = bus.subscribe(new SubscriptionSpec(subject, "d" + id, Duration.ofSeconds(5), 256,
          Settings.empty()), msg -> {
        delivered.computeIfAbsent(msg.headers().get(OutboundMessage.HEADER_EVENT_ID), k -> new AtomicInteger())
            .incrementAndGet();
        return CompletableFuture.completedFuture(Disposition.ack());
      });

      // publisher: every event until acknowledged; a failed attempt is retried with the same message
      // (same Nats-Msg-Id), as a handler's retry budget does
      AtomicInteger acked = new AtomicInteger();
      AtomicInteger duplicatesAcked = new AtomicInteger();
      AtomicLong failedAttempts = new AtomicLong();
      Set<String> sent = ConcurrentHashMap.newKeySet();
      Semaphore window = new Semaphore(512);
      Thread publisher = new Thread(() -> {
        for (int i = 0; i < EVENTS; i++) {
          ObservedEvent e = ObservedEvent.builder().operation(Operation.INSERT).table("tb_order")
              .mutation("createOrder").newRow(Map.of("id", i))
              .context(MutationContext.builder().requestId("req-" + i).build()).build();
          sent.add(e.id().toString());
          window.acquireUninterruptibly();
          publishUntilAcked(bus, OutboundMessage.forEvent(subject, e), acked, duplicatesAcked, failedAttempts, window, 0);
        }
      }, "cluster-publisher");
      long start = System.nanoTime();
      publisher.start();

      // fault 1: the node leading the stream; fault 2: another node
      String[] killed = new String[2];
      for (int round = 0; round < 2; round++) {
        int threshold = EVENTS * (round + 1) / 3;
        assertThat(await(Duration.ofSeconds(120), () -> acked.get() >= threshold)).as("progress before fault " + round).isTrue();
        String leader = leader(raw, stream);
        String victim = round == 0 ? leader : other(leader);
        killed[round] = victim + (round == 0 ? " (stream leader)" : " (leader was " + leader + ")");
        cluster("kill", victim.substring(1));
        Thread.sleep(2000);
        cluster("restart", victim.substring(1));
        assertThat(await(Duration.ofSeconds(60), () -> replicasCurrent(raw, stream))).as("replicas current after " + victim).isTrue();
      }
      publisher.join(TimeUnit.MINUTES.toMillis(3));
      assertThat(publisher.isAlive()).isFalse();
      assertThat(await(Duration.ofSeconds(60), () -> acked.get() + duplicatesAcked.get() >= EVENTS)).isTrue();
      double seconds = (System.nanoTime() - start) / 1e9;

      // the stream, read whole by an ordered pass: count by message id
      Map<String, Integer> stored = retried(Duration.ofSeconds(90), () -> readAll(raw, stream, subject));
      int storedTotal = stored.values().stream().mapToInt(Integer::intValue).sum();
      long storedTwice = stored.values().stream().filter(c -> c > 1).count();
      Set<String> lost = ConcurrentHashMap.newKeySet();
      sent.forEach(s -> {
        if (!stored.containsKey(s)) {
          lost.add(s);
        }
      });
      assertThat(await(Duration.ofSeconds(90), () -> sent.stream().allMatch(delivered::containsKey)))
          .as("the subscription delivers all (%d of %d)", delivered.size(), EVENTS).isTrue();
      long redelivered = delivered.values().stream().filter(c -> c.get() > 1).count();
      sub.close();
      System.out.printf("NatsClusterFailoverIT: %d events through 3 nodes in %.1f s; killed %s, then %s; "
              + "acks %d (+%d duplicate acks), failed attempts retried %d; stream holds %d (lost %d, stored twice %d); "
              + "subscription delivered %d distinct (%d redelivered)%n", EVENTS, seconds, killed[0], killed[1],
          acked.get(), duplicatesAcked.get(), failedAttempts.get(), storedTotal, lost.size(), storedTwice,
          delivered.size(), redelivered);
      assertThat(lost).as("lost").isEmpty();
      assertThat(storedTwice).as("stored twice").isZero();
      assertThat(storedTotal).isEqualTo(EVENTS);
    } finally {
      backend.close();
      try (Connection c = Nats.connect(new Options.Builder().server(SEEDS).build())) {
        c.jetStreamManagement().deleteStream(stream);
      } catch (Exception ignored) {
        // the cluster is stopped after the test anyway
      }
    }
  }


  private static void publishUntilAcked(EventBus bus, OutboundMessage msg, AtomicInteger acked,
      AtomicInteger duplicates, AtomicLong failed, Semaphore window, int attempt) {
    bus.publish(msg).whenComplete((ack, err) -> {
      if (err == null) {
        if (ack.duplicate()) {
          duplicates.incrementAndGet();
        } else {
          acked.incrementAndGet();
        }
        window.release();
      } else if (attempt > 200) {
        window.release();
        throw new IllegalStateException("gave up on " + msg.deduplicationId(), err);
      } else {
        failed.incrementAndGet();
        CompletableFuture.delayedExecutor(100, TimeUnit.MILLISECONDS)
            .execute(() -> publishUntilAcked(bus, msg, acked, duplicates, failed, window, attempt + 1));
      }
    });
  }

  private static boolean publishable(EventBus bus, String subject) {
    try {
      bus.publish(new OutboundMessage(subject, new byte[0], Map.of(), "probe-" + System.nanoTime()))
          .toCompletableFuture().get(5, TimeUnit.SECONDS);
      return true;
    } catch (Exception e) {
      return false;
    }
  }

  private static String leader(Connection raw, String stream) {
    String[] out = new String[1];
    await(Duration.ofSeconds(30), () -> {
      try {
        out[0] = raw.jetStreamManagement().getStreamInfo(stream).getClusterInfo().getLeader();
        return out[0] != null;
      } catch (Exception e) {
        return false;
      }
    });
    assertThat(out[0]).as("stream leader").isNotNull();
    return out[0];
  }

  private static String other(String leader) {
    return leader.equals("n1") ? "n2" : "n1";
  }

  private static boolean replicasCurrent(Connection raw, String stream) {
    try {
      StreamInfo info = raw.jetStreamManagement().getStreamInfo(stream);
      return info.getClusterInfo().getLeader() != null && info.getClusterInfo().getReplicas() != null
          && info.getClusterInfo().getReplicas().size() == 2
          && info.getClusterInfo().getReplicas().stream().allMatch(r -> r.isCurrent() && !r.isOffline());
    } catch (Exception e) {
      return false;
    }
  }

  /**
   * Runs {@code read} until it returns, for up to {@code limit}: right after a node comes back, the
   * JetStream API of the cluster can answer a request with a timeout while its meta leader settles.
   */
  private static <T> T retried(Duration limit, java.util.concurrent.Callable<T> read) throws Exception {
    long deadline = System.nanoTime() + limit.toNanos();
    while (true) {
      try {
        return read.call();
      } catch (IOException | io.nats.client.JetStreamApiException | IllegalStateException e) {
        if (System.nanoTime() > deadline) {
          throw e;
        }
        System.out.println("NatsClusterFailoverIT: reading the stream failed (" + e + "); trying again");
        Thread.sleep(1000);
      }
    }
  }

  /** Every message of {@code subject} in the stream, counted by {@code Nats-Msg-Id} (its event id). */
  private static Map<String, Integer> readAll(Connection raw, String stream, String subject) throws Exception {
    io.nats.client.JetStreamOptions patient = io.nats.client.JetStreamOptions.builder()
        .requestTimeout(Duration.ofSeconds(10)).build();
    Map<String, Integer> out = new java.util.HashMap<>();
    long total = raw.jetStreamManagement(patient).getStreamInfo(stream,
        io.nats.client.api.StreamInfoOptions.filterSubjects(subject)).getStreamState().getSubjects().get(0).getCount();
    JetStreamSubscription sub = raw.jetStream(patient).subscribe(subject, PullSubscribeOptions.builder()
        .stream(stream).configuration(ConsumerConfiguration.builder().ackPolicy(AckPolicy.None)
            .deliverPolicy(DeliverPolicy.All).inactiveThreshold(Duration.ofMinutes(1)).build()).build());
    try {
      long seen = 0;
      int emptyFetches = 0;
      while (seen < total) {
        List<Message> batch = sub.fetch(1000, Duration.ofSeconds(5));
        if (batch.isEmpty()) {
          if (++emptyFetches >= 6) {
            throw new IllegalStateException("the stream stopped delivering after " + seen + " of " + total + " messages");
          }
          continue;
        }
        emptyFetches = 0;
        for (Message msg : batch) {
          String msgId = msg.getHeaders().getFirst("Nats-Msg-Id");
          out.merge(msgId.substring(0, msgId.indexOf(':')), 1, Integer::sum);
          seen++;
        }
      }
    } finally {
      try {
        sub.unsubscribe();
      } catch (RuntimeException ignored) {
        // the consumer goes away after its inactive threshold anyway
      }
    }
    return out;
  }
}

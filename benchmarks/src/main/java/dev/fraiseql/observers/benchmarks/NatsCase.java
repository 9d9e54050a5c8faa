package dev.fraiseql.observers.benchmarks;

import dev.fraiseql.observers.DeliveryOutcome;
import dev.fraiseql.observers.ObservedEvent;
import dev.fraiseql.observers.ObserverEngine;
import dev.fraiseql.observers.ObserverListener;
import io.nats.client.Connection;
import io.nats.client.JetStream;
import io.nats.client.JetStreamManagement;
import io.nats.client.Nats;
import io.nats.client.PublishOptions;
import io.nats.client.api.PublishAck;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * nats: the engine's publish action to JetStream (Nats-Msg-Id de-duplication ids, every publish
 * acknowledged, window {@code publish_window} = 1024), against raw jnats {@code publishAsync} with the
 * same message ids, the same window of unacknowledged publishes, the same stream and server. Both
 * sides build a fresh order event per message. The receiver is the stream: its message count must
 * grow by exactly what each side sent.
 */
final class NatsCase implements BenchCase {
  static final int WINDOW = 1024;
  /** The three-node cluster {@code bin/cluster nats start} runs (never the standard 4222). */
  static final String CLUSTER_SEEDS = Optional.ofNullable(System.getenv("FRAISEQL_BENCH_NATS_CLUSTER_URL"))
      .orElse("nats://127.0.0.1:14222,nats://127.0.0.1:14223,nats://127.0.0.1:14224");

  private final String name;
  private final String url;
  private final int replicas;

  /** The standard case: one server, {@code FRAISEQL_TEST_NATS_URL}. */
  NatsCase() {
    this("nats", null, 1);
  }

  private NatsCase(String name, String url, int replicas) {
    this.name = name;
    this.url = url;
    this.replicas = replicas;
  }

  /**
   * nats-cluster: the same comparison on the three-node JetStream cluster of {@code bin/cluster nats
   * start}, both sides on a stream with {@code replicas = 3}, connected through all three seeds.
   */
  static NatsCase cluster() {
    return new NatsCase("nats-cluster", CLUSTER_SEEDS, 3);
  }

  private String url() {
    return url != null ? url : Servers.natsUrl();
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public Optional<String> unavailable() {
    Optional<String> down = Servers.unreachable(url(), 4222);
    return url == null ? down : down.map(d -> d + "; start the cluster with bin/cluster nats start"
        + " (and bin/cluster nats stop afterwards)");
  }

  @Override
  public List<Row> run(Options o) throws Exception {
    long n = o.count(40_000, 500);
    String sfx = Servers.suffix();
    String stream = "BENCH_" + sfx.toUpperCase(java.util.Locale.ROOT);
    String prefix = "bench" + sfx;
    String oursSubject = prefix + ".order.created";
    String rawSubject = prefix + ".raw.order.created";
    String toml = "[observers]\nbackend = \"nats\"\nnats_url = \"" + url() + "\"\n\n[observers.nats]\n"
        + "replicas = " + replicas + "\nstream = \"" + stream + "\"\nsubjects = [\"" + prefix + ".>\"]\npublish_window = " + WINDOW + "\n\n"
        + "[[observers.handlers]]\nname = \"order-to-nats\"\nevent = \"order.created\"\naction = \"publish\"\n"
        + "subject = \"" + oursSubject + "\"\n";
    LongAdder delivered = new LongAdder();
    LongAdder failed = new LongAdder();
    ObserverListener listener = new ObserverListener() {
      @Override
      public void completed(ObservedEvent event, DeliveryOutcome outcome) {
        if (outcome.status() == DeliveryOutcome.Status.DELIVERED) {
          delivered.increment();
        } else {
          failed.increment();
        }
      }
    };
    AtomicLong seq = new AtomicLong();
    try (Connection nc = Nats.connect(new io.nats.client.Options.Builder().servers(url().split(","))
        .connectionTimeout(Duration.ofSeconds(2)).build());
        ObserverEngine engine = ObserverEngine.builder().configToml(toml).listener(listener).build()) {
      JetStream js = nc.jetStream();
      JetStreamManagement jsm = nc.jetStreamManagement();
      try {
        // the first publish makes the engine's bus connect and create the stream
        engine.onCommit(Payload.order(seq.incrementAndGet()));
        Bench.awaitCount(Duration.ofSeconds(30), delivered::sum, 1, "the first publish (stream creation)");
        Semaphore window = new Semaphore(WINDOW);
        LongAdder acked = new LongAdder();
        LongAdder rawFailed = new LongAdder();
        Bench.Side ours = count -> {
          long msgs = msgCount(jsm, stream);
          long before = delivered.sum();
          Bench.drive(CoreCase.PRODUCERS, count, i -> engine.onCommit(Payload.order(seq.incrementAndGet())));
          Bench.awaitCount(Bench.budget(count), () -> delivered.sum() + failed.sum() - before, count, "publish outcomes (ours)");
          Bench.await(Duration.ofSeconds(30), () -> engine.inFlight() == 0, "in-flight deliveries to end");
          return msgCount(jsm, stream) - msgs;
        };
        Bench.Side raw = count -> {
          long msgs = msgCount(jsm, stream);
          long before = acked.sum() + rawFailed.sum();
          Bench.drive(CoreCase.PRODUCERS, count, i -> {
            ObservedEvent e = Payload.order(seq.incrementAndGet());
            byte[] body = e.toJson();
            window.acquire();
            // the same message ours sends: the event's headers and the de-duplication id
            io.nats.client.impl.Headers h = new io.nats.client.impl.Headers();
            dev.fraiseql.observers.spi.OutboundMessage.headersOf(e).forEach(h::add);
            js.publishAsync(rawSubject, h, body, PublishOptions.builder().messageId(e.id() + ":" + rawSubject).build())
                .whenComplete((PublishAck ack, Throwable err) -> {
                  window.release();
                  if (err == null && !ack.isDuplicate()) {
                    acked.increment();
                  } else {
                    rawFailed.increment();
                  }
                });
          });
          Bench.awaitCount(Bench.budget(count), () -> acked.sum() + rawFailed.sum() - before, count, "raw acks");
          return msgCount(jsm, stream) - msgs;
        };
        Bench.Comparison c = Bench.compare(o, n, ours, raw);
        if (failed.sum() > 0 || rawFailed.sum() > 0) {
          throw new IllegalStateException("publishes failed: ours " + failed.sum() + ", raw " + rawFailed.sum());
        }
        Map<String, Object> notes = new LinkedHashMap<>();
        notes.put("raw_message", "same payload, the event's headers and a Nats-Msg-Id, as ours");
        notes.put("window", WINDOW);
        notes.put("producers", CoreCase.PRODUCERS);
        notes.put("stream", stream);
        notes.put("replicas", replicas);
        notes.put("servers", url());
        return List.of(Row.ratio(name, c, replicas > 1 ? 0.8 : 0.9, notes));
      } finally {
        try {
          jsm.deleteStream(stream);
        } catch (Exception ignored) {
          // best effort: the stream has a random name
        }
      }
    }
  }

  private static long msgCount(JetStreamManagement jsm, String stream) throws Exception {
    return jsm.getStreamInfo(stream).getStreamState().getMsgCount();
  }
}

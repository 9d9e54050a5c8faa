package dev.fraiseql.observers.nats.internal;

import dev.fraiseql.observers.ObserverConfigException;
import dev.fraiseql.observers.config.ConfigProblem;
import dev.fraiseql.observers.spi.BusSubscription;
import dev.fraiseql.observers.spi.Disposition;
import dev.fraiseql.observers.spi.InboundHandler;
import dev.fraiseql.observers.spi.InboundMessage;
import dev.fraiseql.observers.spi.SubscriptionSpec;
import io.nats.client.JetStreamApiException;
import io.nats.client.JetStreamSubscription;
import io.nats.client.Message;
import io.nats.client.PullSubscribeOptions;
import io.nats.client.api.AckPolicy;
import io.nats.client.api.ConsumerConfiguration;
import io.nats.client.api.ConsumerInfo;
import io.nats.client.api.DeliverPolicy;
import io.nats.client.impl.Headers;
import java.time.Duration;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One {@code [[observers.subscribe]]} on JetStream: a durable pull consumer (explicit ack) fetched by
 * a thread of its own, each message handed to the engine's handler while at most
 * {@link SubscriptionSpec#maxInFlight()} are being handled. Survives server restarts: it keeps
 * fetching after reconnecting and creates the consumer again when the server lost it.
 */
final class PullSubscription implements BusSubscription {
  private static final Logger log = LoggerFactory.getLogger(PullSubscription.class);
  static final int CONSUMER_NOT_FOUND = 10014;
  private static final Duration VERIFY_EVERY = Duration.ofSeconds(10);
  private static final Duration MAX_BACKOFF = Duration.ofSeconds(5);
  private static final Duration FAILED_HANDLER_DELAY = Duration.ofSeconds(1);

  /** How long a {@link #lag()} reading is reused. */
  static final Duration LAG_CACHE = Duration.ofSeconds(1);
  private final NatsEventBus bus;
  private final SubscriptionSpec spec;
  private final InboundHandler handler;
  private final Consumer<PullSubscription> onClose;
  private final Duration ackWait;
  private final DeliverPolicy deliverPolicy;
  private final int maxInFlight;
  private final Semaphore permits;
  private final CountDownLatch stopping = new CountDownLatch(1);
  private final Thread thread;
  private volatile boolean closed;
  private volatile boolean verify;
  /** Stream sequences handed out and not yet acked or terminated, to resume a lost consumer without replay. */
  private final java.util.concurrent.ConcurrentSkipListSet<Long> outstanding = new java.util.concurrent.ConcurrentSkipListSet<>();
  private volatile long highestSeen;
  private JetStreamSubscription sub;
  private volatile String stream;
  private long lastVerified;

  PullSubscription(NatsEventBus bus, SubscriptionSpec spec, InboundHandler handler, Consumer<PullSubscription> onClose) {
    this.bus = bus;
    this.spec = spec;
    this.handler = handler;
    this.onClose = onClose;
    Optional<Duration> configured = bus.settings().ackWait;
    this.ackWait = configured.isPresent() && spec.ackWait().equals(SubscriptionSpec.DEFAULT_ACK_WAIT)
        ? configured.get() : spec.ackWait();
    String policy = spec.settings() == null ? "all" : spec.settings().string("deliver_policy").orElse("all");
    this.deliverPolicy = switch (policy.toLowerCase()) {
      case "all" -> DeliverPolicy.All;
      case "new" -> DeliverPolicy.New;
      case "last" -> DeliverPolicy.Last;
      default -> throw new ObserverConfigException(new ConfigProblem(spec.settings().location("deliver_policy"),
          "deliver_policy", "`deliver_policy` of the subscription to " + spec.subject() + " is `" + policy + "`",
          "use \"all\" (default: every message the stream holds), \"new\" or \"last\""));
    };
    this.maxInFlight = Math.max(1, spec.maxInFlight());
    this.permits = new Semaphore(maxInFlight);
    this.thread = new Thread(this::run, "fraiseql-nats-sub-" + spec.durable());
    this.thread.setDaemon(true);
  }

  void start() {
    thread.start();
  }

  /** Checks the consumer is still there at the next turn (after a reconnection). */
  void verifyConsumer() {
    verify = true;
  }

  private void run() {
    long backoff = 200;
    int failures = 0;
    while (!closed && !bus.connector().isClosed()) {
      try {
        Optional<NatsConnector.Live> live = bus.connector().await(bus.settings().fetchWait);
        if (live.isEmpty()) {
          continue;
        }
        if (sub == null) {
          establish(live.get());
        } else if (verify || (System.nanoTime() - lastVerified) > VERIFY_EVERY.toNanos()) {
          verify = false;
          if (!consumerExists(live.get())) {
            log.warn("[observer] the NATS server lost consumer {} on stream {}; creating it again", spec.durable(), stream);
            dropSubscription();
            establish(live.get());
          }
          lastVerified = System.nanoTime();
        }
        if (!permits.tryAcquire(bus.settings().fetchWait.toMillis(), TimeUnit.MILLISECONDS)) {
          continue;
        }
        int room = 1 + permits.drainPermits();
        int batch = Math.min(room, bus.settings().fetchBatch);
        permits.release(room - batch);
        // iterate hands each message over as it arrives; fetch would hold them until the batch is full
        int received = 0;
        try {
          Iterator<Message> it = sub.iterate(batch, bus.settings().fetchWait);
          while (received < batch && it.hasNext()) {
            Message m = it.next();
            received++;
            dispatch(m);
          }
        } finally {
          permits.release(batch - received);
        }
        if (failures > 0) {
          log.info("[observer] subscription {} to {} is fetching again", spec.durable(), spec.subject());
        }
        failures = 0;
        backoff = 200;
      } catch (InterruptedException e) {
        if (closed) {
          break;
        }
      } catch (Exception e) {
        failures++;
        if (closed) {
          break;
        }
        if (failures == 1 || failures % 20 == 0) {
          log.warn("[observer] subscription {} to {} cannot fetch from NATS ({}); retrying", spec.durable(),
              spec.subject(), describeFailure(e));
        }
        dropSubscription();
        try {
          if (stopping.await(backoff, TimeUnit.MILLISECONDS)) {
            break;
          }
        } catch (InterruptedException ie) {
          break;
        }
        backoff = Math.min(backoff * 2, MAX_BACKOFF.toMillis());
      }
    }
  }

  private String describeFailure(Exception e) {
    if (e instanceof NoStreamException) {
      return e.getMessage();
    }
    return NatsConnector.describe(e);
  }

  private void establish(NatsConnector.Live live) throws Exception {
    Optional<String> found = bus.streams().streamOf(live.management(), spec.subject());
    if (found.isEmpty() && bus.settings().autoCreateStream && bus.streams().configuredFor(spec.subject())) {
      bus.streams().ensure(live.management());
      found = bus.streams().streamOf(live.management(), spec.subject());
    }
    if (found.isEmpty()) {
      throw new NoStreamException("no JetStream stream captures subject " + spec.subject() + "; "
          + (bus.streams().configuredFor(spec.subject())
              ? "create it: " + bus.streams().addCommand(bus.settings().subjects)
              : "add the subject to `subjects` in [observers.nats] or create a stream for it: "
                  + bus.streams().addCommand(List.of(spec.subject()))));
    }
    stream = found.get();
    ensureConsumer(live);
    sub = live.jetStream().subscribe(spec.subject(), PullSubscribeOptions.bind(stream, spec.durable()));
    lastVerified = System.nanoTime();
    verify = false;
    log.info("[observer] subscribed {} to {} (stream {}, durable consumer {}, ack wait {}ms, up to {} in flight)",
        spec.durable(), spec.subject(), stream, spec.durable(), ackWait.toMillis(), maxInFlight);
  }

  private void ensureConsumer(NatsConnector.Live live) throws Exception {
    ConsumerInfo existing = null;
    try {
      existing = live.management().getConsumerInfo(stream, spec.durable());
    } catch (JetStreamApiException e) {
      if (e.getApiErrorCode() != CONSUMER_NOT_FOUND) {
        throw e;
      }
    }
    if (existing != null) {
      ConsumerConfiguration c = existing.getConsumerConfiguration();
      if (!spec.subject().equals(c.getFilterSubject())) {
        throw new NoStreamException("durable consumer " + spec.durable() + " on stream " + stream + " filters "
            + c.getFilterSubject() + ", not " + spec.subject() + ": give this subscription another `durable` name, "
            + "or delete the consumer (nats consumer rm " + stream + " " + spec.durable() + ")");
      }
      if (!ackWait.equals(c.getAckWait())) {
        live.management().updateConsumer(stream, ConsumerConfiguration.builder(c).ackWait(ackWait).build());
      }
      return;
    }
    ConsumerConfiguration.Builder cb = ConsumerConfiguration.builder()
        .durable(spec.durable())
        .filterSubject(spec.subject())
        .ackPolicy(AckPolicy.Explicit)
        .ackWait(ackWait)
        .deliverPolicy(deliverPolicy)
        .maxDeliver(-1)
        .maxAckPending(Math.max(1000, maxInFlight * 4L));
    if (highestSeen > 0) {
      // the server lost a consumer this instance was using: resume where it was, not from the start
      Long first = outstanding.isEmpty() ? null : outstanding.first();
      long start = first != null ? first : highestSeen + 1;
      cb.deliverPolicy(DeliverPolicy.ByStartSequence).startSequence(start);
      log.warn("[observer] re-creating consumer {} on stream {} from stream sequence {}", spec.durable(), stream, start);
    }
    ConsumerConfiguration cc = cb.build();
    try {
      live.management().addOrUpdateConsumer(stream, cc);
    } catch (JetStreamApiException e) {
      // another instance created it at the same moment
      live.management().getConsumerInfo(stream, spec.durable());
    }
  }

  private boolean consumerExists(NatsConnector.Live live) throws Exception {
    try {
      live.management().getConsumerInfo(stream, spec.durable());
      return true;
    } catch (JetStreamApiException e) {
      if (e.getApiErrorCode() == CONSUMER_NOT_FOUND || e.getApiErrorCode() == Streams.STREAM_NOT_FOUND) {
        return false;
      }
      throw e;
    }
  }

  private void dropSubscription() {
    JetStreamSubscription s = sub;
    sub = null;
    if (s != null) {
      try {
        s.unsubscribe();
      } catch (RuntimeException e) {
        log.debug("unsubscribing {} failed", spec.durable(), e);
      }
    }
  }

  private void dispatch(Message m) {
    InboundMessage in;
    try {
      long delivered = m.metaData().deliveredCount();
      long seq = m.metaData().streamSequence();
      in = new InboundMessage(m.getSubject(), m.getData() == null ? new byte[0] : m.getData(), headersOf(m),
          (int) Math.min(Integer.MAX_VALUE, Math.max(1, delivered)), Long.toString(seq));
      outstanding.add(seq);
      if (seq > highestSeen) {
        highestSeen = seq;
      }
    } catch (RuntimeException e) {
      log.warn("[observer] subscription {} got a message that is not a JetStream message ({}); terminating it",
          spec.durable(), NatsConnector.describe(e));
      settle(m, Disposition.term());
      permits.release();
      return;
    }
    CompletionStage<Disposition> stage;
    try {
      stage = handler.handle(in);
      if (stage == null) {
        stage = CompletableFuture.failedFuture(new IllegalStateException("the handler returned no disposition"));
      }
    } catch (RuntimeException e) {
      stage = CompletableFuture.failedFuture(e);
    }
    stage.whenComplete((disposition, error) -> {
      try {
        if (error != null) {
          log.error("[observer] subscription {}: handling {} failed unexpectedly ({}); redelivering it in {}ms",
              spec.durable(), in, NatsConnector.describe(error), FAILED_HANDLER_DELAY.toMillis());
          settle(m, Disposition.redeliverAfter(FAILED_HANDLER_DELAY));
        } else {
          settle(m, disposition);
        }
      } finally {
        permits.release();
      }
    });
  }

  private void settle(Message m, Disposition d) {
    try {
      if (d instanceof Disposition.Redeliver r) {
        m.nakWithDelay(r.delay());
      } else if (d instanceof Disposition.Term) {
        m.term();
        forget(m);
      } else {
        m.ack();
        forget(m);
      }
    } catch (RuntimeException e) {
      log.warn("[observer] subscription {}: cannot {} message {} ({}); NATS redelivers it after the ack wait",
          spec.durable(), d, m.getSID(), NatsConnector.describe(e));
    }
  }

  private void forget(Message m) {
    try {
      outstanding.remove(m.metaData().streamSequence());
    } catch (RuntimeException e) {
      // not a JetStream message: never tracked
    }
  }

  private static Map<String, String> headersOf(Message m) {
    if (!m.hasHeaders()) {
      return Map.of();
    }
    Headers h = m.getHeaders();
    Map<String, String> out = new LinkedHashMap<>();
    for (String key : h.keySet()) {
      String v = h.getFirst(key);
      if (v != null) {
        out.put(key, v);
      }
    }
    return Collections.unmodifiableMap(out);
  }

  /** When {@link #lag()} last asked the server (System.nanoTime()), and what it answered (-1: unknown). */
  private long lagReadAt;
  private long lastLag = -1;

  /**
   * The consumer's {@code num_pending} (stream messages matching its filter not yet delivered to it)
   * plus {@code num_ack_pending} (delivered, not yet acknowledged), from a consumer-info request; the
   * answer is kept for a second, so that however often it is asked this costs at most one request per
   * second. Empty before the consumer is established, while disconnected, or if the request fails.
   */
  @Override
  public synchronized java.util.OptionalLong lag() {
    long now = System.nanoTime();
    if (lagReadAt != 0 && now - lagReadAt < LAG_CACHE.toNanos()) {
      return lastLag < 0 ? java.util.OptionalLong.empty() : java.util.OptionalLong.of(lastLag);
    }
    lagReadAt = now == 0 ? 1 : now;
    lastLag = -1;
    String s = stream;
    Optional<NatsConnector.Live> live = bus.connector().now();
    if (s != null && live.isPresent() && !closed) {
      try {
        ConsumerInfo info = live.get().management().getConsumerInfo(s, spec.durable());
        lastLag = info.getNumPending() + info.getNumAckPending();
      } catch (Exception e) {
        log.debug("[observer] subscription {}: cannot read its lag ({})", spec.durable(), e.toString());
      }
    }
    return lastLag < 0 ? java.util.OptionalLong.empty() : java.util.OptionalLong.of(lastLag);
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    stopping.countDown();
    try {
      thread.join(bus.settings().fetchWait.toMillis() + 2000);
      long drain = Math.min(ackWait.toMillis(), 10_000);
      if (!permits.tryAcquire(maxInFlight, drain, TimeUnit.MILLISECONDS)) {
        log.warn("[observer] subscription {}: {} messages still being handled after {}ms; NATS redelivers them "
            + "after the ack wait", spec.durable(), maxInFlight - permits.availablePermits(), drain);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    dropSubscription();
    onClose.accept(this);
  }

  @Override
  public String toString() {
    return "NatsSubscription{" + spec.subject() + ", durable " + spec.durable() + "}";
  }

  /** No stream captures the subject, or the consumer cannot be used. */
  private static final class NoStreamException extends Exception {
    private static final long serialVersionUID = 1L;

    NoStreamException(String message) {
      super(message);
    }
  }
}

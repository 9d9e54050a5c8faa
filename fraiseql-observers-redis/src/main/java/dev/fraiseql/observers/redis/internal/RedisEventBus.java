package dev.fraiseql.observers.redis.internal;

import dev.fraiseql.observers.ObserverConfigException;
import dev.fraiseql.observers.config.ConfigProblem;
import dev.fraiseql.observers.spi.BusSubscription;
import dev.fraiseql.observers.spi.Delivery;
import dev.fraiseql.observers.spi.EventBus;
import dev.fraiseql.observers.spi.InboundHandler;
import dev.fraiseql.observers.spi.OutboundMessage;
import dev.fraiseql.observers.spi.PublishAck;
import dev.fraiseql.observers.spi.SubscriptionSpec;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The event bus on Redis Streams: one stream per subject, {@code <key_prefix>stream:<subject>}.
 *
 * <p>Publishing: {@code XADD <key> MAXLEN ~ max_len * payload <bytes> dedup <id> h:<header> <value>...},
 * pipelined by {@link BatchingPublisher}; the ack's position is the entry id. A second publish with
 * the same de-duplication id within {@code dedup_window_ms} is not stored again and is acknowledged
 * with {@link PublishAck#duplicate()} true and the first entry's id.
 *
 * <p>Subscribing: consumer groups (see {@link RedisSubscription}). Wildcard subjects ({@code *},
 * {@code >}) are rejected: a Redis stream is one key, there is no subject hierarchy to match.
 */
public final class RedisEventBus implements EventBus {
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(RedisEventBus.class);
  private final RedisClient client;
  private final String streamPrefix;
  private final String instanceId;
  private final AtomicInteger subscriptionSeq = new AtomicInteger();
  private final Set<RedisSubscription> subscriptions = ConcurrentHashMap.newKeySet();
  private volatile BatchingPublisher publisher;
  private volatile boolean closed;

  public RedisEventBus(RedisClient client) {
    this.client = client;
    this.streamPrefix = client.settings().keyPrefix() + "stream:";
    this.instanceId = instanceId();
  }

  private static String instanceId() {
    String host;
    try {
      host = InetAddress.getLocalHost().getHostName();
    } catch (Exception e) {
      host = "host";
    }
    String pid = ManagementFactory.getRuntimeMXBean().getName().split("@")[0];
    return host.replaceAll("[^A-Za-z0-9._-]", "_") + "-" + pid + "-" + UUID.randomUUID().toString().substring(0, 8);
  }

  @Override
  public String name() {
    return "redis";
  }

  /** The stream key of a subject. */
  public String streamKey(String subject) {
    return streamPrefix + subject;
  }

  @Override
  public CompletionStage<PublishAck> publish(OutboundMessage message) {
    Objects.requireNonNull(message, "message");
    return publisher().publish(message, null);
  }

  /**
   * Publishes for one attempt of a delivery: the time it waits in the publish queue is not part of
   * the attempt, and an attempt abandoned while queued is never sent (see {@link BatchingPublisher}).
   */
  @Override
  public CompletionStage<PublishAck> publish(OutboundMessage message, Delivery attempt) {
    Objects.requireNonNull(message, "message");
    Objects.requireNonNull(attempt, "attempt");
    return publisher().publish(message, attempt);
  }

  private BatchingPublisher publisher() {
    BatchingPublisher p = publisher;
    if (p == null) {
      synchronized (this) {
        if (closed) {
          throw new IllegalStateException("the redis event bus is closed");
        }
        if (publisher == null) {
          publisher = new BatchingPublisher(client, streamPrefix);
        }
        p = publisher;
      }
    }
    return p;
  }

  @Override
  public BusSubscription subscribe(SubscriptionSpec spec, InboundHandler handler) {
    Objects.requireNonNull(spec, "spec");
    Objects.requireNonNull(handler, "handler");
    String subject = spec.subject();
    if (subject.contains("*") || subject.contains(">")) {
      throw new ObserverConfigException(new ConfigProblem(spec.settings().location("subject"), "subject",
          "subject `" + subject + "` has a wildcard (* or >), which the redis backend does not support (one stream"
              + " per subject)",
          "subscribe to each subject by its full name, or use backend = \"nats\" for wildcard subscriptions"));
    }
    if (subject.isBlank() || spec.durable().isBlank()) {
      throw new IllegalArgumentException("a redis subscription needs a subject and a durable (group) name");
    }
    if (closed) {
      throw new IllegalStateException("the redis event bus is closed");
    }
    String consumer = instanceId + "-" + subscriptionSeq.incrementAndGet();
    RedisSubscription[] self = new RedisSubscription[1];
    RedisSubscription s = new RedisSubscription(client, streamKey(subject), consumer, spec, handler,
        () -> subscriptions.remove(self[0]));
    self[0] = s;
    subscriptions.add(s);
    int pool = client.settings().poolMaxTotal();
    if (subscriptions.size() > pool - 2) {
      LOG.warn("[observer] {} redis subscriptions but pool_max_total = {}: each subscription's reader holds a"
          + " connection while it blocks, leaving too few for publishing, acknowledgements and the stores;"
          + " raise pool_max_total in [observers.redis] to at least {}", subscriptions.size(), pool,
          subscriptions.size() + 4);
    }
    s.start();
    return s;
  }

  @Override
  public void close() {
    BatchingPublisher p;
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      p = publisher;
    }
    for (RedisSubscription s : subscriptions.toArray(new RedisSubscription[0])) {
      s.close();
    }
    if (p != null) {
      p.close();
    }
  }

  @Override
  public String toString() {
    return "RedisEventBus{" + client.where() + ", streams " + streamPrefix + "*}";
  }
}

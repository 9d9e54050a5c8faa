package dev.fraiseql.observers.internal.memory;

import dev.fraiseql.observers.spi.BusSubscription;
import dev.fraiseql.observers.spi.Disposition;
import dev.fraiseql.observers.spi.EventBus;
import dev.fraiseql.observers.spi.InboundHandler;
import dev.fraiseql.observers.spi.InboundMessage;
import dev.fraiseql.observers.spi.OutboundMessage;
import dev.fraiseql.observers.spi.PublishAck;
import dev.fraiseql.observers.spi.SubscriptionSpec;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An in-process bus: publish to a subject, subscribe a subject (NATS-style wildcards {@code *} and
 * {@code >}) to a handler. Subscriptions with the same durable name share the work (round robin);
 * each durable group gets every message once. Redelivery follows the handler's dispositions.
 *
 * <p>Nothing is kept: a message published when no subscription matches is acknowledged and dropped,
 * and pending messages are lost when the process stops. De-duplicates by
 * {@link OutboundMessage#deduplicationId()} over the last {@code dedupCapacity} ids. At most
 * {@code maxPending} messages may be pending (being handled or waiting for redelivery); past that a
 * publish fails, and the engine retries it by the handler's budget.
 */
public final class InMemoryBus implements EventBus {
  private static final Logger LOG = LoggerFactory.getLogger(InMemoryBus.class);
  private static final Duration ERROR_REDELIVERY = Duration.ofSeconds(1);

  private final ScheduledExecutorService scheduler;
  private final int maxPending;
  private final Map<String, Group> groups = new ConcurrentHashMap<>();
  private final Map<String, Boolean> seen;
  private final AtomicInteger pending = new AtomicInteger();
  private final AtomicLong sequence = new AtomicLong();
  private volatile boolean closed;

  public InMemoryBus(ScheduledExecutorService scheduler, int maxPending, int dedupCapacity) {
    this.scheduler = scheduler;
    this.maxPending = maxPending;
    this.seen = java.util.Collections.synchronizedMap(new LinkedHashMap<>(1024, 0.75f, false) {
      private static final long serialVersionUID = 1L;

      @Override
      protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
        return size() > dedupCapacity;
      }
    });
  }

  @Override
  public String name() {
    return "in-memory";
  }

  private static final class Group {
    final String pattern;
    final List<Member> members = new CopyOnWriteArrayList<>();
    final AtomicInteger next = new AtomicInteger();

    Group(String pattern) {
      this.pattern = pattern;
    }

    Member pick() {
      List<Member> m = members;
      if (m.isEmpty()) {
        return null;
      }
      return m.get(Math.floorMod(next.getAndIncrement(), m.size()));
    }
  }

  private static final class Member {
    final InboundHandler handler;

    Member(InboundHandler handler) {
      this.handler = handler;
    }
  }

  @Override
  public CompletionStage<PublishAck> publish(OutboundMessage message) {
    if (closed) {
      return CompletableFuture.failedFuture(new IllegalStateException("in-memory bus is closed"));
    }
    String error = Subjects.validate(message.subject());
    if (error != null || Subjects.isWildcard(message.subject())) {
      return CompletableFuture.failedFuture(new IllegalArgumentException(
          error != null ? error : "cannot publish to a wildcard subject `" + message.subject() + "`"));
    }
    if (seen.putIfAbsent(message.deduplicationId(), Boolean.TRUE) != null) {
      return CompletableFuture.completedFuture(new PublishAck(message.subject(), true, ""));
    }
    int targets = 0;
    for (Group g : groups.values()) {
      if (Subjects.matches(g.pattern, message.subject()) && !g.members.isEmpty()) {
        targets++;
      }
    }
    if (targets > 0 && pending.get() + targets > maxPending) {
      seen.remove(message.deduplicationId());
      return CompletableFuture.failedFuture(new IllegalStateException(
          "in-memory bus is full: " + maxPending + " messages pending; retry later"));
    }
    long seq = sequence.incrementAndGet();
    for (Group g : groups.values()) {
      if (Subjects.matches(g.pattern, message.subject())) {
        deliver(g, new InboundMessage(message.subject(), message.payload(), message.headers(), 1, Long.toString(seq)), true);
      }
    }
    return CompletableFuture.completedFuture(new PublishAck(message.subject(), false, Long.toString(seq)));
  }

  private void deliver(Group g, InboundMessage m, boolean fresh) {
    Member member = g.pick();
    if (member == null) {
      if (!fresh) {
        pending.decrementAndGet();
      }
      LOG.debug("[observer] in-memory bus: no subscriber left for {} on {}; message dropped", g.pattern, m.subject());
      return;
    }
    if (fresh) {
      pending.incrementAndGet();
    }
    CompletionStage<Disposition> stage;
    try {
      stage = member.handler.handle(m);
    } catch (RuntimeException e) {
      stage = CompletableFuture.failedFuture(e);
    }
    stage.whenComplete((d, ex) -> {
      if (closed) {
        pending.decrementAndGet();
        return;
      }
      if (ex != null) {
        LOG.warn("[observer] in-memory bus: handler for {} failed unexpectedly; redelivering in {}ms", m.subject(),
            ERROR_REDELIVERY.toMillis(), ex);
        redeliver(g, m, ERROR_REDELIVERY);
      } else if (d instanceof Disposition.Redeliver) {
        redeliver(g, m, ((Disposition.Redeliver) d).delay());
      } else {
        pending.decrementAndGet();
      }
    });
  }

  private void redeliver(Group g, InboundMessage m, Duration delay) {
    InboundMessage again = new InboundMessage(m.subject(), m.payload(), m.headers(), m.deliveryCount() + 1, m.messageId());
    scheduler.schedule(() -> deliver(g, again, false), delay.toMillis(), TimeUnit.MILLISECONDS);
  }

  @Override
  public BusSubscription subscribe(SubscriptionSpec spec, InboundHandler handler) {
    String error = Subjects.validate(spec.subject());
    if (error != null) {
      throw new IllegalArgumentException(error);
    }
    Group g = groups.computeIfAbsent(spec.durable() + "\u0000" + spec.subject(), k -> new Group(spec.subject()));
    Member m = new Member(handler);
    g.members.add(m);
    return () -> g.members.remove(m);
  }

  /** Messages being handled or waiting for redelivery. */
  public int pending() {
    return pending.get();
  }

  @Override
  public void close() {
    closed = true;
    groups.clear();
  }
}

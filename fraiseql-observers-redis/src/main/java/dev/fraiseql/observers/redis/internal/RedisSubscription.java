package dev.fraiseql.observers.redis.internal;

import dev.fraiseql.observers.spi.BusSubscription;
import dev.fraiseql.observers.spi.Disposition;
import dev.fraiseql.observers.spi.InboundHandler;
import dev.fraiseql.observers.spi.InboundMessage;
import dev.fraiseql.observers.spi.SubscriptionSpec;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.StreamEntryID;
import redis.clients.jedis.exceptions.JedisConnectionException;
import redis.clients.jedis.exceptions.JedisDataException;
import redis.clients.jedis.exceptions.JedisException;
import redis.clients.jedis.params.XAutoClaimParams;
import redis.clients.jedis.params.XClaimParams;
import redis.clients.jedis.params.XPendingParams;
import redis.clients.jedis.params.XReadGroupParams;
import redis.clients.jedis.resps.StreamPendingEntry;

/**
 * One subscription: consumer group {@code spec.durable()} on the subject's stream, with a consumer
 * name unique to this instance.
 *
 * <ul>
 *   <li>A reader thread runs {@code XREADGROUP ... BLOCK block_ms STREAMS key >} and hands each new
 *       entry to the handler (delivery count 1). At most {@code spec.maxInFlight()} entries are
 *       held at once (being handled or waiting to be redelivered); the reader reads no more until
 *       one is done.</li>
 *   <li>ack and term: {@code XACK} (batched, on this subscription's worker thread). term means the
 *       engine already dead-lettered it.</li>
 *   <li>redeliverAfter(delay): the entry stays pending in Redis and is redelivered to the handler by
 *       this instance after the delay; its delivery count is raised in Redis with
 *       {@code XCLAIM ... JUSTID RETRYCOUNT n+1}, so the PEL's count ({@code XPENDING}) and the
 *       message's {@link InboundMessage#deliveryCount()} agree. While it waits, the worker touches it
 *       ({@code XCLAIM ... JUSTID}, which resets idle time without counting a delivery) so that other
 *       instances do not take it as abandoned.</li>
 *   <li>A periodic {@code XAUTOCLAIM} (every half {@code claim_idle_ms}) takes over entries idle
 *       longer than {@code claim_idle_ms} (default: {@code spec.ackWait()}): their consumer died or
 *       hung. XAUTOCLAIM counts a delivery; the count handed to the handler is read back from
 *       {@code XPENDING}.</li>
 *   <li>{@code NOGROUP} (Redis restarted without persistence, or the stream was deleted): the group is
 *       recreated at id {@code 0} with MKSTREAM, so every entry in the stream, which can only have been
 *       added after the loss, is delivered. At subscribe time a missing group is created at
 *       {@code $}: only entries published from then on. Connection errors: the reader backs off
 *       (100ms doubling to 5s) and resumes; it never spins.</li>
 * </ul>
 */
final class RedisSubscription implements BusSubscription {
  private static final Logger LOG = LoggerFactory.getLogger(RedisSubscription.class);
  private static final long MAX_BACKOFF_MS = 5000;

  private final RedisClient client;
  private final SubscriptionSpec spec;
  private final InboundHandler handler;
  private final String stream;
  private final byte[] streamBytes;
  private final String group;
  private final byte[] groupBytes;
  private final String consumer;
  private final byte[] consumerBytes;
  private final long claimIdleMs;
  private final int batch;
  private final int blockMs;
  private final Semaphore permits;
  private final Map<String, Tracked> tracked = new ConcurrentHashMap<>();
  private final ConcurrentLinkedQueue<String> acks = new ConcurrentLinkedQueue<>();
  private final AtomicBoolean ackFlushScheduled = new AtomicBoolean();
  private final ScheduledExecutorService worker;
  private final Thread reader;
  private final Runnable onClose;
  private volatile boolean closed;
  private volatile String claimCursor = "0-0";

  /** An entry this instance holds: being handled, or waiting to be redelivered. */
  private static final class Tracked {
    final StreamEntry entry;
    volatile int deliveryCount;
    volatile boolean waiting;

    Tracked(StreamEntry entry, int deliveryCount) {
      this.entry = entry;
      this.deliveryCount = deliveryCount;
    }
  }

  RedisSubscription(RedisClient client, String stream, String consumer, SubscriptionSpec spec, InboundHandler handler,
      Runnable onClose) {
    this.client = client;
    this.spec = spec;
    this.handler = handler;
    this.stream = stream;
    this.streamBytes = stream.getBytes(StandardCharsets.UTF_8);
    this.group = spec.durable();
    this.groupBytes = group.getBytes(StandardCharsets.UTF_8);
    this.consumer = consumer;
    this.consumerBytes = consumer.getBytes(StandardCharsets.UTF_8);
    this.claimIdleMs = Math.max(10, client.settings().claimIdle().orElse(spec.ackWait()).toMillis());
    this.batch = client.settings().batch();
    this.blockMs = (int) client.settings().block().toMillis();
    this.permits = new Semaphore(Math.max(1, spec.maxInFlight()));
    this.onClose = onClose;
    this.worker = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "fraiseql-redis-sub-" + group);
      t.setDaemon(true);
      return t;
    });
    this.reader = new Thread(this::readLoop, "fraiseql-redis-reader-" + group);
    this.reader.setDaemon(true);
  }

  void start() {
    try {
      createGroup("$");
    } catch (JedisConnectionException e) {
      LOG.warn("[observer] redis at {} unreachable while subscribing {} (group {}): will keep trying",
          client.where(), spec.subject(), group);
    }
    reader.start();
    long period = Math.max(50, claimIdleMs / 2);
    worker.scheduleWithFixedDelay(this::claimTick, period, period, TimeUnit.MILLISECONDS);
  }

  String consumerName() {
    return consumer;
  }

  private void createGroup(String from) {
    try {
      client.pool().xgroupCreate(stream, group, from.equals("$") ? StreamEntryID.XGROUP_LAST_ENTRY
          : new StreamEntryID(0, 0), true);
      LOG.debug("[observer] created consumer group {} on {} at {}", group, stream, from);
    } catch (JedisDataException e) {
      if (e.getMessage() == null || !e.getMessage().startsWith("BUSYGROUP")) {
        throw e;
      }
    }
  }

  private static boolean noGroup(JedisDataException e) {
    return e.getMessage() != null && e.getMessage().startsWith("NOGROUP");
  }

  // ---------------------------------------------------------------- reading

  @SuppressWarnings("unchecked")
  private void readLoop() {
    long backoff = 0;
    boolean outage = false;
    while (!closed) {
      try {
        if (backoff > 0) {
          Thread.sleep(backoff);
        }
        int room = Math.min(batch, permits.availablePermits());
        if (room == 0) {
          if (permits.tryAcquire(blockMs, TimeUnit.MILLISECONDS)) {
            permits.release();
          }
          continue;
        }
        List<Object> reply = client.pool().xreadGroup(groupBytes, consumerBytes,
            XReadGroupParams.xReadGroupParams().count(room).block(blockMs),
            Map.entry(streamBytes, StreamEntryID.XREADGROUP_UNDELIVERED_ENTRY.toString().getBytes(StandardCharsets.UTF_8)));
        if (outage) {
          LOG.info("[observer] redis subscription {} (group {}) reconnected to {}", spec.subject(), group, client.where());
        }
        outage = false;
        backoff = 0;
        for (StreamEntry e : StreamEntry.fromRead(reply)) {
          while (!permits.tryAcquire(100, TimeUnit.MILLISECONDS)) {
            if (closed) {
              return; // what was read stays pending and is reclaimed after claim_idle_ms
            }
          }
          if (e.deleted()) {
            permits.release();
            continue;
          }
          deliver(new Tracked(e, 1));
        }
      } catch (InterruptedException e) {
        if (closed) {
          return;
        }
      } catch (JedisDataException e) {
        if (noGroup(e)) {
          recreateGroup();
          backoff = 0;
        } else {
          LOG.warn("[observer] redis subscription {} (group {}) on {}: {}", spec.subject(), group, client.where(),
              e.getMessage());
          backoff = nextBackoff(backoff);
        }
      } catch (JedisException | IllegalStateException e) {
        if (closed) {
          return;
        }
        if (!outage) {
          LOG.warn("[observer] redis subscription {} (group {}) lost {}: {}; reconnecting with backoff",
              spec.subject(), group, client.where(), e.getMessage());
        }
        outage = true;
        backoff = nextBackoff(backoff);
      } catch (RuntimeException e) {
        LOG.error("[observer] redis subscription {} (group {}): unexpected {}", spec.subject(), group, e.toString(), e);
        backoff = nextBackoff(backoff);
      }
    }
  }

  private static long nextBackoff(long b) {
    return Math.min(MAX_BACKOFF_MS, Math.max(100, b * 2));
  }

  private void recreateGroup() {
    try {
      createGroup("0");
      LOG.warn("[observer] consumer group {} on {} was missing (Redis at {} restarted without persistence, or the"
          + " stream was deleted); recreated it from the start of the stream", group, stream, client.where());
      // entries this instance held refer to the lost group: forget them (they cannot be acknowledged)
      for (Map.Entry<String, Tracked> t : tracked.entrySet()) {
        if (t.getValue().waiting && tracked.remove(t.getKey(), t.getValue())) {
          permits.release();
        }
      }
      claimCursor = "0-0";
    } catch (JedisException e) {
      LOG.warn("[observer] could not recreate consumer group {} on {}: {}", group, stream, e.getMessage());
    }
  }

  // ---------------------------------------------------------------- handling

  /** Hands a held entry (its permit taken) to the handler and carries out the disposition. */
  private void deliver(Tracked t) {
    t.waiting = false;
    tracked.put(t.entry.id(), t);
    StreamEntry e = t.entry;
    InboundMessage m = new InboundMessage(spec.subject(), e.payload(), e.headers(), t.deliveryCount, e.id());
    CompletionStage<Disposition> stage;
    try {
      stage = handler.handle(m);
    } catch (RuntimeException ex) {
      stage = CompletableFuture.failedFuture(ex);
    }
    stage.whenComplete((d, err) -> dispose(t, d, err));
  }

  private void dispose(Tracked t, Disposition d, Throwable err) {
    if (err != null || d == null) {
      LOG.warn("[observer] handler for {} failed on entry {} ({}); redelivering in 1s", spec.subject(), t.entry.id(),
          err == null ? "no disposition" : err.toString());
      d = Disposition.redeliverAfter(Duration.ofSeconds(1));
    }
    if (d instanceof Disposition.Redeliver) {
      Duration delay = ((Disposition.Redeliver) d).delay();
      if (closed) {
        release(t);
        return;
      }
      t.waiting = true;
      try {
        worker.schedule(() -> redeliver(t), Math.max(0, delay.toMillis()), TimeUnit.MILLISECONDS);
      } catch (RejectedExecutionException ex) {
        release(t); // closing: it stays pending in Redis and is reclaimed later
      }
      return;
    }
    // ack or term (dead-lettered by the engine): both remove it from the group's pending list
    acks.add(t.entry.id());
    release(t);
    if (ackFlushScheduled.compareAndSet(false, true)) {
      try {
        worker.execute(this::flushAcks);
      } catch (RejectedExecutionException ex) {
        ackFlushScheduled.set(false);
        flushAcks();
      }
    }
  }

  private void release(Tracked t) {
    if (tracked.remove(t.entry.id(), t)) {
      permits.release();
    }
  }

  private void flushAcks() {
    ackFlushScheduled.set(false);
    List<StreamEntryID> ids = new ArrayList<>();
    String id;
    while ((id = acks.poll()) != null) {
      ids.add(new StreamEntryID(id));
    }
    if (ids.isEmpty()) {
      return;
    }
    try {
      client.idempotent(p -> p.xack(stream, group, ids.toArray(new StreamEntryID[0])));
    } catch (JedisDataException e) {
      if (!noGroup(e)) {
        LOG.warn("[observer] XACK of {} entries on {} failed: {}", ids.size(), stream, e.getMessage());
      }
    } catch (JedisException | IllegalStateException e) {
      if (closed) {
        LOG.warn("[observer] XACK of {} entries on {} failed while closing ({}): they will be redelivered",
            ids.size(), stream, e.getMessage());
        return;
      }
      // keep them and try again shortly; unacknowledged entries would otherwise be redelivered
      for (StreamEntryID i : ids) {
        acks.add(i.toString());
      }
      if (ackFlushScheduled.compareAndSet(false, true)) {
        try {
          worker.schedule(this::flushAcks, 500, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException ex) {
          ackFlushScheduled.set(false);
        }
      }
    }
  }

  private void redeliver(Tracked t) {
    if (closed || tracked.get(t.entry.id()) != t) {
      release(t);
      return;
    }
    int next = t.deliveryCount + 1;
    try {
      List<StreamEntryID> got = client.pool().xclaimJustId(stream, group, consumer, 0,
          XClaimParams.xClaimParams().retryCount(next), new StreamEntryID(t.entry.id()));
      if (got.isEmpty()) {
        LOG.info("[observer] entry {} of {} is no longer pending (trimmed by max_len, or lost in a Redis restart);"
            + " not redelivering it", t.entry.id(), stream);
        release(t);
        return;
      }
      t.deliveryCount = next;
      deliver(t);
    } catch (JedisDataException e) {
      LOG.info("[observer] entry {} of {} cannot be redelivered: {}", t.entry.id(), stream, e.getMessage());
      release(t);
    } catch (JedisException | IllegalStateException e) {
      if (closed) {
        release(t);
        return;
      }
      LOG.debug("[observer] redelivery of {} on {} postponed: {}", t.entry.id(), stream, e.getMessage());
      try {
        worker.schedule(() -> redeliver(t), 1000, TimeUnit.MILLISECONDS);
      } catch (RejectedExecutionException ex) {
        release(t);
      }
    }
  }

  // ---------------------------------------------------------------- reclaiming

  private void claimTick() {
    if (closed) {
      return;
    }
    try {
      touchWaiting();
      reclaim();
    } catch (JedisDataException e) {
      if (!noGroup(e)) {
        LOG.warn("[observer] XAUTOCLAIM on {} (group {}): {}", stream, group, e.getMessage());
      }
    } catch (JedisException | IllegalStateException e) {
      LOG.debug("[observer] XAUTOCLAIM on {} skipped: {}", stream, e.getMessage());
    } catch (RuntimeException e) {
      LOG.error("[observer] XAUTOCLAIM on {}: unexpected {}", stream, e.toString(), e);
    }
  }

  /** Resets the idle time of entries waiting for redelivery here, so no other instance reclaims them. */
  private void touchWaiting() {
    List<StreamEntryID> ids = new ArrayList<>();
    for (Tracked t : tracked.values()) {
      if (t.waiting) {
        ids.add(new StreamEntryID(t.entry.id()));
      }
    }
    for (int i = 0; i < ids.size(); i += 100) {
      List<StreamEntryID> chunk = ids.subList(i, Math.min(ids.size(), i + 100));
      client.pool().xclaimJustId(stream, group, consumer, 0, XClaimParams.xClaimParams(),
          chunk.toArray(new StreamEntryID[0]));
    }
  }

  private void reclaim() {
    for (int round = 0; round < 10 && !closed; round++) {
      int room = Math.min(batch, permits.availablePermits());
      if (room == 0) {
        return;
      }
      List<Object> reply = client.pool().xautoclaim(streamBytes, groupBytes, consumerBytes, claimIdleMs,
          claimCursor.getBytes(StandardCharsets.UTF_8), XAutoClaimParams.xAutoClaimParams().count(room));
      if (reply == null || reply.size() < 2) {
        return;
      }
      String next = StreamEntry.str(reply.get(0));
      List<StreamEntry> claimed = new ArrayList<>();
      if (reply.get(1) instanceof List) {
        StreamEntry.addAll(claimed, (List<?>) reply.get(1));
      }
      List<StreamEntry> fresh = new ArrayList<>();
      for (StreamEntry e : claimed) {
        if (e.deleted() || tracked.containsKey(e.id())) {
          continue; // gone, or already held here (its handler is slower than claim_idle_ms)
        }
        fresh.add(e);
      }
      if (!fresh.isEmpty()) {
        Map<String, Integer> counts = deliveryCounts(fresh);
        for (StreamEntry e : fresh) {
          if (!permits.tryAcquire()) {
            break; // it is ours now in Redis; it is reclaimed again after claim_idle_ms
          }
          int count = counts.getOrDefault(e.id(), 2);
          LOG.info("[observer] reclaimed entry {} of {} (group {}) idle over {}ms: delivery {}", e.id(), stream, group,
              claimIdleMs, count);
          deliver(new Tracked(e, count));
        }
      }
      claimCursor = next;
      if (next.equals("0-0")) {
        return;
      }
    }
  }

  private Map<String, Integer> deliveryCounts(List<StreamEntry> entries) {
    StreamEntryID first = new StreamEntryID(entries.get(0).id());
    StreamEntryID last = first;
    for (StreamEntry e : entries) {
      StreamEntryID id = new StreamEntryID(e.id());
      if (id.compareTo(first) < 0) {
        first = id;
      }
      if (id.compareTo(last) > 0) {
        last = id;
      }
    }
    Map<String, Integer> out = new HashMap<>();
    List<StreamPendingEntry> pending = client.pool().xpending(stream, group,
        XPendingParams.xPendingParams(first, last, Math.max(entries.size(), 10) * 2).consumer(consumer));
    for (StreamPendingEntry p : pending) {
      out.put(p.getID().toString(), (int) Math.min(Integer.MAX_VALUE, p.getDeliveredTimes()));
    }
    return out;
  }

  // ---------------------------------------------------------------- closing

  /**
   * {@code XINFO GROUPS} of the stream, this group's {@code lag} (entries not yet delivered to the group;
   * Redis 7+) plus its {@code pending} (delivered, not yet acknowledged); empty on an older Redis (no
   * {@code lag}), when the group is gone, or when Redis cannot be reached.
   */
  @Override
  public java.util.OptionalLong lag() {
    try {
      for (redis.clients.jedis.resps.StreamGroupInfo g : client.pool().xinfoGroups(stream)) {
        if (group.equals(g.getName())) {
          Object lag = g.getGroupInfo().get("lag");
          if (!(lag instanceof Long)) {
            return java.util.OptionalLong.empty(); // before Redis 7, or not computable (entries deleted)
          }
          return java.util.OptionalLong.of((Long) lag + g.getPending());
        }
      }
      return java.util.OptionalLong.empty();
    } catch (JedisException e) {
      LOG.debug("[observer] redis subscription {}: cannot read its lag ({})", group, e.toString());
      return java.util.OptionalLong.empty();
    }
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      reader.join(blockMs + client.settings().timeout().toMillis() + 1000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    // messages being handled finish first (up to the ack wait); waiting redeliveries stay pending in
    // Redis and are reclaimed by another instance (or this one after a restart) after claim_idle_ms
    long deadline = System.nanoTime() + spec.ackWait().toNanos();
    while (tracked.values().stream().anyMatch(t -> !t.waiting) && System.nanoTime() < deadline) {
      try {
        Thread.sleep(10);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    worker.shutdownNow();
    try {
      worker.awaitTermination(client.settings().timeout().toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    flushAcks();
    tracked.clear();
    forgetConsumerIfIdle();
    onClose.run();
    LOG.debug("[observer] redis subscription {} (group {}, consumer {}) closed", spec.subject(), group, consumer);
  }

  /**
   * Consumer names are unique per instance, so a closed instance's consumer would stay listed in the
   * group forever: delete it when it holds no pending entries (deleting one that does would drop them).
   */
  private void forgetConsumerIfIdle() {
    try {
      List<StreamPendingEntry> mine = client.pool().xpending(stream, group,
          XPendingParams.xPendingParams().count(1).consumer(consumer));
      if (mine.isEmpty()) {
        client.pool().xgroupDelConsumer(stream, group, consumer);
      }
    } catch (JedisException | IllegalStateException e) {
      LOG.debug("[observer] could not remove consumer {} from group {}: {}", consumer, group, e.getMessage());
    }
  }

  @Override
  public String toString() {
    return "RedisSubscription{" + stream + " group=" + group + " consumer=" + consumer + "}";
  }
}

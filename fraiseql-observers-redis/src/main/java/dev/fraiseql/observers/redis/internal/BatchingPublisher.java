package dev.fraiseql.observers.redis.internal;

import dev.fraiseql.observers.spi.OutboundMessage;
import dev.fraiseql.observers.spi.PublishAck;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.Pipeline;
import redis.clients.jedis.Response;
import redis.clients.jedis.exceptions.JedisConnectionException;
import redis.clients.jedis.params.XAddParams;

/**
 * Publishes with pipelined XADDs: callers enqueue, one thread drains the queue and sends up to
 * {@code batch} XADDs per round trip, completing each caller's future with its own reply. Under load
 * a whole batch shares one round trip; a lone publish goes out at once.
 *
 * <p>Bounded: at most {@code publish_queue} messages wait. When the queue is full, {@link #publish}
 * fails at once with a {@link RejectedExecutionException} (it never blocks the caller, and the
 * engine's publish action retries it within its budget). When Redis is unreachable, each batch fails
 * (the futures complete exceptionally and the engine retries) and the thread backs off, up to 2s
 * between attempts, so it never spins.
 *
 * <p>De-duplication: with {@code dedup_window_ms > 0} (default 2 minutes, like JetStream's duplicate
 * window) each XADD runs in a script that first checks {@code <key_prefix>dedup:<subject>:<id>}: a
 * second publish with the same {@link OutboundMessage#deduplicationId()} within the window stores
 * nothing and is acknowledged as a duplicate with the first entry's id. So the engine's retry of a
 * publish whose reply was lost (Redis stored it, the connection dropped) does not store it twice.
 * With 0, a plain XADD: retries can duplicate. Either way every entry carries its {@code dedup} field.
 */
final class BatchingPublisher implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(BatchingPublisher.class);
  private static final byte[] PAYLOAD = StreamEntry.PAYLOAD.getBytes(StandardCharsets.UTF_8);
  private static final byte[] DEDUP = StreamEntry.DEDUP.getBytes(StandardCharsets.UTF_8);

  /**
   * XADD unless the de-duplication key exists; the key remembers the entry id for the window.
   * KEYS: stream, dedup key. ARGV: max_len, window ms, field, value, ...
   * Returns {0, id} when stored, {1, id of the first} for a duplicate.
   */
  static final byte[] DEDUP_XADD = (""
      + "local first = redis.call('GET', KEYS[2])\n"
      + "if first then return {1, first} end\n"
      + "local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', unpack(ARGV, 3))\n"
      + "redis.call('SET', KEYS[2], id, 'PX', ARGV[2])\n"
      + "return {0, id}").getBytes(StandardCharsets.UTF_8);

  private final RedisClient client;
  private final String streamPrefix;
  private final String dedupPrefix;
  private final long dedupWindowMs;
  private final int batch;
  private final long maxLen;
  private final BlockingQueue<Pending> queue;
  private final Thread thread;
  private final AtomicLong rejected = new AtomicLong();
  private volatile boolean closed;
  /** The script's SHA once loaded; reset when Redis answers NOSCRIPT (it restarted). */
  private volatile byte[] scriptSha;

  private record Pending(OutboundMessage message, CompletableFuture<PublishAck> future) {}

  BatchingPublisher(RedisClient client, String streamPrefix) {
    this.client = client;
    this.streamPrefix = streamPrefix;
    this.dedupPrefix = client.settings().keyPrefix() + "dedup:";
    this.dedupWindowMs = client.settings().dedupWindow().toMillis();
    this.batch = client.settings().batch();
    this.maxLen = client.settings().maxLen();
    this.queue = new ArrayBlockingQueue<>(client.settings().publishQueue());
    this.thread = new Thread(this::run, "fraiseql-redis-publisher");
    this.thread.setDaemon(true);
    this.thread.start();
  }

  CompletionStage<PublishAck> publish(OutboundMessage message) {
    CompletableFuture<PublishAck> f = new CompletableFuture<>();
    if (closed) {
      f.completeExceptionally(new IllegalStateException("the redis event bus is closed"));
      return f;
    }
    if (!queue.offer(new Pending(message, f))) {
      long n = rejected.incrementAndGet();
      if (n == 1 || n % 1000 == 0) {
        LOG.warn("[observer] redis publish queue full ({} waiting, publish_queue): Redis at {} is slower than the"
            + " event rate or unreachable; publishes fail until it drains ({} rejected so far)",
            queue.size(), client.where(), n);
      }
      f.completeExceptionally(new RejectedExecutionException("redis publish queue is full (" + queue.size()
          + " messages waiting for " + client.where() + "); retry later"));
    }
    return f;
  }

  /** How many publishes were refused because the queue was full. */
  long rejectedCount() {
    return rejected.get();
  }

  private void run() {
    List<Pending> round = new ArrayList<>(batch);
    long backoffMs = 0;
    boolean outage = false;
    while (true) {
      try {
        if (backoffMs > 0) {
          Thread.sleep(backoffMs);
        }
        Pending first = queue.poll(100, TimeUnit.MILLISECONDS);
        if (first == null) {
          if (closed) {
            return;
          }
          continue;
        }
        round.add(first);
        queue.drainTo(round, batch - 1);
        if (send(round)) {
          if (outage) {
            LOG.info("[observer] redis publishing to {} resumed", client.where());
          }
          outage = false;
          backoffMs = 0;
        } else {
          if (!outage) {
            LOG.warn("[observer] redis at {} unreachable: publishes fail and are retried by the engine", client.where());
          }
          outage = true;
          backoffMs = Math.min(2000, Math.max(50, backoffMs * 2));
        }
      } catch (InterruptedException e) {
        if (closed) {
          failAll(new IllegalStateException("the redis event bus closed before this message was published"));
          return;
        }
      } catch (RuntimeException e) {
        LOG.warn("[observer] redis publisher: unexpected {}", e.toString());
        backoffMs = 500;
      } finally {
        round.clear();
      }
    }
  }

  /** Sends one round; false when the connection failed. */
  private boolean send(List<Pending> round) {
    return send(round, true);
  }

  private boolean send(List<Pending> round, boolean mayReload) {
    List<Response<?>> replies = new ArrayList<>(round.size());
    List<Pending> noScript = new ArrayList<>();
    RuntimeException failure = null;
    try {
      byte[] sha = scriptSha;
      if (dedupWindowMs > 0 && sha == null) {
        sha = client.pool().scriptLoad(new String(DEDUP_XADD, StandardCharsets.UTF_8)).getBytes(StandardCharsets.UTF_8);
        scriptSha = sha;
      }
      try (Pipeline p = client.pool().pipelined()) {
        for (Pending pending : round) {
          OutboundMessage m = pending.message();
          if (dedupWindowMs > 0) {
            replies.add(p.evalsha(sha, List.of(key(m.subject()), dedupKey(m)), dedupArgs(m)));
          } else {
            replies.add(p.xadd(key(m.subject()), XAddParams.xAddParams().maxLen(maxLen).approximateTrimming(),
                fields(m)));
          }
        }
        p.sync();
      }
    } catch (RuntimeException e) {
      failure = e;
    }
    for (int i = 0; i < round.size(); i++) {
      Pending pending = round.get(i);
      Response<?> r = i < replies.size() ? replies.get(i) : null;
      try {
        if (r == null) {
          throw failure != null ? failure : new IllegalStateException("no reply");
        }
        pending.future().complete(ack(pending.message().subject(), r.get()));
      } catch (RuntimeException e) {
        if (e instanceof redis.clients.jedis.exceptions.JedisDataException && e.getMessage() != null
            && e.getMessage().startsWith("NOSCRIPT")) {
          noScript.add(pending); // Redis restarted and lost the script: nothing was stored, send again
          continue;
        }
        RuntimeException cause = failure != null && !(e instanceof redis.clients.jedis.exceptions.JedisDataException)
            ? failure : e;
        pending.future().completeExceptionally(new RedisBusException("XADD to " + streamPrefix
            + pending.message().subject() + " on " + client.where() + " failed: " + cause.getMessage(), cause));
      }
    }
    if (!noScript.isEmpty()) {
      scriptSha = null;
      if (mayReload) {
        return send(noScript, false);
      }
      for (Pending pending : noScript) {
        pending.future().completeExceptionally(new RedisBusException("XADD to " + streamPrefix
            + pending.message().subject() + " on " + client.where() + " failed: script not loaded", null));
      }
    }
    return !(failure instanceof JedisConnectionException);
  }

  private static PublishAck ack(String subject, Object reply) {
    if (reply instanceof byte[]) {
      return new PublishAck(subject, false, new String((byte[]) reply, StandardCharsets.UTF_8));
    }
    if (reply instanceof List && ((List<?>) reply).size() == 2) {
      List<?> l = (List<?>) reply;
      boolean duplicate = l.get(0) instanceof Long && (Long) l.get(0) == 1L;
      return new PublishAck(subject, duplicate, StreamEntry.str(l.get(1)));
    }
    throw new IllegalStateException("unexpected XADD reply " + reply);
  }

  private byte[] dedupKey(OutboundMessage m) {
    return (dedupPrefix + m.subject().length() + ":" + m.subject() + ":" + m.deduplicationId())
        .getBytes(StandardCharsets.UTF_8);
  }

  private List<byte[]> dedupArgs(OutboundMessage m) {
    List<byte[]> args = new ArrayList<>(4 + 2 * m.headers().size() + 2);
    args.add(Long.toString(maxLen).getBytes(StandardCharsets.UTF_8));
    args.add(Long.toString(dedupWindowMs).getBytes(StandardCharsets.UTF_8));
    for (Map.Entry<byte[], byte[]> f : fields(m).entrySet()) {
      args.add(f.getKey());
      args.add(f.getValue());
    }
    return args;
  }

  private byte[] key(String subject) {
    return (streamPrefix + subject).getBytes(StandardCharsets.UTF_8);
  }

  private static Map<byte[], byte[]> fields(OutboundMessage m) {
    Map<byte[], byte[]> f = new LinkedHashMap<>();
    f.put(PAYLOAD, m.payload());
    f.put(DEDUP, m.deduplicationId().getBytes(StandardCharsets.UTF_8));
    for (Map.Entry<String, String> h : m.headers().entrySet()) {
      f.put((StreamEntry.HEADER_PREFIX + h.getKey()).getBytes(StandardCharsets.UTF_8),
          h.getValue().getBytes(StandardCharsets.UTF_8));
    }
    return f;
  }

  private void failAll(RuntimeException e) {
    Pending p;
    while ((p = queue.poll()) != null) {
      p.future().completeExceptionally(e);
    }
  }

  /** Publishes what is queued (waiting up to {@code wait}), then stops; what is left fails. */
  void close(long waitMillis) {
    closed = true;
    try {
      thread.join(waitMillis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (thread.isAlive()) {
      thread.interrupt();
    }
    failAll(new IllegalStateException("the redis event bus closed before this message was published"));
  }

  @Override
  public void close() {
    close(client.settings().timeout().toMillis() * 2);
  }
}

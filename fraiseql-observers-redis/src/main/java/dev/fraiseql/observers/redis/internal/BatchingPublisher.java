package dev.fraiseql.observers.redis.internal;

import dev.fraiseql.observers.spi.Delivery;
import dev.fraiseql.observers.spi.OutboundMessage;
import dev.fraiseql.observers.spi.PublishAck;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.Pipeline;
import redis.clients.jedis.Response;
import redis.clients.jedis.exceptions.JedisConnectionException;
import redis.clients.jedis.exceptions.JedisDataException;
import redis.clients.jedis.params.XAddParams;

/**
 * Publishes with Jedis pipelines: callers enqueue; {@code publishers} threads (each with its own
 * {@link Jedis} connection, outside the pool) take up to {@code batch} queued messages at a time and
 * send them as one pipeline ({@link Pipeline#sync()}: one flush, then every reply). A publisher thread
 * only builds the commands, sends them and reads the replies: each round's replies are handed in one
 * task to a small executor that completes the callers' futures (and so runs whatever the callers
 * chained on them, e.g. the engine's bookkeeping), while the publisher goes on with the next round.
 * Under load a whole batch shares one round trip; a lone publish goes out at once. Only Jedis' public
 * API is used: {@code Jedis}, {@code Pipeline}, {@code Response}, {@code evalsha} / {@code eval} and
 * {@code xadd}.
 *
 * <p>Bounded: at most {@code publish_queue} messages wait. When the queue is full, {@link #publish}
 * holds its caller up to {@code timeout_ms} for room (a burst pushes back on the engine's workers
 * instead of failing attempts), then fails with a {@link RejectedExecutionException} (the engine's
 * publish action retries it within its budget). For a delivery's attempt, waiting for room and in the
 * queue is not part of the attempt ({@link Delivery#markQueued()} before the offer,
 * {@link Delivery#markStarted()} when a publisher takes it into a round): the handler's
 * {@code timeout_ms} runs from then, and an attempt the engine gave up on while queued is removed
 * from the queue ({@link Delivery#onAbandoned}) or, if a publisher already took it, skipped unsent. When Redis is unreachable, each round fails
 * (the futures complete exceptionally and the engine retries) and the thread backs off, up to 2s
 * between attempts, so it never spins; it reconnects on its next round.
 *
 * <p>De-duplication: with {@code dedup_window_ms > 0} (default 2 minutes, like JetStream's duplicate
 * window) a round's messages are appended by ONE script call ({@link #DEDUP_BATCH} by
 * {@code EVALSHA}, up to {@value #SCRIPT_ENTRIES} messages per call) that skips every message whose
 * {@link OutboundMessage#deduplicationId()} it finds recorded within the window, and records the id
 * of every message it stores: a second publish with the same id within the window — in a later round
 * or in the same one — stores nothing and is acknowledged as a duplicate with the first entry's id.
 * So the engine's retry of a publish whose reply was lost (Redis stored it, the connection dropped)
 * does not store it twice, and a publisher may resend a round its dead connection lost. With 0, a
 * plain pipelined XADD per message: retries can duplicate. Either way every entry carries its
 * {@code dedup} field.
 *
 * <p>Order: with one publisher, entries are stored in the order {@link #publish} was called; with more,
 * rounds taken by different publishers may interleave.
 */
final class BatchingPublisher implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(BatchingPublisher.class);
  private static final byte[] PAYLOAD = bytes(StreamEntry.PAYLOAD);
  private static final byte[] DEDUP = bytes(StreamEntry.DEDUP);
  /** {@code 0..1023} as the decimal strings the script reads (counts and indexes). */
  private static final byte[][] SMALL = new byte[1024][];

  static {
    for (int i = 0; i < SMALL.length; i++) {
      SMALL[i] = bytes(Integer.toString(i));
    }
  }

  /** Messages per script call: bounds the script's argument count and Lua's unpack of the keys. */
  static final int SCRIPT_ENTRIES = 500;
  /**
   * Appends a batch, skipping what was already published within the window. The de-duplication ids
   * of a subject live in hashes, one per window-long time bucket of the server's clock,
   * {@code <key_prefix>dedup:<len>:<subject>:<bucket>} (bucket = time ms / window ms; field = the
   * de-duplication id, value = the entry id first stored for it): an id is looked up in the current
   * and the previous bucket, and a hit in the previous one counts only if its entry is younger than
   * the window, so the window is exact. All ids stored by a call go into the current bucket with one
   * HSET; a bucket expires two windows after it ends, and the bucket two windows back is UNLINKed
   * (freed in the background) by the first call that finds it. The bucket keys are derived from the
   * prefixes in ARGV, not declared in KEYS (Redis Cluster is not supported).
   *
   * <p>Field names are sent once per call: messages with the same header names share a layout, and
   * each message carries only its layout's index and its values.
   * KEYS: the batch's S streams.
   * ARGV: max_len, window ms, S, number of messages M, number of layouts L, then the S
   * de-duplication key prefixes ({@code <key_prefix>dedup:<len>:<subject>:}), the M de-duplication
   * ids, the M stream indexes (1..S), the L layouts (each: its number k of header fields, then the k
   * field names, {@code h:<name>}), then per message: its layout index, its payload and its k header
   * values. Each entry is stored as {@code payload <payload> dedup <id> <name> <value>...}.
   * Returns two items per message: 0 and the new entry id; 1 and the id first stored for that
   * de-duplication id (a duplicate, nothing stored); 2 and the error (nothing stored).
   */
  static final String DEDUP_BATCH = ""
      + "local maxlen, window = ARGV[1], tonumber(ARGV[2])\n"
      + "local s, m, nl = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])\n"
      + "local t = redis.call('TIME')\n"
      + "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
      + "local bucket = math.floor(now / window)\n"
      + "local ids, streams, a = 5 + s, 5 + s + m, 6 + s + 2 * m\n"
      + "local cur, groups, first = {}, {}, {}\n"
      + "for j = 1, s do\n"
      + "  cur[j] = ARGV[5 + j] .. string.format('%.0f', bucket)\n"
      + "  groups[j] = {}\n"
      + "end\n"
      + "for i = 1, m do\n"
      + "  local g = groups[tonumber(ARGV[streams + i])]\n"
      + "  g[#g + 1] = i\n"
      + "end\n"
      + "for j = 1, s do\n"
      + "  local g, q = groups[j], {}\n"
      + "  for k = 1, #g do q[k] = ARGV[ids + g[k]] end\n"
      + "  if #q > 0 then\n"
      + "    local c = redis.call('HMGET', cur[j], unpack(q))\n"
      + "    local p = redis.call('HMGET', ARGV[5 + j] .. string.format('%.0f', bucket - 1), unpack(q))\n"
      + "    for k = 1, #g do\n"
      + "      local f = c[k]\n"
      + "      if not f and p[k] and tonumber(string.match(p[k], '^%d+')) > now - window then f = p[k] end\n"
      + "      first[g[k]] = f\n"
      + "    end\n"
      + "  end\n"
      + "end\n"
      + "local layouts = {}\n"
      + "for l = 1, nl do\n"
      + "  local k, names = tonumber(ARGV[a]), {}\n"
      + "  for x = 1, k do names[x] = ARGV[a + x] end\n"
      + "  layouts[l] = names\n"
      + "  a = a + 1 + k\n"
      + "end\n"
      + "local out, seen, put, f = {}, {}, {}, {'payload', false, 'dedup', false}\n"
      + "for j = 1, s do seen[j] = {}; put[j] = {} end\n"
      + "for i = 1, m do\n"
      + "  local id, j, names = ARGV[ids + i], tonumber(ARGV[streams + i]), layouts[tonumber(ARGV[a])]\n"
      + "  local k = #names\n"
      + "  local hit = seen[j][id] or first[i]\n"
      + "  if hit then\n"
      + "    out[2 * i - 1] = 1; out[2 * i] = hit\n"
      + "  else\n"
      + "    f[2] = ARGV[a + 1]; f[4] = id\n"
      + "    for x = 1, k do f[3 + 2 * x] = names[x]; f[4 + 2 * x] = ARGV[a + 1 + x] end\n"
      + "    local e = redis.pcall('XADD', KEYS[j], 'MAXLEN', '~', maxlen, '*', unpack(f, 1, 4 + 2 * k))\n"
      + "    if type(e) == 'table' then\n"
      + "      out[2 * i - 1] = 2; out[2 * i] = e.err or 'XADD failed'\n"
      + "    else\n"
      + "      seen[j][id] = e\n"
      + "      local pj = put[j]\n"
      + "      pj[#pj + 1] = id; pj[#pj + 1] = e\n"
      + "      out[2 * i - 1] = 0; out[2 * i] = e\n"
      + "    end\n"
      + "  end\n"
      + "  a = a + 2 + k\n"
      + "end\n"
      + "for j = 1, s do\n"
      + "  if #put[j] > 0 then\n"
      + "    redis.call('HSET', cur[j], unpack(put[j]))\n"
      + "    redis.call('PEXPIREAT', cur[j], string.format('%.0f', (bucket + 3) * window))\n"
      + "    redis.call('UNLINK', ARGV[5 + j] .. string.format('%.0f', bucket - 2))\n"
      + "  end\n"
      + "end\n"
      + "return out\n";
  private static final byte[] DEDUP_BATCH_BYTES = bytes(DEDUP_BATCH);
  /** The script's SHA-1, as Redis computes it (hex), for EVALSHA. */
  private static final byte[] DEDUP_BATCH_SHA = bytes(sha1Hex(DEDUP_BATCH_BYTES));

  private final RedisClient client;
  private final String streamPrefix;
  private final String dedupPrefix;
  private final boolean dedup;
  private final XAddParams xaddParams;
  private final byte[] maxLenArg;
  private final byte[] windowArg;
  private final int batch;
  private final BlockingQueue<Pending> queue;
  /** How long {@link #publish} waits for room in a full queue ({@code timeout_ms}). */
  private final long offerWaitMillis;
  private final Thread[] threads;
  /** Completes the callers' futures, one task per round; runs a task itself when it falls behind. */
  private final ThreadPoolExecutor completer;
  private final AtomicLong rejected = new AtomicLong();
  private final AtomicLong rounds = new AtomicLong();
  private final AtomicLong sent = new AtomicLong();
  private final AtomicBoolean outage = new AtomicBoolean();
  private volatile boolean closed;

  /** A caller's future and the message it waits for: one object per publish. */
  static final class Pending extends CompletableFuture<PublishAck> {
    final OutboundMessage message;
    /** The delivery attempt it publishes for; null for a publish made outside the engine's actions. */
    final Delivery attempt;

    Pending(OutboundMessage message, Delivery attempt) {
      this.message = message;
      this.attempt = attempt;
    }
  }

  BatchingPublisher(RedisClient client, String streamPrefix) {
    RedisSettings s = client.settings();
    this.client = client;
    this.streamPrefix = streamPrefix;
    this.dedupPrefix = s.keyPrefix() + "dedup:";
    this.dedup = s.dedupWindow().toMillis() > 0;
    this.xaddParams = XAddParams.xAddParams().maxLen(s.maxLen()).approximateTrimming();
    this.maxLenArg = bytes(Long.toString(s.maxLen()));
    this.windowArg = bytes(Long.toString(s.dedupWindow().toMillis()));
    this.batch = s.batch();
    this.queue = new ArrayBlockingQueue<>(s.publishQueue());
    this.offerWaitMillis = s.timeout().toMillis();
    int n = s.publishers();
    AtomicInteger completerSeq = new AtomicInteger();
    this.completer = new ThreadPoolExecutor(n, n, 0, TimeUnit.MILLISECONDS, new ArrayBlockingQueue<>(4 * n), r -> {
      Thread t = new Thread(r, "fraiseql-redis-acks-" + completerSeq.incrementAndGet());
      t.setDaemon(true);
      return t;
    }, (task, executor) -> task.run()); // behind (or shut down): the publisher completes its round itself
    this.threads = new Thread[n];
    for (int i = 0; i < n; i++) {
      int index = i + 1;
      threads[i] = new Thread(() -> run(index), "fraiseql-redis-publisher-" + index);
      threads[i].setDaemon(true);
    }
    for (Thread t : threads) {
      t.start();
    }
  }

  /**
   * Queues {@code message}; with an {@code attempt}, the attempt is marked queued first (its
   * {@code timeout_ms} stops while it waits for room and in the queue), a publisher marks it started
   * when it takes it into a round (and skips it if the engine gave up on it), and an attempt the engine
   * gives up on while queued is removed from the queue.
   */
  CompletionStage<PublishAck> publish(OutboundMessage message, Delivery attempt) {
    Pending p = new Pending(message, attempt);
    if (closed) {
      p.completeExceptionally(new IllegalStateException("the redis event bus is closed"));
      return p;
    }
    if (attempt != null && !attempt.markQueued()) {
      p.completeExceptionally(new IllegalStateException("abandoned before it was queued"));
      return p;
    }
    if (!queue.offer(p) && !offerWaiting(p)) {
      long n = rejected.incrementAndGet();
      if (n == 1 || n % 1000 == 0) {
        LOG.warn("[observer] redis publish queue full ({} waiting, publish_queue) for over {}ms (timeout_ms): Redis at"
            + " {} is slower than the event rate or unreachable; publishes fail until it drains ({} rejected so far)",
            queue.size(), offerWaitMillis, client.where(), n);
      }
      p.completeExceptionally(new RejectedExecutionException("redis publish queue is full (" + queue.size()
          + " messages waiting for " + client.where() + " for over " + offerWaitMillis + "ms); retry later"));
    } else if (closed && queue.remove(p)) {
      // closed while we queued it: no publisher may be left to take it
      p.completeExceptionally(new IllegalStateException("the redis event bus is closed"));
    } else if (attempt != null) {
      attempt.onAbandoned(() -> {
        if (queue.remove(p)) {
          p.completeExceptionally(new IllegalStateException("abandoned while queued for " + client.where()));
        }
      });
    }
    return p;
  }

  /** Waits up to {@code timeout_ms} for room in the queue: the caller is held back, not failed at once. */
  private boolean offerWaiting(Pending p) {
    try {
      return queue.offer(p, offerWaitMillis, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** How many publishes were refused because the queue was full. */
  long rejectedCount() {
    return rejected.get();
  }

  /** One publisher's connection and the pipeline kept on it (reused round after round). */
  private static final class Conn {
    final Jedis jedis;
    final Pipeline pipeline;

    Conn(Jedis jedis) {
      this.jedis = jedis;
      this.pipeline = jedis.pipelined();
    }

    boolean usable() {
      return jedis.isConnected() && !jedis.isBroken();
    }
  }

  /** One publisher thread: takes rounds from the queue until closed and drained. */
  private void run(int index) {
    Encoder enc = new Encoder();
    Conn conn = null;
    String name = client.clientName() + "-publisher-" + index;
    long backoffMs = 0;
    try {
      while (true) {
        List<Pending> round;
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
          round = new ArrayList<>(Math.min(batch, queue.size() + 1));
          round.add(first);
          queue.drainTo(round, batch - 1);
        } catch (InterruptedException e) {
          if (closed) {
            return;
          }
          continue;
        }
        round = startable(round);
        if (round.isEmpty()) {
          continue;
        }
        Round r = new Round(round);
        rounds.incrementAndGet();
        sent.addAndGet(round.size());
        boolean kept = conn != null && conn.usable();
        try {
          if (!kept) {
            closeQuietly(conn);
            conn = null;
            conn = new Conn(client.publisherConnection(name));
          }
          send(conn, enc, r);
          if (dedup && kept && r.failure instanceof JedisConnectionException) {
            // The kept connection was dead (Redis restarted, or closed it while idle). With de-duplication a
            // resend is safe (what the lost commands stored is recognised): once, at once, on a new connection.
            closeQuietly(conn);
            conn = null;
            r.failure = null;
            conn = new Conn(client.publisherConnection(name));
            send(conn, enc, r);
          }
        } catch (RuntimeException e) {
          r.failure = e; // could not connect, or a bug building the commands: the whole round fails
        }
        completer.execute(() -> complete(r));
        if (r.failure != null) {
          // the connection failed, or the round stopped half-sent: start the next one on a new connection
          closeQuietly(conn);
          conn = null;
          if (outage.compareAndSet(false, true)) {
            LOG.warn("[observer] redis at {} unreachable ({}): publishes fail and are retried by the engine",
                client.where(), r.failure.getMessage());
          }
          backoffMs = Math.min(2000, Math.max(50, backoffMs * 2));
        } else {
          if (outage.compareAndSet(true, false)) {
            LOG.info("[observer] redis publishing to {} resumed", client.where());
          }
          backoffMs = 0;
        }
      }
    } catch (RuntimeException | Error t) {
      LOG.error("[observer] redis publisher thread {} stopped on an unexpected error", index, t);
      throw t;
    } finally {
      closeQuietly(conn);
    }
  }

  /**
   * The messages of a round whose I/O starts now: each attempt is marked started (its timeout counts
   * from here); one the engine gave up on while it was queued is dropped unsent.
   */
  private static List<Pending> startable(List<Pending> round) {
    List<Pending> kept = null;
    for (int i = 0; i < round.size(); i++) {
      Pending p = round.get(i);
      boolean start = p.attempt == null || p.attempt.markStarted();
      if (!start) {
        if (kept == null) {
          kept = new ArrayList<>(round.subList(0, i));
        }
        p.completeExceptionally(new IllegalStateException("abandoned while queued"));
      } else if (kept != null) {
        kept.add(p);
      }
    }
    return kept == null ? round : kept;
  }

  /**
   * A round taken from the queue and, once sent, Redis' replies: one {@link Response} per command
   * (per script call with de-duplication, per message without), or the connection failure that
   * left them unread.
   */
  private static final class Round {
    final List<Pending> messages;
    List<Response<Object>> scriptReplies;
    List<Response<byte[]>> xaddReplies;
    RuntimeException failure;

    Round(List<Pending> messages) {
      this.messages = messages;
    }
  }

  /**
   * Sends a round's commands as one pipeline and reads every reply. A connection failure fails the
   * whole round (Jedis reads a pipeline's replies together: none is known if one is lost). NOSCRIPT
   * (Redis restarted or its script cache was flushed: nothing ran) is answered by sending the same
   * call as EVAL, which caches the script again.
   */
  private void send(Conn conn, Encoder enc, Round r) {
    List<Pending> round = r.messages;
    Pipeline pipe = conn.pipeline;
    try {
      if (dedup) {
        int calls = (round.size() + SCRIPT_ENTRIES - 1) / SCRIPT_ENTRIES;
        List<byte[][]> args = new ArrayList<>(calls);
        int[] keys = new int[calls];
        r.scriptReplies = new ArrayList<>(calls);
        for (int c = 0; c < calls; c++) {
          byte[][] a = enc.script(round, c * SCRIPT_ENTRIES, Math.min(round.size(), (c + 1) * SCRIPT_ENTRIES));
          args.add(a);
          keys[c] = enc.keyCount;
          r.scriptReplies.add(pipe.evalsha(DEDUP_BATCH_SHA, keys[c], a));
        }
        pipe.sync();
        boolean again = false;
        for (int c = 0; c < calls; c++) {
          if (noScript(r.scriptReplies.get(c))) {
            r.scriptReplies.set(c, pipe.eval(DEDUP_BATCH_BYTES, keys[c], args.get(c)));
            again = true;
          }
        }
        if (again) {
          pipe.sync();
        }
      } else {
        r.xaddReplies = new ArrayList<>(round.size());
        for (Pending p : round) {
          r.xaddReplies.add(pipe.xadd(enc.streamKey(p.message.subject()), xaddParams, enc.fields(p.message)));
        }
        pipe.sync();
      }
    } catch (JedisConnectionException e) {
      r.failure = e;
    }
  }

  private static boolean noScript(Response<Object> reply) {
    try {
      reply.get();
      return false;
    } catch (JedisDataException e) {
      return String.valueOf(e.getMessage()).startsWith("NOSCRIPT");
    }
  }

  /** Completes every future of a round with its own reply (on the completer, or on the publisher when behind). */
  private void complete(Round r) {
    List<Pending> round = r.messages;
    for (int i = 0; i < round.size(); i++) {
      Pending p = round.get(i);
      try {
        if (r.failure != null) {
          throw r.failure;
        }
        if (dedup) {
          int c = i / SCRIPT_ENTRIES;
          p.complete(scriptAck(p.message.subject(), r.scriptReplies.get(c).get(), i - c * SCRIPT_ENTRIES));
        } else {
          p.complete(new PublishAck(p.message.subject(), false, new String(r.xaddReplies.get(i).get(), StandardCharsets.UTF_8)));
        }
      } catch (RuntimeException e) {
        p.completeExceptionally(new RedisBusException("XADD to " + streamPrefix + p.message.subject() + " on "
            + client.where() + " failed: " + e.getMessage(), e));
      }
    }
  }

  private static PublishAck scriptAck(String subject, Object reply, int entry) {
    if (reply instanceof List && ((List<?>) reply).size() > 2 * entry + 1) {
      List<?> l = (List<?>) reply;
      Object flag = l.get(2 * entry);
      String value = StreamEntry.str(l.get(2 * entry + 1));
      if (flag instanceof Long && (Long) flag == 0L) {
        return new PublishAck(subject, false, value);
      }
      if (flag instanceof Long && (Long) flag == 1L) {
        return new PublishAck(subject, true, value);
      }
      throw new JedisDataException(value);
    }
    throw new IllegalStateException("unexpected reply " + reply);
  }

  /**
   * Builds commands' arguments (one publisher thread's), with the byte forms of stream keys,
   * de-duplication key prefixes and header names cached per subject / name.
   */
  private final class Encoder {
    private final Map<String, byte[][]> subjects = new HashMap<>();
    private final Map<String, byte[]> headerNames = new HashMap<>();
    private final List<String> streams = new ArrayList<>();
    /** The distinct header-name sequences of a script call, and each message's index into it. */
    private final List<List<String>> layouts = new ArrayList<>();
    private int[] layoutOf = new int[128];
    /** The number of keys (streams) of the last {@link #script} call. */
    int keyCount;

    byte[] streamKey(String subject) {
      return subject(subject)[0];
    }

    /** An entry's fields, in order: payload, dedup, h:&lt;name&gt; per header. */
    Map<byte[], byte[]> fields(OutboundMessage m) {
      Map<byte[], byte[]> f = new LinkedHashMap<>(2 * (2 + m.headers().size()));
      f.put(PAYLOAD, m.payload());
      f.put(DEDUP, bytes(m.deduplicationId()));
      for (Map.Entry<String, String> h : m.headers().entrySet()) {
        f.put(headerName(h.getKey()), bytes(h.getValue()));
      }
      return f;
    }

    /** The keys and arguments of {@link #DEDUP_BATCH} for messages [from, to) of the round (see its ARGV). */
    byte[][] script(List<Pending> round, int from, int to) {
      int count = to - from;
      if (layoutOf.length < count) {
        layoutOf = new int[Math.max(count, 2 * layoutOf.length)];
      }
      streams.clear();
      layouts.clear();
      int nameArgs = 0;
      int valueArgs = 0;
      int last = -1;
      for (int i = from; i < to; i++) {
        OutboundMessage m = round.get(i).message;
        if (indexOf(m.subject()) < 0) {
          streams.add(m.subject());
        }
        // consecutive messages mostly share their header names: the previous message's layout is tried first
        int l = last >= 0 && sameNames(layouts.get(last), m.headers()) ? last : layout(m.headers());
        if (l == layouts.size()) {
          layouts.add(new ArrayList<>(m.headers().keySet()));
          nameArgs += 1 + m.headers().size();
        }
        layoutOf[i - from] = l;
        last = l;
        valueArgs += m.headers().size();
      }
      int s = streams.size();
      byte[][] a = new byte[s + 5 + s + 2 * count + nameArgs + 2 * count + valueArgs][];
      int k = 0;
      for (String subject : streams) {
        a[k++] = subject(subject)[0];
      }
      a[k++] = maxLenArg;
      a[k++] = windowArg;
      a[k++] = number(s);
      a[k++] = number(count);
      a[k++] = number(layouts.size());
      for (String subject : streams) {
        a[k++] = subject(subject)[1];
      }
      for (int i = from; i < to; i++) {
        a[k++] = bytes(round.get(i).message.deduplicationId());
      }
      for (int i = from; i < to; i++) {
        a[k++] = number(s == 1 ? 1 : indexOf(round.get(i).message.subject()) + 1);
      }
      for (List<String> names : layouts) {
        a[k++] = number(names.size());
        for (String n : names) {
          a[k++] = headerName(n);
        }
      }
      for (int i = from; i < to; i++) {
        OutboundMessage m = round.get(i).message;
        a[k++] = number(layoutOf[i - from] + 1);
        a[k++] = m.payload();
        for (String v : m.headers().values()) {
          a[k++] = bytes(v);
        }
      }
      keyCount = s;
      return a;
    }

    /** The index of the layout with exactly these header names in this order, or {@code layouts.size()}. */
    private int layout(Map<String, String> headers) {
      for (int l = 0; l < layouts.size(); l++) {
        if (sameNames(layouts.get(l), headers)) {
          return l;
        }
      }
      return layouts.size();
    }

    private boolean sameNames(List<String> names, Map<String, String> headers) {
      if (names.size() != headers.size()) {
        return false;
      }
      int x = 0;
      for (String n : headers.keySet()) {
        String o = names.get(x++);
        if (o != n && !o.equals(n)) {
          return false;
        }
      }
      return true;
    }

    private int indexOf(String subject) {
      for (int i = 0; i < streams.size(); i++) {
        String s = streams.get(i);
        if (s == subject || s.equals(subject)) {
          return i;
        }
      }
      return -1;
    }

    /** {stream key, de-duplication key prefix} of a subject. */
    private byte[][] subject(String subject) {
      byte[][] k = subjects.get(subject);
      if (k == null) {
        if (subjects.size() >= 1024) {
          subjects.clear(); // a bus publishing to ever new subjects: keep the cache bounded
        }
        k = new byte[][] {bytes(streamPrefix + subject),
            bytes(dedupPrefix + subject.length() + ":" + subject + ":")};
        subjects.put(subject, k);
      }
      return k;
    }

    private byte[] headerName(String name) {
      byte[] b = headerNames.get(name);
      if (b == null) {
        if (headerNames.size() >= 1024) {
          headerNames.clear();
        }
        b = bytes(StreamEntry.HEADER_PREFIX + name);
        headerNames.put(name, b);
      }
      return b;
    }
  }

  private static byte[] number(int n) {
    return n >= 0 && n < SMALL.length ? SMALL[n] : bytes(Integer.toString(n));
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static String sha1Hex(byte[] data) {
    try {
      byte[] d = java.security.MessageDigest.getInstance("SHA-1").digest(data);
      StringBuilder sb = new StringBuilder(40);
      for (byte b : d) {
        sb.append(Character.forDigit((b >> 4) & 0xf, 16)).append(Character.forDigit(b & 0xf, 16));
      }
      return sb.toString();
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-1 is not available", e);
    }
  }

  private static void closeQuietly(Conn c) {
    if (c != null) {
      try {
        c.jedis.close();
      } catch (RuntimeException e) {
        LOG.debug("[observer] closing a redis publisher connection: {}", e.toString());
      }
    }
  }

  private void failAll(RuntimeException e) {
    Pending p;
    while ((p = queue.poll()) != null) {
      p.completeExceptionally(e);
    }
  }

  /** Publishes what is queued (waiting up to {@code waitMillis}), then stops; what is left fails. */
  void close(long waitMillis) {
    closed = true;
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(waitMillis);
    try {
      for (Thread t : threads) {
        t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    for (Thread t : threads) {
      if (t.isAlive()) {
        t.interrupt();
      }
    }
    completer.shutdown();
    try {
      completer.awaitTermination(Math.max(100, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())),
          TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    failAll(new IllegalStateException("the redis event bus closed before this message was published"));
    if (LOG.isDebugEnabled()) {
      long n = rounds.get();
      LOG.debug("[observer] redis publisher to {} closed: {} messages in {} rounds ({} per round), {} refused (queue full)",
          client.where(), sent.get(), n, n == 0 ? 0 : sent.get() / n, rejected.get());
    }
  }

  @Override
  public void close() {
    close(client.settings().timeout().toMillis() * 2);
  }
}

package dev.fraiseql.observers.benchmarks;

import dev.fraiseql.observers.DeliveryOutcome;
import dev.fraiseql.observers.ObservedEvent;
import dev.fraiseql.observers.ObserverEngine;
import dev.fraiseql.observers.ObserverListener;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.Pipeline;
import redis.clients.jedis.Response;
import redis.clients.jedis.params.ScanParams;
import redis.clients.jedis.params.XAddParams;
import redis.clients.jedis.resps.ScanResult;

/**
 * redis: the engine's publish action to our Redis Streams bus (pipelined rounds of up to
 * {@code batch} = 100 per round trip), against raw Jedis on one connection per producer, same entry
 * fields, same server. Three rows:
 * <ul>
 *   <li>{@code redis (dedup vs raw script)}: ours with its default de-duplication against raw Jedis
 *       doing the same guaranteed work, an atomic check-and-add per entry: a pipelined {@code EVALSHA}
 *       (100 per {@code sync}) of {@link #RAW_DEDUP}, which looks the id up within the window, XADDs
 *       the entry if it is new and records its id (target 0.9);
 *   <li>{@code redis}: ours with de-duplication against raw pipelined plain {@code XADD} (information:
 *       the raw side does less work);
 *   <li>{@code redis (dedup off)}: ours with {@code dedup_window_ms = 0} against raw pipelined plain
 *       {@code XADD}.
 * </ul>
 * Both sides build a fresh order event per message. The receiver is the stream: XLEN must equal what
 * was sent (each run starts from an empty stream).
 */
final class RedisCase implements BenchCase {
  private static final byte[] DEDUP = "dedup".getBytes(StandardCharsets.UTF_8);
  static final int BATCH = 100;
  /** The raw side's de-duplication window: the bus' default. */
  static final long WINDOW_MS = 120_000;
  /**
   * The raw side's atomic check-and-add, one call per entry: the de-duplication id is looked up in the
   * current and the previous window-long bucket of the server's clock (a hit in the previous one counts
   * while its entry is younger than the window), a new entry is XADDed and its id recorded in the
   * current bucket, which expires; the bucket two windows back is unlinked. What our bus guarantees
   * for each entry, written the way a Jedis user would: KEYS = stream, bucket prefix; ARGV = max_len,
   * window ms, de-duplication id, then the entry's field/value pairs. Returns {0, entry id} or
   * {1, the first entry's id}.
   */
  static final String RAW_DEDUP = ""
      + "local t = redis.call('TIME')\n"
      + "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
      + "local window = tonumber(ARGV[2])\n"
      + "local bucket = math.floor(now / window)\n"
      + "local cur = KEYS[2] .. string.format('%.0f', bucket)\n"
      + "local hit = redis.call('HGET', cur, ARGV[3])\n"
      + "if not hit then\n"
      + "  local p = redis.call('HGET', KEYS[2] .. string.format('%.0f', bucket - 1), ARGV[3])\n"
      + "  if p and tonumber(string.match(p, '^%d+')) > now - window then hit = p end\n"
      + "end\n"
      + "if hit then return {1, hit} end\n"
      + "local e = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', unpack(ARGV, 4))\n"
      + "redis.call('HSET', cur, ARGV[3], e)\n"
      + "redis.call('PEXPIREAT', cur, string.format('%.0f', (bucket + 3) * window))\n"
      + "redis.call('UNLINK', KEYS[2] .. string.format('%.0f', bucket - 2))\n"
      + "return {0, e}\n";

  /** What the raw side sends, and what the row compares. */
  private enum Mode { DEDUP_VS_SCRIPT, DEDUP_VS_XADD, PLAIN }

  @Override
  public String name() {
    return "redis";
  }

  @Override
  public Optional<String> unavailable() {
    return Servers.unreachable(Servers.redisUrl(), 6379);
  }

  @Override
  public List<Row> run(Options o) throws Exception {
    List<Row> rows = new ArrayList<>();
    rows.add(runWith(o, Mode.DEDUP_VS_SCRIPT));
    if (!o.smoke()) {
      rows.add(runWith(o, Mode.DEDUP_VS_XADD));
      rows.add(runWith(o, Mode.PLAIN));
    }
    return rows;
  }

  /** With de-duplication, the backend's default (one Lua call per pipelined round that checks each id and XADDs the new entries); without, {@code dedup_window_ms = 0}. */
  private Row runWith(Options o, Mode mode) throws Exception {
    boolean dedup = mode != Mode.PLAIN;
    boolean rawScript = mode == Mode.DEDUP_VS_SCRIPT;
    long n = o.count(30_000, 500);
    String prefix = "bench" + Servers.suffix() + ":";
    String subject = "fraiseql.order.created";
    String oursKey = prefix + "stream:" + subject;
    String rawKey = prefix + "raw:" + subject;
    long maxLen = 10_000_000;
    String toml = "[observers]\nbackend = \"redis\"\nredis_url = \"" + Servers.redisUrl() + "\"\n\n[observers.redis]\n"
        + "key_prefix = \"" + prefix + "\"\nmax_len = " + maxLen + "\nbatch = " + BATCH + "\n"
        + (dedup ? "" : "dedup_window_ms = 0\n") + "\n"
        + "[[observers.handlers]]\nname = \"order-to-redis\"\nevent = \"order.created\"\naction = \"publish\"\n"
        + "subject = \"" + subject + "\"\n";
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
    URI uri = URI.create(Servers.redisUrl());
    List<Jedis> conns = new ArrayList<>();
    // RESP2 without a HELLO, like our bus' connections (Jedis 8's Jedis class does not negotiate RESP3)
    redis.clients.jedis.JedisClientConfig resp2 = redis.clients.jedis.DefaultJedisClientConfig.builder()
        .serverDefaultProtocol().build();
    try (Jedis admin = new Jedis(uri, resp2);
        ObserverEngine engine = ObserverEngine.builder().configToml(toml).listener(listener).build()) {
      for (int p = 0; p < CoreCase.PRODUCERS; p++) {
        conns.add(new Jedis(uri, resp2));
      }
      try {
        Bench.Side ours = Bench.prepared(() -> admin.del(oursKey), count -> {
          long before = delivered.sum() + failed.sum();
          Bench.drive(CoreCase.PRODUCERS, count, i -> engine.onCommit(Payload.order(seq.incrementAndGet())));
          Bench.awaitCount(Bench.budget(count), () -> delivered.sum() + failed.sum() - before, count, "publish outcomes (ours)");
          Bench.await(Duration.ofSeconds(30), () -> engine.inFlight() == 0, "in-flight deliveries to end");
          return admin.xlen(oursKey);
        });
        byte[] sha = rawScript ? admin.scriptLoad(RAW_DEDUP.getBytes(StandardCharsets.UTF_8)) : null;
        byte[] dedupPrefix = (prefix + "rawdedup:" + subject + ":").getBytes(StandardCharsets.UTF_8);
        byte[] maxLenArg = Long.toString(maxLen).getBytes(StandardCharsets.UTF_8);
        byte[] windowArg = Long.toString(WINDOW_MS).getBytes(StandardCharsets.UTF_8);
        LongAdder rawDuplicates = new LongAdder();
        Bench.Side raw = Bench.prepared(() -> admin.del(rawKey), count -> {
          byte[] key = rawKey.getBytes(StandardCharsets.UTF_8);
          byte[] field = "payload".getBytes(StandardCharsets.UTF_8);
          XAddParams params = XAddParams.xAddParams().maxLen(maxLen).approximateTrimming();
          List<Thread> threads = new ArrayList<>();
          List<Throwable> errors = java.util.Collections.synchronizedList(new ArrayList<>());
          for (int p = 0; p < CoreCase.PRODUCERS; p++) {
            final int me = p;
            Jedis j = conns.get(p);
            Thread t = new Thread(() -> {
              try {
                Pipeline pipe = j.pipelined();
                List<Response<Object>> replies = new ArrayList<>(BATCH);
                int inBatch = 0;
                for (long i = me; i < count; i += CoreCase.PRODUCERS) {
                  // the same entry ours stores: payload, de-duplication id and the event's headers
                  dev.fraiseql.observers.ObservedEvent e = Payload.order(seq.incrementAndGet());
                  byte[] id = (e.id() + ":" + rawKey).getBytes(StandardCharsets.UTF_8);
                  if (rawScript) {
                    Map<String, String> headers = dev.fraiseql.observers.spi.OutboundMessage.headersOf(e);
                    byte[][] args = new byte[2 + 3 + 4 + 2 * headers.size()][];
                    int a = 0;
                    args[a++] = key;
                    args[a++] = dedupPrefix;
                    args[a++] = maxLenArg;
                    args[a++] = windowArg;
                    args[a++] = id;
                    args[a++] = field;
                    args[a++] = e.toJson();
                    args[a++] = DEDUP;
                    args[a++] = id;
                    for (Map.Entry<String, String> h : headers.entrySet()) {
                      args[a++] = ("h:" + h.getKey()).getBytes(StandardCharsets.UTF_8);
                      args[a++] = h.getValue().getBytes(StandardCharsets.UTF_8);
                    }
                    replies.add(pipe.evalsha(sha, 2, args));
                  } else {
                    Map<byte[], byte[]> entry = new java.util.LinkedHashMap<>();
                    entry.put(field, e.toJson());
                    entry.put(DEDUP, id);
                    dev.fraiseql.observers.spi.OutboundMessage.headersOf(e).forEach((k, v) ->
                        entry.put(("h:" + k).getBytes(StandardCharsets.UTF_8), v.getBytes(StandardCharsets.UTF_8)));
                    pipe.xadd(key, params, entry);
                  }
                  if (++inBatch == BATCH) {
                    pipe.sync();
                    countDuplicates(replies, rawDuplicates);
                    inBatch = 0;
                  }
                }
                pipe.sync();
                countDuplicates(replies, rawDuplicates);
                pipe.close();
              } catch (Throwable e) {
                errors.add(e);
              }
            }, "bench-redis-raw-" + p);
            t.start();
            threads.add(t);
          }
          for (Thread t : threads) {
            t.join();
          }
          if (!errors.isEmpty()) {
            throw new IllegalStateException("raw XADD failed: " + errors.get(0), errors.get(0));
          }
          return admin.xlen(rawKey);
        });
        Bench.Comparison c = Bench.compare(o, n, ours, raw);
        if (failed.sum() > 0 || rawDuplicates.sum() > 0) {
          throw new IllegalStateException("publishes failed: ours " + failed.sum() + "; raw script calls that found a"
              + " duplicate " + rawDuplicates.sum());
        }
        Map<String, Object> notes = new LinkedHashMap<>();
        notes.put("raw_entry", "same fields as ours: payload, dedup id, h:<header> per event header");
        notes.put("raw", rawScript ? "pipelined EVALSHA per entry of an atomic check-and-add (id lookup in the window, XADD,"
            + " id record), " + BATCH + " per sync" : "pipelined plain XADD, " + BATCH + " per sync");
        notes.put("batch", BATCH);
        notes.put("producers", CoreCase.PRODUCERS);
        notes.put("ours_dedup", dedup ? "on (dedup_window_ms default: one Lua call per round, id check + XADD + id record per entry)" : "off (dedup_window_ms = 0, plain XADD)");
        String name = switch (mode) {
          case DEDUP_VS_SCRIPT -> "redis (dedup vs raw script)";
          case DEDUP_VS_XADD -> "redis";
          case PLAIN -> "redis (dedup off)";
        };
        return Row.ratio(name, c, 0.9, notes);
      } finally {
        for (Jedis j : conns) {
          j.close();
        }
        cleanup(admin, prefix);
      }
    }
  }

  /** Counts the script replies that found the id already stored ({1, id}); empties the list. */
  private static void countDuplicates(List<Response<Object>> replies, LongAdder duplicates) {
    for (Response<Object> r : replies) {
      Object v = r.get();
      if (v instanceof List && !((List<?>) v).isEmpty() && Long.valueOf(1L).equals(((List<?>) v).get(0))) {
        duplicates.increment();
      }
    }
    replies.clear();
  }

  private static void cleanup(Jedis admin, String prefix) {
    try {
      String cursor = ScanParams.SCAN_POINTER_START;
      ScanParams match = new ScanParams().match(prefix + "*").count(1000);
      do {
        ScanResult<String> r = admin.scan(cursor, match);
        if (!r.getResult().isEmpty()) {
          admin.unlink(r.getResult().toArray(new String[0]));
        }
        cursor = r.getCursor();
      } while (!"0".equals(cursor));
    } catch (RuntimeException ignored) {
      // best effort: the keys have a random prefix
    }
  }
}

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
import redis.clients.jedis.params.ScanParams;
import redis.clients.jedis.params.XAddParams;
import redis.clients.jedis.resps.ScanResult;

/**
 * redis: the engine's publish action to our Redis Streams bus (pipelined XADDs of up to
 * {@code batch} = 100 per round trip, with its default de-duplication), against raw Jedis pipelined
 * {@code XADD} in batches of 100 on one connection per producer, same payload field, same server. Both
 * sides build a fresh order event per message. The receiver is the stream: XLEN must equal what was sent
 * (each run starts from an empty stream).
 */
final class RedisCase implements BenchCase {
  private static final byte[] DEDUP = "dedup".getBytes(StandardCharsets.UTF_8);
  static final int BATCH = 100;

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
    rows.add(runWith(o, true));
    if (!o.smoke()) {
      rows.add(runWith(o, false));
    }
    return rows;
  }

  /** With {@code dedup}, the backend's default (one Lua call per pipelined round that checks each id and XADDs the new entries); without, {@code dedup_window_ms = 0}. */
  private Row runWith(Options o, boolean dedup) throws Exception {
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
    try (Jedis admin = new Jedis(uri);
        ObserverEngine engine = ObserverEngine.builder().configToml(toml).listener(listener).build()) {
      for (int p = 0; p < CoreCase.PRODUCERS; p++) {
        conns.add(new Jedis(uri));
      }
      try {
        Bench.Side ours = Bench.prepared(() -> admin.del(oursKey), count -> {
          long before = delivered.sum() + failed.sum();
          Bench.drive(CoreCase.PRODUCERS, count, i -> engine.onCommit(Payload.order(seq.incrementAndGet())));
          Bench.awaitCount(Bench.budget(count), () -> delivered.sum() + failed.sum() - before, count, "publish outcomes (ours)");
          Bench.await(Duration.ofSeconds(30), () -> engine.inFlight() == 0, "in-flight deliveries to end");
          return admin.xlen(oursKey);
        });
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
                int inBatch = 0;
                for (long i = me; i < count; i += CoreCase.PRODUCERS) {
                  // the same entry ours stores: payload, de-duplication id and the event's headers
                  dev.fraiseql.observers.ObservedEvent e = Payload.order(seq.incrementAndGet());
                  Map<byte[], byte[]> entry = new java.util.LinkedHashMap<>();
                  entry.put(field, e.toJson());
                  entry.put(DEDUP, (e.id() + ":" + rawKey).getBytes(StandardCharsets.UTF_8));
                  dev.fraiseql.observers.spi.OutboundMessage.headersOf(e).forEach((k, v) ->
                      entry.put(("h:" + k).getBytes(StandardCharsets.UTF_8), v.getBytes(StandardCharsets.UTF_8)));
                  pipe.xadd(key, params, entry);
                  if (++inBatch == BATCH) {
                    pipe.sync();
                    inBatch = 0;
                  }
                }
                pipe.sync();
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
        if (failed.sum() > 0) {
          throw new IllegalStateException("publishes failed: ours " + failed.sum());
        }
        Map<String, Object> notes = new LinkedHashMap<>();
        notes.put("raw_entry", "same fields as ours: payload, dedup id, h:<header> per event header");
        notes.put("batch", BATCH);
        notes.put("producers", CoreCase.PRODUCERS);
        notes.put("ours_dedup", dedup ? "on (dedup_window_ms default: one Lua call per round, id check + XADD + id record per entry)" : "off (dedup_window_ms = 0, plain XADD)");
        return Row.ratio(dedup ? "redis" : "redis (dedup off)", c, 0.9, notes);
      } finally {
        for (Jedis j : conns) {
          j.close();
        }
        cleanup(admin, prefix);
      }
    }
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

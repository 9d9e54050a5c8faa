package dev.fraiseql.observers.redis.internal;

import dev.fraiseql.observers.spi.DeadLetter;
import dev.fraiseql.observers.spi.DeadLetterQuery;
import dev.fraiseql.observers.spi.DeadLetterStore;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.AbstractPipeline;
import redis.clients.jedis.Response;
import redis.clients.jedis.exceptions.JedisException;

/**
 * Dead letters in Redis, surviving restarts of the host: a hash per letter
 * ({@code <key_prefix>dl:l:<id>} with fields {@code json} and {@code handler}) and a sorted set
 * {@code <key_prefix>dl:index} of ids scored by dead-letter time (epoch ms). Listing walks the index
 * newest first (within {@code since}/{@code until}) and applies the other filters.
 *
 * <p>Bounded: at most {@code dead_letter_max} letters are kept. Adding one beyond that drops the
 * oldest, atomically in the same script, with a WARN and a counter ({@link #droppedCount()}).
 */
public final class RedisDeadLetterStore implements DeadLetterStore {
  private static final Logger LOG = LoggerFactory.getLogger(RedisDeadLetterStore.class);
  private static final int PAGE = 200;

  static final String ADD_SCRIPT = ""
      + "redis.call('HSET', KEYS[1], 'json', ARGV[2], 'handler', ARGV[3])\n"
      + "redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1])\n"
      + "local n = redis.call('ZCARD', KEYS[2])\n"
      + "local max = tonumber(ARGV[5])\n"
      + "local dropped = 0\n"
      + "if n > max then\n"
      + "  local old = redis.call('ZPOPMIN', KEYS[2], n - max)\n"
      + "  for i = 1, #old, 2 do\n"
      + "    redis.call('DEL', ARGV[6] .. old[i])\n"
      + "    dropped = dropped + 1\n"
      + "  end\n"
      + "end\n"
      + "return dropped";
  static final String REMOVE_SCRIPT = ""
      + "redis.call('ZREM', KEYS[2], ARGV[1])\n"
      + "return redis.call('DEL', KEYS[1])";

  private final RedisClient client;
  private final String hashPrefix;
  private final String index;
  private final long max;
  private final AtomicLong dropped = new AtomicLong();

  public RedisDeadLetterStore(RedisClient client) {
    this.client = client;
    this.hashPrefix = client.settings().keyPrefix() + "dl:l:";
    this.index = client.settings().keyPrefix() + "dl:index";
    this.max = client.settings().deadLetterMax();
  }

  private String hashKey(String id) {
    return hashPrefix + id;
  }

  @Override
  public void add(DeadLetter letter) {
    Objects.requireNonNull(letter, "letter");
    String json = DeadLetterJson.write(letter);
    String score = Long.toString(letter.deadLetteredAt().toEpochMilli());
    Object r;
    try {
      r = client.idempotent(p -> p.eval(ADD_SCRIPT, List.of(hashKey(letter.id()), index),
          List.of(letter.id(), json, letter.handler(), score, Long.toString(max), hashPrefix)));
    } catch (JedisException | IllegalStateException e) {
      throw new RedisBusException("storing dead letter " + letter.id() + " (" + letter.handler() + ") on "
          + client.where() + " failed: " + e.getMessage(), e);
    }
    long n = r instanceof Long ? (Long) r : 0;
    if (n > 0) {
      long total = dropped.addAndGet(n);
      LOG.warn("[observer] redis dead-letter store full (dead_letter_max = {}): dropped the {} oldest ({} dropped"
          + " since start)", max, n, total);
    }
  }

  /** How many dead letters this store dropped to stay within {@code dead_letter_max}. */
  public long droppedCount() {
    return dropped.get();
  }

  @Override
  public List<DeadLetter> list(DeadLetterQuery query) {
    String maxScore = query.until().map(t -> Long.toString(t.toEpochMilli())).orElse("+inf");
    String minScore = query.since().map(t -> Long.toString(t.toEpochMilli())).orElse("-inf");
    List<DeadLetter> out = new ArrayList<>();
    try {
      int offset = 0;
      while (out.size() < query.limit()) {
        final int off = offset;
        List<String> ids = client.idempotent(p -> p.zrevrangeByScore(index, maxScore, minScore, off, PAGE));
        if (ids.isEmpty()) {
          break;
        }
        List<Response<List<String>>> rows = new ArrayList<>(ids.size());
        try (AbstractPipeline p = client.pool().pipelined()) {
          for (String id : ids) {
            rows.add(p.hmget(hashKey(id), "handler", "json"));
          }
          p.sync();
        }
        for (Response<List<String>> row : rows) {
          List<String> v = row.get();
          if (v.get(1) == null) {
            continue; // removed meanwhile
          }
          if (query.handler().isPresent() && !query.handler().get().equals(v.get(0))) {
            continue;
          }
          DeadLetter d = DeadLetterJson.read(v.get(1));
          if (query.matches(d)) {
            out.add(d);
            if (out.size() >= query.limit()) {
              break;
            }
          }
        }
        if (ids.size() < PAGE) {
          break;
        }
        offset += PAGE;
      }
    } catch (JedisException | IllegalStateException e) {
      throw new RedisBusException("listing dead letters on " + client.where() + " failed: " + e.getMessage(), e);
    }
    return out;
  }

  @Override
  public Optional<DeadLetter> get(String id) {
    try {
      String json = client.idempotent(p -> p.hget(hashKey(id), "json"));
      return json == null ? Optional.empty() : Optional.of(DeadLetterJson.read(json));
    } catch (JedisException | IllegalStateException e) {
      throw new RedisBusException("reading dead letter " + id + " on " + client.where() + " failed: " + e.getMessage(), e);
    }
  }

  @Override
  public boolean remove(String id) {
    try {
      Object r = client.idempotent(p -> p.eval(REMOVE_SCRIPT, List.of(hashKey(id), index), List.of(id)));
      return r instanceof Long && (Long) r > 0;
    } catch (JedisException | IllegalStateException e) {
      throw new RedisBusException("removing dead letter " + id + " on " + client.where() + " failed: " + e.getMessage(), e);
    }
  }

  @Override
  public long count() {
    try {
      return client.idempotent(p -> p.zcard(index));
    } catch (JedisException | IllegalStateException e) {
      throw new RedisBusException("counting dead letters on " + client.where() + " failed: " + e.getMessage(), e);
    }
  }

  @Override
  public String toString() {
    return "RedisDeadLetterStore{" + client.where() + ", keys " + hashPrefix + "*, max " + max + "}";
  }
}

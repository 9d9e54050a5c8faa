package dev.fraiseql.observers.redis.internal;

import dev.fraiseql.observers.spi.IdempotencyStore;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import redis.clients.jedis.exceptions.JedisException;

/**
 * Idempotency keys in Redis: {@code <key_prefix>idem:<len>:<listener>:<key>} (the listener's length
 * keeps {@code ("a:b","c")} and {@code ("a","b:c")} apart).
 *
 * <ul>
 *   <li>claim: {@code SET key claim:<token> NX PX ttl} in a script that, when the key exists, answers
 *       DONE for {@code done} and BUSY for another live claim. The token is unique per claim.</li>
 *   <li>complete: the key becomes {@code done}, kept for {@code idempotency_ttl_ms} (default 7 days;
 *       0 keeps it forever). A duplicate arriving later than that runs again.</li>
 *   <li>release: deletes the key only if it still holds this claim's token (compare-and-delete script),
 *       so a claim that expired and was taken by another instance is never released by the first.</li>
 * </ul>
 *
 * <p>The tokens of live claims are remembered in memory until completed or released: at most one per
 * delivery in flight, which the engine bounds ({@code max_in_flight}). Calls run on the caller's
 * thread (one round trip each) and return completed stages; a Redis failure completes the stage
 * exceptionally.
 */
public final class RedisIdempotencyStore implements IdempotencyStore {
  static final String CLAIM_SCRIPT = ""
      + "if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 'CLAIMED' end\n"
      + "local v = redis.call('GET', KEYS[1])\n"
      + "if v == 'done' then return 'DONE' end\n"
      + "if v == ARGV[1] then return 'CLAIMED' end\n"
      + "return 'BUSY'";
  static final String RELEASE_SCRIPT = ""
      + "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end\n"
      + "return 0";

  private final RedisClient client;
  private final String prefix;
  private final Duration doneTtl;
  private final Map<String, String> tokens = new ConcurrentHashMap<>();

  public RedisIdempotencyStore(RedisClient client) {
    this.client = client;
    this.prefix = client.settings().keyPrefix() + "idem:";
    this.doneTtl = client.settings().idempotencyTtl();
  }

  String redisKey(String key, String listenerId) {
    return prefix + listenerId.length() + ":" + listenerId + ":" + key;
  }

  @Override
  public CompletionStage<Claim> claim(String key, String listenerId, Duration ttl) {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(listenerId, "listenerId");
    String k = redisKey(key, listenerId);
    String token = "claim:" + UUID.randomUUID();
    long ms = Math.max(1, ttl.toMillis());
    try {
      Object r = client.idempotent(p -> p.eval(CLAIM_SCRIPT, List.of(k), List.of(token, Long.toString(ms))));
      Claim c = Claim.valueOf(String.valueOf(r));
      if (c == Claim.CLAIMED) {
        tokens.put(k, token);
      }
      return CompletableFuture.completedFuture(c);
    } catch (JedisException | IllegalStateException e) {
      return CompletableFuture.failedFuture(failure("claim", k, e));
    }
  }

  @Override
  public CompletionStage<Void> complete(String key, String listenerId) {
    String k = redisKey(key, listenerId);
    try {
      client.idempotent(p -> doneTtl.isZero() ? p.set(k, "done")
          : p.set(k, "done", redis.clients.jedis.params.SetParams.setParams().px(doneTtl.toMillis())));
      tokens.remove(k);
      return CompletableFuture.completedFuture(null);
    } catch (JedisException | IllegalStateException e) {
      return CompletableFuture.failedFuture(failure("complete", k, e));
    }
  }

  @Override
  public CompletionStage<Void> release(String key, String listenerId) {
    String k = redisKey(key, listenerId);
    String token = tokens.remove(k);
    if (token == null) {
      return CompletableFuture.completedFuture(null); // not claimed here (or already released)
    }
    try {
      client.idempotent(p -> p.eval(RELEASE_SCRIPT, List.of(k), List.of(token)));
      return CompletableFuture.completedFuture(null);
    } catch (JedisException | IllegalStateException e) {
      // the claim expires after its TTL; until then duplicates answer BUSY
      return CompletableFuture.failedFuture(failure("release", k, e));
    }
  }

  private RedisBusException failure(String op, String key, RuntimeException e) {
    return new RedisBusException("idempotency " + op + " of " + key + " on " + client.where() + " failed: "
        + e.getMessage(), e);
  }

  @Override
  public String toString() {
    return "RedisIdempotencyStore{" + client.where() + ", keys " + prefix + "*}";
  }
}

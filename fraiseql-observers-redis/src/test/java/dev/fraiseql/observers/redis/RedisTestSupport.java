package dev.fraiseql.observers.redis;

import dev.fraiseql.observers.config.Settings;
import dev.fraiseql.observers.redis.internal.RedisBackend;
import dev.fraiseql.observers.redis.internal.RedisSettings;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import java.util.function.BooleanSupplier;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.params.ScanParams;
import redis.clients.jedis.resps.ScanResult;

/** Helpers for the integration tests: the Redis URL, unique key prefixes, cleanup, polling. */
final class RedisTestSupport {
  private RedisTestSupport() {}

  static String url() {
    String u = System.getenv("FRAISEQL_TEST_REDIS_URL");
    return u == null || u.isBlank() ? "redis://localhost:6379" : u;
  }

  /** A key prefix no other run uses. */
  static String uniquePrefix() {
    return "fraiseql-test:" + UUID.randomUUID().toString().substring(0, 8) + ":";
  }

  static Settings settings(String prefix, Map<String, Object> extra) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("redis_url", url());
    m.put("key_prefix", prefix);
    m.putAll(extra);
    return Settings.of("[observers.redis]", m);
  }

  static RedisBackend backend(String prefix, Map<String, Object> extra) {
    return new RedisBackend(RedisSettings.from(settings(prefix, extra)));
  }

  static RedisClient raw() {
    return RedisClient.create(java.net.URI.create(url()));
  }

  /** Deletes every key under {@code prefix}. */
  static void cleanup(String prefix) {
    try (RedisClient j = raw()) {
      String cursor = ScanParams.SCAN_POINTER_START;
      do {
        ScanResult<String> r = j.scan(cursor, new ScanParams().match(prefix + "*").count(1000));
        if (!r.getResult().isEmpty()) {
          j.del(r.getResult().toArray(new String[0]));
        }
        cursor = r.getCursor();
      } while (!cursor.equals(ScanParams.SCAN_POINTER_START));
    } catch (RuntimeException e) {
      // Redis may be down after a failed fault test; nothing to clean then
    }
  }

  /** Polls {@code condition} until it holds or {@code timeout} passes; returns whether it held. */
  static boolean await(Duration timeout, BooleanSupplier condition) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (condition.getAsBoolean()) {
        return true;
      }
      try {
        Thread.sleep(10);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
    }
    return condition.getAsBoolean();
  }
}

package dev.fraiseql.observers.redis;

import dev.fraiseql.observers.redis.internal.RedisBackend;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import redis.clients.jedis.RedisClient;

/**
 * A fresh key prefix, a raw client to look at what arrived, and backends, subscriptions and other
 * resources closed (in reverse) after each test, and the prefix's keys removed.
 */
abstract class RedisScope {
  protected String prefix;
  protected RedisClient raw;
  protected final List<AutoCloseable> toClose = new ArrayList<>();

  @BeforeEach
  void openRedisScope() {
    prefix = RedisTestSupport.uniquePrefix();
    raw = RedisTestSupport.raw();
  }

  @AfterEach
  void closeRedisScope() throws Exception {
    Collections.reverse(toClose);
    for (AutoCloseable c : toClose) {
      c.close();
    }
    toClose.clear();
    RedisTestSupport.cleanup(prefix);
    raw.close();
  }

  /** A backend on this test's prefix, closed after the test. */
  protected RedisBackend backend(Map<String, Object> extra) {
    RedisBackend b = RedisTestSupport.backend(prefix, extra);
    toClose.add(b);
    return b;
  }
}

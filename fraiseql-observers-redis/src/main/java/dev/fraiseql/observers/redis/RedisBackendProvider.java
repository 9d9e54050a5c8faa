package dev.fraiseql.observers.redis;

import dev.fraiseql.observers.redis.internal.RedisBackend;
import dev.fraiseql.observers.redis.internal.RedisSettings;
import dev.fraiseql.observers.spi.Backend;
import dev.fraiseql.observers.spi.BackendContext;
import dev.fraiseql.observers.spi.BackendProvider;
import java.util.Set;

/**
 * The {@code redis} backend: {@code [observers] backend = "redis"} with {@code redis_url}. Provides an
 * event bus on Redis Streams (consumer groups, pipelined XADD) and durable dead-letter and
 * idempotency stores. Found through {@link java.util.ServiceLoader}; a host can also hand an instance
 * to the engine's builder.
 *
 * <p>Settings ({@code redis_url} in {@code [observers]}, the rest in {@code [observers.redis]}):
 *
 * <table>
 *   <caption>redis backend settings</caption>
 *   <tr><th>key</th><th>default</th><th>meaning</th></tr>
 *   <tr><td>redis_url</td><td>(required)</td><td>{@code redis://[user:password@]host:port[/db]}, {@code rediss://} for TLS</td></tr>
 *   <tr><td>key_prefix</td><td>{@code fraiseql:}</td><td>prefix of every key (streams, dead letters, idempotency keys)</td></tr>
 *   <tr><td>max_len</td><td>100000</td><td>approximate {@code MAXLEN ~} of each stream</td></tr>
 *   <tr><td>pool_max_total</td><td>16</td><td>pooled connections (each subscription's reader holds one while blocked)</td></tr>
 *   <tr><td>timeout_ms</td><td>2000</td><td>connect and command timeout</td></tr>
 *   <tr><td>block_ms</td><td>1000</td><td>how long XREADGROUP blocks waiting for entries</td></tr>
 *   <tr><td>claim_idle_ms</td><td>the subscription's ack wait (30000)</td><td>entries idle this long are reclaimed (XAUTOCLAIM)</td></tr>
 *   <tr><td>batch</td><td>100</td><td>publishes per pipelined round trip; entries per XREADGROUP/XAUTOCLAIM</td></tr>
 *   <tr><td>publishers</td><td>2</td><td>publisher threads, each with its own connection, sending rounds in parallel (1 keeps publish order)</td></tr>
 *   <tr><td>dedup_window_ms</td><td>120000</td><td>a publish with a de-duplication id seen this recently is not stored again; 0 = off</td></tr>
 *   <tr><td>publish_queue</td><td>10000</td><td>publishes waiting to be sent; beyond it publish fails fast (retried by the engine)</td></tr>
 *   <tr><td>dead_letter_max</td><td>100000</td><td>dead letters kept; the oldest are dropped with a WARN</td></tr>
 *   <tr><td>idempotency_ttl_ms</td><td>604800000 (7 days)</td><td>how long a completed idempotency key is kept; 0 = forever</td></tr>
 * </table>
 */
public final class RedisBackendProvider implements BackendProvider {

  /** The name in {@code backend = "redis"}. */
  public static final String NAME = "redis";

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public String artifact() {
    return "dev.fraiseql:fraiseql-observers-redis";
  }

  @Override
  public Set<String> settingKeys() {
    return RedisSettings.KEYS;
  }

  @Override
  public Backend create(BackendContext context) {
    // the engine reports unknown keys (against settingKeys()) before calling create: check values only
    return new RedisBackend(RedisSettings.from(context.settings(), false));
  }
}

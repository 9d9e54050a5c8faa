package dev.fraiseql.observers.redis.internal;

import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.ConnectionPoolConfig;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.JedisClientConfig;
import redis.clients.jedis.RedisSentinelClient;
import redis.clients.jedis.UnifiedJedis;
import redis.clients.jedis.SslOptions;
import redis.clients.jedis.exceptions.JedisConnectionException;

/**
 * The connection pool (Jedis' {@link redis.clients.jedis.RedisClient}, pooled by commons-pool2), opened lazily on first use (creating a backend only for its stores, or
 * starting the host while Redis is down, never connects). Thread-safe.
 *
 * <p>The socket read timeout is {@code timeout_ms + block_ms}, so that a blocking XREADGROUP never
 * times out on the client side first. Broken connections are discarded by the pool; the next borrow
 * opens a fresh one, which is how every component reconnects after a Redis restart.
 */
public final class RedisClient implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(RedisClient.class);

  private final RedisSettings settings;
  private final String clientName;
  private volatile UnifiedJedis pooled;
  private volatile boolean closed;

  public RedisClient(RedisSettings settings, String clientName) {
    this.settings = settings;
    this.clientName = clientName;
  }

  public RedisSettings settings() {
    return settings;
  }

  /**
   * The pool, created on first call: Jedis' {@link redis.clients.jedis.RedisClient} for one server, its
   * {@link RedisSentinelClient} (which follows the master Sentinel names) for {@code redis-sentinel://}.
   */
  public UnifiedJedis pool() {
    UnifiedJedis p = pooled;
    if (p != null) {
      return p;
    }
    synchronized (this) {
      if (closed) {
        throw new IllegalStateException("the redis backend is closed");
      }
      if (pooled == null) {
        RedisUrl url = settings.url();
        ConnectionPoolConfig pool = new ConnectionPoolConfig();
        pool.setMaxTotal(settings.poolMaxTotal());
        pool.setMaxIdle(settings.poolMaxTotal());
        pool.setMinIdle(0);
        pool.setMaxWait(settings.timeout());
        pool.setTestWhileIdle(true);
        pool.setTimeBetweenEvictionRuns(Duration.ofSeconds(30));
        pool.setJmxEnabled(false);
        if (url.sentinel()) {
          Set<HostAndPort> sentinels = new LinkedHashSet<>();
          url.sentinels().forEach(s -> sentinels.add(HostAndPort.from(s)));
          int timeout = (int) Math.min(Integer.MAX_VALUE, settings.timeout().toMillis());
          pooled = RedisSentinelClient.builder().masterName(url.masterName().orElseThrow()).sentinels(sentinels)
              .sentinelClientConfig(DefaultJedisClientConfig.builder().connectionTimeoutMillis(timeout)
                  .socketTimeoutMillis(timeout).serverDefaultProtocol().clientName(clientName + "-sentinel").build())
              .clientConfig(clientConfig(clientName)).poolConfig(pool).build();
        } else {
          pooled = redis.clients.jedis.RedisClient.builder().hostAndPort(new HostAndPort(url.host(), url.port()))
              .clientConfig(clientConfig(clientName)).poolConfig(pool).build();
        }
        LOG.debug("[observer] redis pool for {} opened (max {} connections)", url.redacted(), settings.poolMaxTotal());
      }
      return pooled;
    }
  }

  /**
   * A new connection outside the pool, kept by one publisher thread for pipelining: connected,
   * authenticated and on the configured database (announced as {@code name}), or an exception (a
   * {@link redis.clients.jedis.exceptions.JedisException}) without credentials in its message.
   * The caller closes it.
   */
  Jedis publisherConnection(String name) {
    synchronized (this) {
      if (closed) {
        throw new IllegalStateException("the redis backend is closed");
      }
    }
    RedisUrl url = settings.url();
    HostAndPort target = url.sentinel() ? ((RedisSentinelClient) pool()).getCurrentMaster()
        : new HostAndPort(url.host(), url.port());
    Jedis jedis = new Jedis(target, clientConfig(name));
    try {
      jedis.ping(); // connects now (TLS, AUTH, SELECT, CLIENT SETNAME), so a failure is this call's
    } catch (RuntimeException e) {
      jedis.close();
      throw e;
    }
    return jedis;
  }

  private JedisClientConfig clientConfig(String name) {
    RedisUrl url = settings.url();
    int timeout = (int) Math.min(Integer.MAX_VALUE, settings.timeout().toMillis());
    int read = (int) Math.min(Integer.MAX_VALUE, settings.timeout().toMillis() + settings.block().toMillis());
    DefaultJedisClientConfig.Builder cfg = DefaultJedisClientConfig.builder()
        .connectionTimeoutMillis(timeout)
        .socketTimeoutMillis(read)
        .blockingSocketTimeoutMillis(read)
        .database(url.database())
        // RESP2 as with Jedis 5 (no HELLO; Jedis 8 would otherwise negotiate RESP3 on pooled connections):
        // the replies this module reads are RESP2's shapes
        .serverDefaultProtocol()
        .clientName(name);
    if (url.tls()) {
      cfg.sslOptions(SslOptions.defaults()); // the JVM trust store, certificate and host name verified
    }
    url.user().ifPresent(cfg::user);
    url.password().ifPresent(cfg::password);
    return cfg.build();
  }

  /** The client name connections announce (CLIENT SETNAME). */
  public String clientName() {
    return clientName;
  }

  /**
   * Runs an idempotent command, once more on a broken connection (a pooled connection left over from
   * before a Redis restart fails once; the pool then opens a fresh one).
   */
  public <T> T idempotent(Function<UnifiedJedis, T> command) {
    UnifiedJedis p = pool();
    try {
      return command.apply(p);
    } catch (JedisConnectionException e) {
      return command.apply(p);
    }
  }

  /** Where it connects, without credentials. */
  public String where() {
    return settings.url().redacted();
  }

  @Override
  public void close() {
    UnifiedJedis p;
    synchronized (this) {
      closed = true;
      p = pooled;
      pooled = null;
    }
    if (p != null) {
      try {
        p.close();
      } catch (RuntimeException e) {
        LOG.debug("[observer] closing the redis pool for {}: {}", where(), e.toString());
      }
    }
  }
}

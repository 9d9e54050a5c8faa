package dev.fraiseql.observers.pg.internal;

import dev.fraiseql.observers.ObserverConfigException;
import dev.fraiseql.observers.config.ConfigProblem;
import dev.fraiseql.observers.config.Settings;
import java.time.Duration;
import java.util.Set;

/**
 * The settings of the HikariCP pool this module opens behind {@code database_url}, read from
 * {@code [observers.postgres]}. They do not apply to a {@code DataSource} the host registers: that pool
 * is the host's, configured and closed by the host.
 *
 * @param size {@code pool_size}: most connections open at once
 * @param minIdle {@code pool_min_idle}: idle connections kept open (0 opens connections on demand)
 * @param connectionTimeout {@code pool_connection_timeout_ms}: how long a caller waits for a connection
 * @param idleTimeout {@code pool_idle_timeout_ms}: an idle connection above {@code pool_min_idle} is closed after this (0: never)
 * @param maxLifetime {@code pool_max_lifetime_ms}: a connection is replaced after this (0: never)
 * @param leakDetection {@code pool_leak_detection_ms}: log a warning for a connection held longer than this (0: off)
 */
public record PgPoolSettings(int size, int minIdle, Duration connectionTimeout, Duration idleTimeout,
    Duration maxLifetime, Duration leakDetection) {

  public static final String POOL_SIZE = "pool_size";
  public static final String POOL_MIN_IDLE = "pool_min_idle";
  public static final String POOL_CONNECTION_TIMEOUT_MS = "pool_connection_timeout_ms";
  public static final String POOL_IDLE_TIMEOUT_MS = "pool_idle_timeout_ms";
  public static final String POOL_MAX_LIFETIME_MS = "pool_max_lifetime_ms";
  public static final String POOL_LEAK_DETECTION_MS = "pool_leak_detection_ms";

  /** The pool keys of {@code [observers.postgres]}. */
  public static final Set<String> KEYS = Set.of(POOL_SIZE, POOL_MIN_IDLE, POOL_CONNECTION_TIMEOUT_MS,
      POOL_IDLE_TIMEOUT_MS, POOL_MAX_LIFETIME_MS, POOL_LEAK_DETECTION_MS);

  public static final int DEFAULT_SIZE = 4;
  public static final int MAX_SIZE = 64;
  public static final Duration DEFAULT_CONNECTION_TIMEOUT = Duration.ofSeconds(10);
  public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofMinutes(10);
  public static final Duration DEFAULT_MAX_LIFETIME = Duration.ofMinutes(30);

  /** The defaults: 4 connections opened on demand, 10 s wait, 10 min idle, 30 min lifetime, no leak detection. */
  public static PgPoolSettings defaults() {
    return ofSize(DEFAULT_SIZE);
  }

  /** The defaults with {@code size} connections. */
  public static PgPoolSettings ofSize(int size) {
    return new PgPoolSettings(size, 0, DEFAULT_CONNECTION_TIMEOUT, DEFAULT_IDLE_TIMEOUT, DEFAULT_MAX_LIFETIME,
        Duration.ZERO);
  }

  /**
   * Reads the pool keys (absent keys take their defaults). The bounds are HikariCP's, checked here so
   * that a bad value is an error naming its key instead of a value HikariCP quietly replaces.
   *
   * @throws ObserverConfigException naming the key, its value and the range to use
   */
  public static PgPoolSettings from(Settings s) {
    int size = s.intValue(POOL_SIZE, DEFAULT_SIZE, 1, MAX_SIZE);
    int minIdle = s.intValue(POOL_MIN_IDLE, 0, 0, MAX_SIZE);
    if (minIdle > size) {
      throw problem(s, POOL_MIN_IDLE, "`pool_min_idle` is " + minIdle + ", more than `pool_size` (" + size + ")",
          "use a value from 0 to " + size);
    }
    Duration connect = s.millis(POOL_CONNECTION_TIMEOUT_MS, DEFAULT_CONNECTION_TIMEOUT);
    if (connect.toMillis() < 250) {
      throw problem(s, POOL_CONNECTION_TIMEOUT_MS, "`pool_connection_timeout_ms` is " + connect.toMillis()
          + ", below 250", "use 250 or more (milliseconds a caller waits for a connection; default 10000)");
    }
    Duration idle = s.millis(POOL_IDLE_TIMEOUT_MS, DEFAULT_IDLE_TIMEOUT);
    if (!idle.isZero() && idle.toMillis() < 10_000) {
      throw problem(s, POOL_IDLE_TIMEOUT_MS, "`pool_idle_timeout_ms` is " + idle.toMillis() + ", below 10000",
          "use 0 (never close idle connections) or 10000 or more (default 600000)");
    }
    Duration lifetime = s.millis(POOL_MAX_LIFETIME_MS, DEFAULT_MAX_LIFETIME);
    if (!lifetime.isZero() && lifetime.toMillis() < 30_000) {
      throw problem(s, POOL_MAX_LIFETIME_MS, "`pool_max_lifetime_ms` is " + lifetime.toMillis() + ", below 30000",
          "use 0 (no limit) or 30000 or more (default 1800000); keep it below any idle-connection limit of the"
              + " server or a proxy in between");
    }
    Duration leak = s.millis(POOL_LEAK_DETECTION_MS, Duration.ZERO);
    if (!leak.isZero() && (leak.toMillis() < 2_000 || (!lifetime.isZero() && leak.compareTo(lifetime) >= 0))) {
      throw problem(s, POOL_LEAK_DETECTION_MS, "`pool_leak_detection_ms` is " + leak.toMillis()
          + (leak.toMillis() < 2_000 ? ", below 2000" : ", not below `pool_max_lifetime_ms` (" + lifetime.toMillis() + ")"),
          "use 0 (off) or a value from 2000 to below `pool_max_lifetime_ms`");
    }
    return new PgPoolSettings(size, minIdle, connect, idle, lifetime, leak);
  }

  private static ObserverConfigException problem(Settings s, String key, String message, String fix) {
    return new ObserverConfigException(new ConfigProblem(s.location(key), key, message, fix));
  }
}

package dev.fraiseql.observers.redis.internal;

import dev.fraiseql.observers.ObserverConfigException;
import dev.fraiseql.observers.config.ConfigProblem;
import dev.fraiseql.observers.config.ConfigUrls;
import dev.fraiseql.observers.config.Settings;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The redis backend's settings: {@code redis_url} from {@code [observers]} and the keys of
 * {@code [observers.redis]}, validated. Immutable; {@link #toString()} shows no credentials.
 */
public final class RedisSettings {
  public static final String REDIS_URL = "redis_url";
  public static final String KEY_PREFIX = "key_prefix";
  public static final String MAX_LEN = "max_len";
  public static final String POOL_MAX_TOTAL = "pool_max_total";
  public static final String TIMEOUT_MS = "timeout_ms";
  public static final String BLOCK_MS = "block_ms";
  public static final String CLAIM_IDLE_MS = "claim_idle_ms";
  public static final String BATCH = "batch";
  public static final String PUBLISH_QUEUE = "publish_queue";
  public static final String DEAD_LETTER_MAX = "dead_letter_max";
  public static final String IDEMPOTENCY_TTL_MS = "idempotency_ttl_ms";
  public static final String DEDUP_WINDOW_MS = "dedup_window_ms";
  public static final String PUBLISHERS = "publishers";

  /** Every key the backend reads. */
  public static final Set<String> KEYS = Set.of(REDIS_URL, KEY_PREFIX, MAX_LEN, POOL_MAX_TOTAL, TIMEOUT_MS, BLOCK_MS,
      CLAIM_IDLE_MS, BATCH, PUBLISH_QUEUE, DEAD_LETTER_MAX, IDEMPOTENCY_TTL_MS, DEDUP_WINDOW_MS, PUBLISHERS);

  /** Other backends' URLs, which {@code [observers]} may legitimately hold beside ours (stores on another backend). */
  private static final Set<String> TOLERATED = Set.of("nats_url", "database_url");

  public static final String DEFAULT_KEY_PREFIX = "fraiseql:";
  public static final long DEFAULT_MAX_LEN = 100_000;
  public static final int DEFAULT_POOL_MAX_TOTAL = 16;
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(2);
  public static final Duration DEFAULT_BLOCK = Duration.ofSeconds(1);
  public static final int DEFAULT_BATCH = 100;
  public static final int DEFAULT_PUBLISH_QUEUE = 10_000;
  public static final long DEFAULT_DEAD_LETTER_MAX = 100_000;
  public static final Duration DEFAULT_IDEMPOTENCY_TTL = Duration.ofDays(7);
  public static final Duration DEFAULT_DEDUP_WINDOW = Duration.ofMinutes(2);
  public static final int DEFAULT_PUBLISHERS = 2;

  private final RedisUrl url;
  private final String keyPrefix;
  private final long maxLen;
  private final int poolMaxTotal;
  private final Duration timeout;
  private final Duration block;
  private final Optional<Duration> claimIdle;
  private final int batch;
  private final int publishQueue;
  private final long deadLetterMax;
  private final Duration idempotencyTtl;
  private final Duration dedupWindow;
  private final int publishers;

  private RedisSettings(RedisUrl url, String keyPrefix, long maxLen, int poolMaxTotal, Duration timeout, Duration block,
      Optional<Duration> claimIdle, int batch, int publishQueue, long deadLetterMax, Duration idempotencyTtl,
      Duration dedupWindow, int publishers) {
    this.url = url;
    this.keyPrefix = keyPrefix;
    this.maxLen = maxLen;
    this.poolMaxTotal = poolMaxTotal;
    this.timeout = timeout;
    this.block = block;
    this.claimIdle = claimIdle;
    this.batch = batch;
    this.publishQueue = publishQueue;
    this.deadLetterMax = deadLetterMax;
    this.idempotencyTtl = idempotencyTtl;
    this.dedupWindow = dedupWindow;
    this.publishers = publishers;
  }

  /**
   * Reads and validates {@code s}.
   *
   * @throws ObserverConfigException listing every unknown key (with a "did you mean") or the first bad value
   */
  public static RedisSettings from(Settings s) {
    return from(s, true);
  }

  /**
   * Reads and validates {@code s}; {@code checkUnknownKeys = false} when the caller (the engine, with
   * {@code settingKeys()}) already reported unknown keys, so that each problem is reported once.
   */
  public static RedisSettings from(Settings s, boolean checkUnknownKeys) {
    List<ConfigProblem> problems = new ArrayList<>();
    for (ConfigProblem p : checkUnknownKeys ? s.unknownKeys(KEYS) : List.<ConfigProblem>of()) {
      if (!TOLERATED.contains(p.key())) {
        problems.add(p);
      }
    }
    if (!problems.isEmpty()) {
      throw new ObserverConfigException(s.location().file(), problems);
    }
    String rawUrl = s.requireString(REDIS_URL,
        "set redis_url = \"redis://localhost:6379\" in [observers] (rediss:// for TLS; ${REDIS_URL} reads the environment)");
    ConfigUrls.require(s, REDIS_URL, ConfigUrls.REDIS); // the one URL check, as at load
    RedisUrl url = RedisUrl.parse(rawUrl, REDIS_URL, s.location(REDIS_URL));
    String prefix = s.string(KEY_PREFIX).orElse(DEFAULT_KEY_PREFIX);
    if (prefix.isEmpty() || prefix.chars().anyMatch(Character::isWhitespace)) {
      throw new ObserverConfigException(new ConfigProblem(s.location(KEY_PREFIX), KEY_PREFIX,
          "`key_prefix` must be non-empty and without spaces", "use something like \"fraiseql:\" or \"myapp:observers:\""));
    }
    long maxLen = positive(s, MAX_LEN, DEFAULT_MAX_LEN, "the approximate number of entries kept per stream, e.g. 100000");
    int pool = s.intValue(POOL_MAX_TOTAL, DEFAULT_POOL_MAX_TOTAL, 2, 10_000);
    Duration timeout = s.millis(TIMEOUT_MS, DEFAULT_TIMEOUT);
    if (timeout.isZero()) {
      throw new ObserverConfigException(new ConfigProblem(s.location(TIMEOUT_MS), TIMEOUT_MS,
          "`timeout_ms` is 0", "give the connect/read timeout in milliseconds, e.g. 2000"));
    }
    Duration block = s.millis(BLOCK_MS, DEFAULT_BLOCK);
    if (block.isZero() || block.toMillis() > 60_000) {
      throw new ObserverConfigException(new ConfigProblem(s.location(BLOCK_MS), BLOCK_MS,
          "`block_ms` is " + block.toMillis() + ", out of range", "use 1 to 60000 (how long XREADGROUP waits for new entries)"));
    }
    Optional<Duration> claimIdle = s.has(CLAIM_IDLE_MS) ? Optional.of(s.millis(CLAIM_IDLE_MS, Duration.ZERO))
        : Optional.empty();
    if (claimIdle.isPresent() && claimIdle.get().toMillis() < 10) {
      throw new ObserverConfigException(new ConfigProblem(s.location(CLAIM_IDLE_MS), CLAIM_IDLE_MS,
          "`claim_idle_ms` is " + claimIdle.get().toMillis() + ", too small",
          "use at least 10 (how long an entry stays unacknowledged before another consumer reclaims it)"));
    }
    int batch = s.intValue(BATCH, DEFAULT_BATCH, 1, 10_000);
    int queue = s.intValue(PUBLISH_QUEUE, DEFAULT_PUBLISH_QUEUE, 1, 10_000_000);
    long dlMax = positive(s, DEAD_LETTER_MAX, DEFAULT_DEAD_LETTER_MAX, "the number of dead letters kept, e.g. 100000");
    Duration idemTtl = s.millis(IDEMPOTENCY_TTL_MS, DEFAULT_IDEMPOTENCY_TTL);
    Duration dedup = s.millis(DEDUP_WINDOW_MS, DEFAULT_DEDUP_WINDOW);
    int publishers = s.intValue(PUBLISHERS, DEFAULT_PUBLISHERS, 1, 64);
    return new RedisSettings(url, prefix, maxLen, pool, timeout, block, claimIdle, batch, queue, dlMax, idemTtl, dedup,
        publishers);
  }

  private static long positive(Settings s, String key, long def, String fix) {
    long v = s.longValue(key, def);
    if (v < 1) {
      throw new ObserverConfigException(new ConfigProblem(s.location(key), key,
          "`" + key + "` is " + v + ", must be at least 1", "give " + fix));
    }
    return v;
  }

  public RedisUrl url() {
    return url;
  }

  public String keyPrefix() {
    return keyPrefix;
  }

  public long maxLen() {
    return maxLen;
  }

  public int poolMaxTotal() {
    return poolMaxTotal;
  }

  public Duration timeout() {
    return timeout;
  }

  public Duration block() {
    return block;
  }

  /** XAUTOCLAIM's minimum idle time; empty means the subscription's ack wait. */
  public Optional<Duration> claimIdle() {
    return claimIdle;
  }

  public int batch() {
    return batch;
  }

  public int publishQueue() {
    return publishQueue;
  }

  public long deadLetterMax() {
    return deadLetterMax;
  }

  /** How long a completed idempotency key is kept; zero means forever. */
  public Duration idempotencyTtl() {
    return idempotencyTtl;
  }

  /** How long a publish's de-duplication id is remembered; zero disables de-duplication. */
  public Duration dedupWindow() {
    return dedupWindow;
  }

  /** How many publisher threads, each with its own connection, drain the publish queue. */
  public int publishers() {
    return publishers;
  }

  @Override
  public String toString() {
    return "RedisSettings{" + url.redacted() + ", prefix=" + keyPrefix + ", max_len~" + maxLen + ", batch=" + batch
        + ", publishers=" + publishers + "}";
  }
}

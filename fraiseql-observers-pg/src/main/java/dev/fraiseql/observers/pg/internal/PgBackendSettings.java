package dev.fraiseql.observers.pg.internal;

import dev.fraiseql.observers.ObserverConfigException;
import dev.fraiseql.observers.config.ConfigProblem;
import dev.fraiseql.observers.config.Settings;
import java.time.Duration;
import java.util.Set;

/**
 * The {@code postgres} backend's settings: {@code database_url} from {@code [observers]} and the keys
 * of {@code [observers.postgres]}.
 */
public record PgBackendSettings(boolean createTables, PgIdentifier deadLetterTable, PgIdentifier eventsTable,
    int poolSize, Duration pollInterval, int idempotencyWriters) {

  public static final String CREATE_TABLES = "create_tables";
  public static final String DEAD_LETTER_TABLE = "dead_letter_table";
  public static final String EVENTS_TABLE = "events_table";
  public static final String POOL_SIZE = "pool_size";
  public static final String POLL_INTERVAL_MS = "poll_interval_ms";
  public static final String IDEMPOTENCY_WRITERS = "idempotency_writers";
  public static final String DEFAULT_DEAD_LETTER_TABLE = "observer_dead_letters";
  public static final String DEFAULT_EVENTS_TABLE = "observer_events";
  public static final Duration DEFAULT_POLL_INTERVAL = Duration.ofSeconds(1);

  /** Keys the backend reads; the other backends' URLs are tolerated (a pg store may serve a NATS bus). */
  public static final Set<String> KEYS = Set.of(PgDatabase.URL_KEY, CREATE_TABLES, DEAD_LETTER_TABLE, EVENTS_TABLE,
      POOL_SIZE, POLL_INTERVAL_MS, IDEMPOTENCY_WRITERS, "nats_url", "redis_url", CapturePlan.MODE_KEY,
      CapturePlan.INSTALL_KEY, CapturePlan.TABLES_KEY);

  /**
   * Reads the settings (unknown keys are reported by the engine against {@link #KEYS}).
   *
   * @throws ObserverConfigException naming the bad key
   */
  public static PgBackendSettings from(Settings s) {
    boolean create = s.bool(CREATE_TABLES, true);
    PgIdentifier dl = identifier(s, DEAD_LETTER_TABLE, DEFAULT_DEAD_LETTER_TABLE);
    PgIdentifier ev = identifier(s, EVENTS_TABLE, DEFAULT_EVENTS_TABLE);
    int pool = s.intValue(POOL_SIZE, PgDatabase.DEFAULT_POOL_SIZE, 1, 64);
    Duration poll = s.millis(POLL_INTERVAL_MS, DEFAULT_POLL_INTERVAL);
    if (poll.toMillis() < 10) {
      throw new ObserverConfigException(new ConfigProblem(s.location(POLL_INTERVAL_MS), POLL_INTERVAL_MS,
          "`poll_interval_ms` is below 10", "use 10 or more (LISTEN/NOTIFY wakes consumers at once; polling is a fallback)"));
    }
    int writers = s.intValue(IDEMPOTENCY_WRITERS, PgIdempotencyStore.DEFAULT_WRITERS, 1, PgIdempotencyStore.MAX_WRITERS);
    return new PgBackendSettings(create, dl, ev, pool, poll, writers);
  }

  /** A table name from {@code key}, validated. */
  public static PgIdentifier identifier(Settings s, String key, String defaultValue) {
    String v = s.string(key).orElse(defaultValue);
    try {
      return PgIdentifier.parse(v);
    } catch (IllegalArgumentException e) {
      throw new ObserverConfigException(new ConfigProblem(s.location(key), key, e.getMessage(),
          "write a table name such as `" + defaultValue + "` or `myschema." + defaultValue + "`"));
    }
  }
}

package dev.fraiseql.observers.pg.internal;

import dev.fraiseql.observers.ObserverConfigException;
import dev.fraiseql.observers.config.ConfigProblem;
import dev.fraiseql.observers.config.ConfigUrls;
import dev.fraiseql.observers.config.Settings;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * Where this module's connections come from: the host's {@link DataSource} (registered with
 * {@code ObserverEngine.builder().component(DataSource.class, ds)}), or a small pool of its own over
 * {@code database_url}. Never shows credentials.
 */
public final class PgDatabase implements AutoCloseable {
  public static final String URL_KEY = "database_url";
  public static final int DEFAULT_POOL_SIZE = 4;

  private final DataSource dataSource;
  private final SimplePgPool ownPool;
  private final String description;
  private final String sharedKey;
  private final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();

  private PgDatabase(DataSource dataSource, SimplePgPool ownPool, String description, String sharedKey) {
    this.dataSource = dataSource;
    this.ownPool = ownPool;
    this.description = description;
    this.sharedKey = sharedKey;
  }

  /** The host's data source; not closed by {@link #close()}. */
  public static PgDatabase of(DataSource dataSource) {
    return new PgDatabase(Objects.requireNonNull(dataSource, "dataSource"), null, "host DataSource", null);
  }

  /**
   * A pool of at most {@code poolSize} connections over {@code url}. Every part of this module in
   * one JVM that uses the same URL (the backend, each SQL handler) shares one pool: the first one
   * opened decides its size; it is closed when the last user calls {@link #close()}.
   */
  public static PgDatabase fromUrl(PgUrl url, int poolSize) {
    String key = url.jdbcUrl() + '\u0000' + url.properties();
    synchronized (SHARED) {
      Shared s = SHARED.get(key);
      if (s == null) {
        s = new Shared(new SimplePgPool(url, poolSize, Duration.ofSeconds(10)));
        SHARED.put(key, s);
      }
      s.refs++;
      return new PgDatabase(s.pool, s.pool, url.redacted(), key);
    }
  }

  private static final java.util.Map<String, Shared> SHARED = new java.util.HashMap<>();

  private static final class Shared {
    final SimplePgPool pool;
    int refs;

    Shared(SimplePgPool pool) {
      this.pool = pool;
    }
  }

  /**
   * The host's DataSource if it registered one, else {@code database_url} from {@code settings}.
   *
   * @throws ObserverConfigException naming {@code database_url} when neither is there or the URL is malformed
   */
  public static PgDatabase resolve(Optional<DataSource> component, Settings settings, int poolSize, String usedFor) {
    if (component.isPresent()) {
      return of(component.get());
    }
    Optional<String> url = settings.string(URL_KEY);
    if (url.isEmpty()) {
      throw new ObserverConfigException(new ConfigProblem(settings.location(), URL_KEY,
          "no PostgreSQL connection for " + usedFor,
          "set database_url = \"${DATABASE_URL}\" in [observers] (postgres://user:pass@host:5432/db or"
              + " jdbc:postgresql://...), or register your pool with"
              + " ObserverEngine.builder().component(DataSource.class, dataSource)"));
    }
    ConfigUrls.require(settings, URL_KEY, ConfigUrls.POSTGRES); // the one URL check, as at load
    try {
      return fromUrl(PgUrl.parse(url.get()), poolSize);
    } catch (IllegalArgumentException e) {
      throw new ObserverConfigException(new ConfigProblem(settings.location(URL_KEY), URL_KEY,
          "`database_url` is not usable: " + e.getMessage(),
          "write it as postgres://user:pass@host:5432/db or jdbc:postgresql://host:5432/db"));
    }
  }

  public DataSource dataSource() {
    return dataSource;
  }

  /**
   * A connection for LISTEN, held until closed: opened outside the pool when the pool is ours, taken
   * from the host's DataSource otherwise.
   */
  public Connection openListenConnection() throws SQLException {
    return ownPool != null ? ownPool.openDedicated() : dataSource.getConnection();
  }

  /** {@code postgresql://host:port/db} or {@code host DataSource}. */
  public String describe() {
    return description;
  }

  /** Releases this handle; the shared pool closes with its last handle. Idempotent. */
  @Override
  public void close() {
    if (ownPool == null || !closed.compareAndSet(false, true)) {
      return;
    }
    synchronized (SHARED) {
      Shared s = SHARED.get(sharedKey);
      if (s != null && s.pool == ownPool && --s.refs <= 0) {
        SHARED.remove(sharedKey);
        ownPool.close();
      }
    }
  }

  @Override
  public String toString() {
    return "PgDatabase{" + description + "}";
  }
}

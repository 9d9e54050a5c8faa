package dev.fraiseql.observers.pg.internal;

import dev.fraiseql.observers.ObserverConfigException;
import dev.fraiseql.observers.config.ConfigProblem;
import dev.fraiseql.observers.config.ConfigUrls;
import dev.fraiseql.observers.config.Settings;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;
import org.postgresql.Driver;

/**
 * Where this module's connections come from: the host's {@link DataSource} (registered with
 * {@code ObserverEngine.builder().component(DataSource.class, ds)}), or a HikariCP pool of its own over
 * {@code database_url}, configured by {@link PgPoolSettings}. Never shows credentials.
 */
public final class PgDatabase implements AutoCloseable {
  public static final String URL_KEY = "database_url";
  public static final int DEFAULT_POOL_SIZE = PgPoolSettings.DEFAULT_SIZE;

  private static final AtomicInteger POOLS = new AtomicInteger();
  private static final Driver DRIVER = new Driver();

  private final DataSource dataSource;
  private final HikariDataSource ownPool;
  private final PgUrl url;
  private final String description;
  private final String sharedKey;
  private final java.util.concurrent.atomic.AtomicBoolean closed = new java.util.concurrent.atomic.AtomicBoolean();

  private PgDatabase(DataSource dataSource, HikariDataSource ownPool, PgUrl url, String description, String sharedKey) {
    this.dataSource = dataSource;
    this.ownPool = ownPool;
    this.url = url;
    this.description = description;
    this.sharedKey = sharedKey;
  }

  /** The host's data source; not closed by {@link #close()}. */
  public static PgDatabase of(DataSource dataSource) {
    return new PgDatabase(Objects.requireNonNull(dataSource, "dataSource"), null, null, "host DataSource", null);
  }

  /** A pool over {@code url} with the default settings and {@code poolSize} connections; see {@link #fromUrl(PgUrl, PgPoolSettings)}. */
  public static PgDatabase fromUrl(PgUrl url, int poolSize) {
    return fromUrl(url, PgPoolSettings.ofSize(poolSize));
  }

  /**
   * A HikariCP pool over {@code url}. Every part of this module in one JVM that uses the same URL (the
   * backend, each SQL handler) shares one pool: the first one opened decides its settings; it is closed
   * when the last user calls {@link #close()}. Creating it opens no connection: with
   * {@code pool_min_idle = 0} (the default) connections open on first use, and a database that is down
   * surfaces as an {@link SQLException} from {@code getConnection()} (after {@code pool_connection_timeout_ms}),
   * never at startup.
   */
  public static PgDatabase fromUrl(PgUrl url, PgPoolSettings settings) {
    String key = url.jdbcUrl() + '\u0000' + url.properties();
    synchronized (SHARED) {
      Shared s = SHARED.get(key);
      if (s == null) {
        s = new Shared(open(url, settings));
        SHARED.put(key, s);
      }
      s.refs++;
      return new PgDatabase(s.pool, s.pool, url, url.redacted(), key);
    }
  }

  private static HikariDataSource open(PgUrl url, PgPoolSettings settings) {
    HikariConfig c = new HikariConfig();
    c.setPoolName("fraiseql-observers-pg-" + POOLS.incrementAndGet());
    c.setDriverClassName(Driver.class.getName());
    c.setJdbcUrl(url.jdbcUrl());
    c.setDataSourceProperties(url.properties());
    c.setMaximumPoolSize(settings.size());
    c.setMinimumIdle(settings.minIdle());
    c.setConnectionTimeout(settings.connectionTimeout().toMillis());
    c.setIdleTimeout(settings.idleTimeout().toMillis());
    c.setMaxLifetime(settings.maxLifetime().toMillis());
    c.setLeakDetectionThreshold(settings.leakDetection().toMillis());
    // no connection at startup: an engine builds (and fails later, per attempt) while the database is down
    c.setInitializationFailTimeout(-1);
    return new HikariDataSource(c);
  }

  private static final java.util.Map<String, Shared> SHARED = new java.util.HashMap<>();

  private static final class Shared {
    final HikariDataSource pool;
    int refs;

    Shared(HikariDataSource pool) {
      this.pool = pool;
    }
  }

  /**
   * The host's DataSource if it registered one, else {@code database_url} from {@code settings}.
   *
   * @throws ObserverConfigException naming {@code database_url} when neither is there or the URL is malformed
   */
  public static PgDatabase resolve(Optional<DataSource> component, Settings settings, PgPoolSettings pool,
      String usedFor) {
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
      return fromUrl(PgUrl.parse(url.get()), pool);
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
    if (ownPool == null) {
      return dataSource.getConnection();
    }
    Connection c = DRIVER.connect(url.jdbcUrl(), url.properties());
    if (c == null) {
      throw new SQLException("the PostgreSQL driver does not accept the URL " + url.redacted(), "08001");
    }
    return c;
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

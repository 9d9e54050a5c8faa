package dev.fraiseql.observers.pg.internal;

import java.io.PrintWriter;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.sql.SQLTransientConnectionException;
import java.time.Duration;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Logger;
import javax.sql.DataSource;
import org.postgresql.Driver;

/**
 * The small connection pool behind a {@code database_url} (when the host registers no
 * {@link DataSource} of its own): at most {@code maxSize} connections open at once, idle ones reused
 * (checked with {@code isValid} when idle for more than 10 seconds). At the limit a caller waits up
 * to {@code acquireTimeout}, then gets an {@link SQLTransientConnectionException}. A returned
 * connection is rolled back if it was left in a transaction and put back in auto-commit mode.
 */
public final class SimplePgPool implements DataSource, AutoCloseable {
  private static final long VALIDATE_AFTER_NANOS = TimeUnit.SECONDS.toNanos(10);

  private final PgUrl url;
  private final Driver driver = new Driver();
  private final Semaphore permits;
  private final int maxSize;
  private final Duration acquireTimeout;
  private final ConcurrentLinkedDeque<Idle> idle = new ConcurrentLinkedDeque<>();
  private final AtomicBoolean closed = new AtomicBoolean();

  private record Idle(Connection connection, long since) {}

  public SimplePgPool(PgUrl url, int maxSize, Duration acquireTimeout) {
    if (maxSize < 1) {
      throw new IllegalArgumentException("pool size must be at least 1");
    }
    this.url = url;
    this.maxSize = maxSize;
    this.permits = new Semaphore(maxSize, true);
    this.acquireTimeout = acquireTimeout;
  }

  /** Opens a connection outside the pool (for LISTEN, which holds its connection for good). */
  public Connection openDedicated() throws SQLException {
    Connection c = driver.connect(url.jdbcUrl(), url.properties());
    if (c == null) {
      throw new SQLException("the PostgreSQL driver does not accept the URL " + url.redacted(), "08001");
    }
    return c;
  }

  @Override
  public Connection getConnection() throws SQLException {
    if (closed.get()) {
      throw new SQLException("the connection pool for " + url.redacted() + " is closed", "08003");
    }
    boolean got;
    try {
      got = permits.tryAcquire(acquireTimeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new SQLException("interrupted while waiting for a connection", "08001", e);
    }
    if (!got) {
      throw new SQLTransientConnectionException("all " + maxSize + " connections to " + url.redacted()
          + " are in use (waited " + acquireTimeout.toMillis() + "ms)", "08001");
    }
    try {
      Connection real = null;
      for (Idle i; (i = idle.pollFirst()) != null; ) {
        if (System.nanoTime() - i.since() < VALIDATE_AFTER_NANOS || i.connection().isValid(2)) {
          real = i.connection();
          break;
        }
        closeQuietly(i.connection());
      }
      if (real == null) {
        real = openDedicated();
      }
      return wrap(real);
    } catch (SQLException | RuntimeException e) {
      permits.release();
      throw e;
    }
  }

  private Connection wrap(Connection real) {
    AtomicBoolean returned = new AtomicBoolean();
    InvocationHandler h = (proxy, method, args) -> {
      String name = method.getName();
      if (name.equals("close")) {
        if (returned.compareAndSet(false, true)) {
          giveBack(real);
        }
        return null;
      }
      if (name.equals("isClosed")) {
        return returned.get() || real.isClosed();
      }
      if (name.equals("toString")) {
        return "PooledConnection{" + url.redacted() + "}";
      }
      if (name.equals("hashCode")) {
        return System.identityHashCode(proxy);
      }
      if (name.equals("equals")) {
        return proxy == args[0];
      }
      if (returned.get()) {
        throw new SQLException("connection is closed", "08003");
      }
      try {
        return method.invoke(real, args);
      } catch (InvocationTargetException e) {
        throw e.getCause();
      }
    };
    return (Connection) Proxy.newProxyInstance(SimplePgPool.class.getClassLoader(), new Class<?>[] {Connection.class}, h);
  }

  private void giveBack(Connection real) {
    try {
      if (closed.get() || real.isClosed()) {
        closeQuietly(real);
        return;
      }
      if (!real.getAutoCommit()) {
        real.rollback();
        real.setAutoCommit(true);
      }
      idle.addFirst(new Idle(real, System.nanoTime()));
    } catch (SQLException e) {
      closeQuietly(real);
    } finally {
      permits.release();
    }
  }

  private static void closeQuietly(Connection c) {
    try {
      c.close();
    } catch (SQLException ignored) {
      // closing a broken connection: nothing more to do
    }
  }

  /** {@code postgresql://host:port/db}, without credentials. */
  public String describe() {
    return url.redacted();
  }

  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      for (Idle i; (i = idle.pollFirst()) != null; ) {
        closeQuietly(i.connection());
      }
    }
  }

  @Override
  public Connection getConnection(String username, String password) throws SQLException {
    throw new SQLFeatureNotSupportedException("credentials come from database_url");
  }

  @Override
  public PrintWriter getLogWriter() {
    return null;
  }

  @Override
  public void setLogWriter(PrintWriter out) {}

  @Override
  public void setLoginTimeout(int seconds) {}

  @Override
  public int getLoginTimeout() {
    return 0;
  }

  @Override
  public Logger getParentLogger() throws SQLFeatureNotSupportedException {
    throw new SQLFeatureNotSupportedException();
  }

  @Override
  public <T> T unwrap(Class<T> iface) throws SQLException {
    if (iface.isInstance(this)) {
      return iface.cast(this);
    }
    throw new SQLException("not a wrapper for " + iface.getName());
  }

  @Override
  public boolean isWrapperFor(Class<?> iface) {
    return iface.isInstance(this);
  }

  @Override
  public String toString() {
    return "SimplePgPool{" + url.redacted() + ", max " + maxSize + "}";
  }
}

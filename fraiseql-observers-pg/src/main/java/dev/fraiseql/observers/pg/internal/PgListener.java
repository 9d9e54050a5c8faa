package dev.fraiseql.observers.pg.internal;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Holds one connection that {@code LISTEN}s on a channel and calls {@code onNotify} for each batch of
 * notifications. When the connection breaks it calls {@code onNotify} too (so pollers look at once),
 * then reconnects with a backoff from 1 to 30 seconds. Pollers must not rely on it: it is a way to
 * wake early, the polling fallback is what guarantees progress.
 */
public final class PgListener implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(PgListener.class);

  private final PgDatabase db;
  private final String channel;
  private final Runnable onNotify;
  private final Thread thread;
  private volatile boolean closed;
  private volatile Connection connection;

  public PgListener(PgDatabase db, String channel, Runnable onNotify, String threadName) {
    this.db = Objects.requireNonNull(db, "db");
    this.channel = Objects.requireNonNull(channel, "channel");
    this.onNotify = Objects.requireNonNull(onNotify, "onNotify");
    this.thread = new Thread(this::run, threadName);
    this.thread.setDaemon(true);
    this.thread.start();
  }

  private void run() {
    long backoff = 1000;
    while (!closed) {
      try (Connection c = db.openListenConnection()) {
        connection = c;
        if (!c.getAutoCommit()) {
          c.setAutoCommit(true);
        }
        try (Statement st = c.createStatement()) {
          st.execute("LISTEN " + PgIdentifier.quote(channel));
        }
        LOG.debug("listening on {} ({})", channel, db.describe());
        backoff = 1000;
        onNotify.run(); // anything recorded while we were not listening
        PGConnection pg = c.unwrap(PGConnection.class);
        while (!closed) {
          PGNotification[] n = pg.getNotifications(500);
          if (n != null && n.length > 0) {
            onNotify.run();
          }
        }
        try (Statement st = c.createStatement()) {
          st.execute("UNLISTEN " + PgIdentifier.quote(channel));
        } catch (SQLException ignored) {
          // closing anyway
        }
      } catch (SQLException | RuntimeException e) {
        if (closed) {
          break;
        }
        LOG.warn("LISTEN {} on {} failed ({}); polling until it is back, retrying in {}ms", channel, db.describe(),
            e instanceof SQLException ? SqlErrors.describe((SQLException) e) : e.toString(), backoff);
        onNotify.run();
        sleep(backoff);
        backoff = Math.min(30_000, backoff * 2);
      } finally {
        connection = null;
      }
    }
  }

  private void sleep(long ms) {
    long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(ms);
    while (!closed && System.nanoTime() < end) {
      try {
        Thread.sleep(Math.min(100, ms));
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  /** Whether a LISTEN connection is open right now. */
  public boolean listening() {
    return connection != null;
  }

  @Override
  public void close() {
    closed = true;
    try {
      thread.join(2000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}

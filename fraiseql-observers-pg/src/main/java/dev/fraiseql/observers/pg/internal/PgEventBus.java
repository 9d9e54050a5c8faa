package dev.fraiseql.observers.pg.internal;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.fraiseql.observers.ObserverException;
import dev.fraiseql.observers.spi.BusSubscription;
import dev.fraiseql.observers.spi.Disposition;
import dev.fraiseql.observers.spi.EventBus;
import dev.fraiseql.observers.spi.InboundHandler;
import dev.fraiseql.observers.spi.InboundMessage;
import dev.fraiseql.observers.spi.OutboundMessage;
import dev.fraiseql.observers.spi.PublishAck;
import dev.fraiseql.observers.spi.SubscriptionSpec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * PostgreSQL as the event bus ({@code backend = "postgres"}).
 *
 * <p>{@link #publish} inserts the message into the events table and, in the same statement, one
 * delivery row for every registered durable consumer whose subject pattern matches, then
 * {@code NOTIFY}s; it completes when that is committed. The de-duplication id is unique: publishing
 * it again stores nothing and answers {@code duplicate = true}.
 *
 * <p>{@link #subscribe} registers the durable consumer (it receives messages published from then on)
 * and runs one fetch thread per subscription: it claims pending delivery rows with
 * {@code FOR UPDATE SKIP LOCKED} and a lease of {@code ackWait}, renewed while the engine handles
 * them; a dead instance's leases expire and another instance takes the rows over (with a higher
 * delivery count). Ack marks a row done, redeliver makes it visible again after the delay, term
 * marks it dead. While this instance lives, the leases of messages it is handling are renewed (a slow
 * handler is not mistaken for a dead consumer); closing a subscription gives running handlers up to
 * {@code ackWait} to answer, then releases the rest for redelivery. It wakes on {@code LISTEN/NOTIFY} and polls every {@code poll_interval_ms} as a
 * fallback. Retention: delivery rows that are finished are deleted after an hour, messages after a
 * day once no consumer has them pending.
 */
public final class PgEventBus implements EventBus {
  private static final Logger LOG = LoggerFactory.getLogger(PgEventBus.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int FETCH_BATCH = 100;
  private static final Duration CLEANUP_EVERY = Duration.ofMinutes(5);

  private final PgDatabase db;
  private final PgIdentifier events;
  private final PgIdentifier consumers;
  private final PgIdentifier deliveries;
  private final boolean createTables;
  private final Duration pollInterval;
  private final String channel;
  private final String owner = UUID.randomUUID().toString();
  private final List<Sub> subscriptions = new CopyOnWriteArrayList<>();
  private final Object listenerLock = new Object();
  private volatile PgListener listener;
  private volatile boolean tableReady;
  private volatile boolean closed;

  public PgEventBus(PgDatabase db, PgIdentifier eventsTable, boolean createTables, Duration pollInterval) {
    this.db = Objects.requireNonNull(db, "db");
    this.events = eventsTable;
    this.consumers = eventsTable.sibling("_consumers");
    this.deliveries = eventsTable.sibling("_deliveries");
    this.createTables = createTables;
    this.pollInterval = pollInterval;
    this.channel = eventsTable.channel("_bus");
  }

  @Override
  public String name() {
    return "postgres";
  }

  private void ensureTables() throws SQLException {
    if (!tableReady) {
      if (createTables) {
        Migrations.apply(db.dataSource(), Migrations.EVENTS,
            Map.of("observer_events", events, "observer_events_consumers", consumers,
                "observer_events_deliveries", deliveries));
      }
      tableReady = true;
    }
  }

  @Override
  public CompletionStage<PublishAck> publish(OutboundMessage message) {
    CompletableFuture<PublishAck> f = new CompletableFuture<>();
    if (closed) {
      f.completeExceptionally(new IllegalStateException("the postgres bus is closed"));
      return f;
    }
    String sql = "WITH ev AS (INSERT INTO " + events.quoted() + " (subject, payload, headers, dedup_id)"
        + " VALUES (?, ?, ?::jsonb, ?) ON CONFLICT (dedup_id) DO NOTHING RETURNING id),"
        + " d AS (INSERT INTO " + deliveries.quoted() + " (durable, event_id)"
        + "   SELECT c.durable, ev.id FROM ev, " + consumers.quoted() + " c WHERE ? ~ c.subject_regex"
        + "   ON CONFLICT DO NOTHING)"
        + " SELECT id, pg_notify(?, '') FROM ev";
    try {
      ensureTables();
      try (Connection c = db.dataSource().getConnection()) {
        if (!c.getAutoCommit()) {
          c.setAutoCommit(true);
        }
        try (PreparedStatement ps = c.prepareStatement(sql)) {
          ps.setString(1, message.subject());
          ps.setBytes(2, message.payload());
          ps.setString(3, JSON.writeValueAsString(message.headers()));
          ps.setString(4, message.deduplicationId());
          ps.setString(5, message.subject());
          ps.setString(6, channel);
          try (ResultSet rs = ps.executeQuery()) {
            if (rs.next()) {
              f.complete(new PublishAck(message.subject(), false, Long.toString(rs.getLong(1))));
              return f;
            }
          }
        }
        try (PreparedStatement ps = c.prepareStatement("SELECT id FROM " + events.quoted() + " WHERE dedup_id = ?")) {
          ps.setString(1, message.deduplicationId());
          try (ResultSet rs = ps.executeQuery()) {
            f.complete(new PublishAck(message.subject(), true, rs.next() ? Long.toString(rs.getLong(1)) : ""));
          }
        }
      }
    } catch (SQLException e) {
      f.completeExceptionally(new ObserverException("publish to " + message.subject() + " on " + db.describe()
          + " failed: " + SqlErrors.describe(e), e));
    } catch (IOException e) {
      f.completeExceptionally(new UncheckedIOException(e));
    }
    return f;
  }

  @Override
  public BusSubscription subscribe(SubscriptionSpec spec, InboundHandler handler) {
    if (closed) {
      throw new IllegalStateException("the postgres bus is closed");
    }
    Sub sub = new Sub(spec, handler);
    try {
      // registered before subscribe returns, so that what is published next reaches this durable
      sub.register();
      sub.registered = true;
    } catch (SQLException | RuntimeException e) {
      LOG.warn("postgres bus subscription {} ({}): cannot register yet ({}); retrying in the background",
          spec.durable(), spec.subject(), e instanceof SQLException ? SqlErrors.describe((SQLException) e) : e.toString());
    }
    subscriptions.add(sub);
    ensureListener();
    sub.start();
    return sub;
  }

  private void ensureListener() {
    synchronized (listenerLock) {
      if (listener == null) {
        listener = new PgListener(db, channel, () -> subscriptions.forEach(Sub::wake), "fraiseql-pg-bus-listen");
      }
    }
  }

  /** {@code fraiseql.order.*} → {@code ^fraiseql\.order\.[^.]+$}; {@code >} matches one or more tokens. */
  static String subjectRegex(String subject) {
    String[] tokens = subject.split("\\.", -1);
    StringBuilder re = new StringBuilder("^");
    for (int i = 0; i < tokens.length; i++) {
      String t = tokens[i];
      if (i > 0) {
        re.append("\\.");
      }
      if (t.equals("*")) {
        re.append("[^.]+");
      } else if (t.equals(">") && i == tokens.length - 1) {
        re.append(".+");
      } else {
        for (char ch : t.toCharArray()) {
          if (Character.isLetterOrDigit(ch) || ch == '_' || ch == '-') {
            re.append(ch);
          } else {
            re.append('\\').append(ch);
          }
        }
      }
    }
    return re.append('$').toString();
  }

  private record Result(long eventId, Disposition disposition) {}

  /** One subscription: a fetch thread, leases renewed while messages are in flight. */
  private final class Sub implements BusSubscription {
    private final SubscriptionSpec spec;
    private final InboundHandler handler;
    private final Semaphore permits;
    private final Semaphore wake = new Semaphore(0);
    private final Set<Long> inFlight = ConcurrentHashMap.newKeySet();
    private final ConcurrentLinkedQueue<Result> results = new ConcurrentLinkedQueue<>();
    private final Thread thread;
    private volatile boolean open = true;
    private volatile boolean registered;
    private long nextHeartbeat;
    private long nextCleanup;

    Sub(SubscriptionSpec spec, InboundHandler handler) {
      this.spec = spec;
      this.handler = handler;
      this.permits = new Semaphore(Math.max(1, spec.maxInFlight()));
      this.thread = new Thread(this::run, "fraiseql-pg-bus-" + spec.durable());
      this.thread.setDaemon(true);
    }

    void start() {
      thread.start();
    }

    void wake() {
      if (wake.availablePermits() == 0) {
        wake.release();
      }
    }

    private void run() {
      long backoff = 500;
      while (open) {
        try {
          if (!registered) {
            register();
            registered = true;
          }
          flushResults();
          heartbeat();
          cleanup();
          int fetched = 0;
          int room = Math.min(FETCH_BATCH, permits.availablePermits());
          if (room > 0) {
            fetched = fetch(room);
          }
          backoff = 500;
          if (fetched == 0 || permits.availablePermits() == 0) {
            long waitMs = inFlight.isEmpty() ? pollInterval.toMillis()
                : Math.min(pollInterval.toMillis(), Math.max(10, spec.ackWait().toMillis() / 3));
            wake.tryAcquire(waitMs, TimeUnit.MILLISECONDS);
            wake.drainPermits();
          }
        } catch (SQLException | RuntimeException e) {
          LOG.warn("postgres bus subscription {} ({}): {}; retrying in {}ms", spec.durable(), spec.subject(),
              e instanceof SQLException ? SqlErrors.describe((SQLException) e) : e.toString(), backoff);
          try {
            wake.tryAcquire(backoff, TimeUnit.MILLISECONDS);
          } catch (InterruptedException ie) {
            break;
          }
          backoff = Math.min(30_000, backoff * 2);
        } catch (InterruptedException e) {
          break;
        }
      }
      // handlers that are running get up to ackWait to answer (as long as the bus would wait anyway);
      // what is still unanswered then is released for redelivery
      long end = System.nanoTime() + Math.min(spec.ackWait().toNanos(), TimeUnit.SECONDS.toNanos(30));
      while (!inFlight.isEmpty() && System.nanoTime() < end) {
        try {
          wake.tryAcquire(50, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
          break;
        }
      }
      try {
        flushResults();
        releaseUnhandled();
      } catch (SQLException | RuntimeException e) {
        LOG.debug("postgres bus subscription {}: final flush failed; leases will expire", spec.durable(), e);
      }
    }

    private void register() throws SQLException {
      ensureTables();
      try (Connection c = db.dataSource().getConnection();
           PreparedStatement ps = c.prepareStatement("INSERT INTO " + consumers.quoted()
               + " (durable, subject, subject_regex) VALUES (?, ?, ?) ON CONFLICT (durable) DO UPDATE"
               + " SET subject = EXCLUDED.subject, subject_regex = EXCLUDED.subject_regex")) {
        ps.setString(1, spec.durable());
        ps.setString(2, spec.subject());
        ps.setString(3, subjectRegex(spec.subject()));
        ps.executeUpdate();
      }
    }

    private int fetch(int limit) throws SQLException {
      String sql = "WITH c AS (SELECT durable, event_id FROM " + deliveries.quoted()
          + "   WHERE durable = ? AND status = 'pending' AND visible_at <= now()"
          + "   AND (lease_until IS NULL OR lease_until < now()) ORDER BY event_id LIMIT ? FOR UPDATE SKIP LOCKED),"
          + " u AS (UPDATE " + deliveries.quoted() + " d SET lease_owner = ?,"
          + "   lease_until = now() + ? * interval '1 millisecond', delivery_count = d.delivery_count + 1"
          + "   FROM c WHERE d.durable = c.durable AND d.event_id = c.event_id RETURNING d.event_id, d.delivery_count)"
          + " SELECT u.event_id, u.delivery_count, e.subject, e.payload, e.headers::text FROM u JOIN "
          + events.quoted() + " e ON e.id = u.event_id ORDER BY u.event_id";
      List<InboundMessage> got = new ArrayList<>();
      try (Connection c = db.dataSource().getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
        if (!c.getAutoCommit()) {
          c.setAutoCommit(true);
        }
        ps.setString(1, spec.durable());
        ps.setInt(2, limit);
        ps.setString(3, owner);
        ps.setLong(4, spec.ackWait().toMillis());
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            Map<String, String> headers;
            try {
              headers = JSON.readValue(rs.getString(5), new TypeReference<Map<String, String>>() {});
            } catch (IOException e) {
              headers = Map.of();
            }
            got.add(new InboundMessage(rs.getString(3), rs.getBytes(4), headers, rs.getInt(2),
                Long.toString(rs.getLong(1))));
          }
        }
      }
      for (InboundMessage m : got) {
        permits.acquireUninterruptibly();
        long id = Long.parseLong(m.messageId());
        inFlight.add(id);
        CompletionStage<Disposition> stage;
        try {
          stage = handler.handle(m);
        } catch (RuntimeException e) {
          stage = CompletableFuture.failedFuture(e);
        }
        stage.whenComplete((d, err) -> {
          Disposition disp = err != null || d == null ? Disposition.redeliverAfter(Duration.ZERO) : d;
          if (err != null) {
            LOG.warn("postgres bus subscription {}: handler failed for message {}; redelivering", spec.durable(),
                m.messageId(), err);
          }
          results.add(new Result(id, disp));
          inFlight.remove(id);
          permits.release();
          wake();
        });
      }
      return got.size();
    }

    /**
     * The delivery rows of this durable still pending (not yet fetched, or fetched and not yet acked):
     * one count on the pending index, with a 2 s statement timeout; empty if it fails.
     */
    @Override
    public java.util.OptionalLong lag() {
      if (!registered) {
        return java.util.OptionalLong.empty();
      }
      try (Connection c = db.dataSource().getConnection();
           PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM " + deliveries.quoted()
               + " WHERE durable = ? AND status = 'pending'")) {
        ps.setQueryTimeout(2);
        ps.setString(1, spec.durable());
        try (ResultSet rs = ps.executeQuery()) {
          return rs.next() ? java.util.OptionalLong.of(rs.getLong(1)) : java.util.OptionalLong.empty();
        }
      } catch (SQLException | RuntimeException e) {
        LOG.debug("postgres bus subscription {}: cannot read its lag ({})", spec.durable(), e.toString());
        return java.util.OptionalLong.empty();
      }
    }

    private void flushResults() throws SQLException {
      if (results.isEmpty()) {
        return;
      }
      List<Result> batch = new ArrayList<>();
      for (Result r; (r = results.poll()) != null; ) {
        batch.add(r);
      }
      try (Connection c = db.dataSource().getConnection()) {
        if (!c.getAutoCommit()) {
          c.setAutoCommit(true);
        }
        try (PreparedStatement done = c.prepareStatement("UPDATE " + deliveries.quoted()
                 + " SET status = ?, done_at = now(), lease_owner = NULL, lease_until = NULL"
                 + " WHERE durable = ? AND event_id = ? AND lease_owner = ?");
             PreparedStatement again = c.prepareStatement("UPDATE " + deliveries.quoted()
                 + " SET visible_at = now() + ? * interval '1 millisecond', lease_owner = NULL, lease_until = NULL"
                 + " WHERE durable = ? AND event_id = ? AND lease_owner = ?")) {
          int nd = 0;
          int na = 0;
          for (Result r : batch) {
            if (r.disposition() instanceof Disposition.Redeliver) {
              again.setLong(1, ((Disposition.Redeliver) r.disposition()).delay().toMillis());
              again.setString(2, spec.durable());
              again.setLong(3, r.eventId());
              again.setString(4, owner);
              again.addBatch();
              na++;
            } else {
              done.setString(1, r.disposition() instanceof Disposition.Term ? "dead" : "done");
              done.setString(2, spec.durable());
              done.setLong(3, r.eventId());
              done.setString(4, owner);
              done.addBatch();
              nd++;
            }
          }
          if (nd > 0) {
            done.executeBatch();
          }
          if (na > 0) {
            again.executeBatch();
          }
        }
      } catch (SQLException e) {
        results.addAll(batch); // try again on the next turn; leases keep the rows ours meanwhile
        throw e;
      }
    }

    private void heartbeat() throws SQLException {
      long now = System.nanoTime();
      if (inFlight.isEmpty() || now < nextHeartbeat) {
        return;
      }
      nextHeartbeat = now + spec.ackWait().toNanos() / 3;
      Long[] ids = inFlight.toArray(new Long[0]);
      try (Connection c = db.dataSource().getConnection();
           PreparedStatement ps = c.prepareStatement("UPDATE " + deliveries.quoted()
               + " SET lease_until = now() + ? * interval '1 millisecond'"
               + " WHERE durable = ? AND event_id = ANY(?) AND lease_owner = ? AND status = 'pending'")) {
        ps.setLong(1, spec.ackWait().toMillis());
        ps.setString(2, spec.durable());
        ps.setArray(3, c.createArrayOf("bigint", ids));
        ps.setString(4, owner);
        ps.executeUpdate();
      }
    }

    private void cleanup() throws SQLException {
      long now = System.nanoTime();
      if (now < nextCleanup) {
        return;
      }
      nextCleanup = now + CLEANUP_EVERY.toNanos();
      try (Connection c = db.dataSource().getConnection()) {
        try (PreparedStatement ps = c.prepareStatement("DELETE FROM " + deliveries.quoted()
            + " WHERE durable = ? AND status <> 'pending' AND done_at < now() - interval '1 hour'")) {
          ps.setString(1, spec.durable());
          ps.executeUpdate();
        }
        try (PreparedStatement ps = c.prepareStatement("DELETE FROM " + events.quoted() + " e WHERE e.id IN ("
            + " SELECT id FROM " + events.quoted() + " x WHERE x.published_at < now() - interval '1 day'"
            + " AND NOT EXISTS (SELECT 1 FROM " + deliveries.quoted() + " d WHERE d.event_id = x.id"
            + " AND d.status = 'pending') LIMIT 10000)")) {
          ps.executeUpdate();
        }
      }
    }

    private void releaseUnhandled() throws SQLException {
      try (Connection c = db.dataSource().getConnection();
           PreparedStatement ps = c.prepareStatement("UPDATE " + deliveries.quoted()
               + " SET lease_owner = NULL, lease_until = NULL"
               + " WHERE durable = ? AND lease_owner = ? AND status = 'pending'")) {
        ps.setString(1, spec.durable());
        ps.setString(2, owner);
        ps.executeUpdate();
      }
    }

    @Override
    public void close() {
      if (open) {
        open = false;
        wake();
        try {
          thread.join(Math.min(spec.ackWait().toMillis(), 30_000) + 5_000);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        subscriptions.remove(this);
      }
    }
  }

  @Override
  public void close() {
    closed = true;
    for (Sub s : subscriptions) {
      s.close();
    }
    synchronized (listenerLock) {
      if (listener != null) {
        listener.close();
        listener = null;
      }
    }
  }

  @Override
  public String toString() {
    return "PgEventBus{" + events + " on " + db.describe() + "}";
  }
}

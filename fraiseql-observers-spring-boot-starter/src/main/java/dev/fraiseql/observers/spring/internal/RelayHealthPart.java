package dev.fraiseql.observers.spring.internal;

import dev.fraiseql.observers.pg.PgOutboxRelay;
import dev.fraiseql.observers.pg.PgOutbox;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * The outbox relay's liveness (its loop completed a cycle within {@code staleAfter}) and, optionally,
 * the outbox backlog (pending rows, age of the oldest), under the {@code relay} detail.
 */
public final class RelayHealthPart implements HealthPart {
  private final PgOutboxRelay relay;
  private final DataSource dataSource;
  private final Duration staleAfter;
  private final boolean backlog;
  private final Instant created = Instant.now();
  private final PgOutbox outbox;
  static final Duration BACKLOG_TIMEOUT = Duration.ofSeconds(2);

  public RelayHealthPart(PgOutboxRelay relay, DataSource dataSource, Duration staleAfter, boolean backlog) {
    this.relay = relay;
    this.dataSource = dataSource;
    this.staleAfter = staleAfter;
    this.backlog = backlog;
    this.outbox = PgOutbox.forTable(relay.table());
  }

  @Override
  public boolean contribute(Map<String, Object> details) {
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("table", relay.table());
    Optional<Instant> last = relay.lastCycle();
    boolean alive;
    if (!relay.isRunning()) {
      alive = false;
      r.put("status", "DOWN");
      r.put("error", "the relay is not running");
    } else if (last.isEmpty()) {
      // its first cycle has not completed yet: starting, or it never reached PostgreSQL
      long sinceStart = Math.max(0, Duration.between(created, Instant.now()).toMillis());
      alive = sinceStart <= staleAfter.toMillis();
      r.put("status", alive ? "STARTING" : "DOWN");
      if (!alive) {
        r.put("error", "the relay has not completed a cycle in the " + sinceStart + "ms since it started (more than "
            + staleAfter.toMillis() + "ms): it cannot reach PostgreSQL or is stuck");
      }
    } else {
      long ageMs = Math.max(0, Duration.between(last.get(), Instant.now()).toMillis());
      alive = ageMs <= staleAfter.toMillis();
      r.put("status", alive ? "UP" : "DOWN");
      r.put("lastCycle", last.get().toString());
      r.put("lastCycleAgeMs", ageMs);
      if (!alive) {
        r.put("error", "the relay's loop has not completed a cycle for " + ageMs + "ms (more than "
            + staleAfter.toMillis() + "ms): it cannot reach PostgreSQL or is stuck");
      }
    }
    r.put("dispatched", relay.dispatchedCount());
    r.put("inFlight", relay.inFlight());
    if (backlog) {
      try {
        // one statement on the pending index, with a statement timeout
        PgOutbox.Backlog b = outbox.backlog(dataSource, BACKLOG_TIMEOUT);
        r.put("pending", b.pending());
        r.put("oldestPendingAgeMs", b.oldestAge().toMillis());
      } catch (SQLException | RuntimeException e) {
        r.put("backlogError", dev.fraiseql.observers.BackendHealth.down(e.getMessage(), Map.of()).details().get("error"));
      }
    }
    details.put("relay", r);
    return alive;
  }
}

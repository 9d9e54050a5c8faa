package dev.fraiseql.observers.pg;

import dev.fraiseql.observers.ObserverEngine;
import dev.fraiseql.observers.pg.internal.PgDatabase;
import dev.fraiseql.observers.pg.internal.PgUrl;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;

/**
 * A host process for {@link PgOutboxIT}'s crash test: runs an engine and a relay whose handler
 * records each delivery in a table, slowly, until it is killed with SIGKILL.
 * Args: jdbc url, outbox table, deliveries table, lease ms, and optionally {@code sql <function> <idempotency table>}
 * to run a SQL-function handler under effectively-once instead.
 */
public final class OutboxChildMain {
  private OutboxChildMain() {}

  public static void main(String[] args) throws Exception {
    String url = args[0];
    String outboxTable = args[1];
    String deliveries = args[2];
    long leaseMs = Long.parseLong(args[3]);
    PgDatabase db = PgDatabase.fromUrl(PgUrl.parse(url), 4);
    if (args.length > 4 && args[4].equals("sql")) {
      ObserverEngine sqlEngine = ObserverEngine.builder().config(PgOutboxIT.sqlConfig(url, args[5], args[6])).build();
      PgOutboxRelay.builder(sqlEngine, db.dataSource()).outbox(PgOutbox.forTable(outboxTable)).batchSize(5)
          .maxInFlight(5).lease(Duration.ofMillis(leaseMs)).pollInterval(Duration.ofMillis(200)).start();
      Thread.sleep(Long.MAX_VALUE);
    }
    ObserverEngine engine = ObserverEngine.builder()
        .config(PgOutboxIT.config())
        .handler("ship", event -> {
          try (Connection c = db.dataSource().getConnection();
               PreparedStatement ps = c.prepareStatement("INSERT INTO " + deliveries + " (event_id, relay) VALUES (?, 'child')")) {
            ps.setString(1, event.id().toString());
            ps.executeUpdate();
          }
          Thread.sleep(150);
        })
        .build();
    PgOutboxRelay.builder(engine, db.dataSource()).outbox(PgOutbox.forTable(outboxTable)).batchSize(5).maxInFlight(5)
        .lease(Duration.ofMillis(leaseMs)).pollInterval(Duration.ofMillis(200)).start();
    Thread.sleep(Long.MAX_VALUE);
  }

}

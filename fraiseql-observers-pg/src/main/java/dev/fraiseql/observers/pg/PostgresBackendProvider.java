package dev.fraiseql.observers.pg;

import dev.fraiseql.observers.pg.internal.PgBackend;
import dev.fraiseql.observers.pg.internal.PgBackendSettings;
import dev.fraiseql.observers.pg.internal.PgDatabase;
import dev.fraiseql.observers.spi.Backend;
import dev.fraiseql.observers.spi.BackendContext;
import dev.fraiseql.observers.spi.BackendProvider;
import java.util.Set;
import javax.sql.DataSource;

/**
 * The {@code postgres} backend ({@code [observers] backend = "postgres"}), and the durable stores
 * for any backend: the idempotency table for {@code checkpoint_strategy = "effectively_once"}
 * (seed 001's {@code idempotency_table}) and the dead-letter table.
 *
 * <p>Connections: the {@link DataSource} the host registered with
 * {@code ObserverEngine.builder().component(DataSource.class, ds)}, else {@code database_url} from
 * {@code [observers]} ({@code postgres://user:pass@host:5432/db} or {@code jdbc:postgresql://...}),
 * served by a small pool of {@code pool_size} connections.
 *
 * <table>
 *   <caption>[observers.postgres]</caption>
 *   <tr><th>key</th><th>default</th><th>meaning</th></tr>
 *   <tr><td>create_tables</td><td>true</td><td>create missing tables on first use (the DDL also ships in
 *       {@code dev/fraiseql/observers/pg/migrations/})</td></tr>
 *   <tr><td>dead_letter_table</td><td>observer_dead_letters</td><td>dead letters</td></tr>
 *   <tr><td>events_table</td><td>observer_events</td><td>the bus's messages (plus {@code _consumers},
 *       {@code _deliveries})</td></tr>
 *   <tr><td>pool_size</td><td>4</td><td>connections of the pool behind {@code database_url}</td></tr>
 *   <tr><td>poll_interval_ms</td><td>1000</td><td>bus consumers' polling fallback to LISTEN/NOTIFY</td></tr>
 *   <tr><td>idempotency_writers</td><td>2</td><td>threads writing idempotency claims and completions in
 *       batches concurrently (1 to 16), each using one pooled connection per round trip</td></tr>
 *   <tr><td>capture</td><td>off</td><td>{@code "triggers"}: zero-code capture, see {@link PgCapture} (read by
 *       {@link PgOutboxRelay}, whatever the backend)</td></tr>
 *   <tr><td>capture_install</td><td>create_tables</td><td>the relay installs/upgrades the capture triggers at
 *       start; false: it only checks them</td></tr>
 * </table>
 *
 * Registered with {@link java.util.ServiceLoader}; there is nothing to call directly.
 */
public final class PostgresBackendProvider implements BackendProvider {

  /** Used by {@link java.util.ServiceLoader}. */
  public PostgresBackendProvider() {}

  @Override
  public String name() {
    return "postgres";
  }

  @Override
  public String artifact() {
    return "dev.fraiseql:fraiseql-observers-pg";
  }

  @Override
  public Set<String> settingKeys() {
    return PgBackendSettings.KEYS;
  }

  @Override
  public Backend create(BackendContext context) {
    PgBackendSettings settings = PgBackendSettings.from(context.settings());
    PgDatabase db = PgDatabase.resolve(context.component(DataSource.class), context.settings(), settings.poolSize(),
        "the postgres backend");
    try {
      return new PgBackend(db, settings, context);
    } catch (RuntimeException e) {
      db.close();
      throw e;
    }
  }
}

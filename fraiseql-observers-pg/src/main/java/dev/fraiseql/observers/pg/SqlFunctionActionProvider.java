package dev.fraiseql.observers.pg;

import dev.fraiseql.observers.ObserverConfigException;
import dev.fraiseql.observers.config.CheckpointStrategy;
import dev.fraiseql.observers.config.ConfigProblem;
import dev.fraiseql.observers.config.HandlerConfig;
import dev.fraiseql.observers.config.ObserversConfig;
import dev.fraiseql.observers.config.RetryPolicy;
import dev.fraiseql.observers.config.Settings;
import dev.fraiseql.observers.pg.internal.PgBackendSettings;
import dev.fraiseql.observers.pg.internal.PgDatabase;
import dev.fraiseql.observers.pg.internal.PgIdentifier;
import dev.fraiseql.observers.pg.internal.PgPoolSettings;
import dev.fraiseql.observers.pg.internal.SqlFunctionAction;
import dev.fraiseql.observers.spi.Action;
import dev.fraiseql.observers.spi.ActionContext;
import dev.fraiseql.observers.spi.ActionProvider;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import javax.sql.DataSource;

/**
 * The {@code sql} action: calls a SQL function with the event's JSON as its single {@code jsonb}
 * argument (seed 000's {@code fn_reserve_inventory}).
 *
 * <pre>
 * [[observers.handlers]]
 * name = "reserve-inventory"
 * event = "order.created"
 * action = "sql"
 * function = "inventory.fn_reserve_inventory"
 * </pre>
 *
 * <p>{@code function} is an optionally schema-qualified name; it is validated, folded to lower case
 * as PostgreSQL folds unquoted names, and quoted. Nothing from an event is ever spliced into SQL.
 * Under {@code checkpoint_strategy = "effectively_once"} the delivery's idempotency key is inserted
 * into {@code idempotency_table} in the same transaction as the call, so the function's effect
 * happens once however often the event arrives. A SQL error is a failed attempt recorded with its
 * SQLSTATE; errors retrying cannot fix (undefined function, bad argument type, syntax, data and
 * constraint errors) are permanent.
 *
 * <p>Connections: the host's registered {@link DataSource}, else the handler's {@code database_url},
 * else {@code database_url} from {@code [observers]}.
 */
public final class SqlFunctionActionProvider implements ActionProvider {
  /** The handler key naming the function. */
  public static final String FUNCTION = "function";

  /** Used by {@link java.util.ServiceLoader}. */
  public SqlFunctionActionProvider() {}

  @Override
  public String name() {
    return "sql";
  }

  @Override
  public String artifact() {
    return "dev.fraiseql:fraiseql-observers-pg";
  }

  @Override
  public Set<String> settingKeys() {
    return Set.of(FUNCTION, PgDatabase.URL_KEY);
  }

  @Override
  public Action create(ActionContext context) {
    Settings s = context.settings();
    String fn = s.requireString(FUNCTION, "name the SQL function to call, e.g. function = \"fn_reserve_inventory\"");
    PgIdentifier function;
    try {
      function = PgIdentifier.parse(fn);
    } catch (IllegalArgumentException e) {
      throw new ObserverConfigException(new ConfigProblem(s.location(FUNCTION), FUNCTION, e.getMessage(),
          "write a function name such as `fn_reserve_inventory` or `inventory.fn_reserve_inventory`"));
    }
    ObserversConfig config = context.config();
    Settings backend = config.backendSettings();
    boolean createTables = backend.has(PgBackendSettings.CREATE_TABLES)
        ? backend.bool(PgBackendSettings.CREATE_TABLES, true) : true;
    PgPoolSettings pool = PgPoolSettings.from(backend);
    Optional<DataSource> ds = context.component(DataSource.class);
    Settings urlSource = s.has(PgDatabase.URL_KEY) ? s : backend;
    PgDatabase db = PgDatabase.resolve(ds, urlSource, pool, "the sql handler " + context.handlerName());
    PgIdentifier idempotencyTable = null;
    if (config.checkpointStrategy() == CheckpointStrategy.EFFECTIVELY_ONCE) {
      try {
        idempotencyTable = PgIdentifier.parse(config.idempotencyTable());
      } catch (IllegalArgumentException e) {
        db.close();
        throw new ObserverConfigException(new ConfigProblem(context.location(), "idempotency_table", e.getMessage(),
            "write a table name such as `observer_idempotency_keys`"));
      }
    }
    Duration timeout = config.handlers().stream().filter(h -> h.name().equals(context.handlerName()))
        .findFirst().map(HandlerConfig::retry).map(RetryPolicy::attemptTimeout)
        .orElse(RetryPolicy.DEFAULT_ATTEMPT_TIMEOUT);
    return new SqlFunctionAction(context.handlerName(), function, db, ds.isEmpty(), idempotencyTable, createTables,
        timeout);
  }
}

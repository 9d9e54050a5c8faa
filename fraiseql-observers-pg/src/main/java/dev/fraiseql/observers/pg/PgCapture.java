package dev.fraiseql.observers.pg;

import dev.fraiseql.observers.ObserverConfigException;
import dev.fraiseql.observers.Operation;
import dev.fraiseql.observers.config.ObserversConfig;
import dev.fraiseql.observers.pg.internal.CaptureDdl;
import dev.fraiseql.observers.pg.internal.CapturePlan;
import dev.fraiseql.observers.pg.internal.PgUrl;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.stream.Collectors;
import javax.sql.DataSource;
import org.postgresql.ds.PGSimpleDataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Zero-code capture: database triggers that record every committed INSERT, UPDATE and DELETE on the
 * tables the config observes into the {@link PgOutbox}, in the writing transaction, whoever writes
 * (the application, {@code psql}, a migration, another service). A {@link PgOutboxRelay} then
 * dispatches them exactly as events recorded with {@link PgOutbox#record}: receivers cannot tell the
 * two apart.
 *
 * <pre>{@code
 * [observers.postgres]
 * capture = "triggers"          # off by default
 * }</pre>
 *
 * With it, {@link PgOutboxRelay.Builder#start()} installs or upgrades the triggers (unless
 * {@code capture_install = false}: then it only checks them and logs what is missing, with the fix).
 * Which tables: every rule's {@code table}, the table behind every handler {@code event}
 * ({@code user.created} → INSERT on {@code tb_user}), and every {@code [[observers.capture]]} entry;
 * only the operations the config observes get a trigger. This class gives the same DDL as text for
 * migration tools ({@link #ddl(Connection)}), installs, checks and uninstalls it.
 *
 * <p>What a trigger does: one {@code AFTER ... FOR EACH STATEMENT} trigger per (table, operation),
 * with a transition table, writes <b>one</b> outbox row per statement (10,000 rows inserted by one
 * statement cost one outbox insert); the relay splits it into one event per row, with stable ids.
 * An UPDATE that changes no captured column writes nothing. The mutation context comes from
 * transaction-local settings ({@link PgMutationContext}); missing settings are left out, never an
 * error. Immutable and thread-safe.
 */
public final class PgCapture {
  private static final Logger LOG = LoggerFactory.getLogger(PgCapture.class);

  private final CapturePlan plan;
  private final PgOutbox outbox;
  private final CaptureDdl ddl;

  private PgCapture(CapturePlan plan, PgOutbox outbox) {
    this.plan = plan;
    this.outbox = outbox;
    this.ddl = new CaptureDdl(plan, outbox.identifier(), outbox.channel(), PgOutbox.WAKE_LOCK_NAMESPACE,
        outbox.wakeLockKey());
  }

  /**
   * The capture {@code config} asks for, into {@code outbox}.
   *
   * @throws ObserverConfigException naming a malformed {@code capture} key or {@code [[observers.capture]]} entry
   */
  public static PgCapture of(ObserversConfig config, PgOutbox outbox) {
    return new PgCapture(CapturePlan.from(Objects.requireNonNull(config, "config")), Objects.requireNonNull(outbox, "outbox"));
  }

  /** The capture {@code config} asks for, into {@link PgOutbox#create() observer_outbox}. */
  public static PgCapture of(ObserversConfig config) {
    return of(config, PgOutbox.create());
  }

  /** Whether the config turns capture on ({@code [observers.postgres] capture = "triggers"}). */
  public boolean enabled() {
    return plan.enabled();
  }

  /** Whether the relay installs and upgrades the triggers at start-up ({@code capture_install}, default true). */
  public boolean installAtStartup() {
    return plan.install();
  }

  /**
   * The captured tables, one line each: {@code tb_user: INSERT, UPDATE → user.created, user.updated}.
   */
  public List<String> describe() {
    List<String> out = new ArrayList<>();
    for (CapturePlan.Table t : plan.tables()) {
      out.add(t.tableText() + ": " + t.operations().stream().map(Operation::name).collect(Collectors.joining(", "))
          + " → " + t.operations().stream().map(o -> t.entity() + "." + o.verb()).collect(Collectors.joining(", "))
          + (t.columns().isEmpty() ? "" : " (columns " + String.join(", ", t.columns()) + ")")
          + (t.excluded().isEmpty() ? "" : " (excluding " + String.join(", ", t.excluded()) + ")"));
    }
    return out;
  }

  /** The outbox the triggers write into. */
  public PgOutbox outbox() {
    return outbox;
  }

  /**
   * The exact DDL that {@link #install} would run on this database, as one script (for Flyway,
   * Liquibase or a DBA): per table and operation a {@code CREATE OR REPLACE FUNCTION}, a
   * {@code DROP TRIGGER IF EXISTS} and a {@code CREATE TRIGGER}, comments carrying each trigger's
   * hash (which {@link #check} compares), and drops of this outbox's triggers the config no longer
   * wants. Reads the catalog (schemas, columns, primary keys) but changes nothing. Running it twice
   * is harmless. The outbox table must exist.
   *
   * @throws ObserverConfigException naming a configured table or column that does not exist
   */
  public String ddl(Connection connection) throws SQLException {
    return ddl.script(connection);
  }

  /** The DDL that removes every capture trigger and function writing into this outbox. */
  public String uninstallDdl(Connection connection) throws SQLException {
    return ddl.uninstallScript(connection);
  }

  /**
   * Installs or upgrades the triggers, creating the outbox table if it is missing, and removes the
   * ones the config no longer wants: in one transaction, under an advisory lock, so that several
   * instances starting at once end with one set of triggers. Triggers already up to date are not
   * touched (no table lock is taken).
   *
   * @return how many triggers were created, upgraded or removed (0: all were up to date)
   * @throws ObserverConfigException naming a configured table or column that does not exist
   */
  public int install(DataSource dataSource) throws SQLException {
    outbox.createTable(dataSource);
    try (Connection c = dataSource.getConnection()) {
      boolean auto = c.getAutoCommit();
      c.setAutoCommit(false);
      try (Statement st = c.createStatement()) {
        CaptureDdl.lock(c);
        CaptureDdl.Diff d = ddl.diff(c);
        for (CaptureDdl.Wanted w : d.create()) {
          st.execute(w.sql());
        }
        for (CaptureDdl.Wanted w : d.upgrade()) {
          st.execute(w.sql());
        }
        for (String s : d.dropTriggers()) {
          st.execute(s);
        }
        for (String s : d.dropFunctions()) {
          st.execute(s);
        }
        c.commit();
        int changed = d.create().size() + d.upgrade().size() + d.dropTriggers().size();
        if (changed == 0) {
          LOG.info("[observer] capture: {} trigger(s) on {} table(s) up to date (outbox {})", d.current().size(),
              plan.tables().size(), outbox.table());
        } else {
          LOG.info("[observer] capture: installed {}, upgraded {}, removed {} trigger(s) (outbox {}): {}",
              d.create().size(), d.upgrade().size(), d.dropTriggers().size(), outbox.table(), describe());
        }
        return changed;
      } catch (SQLException | RuntimeException e) {
        c.rollback();
        throw e;
      } finally {
        c.setAutoCommit(auto);
      }
    }
  }

  /**
   * Compares the triggers in the database with the config: one line per missing, outdated or
   * unwanted trigger, each with the fix; empty when all is in place.
   *
   * @throws ObserverConfigException naming a configured table or column that does not exist
   */
  public List<String> check(DataSource dataSource) throws SQLException {
    List<String> problems = new ArrayList<>();
    try (Connection c = dataSource.getConnection()) {
      CaptureDdl.Diff d;
      try {
        d = ddl.diff(c);
      } catch (IllegalStateException e) {
        problems.add(e.getMessage());
        return problems;
      }
      String fix = " — fix: let the relay install it (capture_install = true), call PgCapture.install,"
          + " or apply PgCapture.ddl(connection) with your migration tool";
      for (CaptureDdl.Wanted w : d.create()) {
        problems.add("capture trigger missing: " + w.op() + " on " + w.qualified() + fix);
      }
      for (CaptureDdl.Wanted w : d.upgrade()) {
        problems.add("capture trigger outdated (the config or the table changed): " + w.op() + " on " + w.qualified() + fix);
      }
      for (String s : d.dropTriggers()) {
        problems.add("capture trigger no longer configured: " + s.substring("DROP TRIGGER IF EXISTS ".length()) + fix);
      }
    }
    return problems;
  }

  /** How one capture trigger compares with the config ({@link #status}). */
  public enum TriggerState {
    /** Configured and installed as the config and the table are now. */
    INSTALLED,
    /** Configured, not installed. */
    MISSING,
    /** Configured and installed, but from another config or table shape (its hash differs): to be replaced. */
    OUTDATED,
    /** Installed for this outbox, not (or no longer) configured: to be removed. */
    EXTRA
  }

  /**
   * One capture trigger, configured and/or installed.
   *
   * @param table the table, {@code "schema"."name"}
   * @param operation the operation it captures
   * @param events the event name it produces ({@code user.created}); empty for {@link TriggerState#EXTRA}
   * @param state how it compares with the config
   * @param trigger the trigger's name (the one it has, or would have once installed)
   * @param fix what to do about it; empty when {@link TriggerState#INSTALLED}
   */
  public record TriggerStatus(String table, Operation operation, String events, TriggerState state, String trigger,
      String fix) {
    /** Whether nothing is to be done about it. */
    public boolean ok() {
      return state == TriggerState.INSTALLED;
    }
  }

  /**
   * The capture triggers configured and installed, one entry per (table, operation), sorted by table and
   * operation: installed, missing, outdated, or extra (installed for this outbox but not configured — with
   * {@code capture} off, every installed one is extra). Reads the catalog only.
   *
   * @throws ObserverConfigException naming a configured table or column that does not exist (capture on)
   * @throws IllegalStateException when the outbox table does not exist
   */
  public List<TriggerStatus> status(DataSource dataSource) throws SQLException {
    String install = "install or upgrade it: let the relay start (capture_install = true), call PgCapture.install,"
        + " or apply PgCapture.ddl(connection) with your migration tool";
    List<TriggerStatus> out = new ArrayList<>();
    try (Connection c = dataSource.getConnection()) {
      if (!plan.enabled()) {
        for (CaptureDdl.Found f : ddl.found(c)) {
          out.add(new TriggerStatus(f.qualified(), f.op(), "", TriggerState.EXTRA, f.trigger(),
              "capture is off (set [observers.postgres] capture = \"triggers\" to keep it): remove it with"
                  + " PgCapture.uninstall or apply PgCapture.uninstallDdl(connection)"));
        }
      } else {
        CaptureDdl.Diff d = ddl.diff(c);
        for (CaptureDdl.Wanted w : d.current()) {
          out.add(wanted(w, TriggerState.INSTALLED, ""));
        }
        for (CaptureDdl.Wanted w : d.create()) {
          out.add(wanted(w, TriggerState.MISSING, install));
        }
        for (CaptureDdl.Wanted w : d.upgrade()) {
          out.add(wanted(w, TriggerState.OUTDATED, install));
        }
        for (CaptureDdl.Found f : d.extra()) {
          out.add(new TriggerStatus(f.qualified(), f.op(), "", TriggerState.EXTRA, f.trigger(),
              "no longer configured: PgCapture.install (or a relay start with capture_install = true) removes it,"
                  + " as does PgCapture.ddl(connection) applied with your migration tool"));
        }
      }
    }
    out.sort(Comparator.comparing(TriggerStatus::table).thenComparing(TriggerStatus::operation));
    return out;
  }

  private static TriggerStatus wanted(CaptureDdl.Wanted w, TriggerState state, String fix) {
    return new TriggerStatus(w.qualified(), w.op(), w.table().entity() + "." + w.op().verb(), state, w.trigger(), fix);
  }

  /**
   * Removes every capture trigger and function writing into this outbox (whatever the config says
   * now), in one transaction under the install lock. The outbox table and its rows stay.
   *
   * @return how many triggers were removed
   */
  public int uninstall(DataSource dataSource) throws SQLException {
    try (Connection c = dataSource.getConnection()) {
      boolean auto = c.getAutoCommit();
      c.setAutoCommit(false);
      try (Statement st = c.createStatement()) {
        CaptureDdl.lock(c);
        String script = ddl.uninstallScript(c);
        int n = 0;
        for (String s : script.split(";\n")) {
          if (!s.isBlank()) {
            st.execute(s);
            if (s.startsWith("DROP TRIGGER")) {
              n++;
            }
          }
        }
        c.commit();
        LOG.info("[observer] capture: uninstalled {} trigger(s) (outbox {})", n, outbox.table());
        return n;
      } catch (SQLException | RuntimeException e) {
        c.rollback();
        throw e;
      } finally {
        c.setAutoCommit(auto);
      }
    }
  }

  /**
   * A {@link DataSource} without pool over a {@code database_url} as {@code fraiseql.toml} writes it
   * ({@code postgres://user:pass@host/db}, {@code postgresql://...} or {@code jdbc:postgresql://...}):
   * one new connection per call, for tools that run {@link #status}, {@link #install} or
   * {@link #uninstall} once (the command line). An application passes its own pool.
   *
   * @throws IllegalArgumentException when the URL is malformed (the message never holds credentials)
   */
  public static DataSource dataSource(String databaseUrl) {
    PgUrl url = PgUrl.parse(databaseUrl);
    PGSimpleDataSource ds = new PGSimpleDataSource();
    ds.setURL(url.jdbcUrl());
    java.util.Properties p = url.properties();
    if (p.getProperty("user") != null) {
      ds.setUser(p.getProperty("user"));
    }
    if (p.getProperty("password") != null) {
      ds.setPassword(p.getProperty("password"));
    }
    return ds;
  }

  @Override
  public String toString() {
    return "PgCapture{" + (plan.enabled() ? "triggers" : "off") + ", " + plan.tables().size() + " table(s), outbox "
        + outbox.table() + "}";
  }
}

package dev.fraiseql.observers.cli.internal;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fraiseql.observers.ObserverConfigException;
import dev.fraiseql.observers.cli.FraiseqlObserversCli;
import dev.fraiseql.observers.config.ConfigProblem;
import dev.fraiseql.observers.config.ObserversConfig;
import dev.fraiseql.observers.config.Settings;
import dev.fraiseql.observers.pg.PgCapture;
import dev.fraiseql.observers.pg.PgOutbox;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import javax.sql.DataSource;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code capture plan|status|install|uninstall}: the pg module's zero-code capture triggers, through
 * {@link PgCapture}'s public API.
 */
@Command(name = "capture", mixinStandardHelpOptions = true,
    description = "The PostgreSQL capture triggers ([observers.postgres] capture = \"triggers\", pg module).",
    subcommands = {CaptureCommand.PlanCmd.class, CaptureCommand.StatusCmd.class, CaptureCommand.InstallCmd.class,
        CaptureCommand.UninstallCmd.class})
final class CaptureCommand implements Runnable {
  /** From a shell, the fix for a missing, outdated or extra trigger. */
  static final String SHELL_FIX = "from a shell: `fraiseql-observers capture install` installs, upgrades and removes"
      + " them (`capture plan` prints the DDL for a migration tool)";

  /** From a shell, the fix for triggers installed while capture is off. */
  static final String SHELL_FIX_OFF = "from a shell: `fraiseql-observers capture uninstall` removes them";

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "name a subcommand: plan, status, install, uninstall");
  }

  /** The options every capture subcommand shares. */
  abstract static class Base implements Callable<Integer> {
    @Option(names = "--table", paramLabel = "NAME", defaultValue = PgOutbox.DEFAULT_TABLE,
        description = "the outbox table the triggers write into (default ${DEFAULT-VALUE}; PgOutbox.forTable(...) in the application)")
    String table;

    @Option(names = "--json", description = "print the result as JSON")
    boolean json;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    Ctx ctx;
    ObserversConfig cfg;
    PgCapture capture;
    DataSource dataSource;

    @Override
    public final Integer call() {
      ctx = Ctx.of(spec);
      cfg = ctx.loadConfig();
      dataSource = dataSource(ctx, cfg);
      try {
        capture = PgCapture.of(cfg, PgOutbox.forTable(table));
      } catch (IllegalArgumentException e) {
        throw CliFailure.usage("--table " + table + ": " + e.getMessage());
      } catch (ObserverConfigException e) {
        return configProblems(e);
      }
      try {
        return run();
      } catch (ObserverConfigException e) {
        return configProblems(e);
      } catch (IllegalStateException e) {
        throw CliFailure.failed(e.getMessage());
      } catch (SQLException e) {
        throw CliFailure.failed("capture on outbox " + table + ": " + e.getMessage()
            + (e.getSQLState() != null ? " (SQLSTATE " + e.getSQLState() + ")" : ""));
      }
    }

    abstract int run() throws SQLException;

    /** Refuses to plan or install triggers the config does not turn on. */
    void requireEnabled() {
      if (!capture.enabled()) {
        throw CliFailure.failed("capture is off in " + ctx.configPath() + ": set [observers.postgres] capture = \"triggers\""
            + " to capture the tables it observes (`capture status` shows triggers installed anyway; `capture uninstall` removes them)");
      }
    }

    private int configProblems(ObserverConfigException e) {
      if (json) {
        ObjectNode o = ctx.out.object();
        ArrayNode a = o.putArray("problems");
        for (ConfigProblem p : e.problems()) {
          a.add(p.toString());
        }
        ctx.out.json(o);
      } else {
        ctx.printProblems(ctx.configPath(), e.problems());
      }
      return FraiseqlObserversCli.FAILED;
    }
  }

  /** The database of the config's {@code database_url} ([observers] or [observers.postgres]), without pool. */
  static DataSource dataSource(Ctx ctx, ObserversConfig cfg) {
    Settings pg = cfg.backendSettings("postgres");
    Optional<String> url = pg.value("database_url").filter(String.class::isInstance).map(String.class::cast);
    if (url.isEmpty()) {
      throw CliFailure.failed(ctx.configPath() + " has no database_url (in [observers] or [observers.postgres]): "
          + "the capture triggers and the outbox live in the application's PostgreSQL database");
    }
    try {
      return PgCapture.dataSource(url.get());
    } catch (IllegalArgumentException e) {
      throw CliFailure.failed("database_url in " + ctx.configPath() + ": " + e.getMessage());
    }
  }

  /** JSON of one trigger's status. */
  static ObjectNode json(Out out, PgCapture.TriggerStatus t) {
    ObjectNode n = out.object();
    n.put("table", t.table());
    n.put("operation", t.operation().name());
    n.put("events", t.events());
    n.put("state", t.state().name().toLowerCase(Locale.ROOT));
    n.put("trigger", t.trigger());
    n.put("fix", t.fix());
    return n;
  }

  /** The status as a table, then one line per problem with its fix. */
  static void print(Out out, PgCapture capture, List<PgCapture.TriggerStatus> status) {
    out.line(out.bold("capture triggers for outbox " + capture.outbox().table() + " (capture = "
        + (capture.enabled() ? "\"triggers\"" : "\"off\"") + ")"));
    if (status.isEmpty()) {
      out.line(capture.enabled() ? "the config observes no table a trigger can capture" : "none installed");
      return;
    }
    List<List<String>> rows = new ArrayList<>();
    for (PgCapture.TriggerStatus t : status) {
      String state = t.state().name().toLowerCase(Locale.ROOT);
      rows.add(List.of(t.table(), t.operation().name(), t.events().isEmpty() ? "-" : t.events(),
          t.ok() ? out.green(state) : out.red(state), t.trigger()));
    }
    out.table(List.of("TABLE", "OPERATION", "EVENTS", "STATE", "TRIGGER"), rows);
    long problems = status.stream().filter(t -> !t.ok()).count();
    if (problems > 0) {
      out.line();
      out.line(out.red(problems + (problems == 1 ? " trigger is" : " triggers are") + " not as configured:"));
      for (PgCapture.TriggerStatus t : status) {
        if (!t.ok()) {
          out.line("  " + t.state().name().toLowerCase(Locale.ROOT) + ": " + t.operation() + " on " + t.table()
              + " — fix: " + t.fix());
        }
      }
      out.line("  " + (capture.enabled() ? SHELL_FIX : SHELL_FIX_OFF));
    }
  }

  @Command(name = "plan", mixinStandardHelpOptions = true,
      description = "Print the exact DDL that `capture install` would run on this database (PgCapture.ddl): one script for Flyway, Liquibase or a DBA. Reads the catalog; executes nothing. With --uninstall, the DDL that removes every capture trigger and function of the outbox.")
  static final class PlanCmd extends Base {
    @Option(names = "--uninstall", description = "print the DDL of `capture uninstall` instead (PgCapture.uninstallDdl)")
    boolean uninstall;

    @Override
    int run() throws SQLException {
      if (!uninstall) {
        requireEnabled();
      }
      String script;
      try (Connection c = dataSource.getConnection()) {
        c.setReadOnly(true);
        script = uninstall ? capture.uninstallDdl(c) : capture.ddl(c);
      }
      if (json) {
        ObjectNode o = ctx.out.object();
        o.put("outbox", capture.outbox().table());
        o.put(uninstall ? "uninstall_ddl" : "ddl", script);
        ctx.out.json(o);
      } else {
        ctx.out.out.print(script.isEmpty() ? "-- no capture trigger or function of outbox " + capture.outbox().table()
            + " is installed: nothing to remove\n" : script);
        ctx.out.out.flush();
      }
      return FraiseqlObserversCli.OK;
    }
  }

  @Command(name = "status", mixinStandardHelpOptions = true,
      description = "The capture triggers configured and installed, per table and operation: installed, missing, outdated (the config or the table changed) or extra (no longer configured), each with the fix. Read-only; exit 1 when any is not as configured.")
  static final class StatusCmd extends Base {
    @Override
    int run() throws SQLException {
      List<PgCapture.TriggerStatus> status = capture.status(dataSource);
      boolean ok = status.stream().allMatch(PgCapture.TriggerStatus::ok);
      if (json) {
        ObjectNode o = ctx.out.object();
        o.put("outbox", capture.outbox().table());
        o.put("enabled", capture.enabled());
        o.put("ok", ok);
        ArrayNode a = o.putArray("triggers");
        status.forEach(t -> a.add(json(ctx.out, t)));
        ctx.out.json(o);
      } else {
        print(ctx.out, capture, status);
      }
      return ok ? FraiseqlObserversCli.OK : FraiseqlObserversCli.FAILED;
    }
  }

  @Command(name = "install", mixinStandardHelpOptions = true,
      description = "Install or upgrade the configured capture triggers and remove the ones no longer configured, in one transaction under the relays' install lock (PgCapture.install; creates the outbox table if missing). Triggers already up to date are not touched.")
  static final class InstallCmd extends Base {
    @Override
    int run() throws SQLException {
      requireEnabled();
      int changed = capture.install(dataSource);
      List<PgCapture.TriggerStatus> status = capture.status(dataSource);
      boolean ok = status.stream().allMatch(PgCapture.TriggerStatus::ok);
      if (json) {
        ObjectNode o = ctx.out.object();
        o.put("outbox", capture.outbox().table());
        o.put("changed", changed);
        o.put("ok", ok);
        ArrayNode a = o.putArray("triggers");
        status.forEach(t -> a.add(json(ctx.out, t)));
        ctx.out.json(o);
      } else {
        ctx.out.line(changed == 0 ? "all capture triggers were up to date: nothing changed"
            : changed + " capture trigger(s) created, upgraded or removed");
        print(ctx.out, capture, status);
      }
      return ok ? FraiseqlObserversCli.OK : FraiseqlObserversCli.FAILED;
    }
  }

  @Command(name = "uninstall", mixinStandardHelpOptions = true,
      description = "Remove every capture trigger and function writing into the outbox, whatever the config says now (PgCapture.uninstall), in one transaction. The outbox table and its rows stay.")
  static final class UninstallCmd extends Base {
    @Override
    int run() throws SQLException {
      int removed = capture.uninstall(dataSource);
      if (json) {
        ObjectNode o = ctx.out.object();
        o.put("outbox", capture.outbox().table());
        o.put("removed", removed);
        ctx.out.json(o);
      } else {
        ctx.out.line("removed " + removed + " capture trigger(s) of outbox " + capture.outbox().table()
            + " and their functions");
      }
      return FraiseqlObserversCli.OK;
    }
  }
}

package dev.fraiseql.observers.cli.internal;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fraiseql.observers.ObserverConfigException;
import dev.fraiseql.observers.cli.FraiseqlObserversCli;
import dev.fraiseql.observers.config.ObserversConfig;
import dev.fraiseql.observers.config.Settings;
import dev.fraiseql.observers.pg.PgCapture;
import dev.fraiseql.observers.pg.PgOutbox;
import dev.fraiseql.observers.pg.PgOutboxStatus;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code outbox status}: what the PostgreSQL outbox table holds. */
@Command(name = "outbox", mixinStandardHelpOptions = true, description = "The PostgreSQL transactional outbox (pg module).",
    subcommands = OutboxCommand.StatusCmd.class)
final class OutboxCommand implements Runnable {
  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "name a subcommand: status");
  }

  @Command(name = "status", mixinStandardHelpOptions = true,
      description = "Pending rows (how many are due, how many retrying), the age of the oldest, finished rows, per-handler outcomes of the finished rows kept, the relays holding leases, and the capture triggers installed vs configured (as `capture status`). Read-only; exit 1 when a capture trigger is not as configured.")
  static final class StatusCmd implements Callable<Integer> {
    /** The capture part of the status: the triggers (PgCapture.status), or why they could not be read. */
    static final class CaptureReport {
      final PgCapture capture;
      final boolean enabled;
      final List<PgCapture.TriggerStatus> status;
      final List<String> problems;

      private CaptureReport(PgCapture capture, List<PgCapture.TriggerStatus> status, List<String> problems) {
        this.capture = capture;
        this.enabled = capture != null && capture.enabled();
        this.status = status;
        this.problems = problems;
      }

      boolean ok() {
        return problems.isEmpty() && status.stream().allMatch(PgCapture.TriggerStatus::ok);
      }

      static CaptureReport read(ObserversConfig cfg, String databaseUrl, String table) {
        PgCapture capture = null;
        try {
          capture = PgCapture.of(cfg, PgOutbox.forTable(table));
          return new CaptureReport(capture, capture.status(PgCapture.dataSource(databaseUrl)), List.of());
        } catch (ObserverConfigException e) {
          List<String> p = new ArrayList<>();
          e.problems().forEach(x -> p.add(x.toString()));
          return new CaptureReport(capture, List.of(), p);
        } catch (SQLException | RuntimeException e) {
          return new CaptureReport(capture, List.of(), List.of(String.valueOf(e.getMessage())));
        }
      }
    }

    @Option(names = "--table", paramLabel = "NAME", defaultValue = PgOutbox.DEFAULT_TABLE,
        description = "the outbox table (default ${DEFAULT-VALUE}; PgOutbox.forTable(...) in the application)")
    String table;

    @Option(names = "--json", description = "print the status as JSON")
    boolean json;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      Ctx ctx = Ctx.of(spec);
      ObserversConfig cfg = ctx.loadConfig();
      Settings pg = cfg.backendSettings("postgres");
      Optional<String> url = pg.value("database_url").filter(String.class::isInstance).map(String.class::cast);
      if (url.isEmpty()) {
        throw CliFailure.failed(ctx.configPath() + " has no database_url (in [observers] or [observers.postgres]): "
            + "the outbox lives in the application's PostgreSQL database");
      }
      PgOutboxStatus s;
      try {
        s = PgOutboxStatus.read(url.get(), table);
      } catch (IllegalArgumentException e) {
        throw CliFailure.failed(e.getMessage());
      } catch (SQLException e) {
        if ("42P01".equals(e.getSQLState())) {
          throw CliFailure.failed("outbox table " + table + " does not exist in that database (the application creates it:"
              + " PgOutbox.createTable, or the pg module's migrations V3 and V6); another table: --table NAME");
        }
        throw CliFailure.failed("cannot read outbox table " + table + ": " + e.getMessage()
            + (e.getSQLState() != null ? " (SQLSTATE " + e.getSQLState() + ")" : ""));
      }
      CaptureReport capture = CaptureReport.read(cfg, url.get(), table);
      if (json) {
        ObjectNode o = ctx.out.object();
        o.put("table", s.table());
        o.put("pending", s.pending());
        o.put("due", s.due());
        o.put("retrying", s.retrying());
        if (s.oldestPendingAge().isPresent()) {
          o.put("oldest_pending_age_ms", s.oldestPendingAge().get().toMillis());
        } else {
          o.putNull("oldest_pending_age_ms");
        }
        o.put("done", s.done());
        o.put("failed", s.failed());
        ArrayNode leases = o.putArray("leases");
        for (PgOutboxStatus.Lease l : s.leases()) {
          ObjectNode n = leases.addObject();
          n.put("owner", l.owner());
          n.put("rows", l.rows());
          n.put("until", l.until().toString());
        }
        ArrayNode outs = o.putArray("outcomes");
        for (PgOutboxStatus.HandlerOutcomes h : s.outcomes()) {
          ObjectNode n = outs.addObject();
          n.put("handler", h.handler());
          n.put("status", h.status());
          n.put("count", h.count());
        }
        ObjectNode cap = o.putObject("capture");
        cap.put("enabled", capture.enabled);
        cap.put("ok", capture.ok());
        ArrayNode triggers = cap.putArray("triggers");
        capture.status.forEach(t -> triggers.add(CaptureCommand.json(ctx.out, t)));
        ArrayNode problems = cap.putArray("problems");
        capture.problems.forEach(problems::add);
        ctx.out.json(o);
        return capture.ok() ? FraiseqlObserversCli.OK : FraiseqlObserversCli.FAILED;
      }
      Out out = ctx.out;
      out.line(out.bold("outbox " + s.table()));
      String pending = s.pending() + " (" + s.due() + " due now, " + s.retrying() + " retrying after an error)";
      out.line(String.format("  %-16s %s", "pending", s.pending() == 0 ? out.green(pending) : out.yellow(pending)));
      out.line(String.format("  %-16s %s", "oldest pending", s.oldestPendingAge().map(Out::duration).orElse("-")));
      out.line(String.format("  %-16s %s", "done (kept)", s.done()));
      out.line(String.format("  %-16s %s", "failed", s.failed() == 0 ? "0" : out.red(Long.toString(s.failed()))));
      out.line();
      if (s.leases().isEmpty()) {
        out.line("no relay holds a lease");
      } else {
        List<List<String>> rows = new ArrayList<>();
        for (PgOutboxStatus.Lease l : s.leases()) {
          rows.add(List.of(l.owner(), Long.toString(l.rows()), Out.time(l.until())));
        }
        out.table(List.of("RELAY HOLDING LEASES", "ROWS", "LEASE UNTIL (UTC)"), rows);
      }
      if (!s.outcomes().isEmpty()) {
        out.line();
        List<List<String>> rows = new ArrayList<>();
        for (PgOutboxStatus.HandlerOutcomes h : s.outcomes()) {
          rows.add(List.of(h.handler(), h.status(), Long.toString(h.count())));
        }
        out.table(List.of("HANDLER", "OUTCOME (done rows kept)", "COUNT"), rows);
      }
      if (capture.capture != null && (capture.enabled || !capture.status.isEmpty())) {
        out.line();
        CaptureCommand.print(out, capture.capture, capture.status);
      }
      if (!capture.problems.isEmpty()) {
        out.line();
        out.line(out.red("capture triggers cannot be checked:"));
        capture.problems.forEach(p -> out.line("  " + p));
      }
      return capture.ok() ? FraiseqlObserversCli.OK : FraiseqlObserversCli.FAILED;
    }
  }
}

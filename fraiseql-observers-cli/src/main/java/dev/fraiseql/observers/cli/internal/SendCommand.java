package dev.fraiseql.observers.cli.internal;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fraiseql.observers.CloseReport;
import dev.fraiseql.observers.DeliveryOutcome;
import dev.fraiseql.observers.Dispatch;
import dev.fraiseql.observers.DryRun;
import dev.fraiseql.observers.ObservedEvent;
import dev.fraiseql.observers.ObserverConfigException;
import dev.fraiseql.observers.ObserverEngine;
import dev.fraiseql.observers.cli.FraiseqlObserversCli;
import dev.fraiseql.observers.config.ObserversConfig;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code send event.json}: dispatches one event through the configured handlers and prints each outcome. */
@Command(name = "send", mixinStandardHelpOptions = true,
    description = "Dispatch one event through the configured handlers, for real (webhooks are called, events published, SQL functions run), wait for every handler to end, and print each outcome. Failures retry within each handler's budget and end in the dead-letter store, as in the application. Exit 0 when every handler delivered or was skipped, 1 otherwise.")
final class SendCommand implements Callable<Integer> {
  @Parameters(paramLabel = "FILE", description = "the event's JSON (\"-\" reads stdin)")
  String file;

  @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "120",
      description = "how long to wait for the handlers to end (default ${DEFAULT-VALUE}); what is still running "
          + "then is dead-lettered with reason shutdown")
  long timeoutSeconds;

  @Option(names = "--json", description = "print the outcomes as JSON")
  boolean json;

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    Ctx ctx = Ctx.of(spec);
    ObserversConfig cfg = ctx.loadConfig();
    ObservedEvent event = Ctx.readEvent(file);
    Set<String> java = ctx.javaHandlers(cfg);
    try (DryRun plan = ctx.builder(cfg, java).dryRun()) {
      for (DryRun.Match m : plan.explain(event)) {
        if (m.conditionHolds() && java.contains(m.handler().action().equals("handler")
            ? String.valueOf(m.handler().settings().value("handler").orElse("")) : m.handler().action())) {
          throw CliFailure.failed("handler " + m.handler().name() + " would run a Java handler of the application, "
              + "which the command line cannot run: send this event from the application (engine.onCommit)");
        }
      }
    } catch (ObserverConfigException e) {
      ctx.printProblems(ctx.configPath(), e.problems());
      return FraiseqlObserversCli.FAILED;
    }
    ObserverEngine engine = Engines.start(ctx, cfg, java);
    List<DeliveryOutcome> outcomes;
    String pending = null;
    try {
      Dispatch d = engine.onCommit(event);
      try {
        outcomes = d.completion().toCompletableFuture().get(timeoutSeconds, TimeUnit.SECONDS);
      } catch (TimeoutException e) {
        outcomes = List.of();
        pending = "handlers still running after " + timeoutSeconds + "s: " + d.matched();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw CliFailure.failed("interrupted");
      } catch (ExecutionException e) {
        throw CliFailure.failed("dispatch failed: " + e.getCause());
      }
    } finally {
      CloseReport r = engine.shutdown(Duration.ofSeconds(1));
      if (!r.clean()) {
        ctx.out.err.println("fraiseql-observers: dead-lettered (shutdown): " + r.unfinished());
      }
    }
    boolean ok = pending == null && outcomes.stream().allMatch(o -> o.status() != DeliveryOutcome.Status.DEAD_LETTERED);
    if (json) {
      ObjectNode o = ctx.out.object();
      o.put("event_id", event.id().toString());
      o.put("event", event.name());
      ArrayNode arr = o.putArray("outcomes");
      for (DeliveryOutcome x : outcomes) {
        DeadLettersCommand.outcome(arr.addObject(), x);
      }
      if (pending != null) {
        o.put("error", pending);
      }
      ctx.out.json(o);
    } else {
      ctx.out.line(ctx.out.bold("event " + event.name()) + " (" + event.operation() + " on " + event.table() + ", id " + event.id() + ")");
      if (outcomes.isEmpty() && pending == null) {
        ctx.out.line("no handler matches this event: nothing sent");
      } else if (!outcomes.isEmpty()) {
        List<List<String>> rows = new ArrayList<>();
        for (DeliveryOutcome x : outcomes) {
          rows.add(List.of(x.handler(), DeadLettersCommand.status(ctx, x), Integer.toString(x.attempts()),
              Out.duration(x.elapsed()), x.detail()));
        }
        ctx.out.table(List.of("HANDLER", "OUTCOME", "ATTEMPTS", "TOOK", "DETAIL"), rows);
      }
      if (pending != null) {
        ctx.out.line(ctx.out.red(pending));
      }
    }
    return ok ? FraiseqlObserversCli.OK : FraiseqlObserversCli.FAILED;
  }
}

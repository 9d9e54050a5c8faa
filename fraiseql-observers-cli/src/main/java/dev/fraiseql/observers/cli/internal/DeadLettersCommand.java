package dev.fraiseql.observers.cli.internal;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fraiseql.observers.DeliveryOutcome;
import dev.fraiseql.observers.ObservedEvent;
import dev.fraiseql.observers.ObserverEngine;
import dev.fraiseql.observers.ObserverException;
import dev.fraiseql.observers.cli.FraiseqlObserversCli;
import dev.fraiseql.observers.config.ObserversConfig;
import dev.fraiseql.observers.spi.AttemptRecord;
import dev.fraiseql.observers.spi.DeadLetter;
import dev.fraiseql.observers.spi.DeadLetterQuery;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code dead-letters list|show|replay|discard} against the configured durable store. */
@Command(name = "dead-letters", mixinStandardHelpOptions = true,
    description = "List, show, replay or discard dead letters in the store the configuration names (PostgreSQL or Redis). A replay runs the handler's real action with a fresh budget.",
    subcommands = {DeadLettersCommand.ListCmd.class, DeadLettersCommand.ShowCmd.class, DeadLettersCommand.ReplayCmd.class,
        DeadLettersCommand.DiscardCmd.class})
final class DeadLettersCommand implements Runnable {
  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "name a subcommand: list, show, replay or discard");
  }

  /** The filters list, replay --all and discard --all share. */
  static final class Filters {
    @Option(names = "--handler", paramLabel = "NAME", description = "only this handler's")
    String handler;

    @Option(names = "--since", paramLabel = "WHEN", description = "dead-lettered at or after: 2026-02-25T10:00:00Z, or an age such as 30m, 2h, 7d")
    String since;

    @Option(names = "--reason", paramLabel = "TEXT", description = "the reason or an attempt's outcome contains TEXT (any case)")
    String reason;

    @Option(names = "--limit", paramLabel = "N", defaultValue = "100", description = "at most N, newest first (default ${DEFAULT-VALUE})")
    int limit;

    DeadLetterQuery query() {
      if (limit < 1) {
        throw CliFailure.usage("--limit must be at least 1");
      }
      DeadLetterQuery q = DeadLetterQuery.all().limit(limit);
      if (handler != null) {
        q = q.handler(handler);
      }
      if (since != null) {
        q = q.since(parseSince(since));
      }
      if (reason != null) {
        q = q.errorContains(reason);
      }
      return q;
    }

    boolean any() {
      return handler != null || since != null || reason != null;
    }

    static Instant parseSince(String s) {
      String t = s.trim();
      try {
        return Instant.parse(t);
      } catch (DateTimeParseException e) {
        // an age
      }
      if (t.length() >= 2) {
        try {
          long n = Long.parseLong(t.substring(0, t.length() - 1));
          switch (Character.toLowerCase(t.charAt(t.length() - 1))) {
            case 's': return Instant.now().minusSeconds(n);
            case 'm': return Instant.now().minus(Duration.ofMinutes(n));
            case 'h': return Instant.now().minus(Duration.ofHours(n));
            case 'd': return Instant.now().minus(Duration.ofDays(n));
            default: break;
          }
        } catch (NumberFormatException e) {
          // falls through
        }
      }
      throw CliFailure.usage("--since " + s + ": give an instant (2026-02-25T10:00:00Z) or an age (90s, 30m, 2h, 7d)");
    }
  }

  @Command(name = "list", mixinStandardHelpOptions = true, description = "List dead letters, newest first.")
  static final class ListCmd implements Callable<Integer> {
    @Mixin
    Filters filters = new Filters();

    @Option(names = "--json", description = "print them as JSON")
    boolean json;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      Ctx ctx = Ctx.of(spec);
      ObserversConfig cfg = ctx.loadConfig();
      DeadLetterQuery q = filters.query();
      try (ObserverEngine engine = Engines.forDeadLetters(ctx, cfg, ctx.javaHandlers(cfg))) {
        List<DeadLetter> list = engine.deadLetters().list(q);
        if (json) {
          ObjectNode o = ctx.out.object();
          o.put("store", engine.deadLetters().store());
          ArrayNode arr = o.putArray("dead_letters");
          list.forEach(d -> arr.add(summary(ctx, d)));
          ctx.out.json(o);
        } else if (list.isEmpty()) {
          ctx.out.line("no dead letters" + (filters.any() ? " match" : "") + " (store: " + engine.deadLetters().store() + ")");
        } else {
          List<List<String>> rows = new ArrayList<>();
          for (DeadLetter d : list) {
            rows.add(List.of(d.id(), d.handler(), Out.time(d.deadLetteredAt()), Integer.toString(d.attempts().size()),
                d.event().name(), ctx.out.red(Out.cut(d.reason(), 70))));
          }
          ctx.out.table(List.of("ID", "HANDLER", "DEAD-LETTERED (UTC)", "ATTEMPTS", "EVENT", "REASON"), rows);
          ctx.out.line(ctx.out.dim(ValidateCommand.plural(list.size(), "dead letter") + " (store: " + engine.deadLetters().store()
              + (list.size() == q.limit() ? "; --limit " + q.limit() + " reached" : "") + ")"));
        }
      }
      return FraiseqlObserversCli.OK;
    }
  }

  @Command(name = "show", mixinStandardHelpOptions = true, description = "Show one dead letter: event, attempts, reason, payload.")
  static final class ShowCmd implements Callable<Integer> {
    @Parameters(paramLabel = "ID", description = "the dead letter's id")
    String id;

    @Option(names = "--json", description = "print it as JSON")
    boolean json;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      Ctx ctx = Ctx.of(spec);
      ObserversConfig cfg = ctx.loadConfig();
      try (ObserverEngine engine = Engines.forDeadLetters(ctx, cfg, ctx.javaHandlers(cfg))) {
        DeadLetter d = engine.deadLetters().get(id).orElseThrow(() -> CliFailure.failed("no dead letter with id " + id
            + " in " + engine.deadLetters().store()));
        if (json) {
          ObjectNode o = summary(ctx, d);
          ArrayNode arr = o.putArray("attempts");
          for (AttemptRecord a : d.attempts()) {
            ObjectNode n = arr.addObject();
            n.put("attempt", a.attempt());
            n.put("started_at", a.startedAt().toString());
            n.put("elapsed_ms", a.elapsed().toMillis());
            n.put("outcome", a.outcome());
          }
          o.set("payload", payload(d.event()));
          ctx.out.json(o);
          return FraiseqlObserversCli.OK;
        }
        Out out = ctx.out;
        out.line(out.bold("dead letter " + d.id()));
        List<List<String>> kv = new ArrayList<>();
        kv.add(List.of("handler", d.handler()));
        d.subject().ifPresent(s -> kv.add(List.of("subject", s)));
        kv.add(List.of("event", d.event().name() + " (" + d.event().operation() + " on " + d.event().table() + ")"));
        kv.add(List.of("event id", d.event().id().toString()));
        d.event().context().requestId().ifPresent(r -> kv.add(List.of("request id", r)));
        kv.add(List.of("dead-lettered", Out.time(d.deadLetteredAt()) + " UTC"));
        kv.add(List.of("reason", out.red(d.reason())));
        for (List<String> r : kv) {
          out.line(String.format("  %-14s %s", r.get(0), r.get(1)));
        }
        out.line();
        List<List<String>> rows = new ArrayList<>();
        for (AttemptRecord a : d.attempts()) {
          rows.add(List.of(Integer.toString(a.attempt()), Out.time(a.startedAt()), Out.duration(a.elapsed()), a.outcome()));
        }
        if (!rows.isEmpty()) {
          out.table(List.of("ATTEMPT", "STARTED (UTC)", "TOOK", "OUTCOME"), rows);
          out.line();
        }
        out.line(out.bold("payload"));
        try {
          out.line(Out.JSON.writeValueAsString(payload(d.event())));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
          out.line(d.event().toJsonString());
        }
      }
      return FraiseqlObserversCli.OK;
    }
  }

  @Command(name = "replay", mixinStandardHelpOptions = true,
      description = "Replay dead letters: a fresh delivery, with a fresh budget, through the handler's real action. Delivered: the dead letter is removed. Failed again: it is dead-lettered anew (a new id).")
  static final class ReplayCmd implements Callable<Integer> {
    @Parameters(arity = "0..*", paramLabel = "ID", description = "dead letters to replay")
    List<String> ids = new ArrayList<>();

    @Option(names = "--all", description = "replay every dead letter that matches the filters")
    boolean all;

    @Mixin
    Filters filters = new Filters();

    @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "120",
        description = "how long to wait for the replays to end (default ${DEFAULT-VALUE})")
    long timeoutSeconds;

    @Option(names = "--json", description = "print the outcomes as JSON")
    boolean json;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      Ctx ctx = Ctx.of(spec);
      if (ids.isEmpty() == !all) {
        throw CliFailure.usage("give dead-letter ids, or --all (with --handler, --since, --reason, --limit to narrow it)");
      }
      ObserversConfig cfg = ctx.loadConfig();
      Set<String> java = ctx.javaHandlers(cfg);
      try (ObserverEngine engine = Engines.forDeadLetters(ctx, cfg, java)) {
        List<String> targets = new ArrayList<>(ids);
        if (all) {
          engine.deadLetters().list(filters.query()).forEach(d -> targets.add(d.id()));
        }
        List<String> shown = new ArrayList<>();
        List<CompletableFuture<DeliveryOutcome>> futures = new ArrayList<>();
        List<String> errors = new ArrayList<>();
        for (String id : targets) {
          Optional<DeadLetter> d = engine.deadLetters().get(id);
          if (d.isEmpty()) {
            errors.add(id + ": no such dead letter");
            continue;
          }
          if (java.contains(d.get().handler())) {
            errors.add(id + ": handler " + d.get().handler() + " is a Java handler of the application; replay it there "
                + "(engine.deadLetters().replay(\"" + id + "\"))");
            continue;
          }
          try {
            futures.add(engine.deadLetters().replay(id).toCompletableFuture());
            shown.add(id);
          } catch (NoSuchElementException | ObserverException | IllegalStateException e) {
            errors.add(id + ": " + e.getMessage());
          }
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSeconds);
        ArrayNode arr = Out.JSON.createArrayNode();
        List<List<String>> rows = new ArrayList<>();
        boolean ok = errors.isEmpty();
        for (int i = 0; i < futures.size(); i++) {
          String id = shown.get(i);
          DeliveryOutcome o;
          try {
            o = futures.get(i).get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
          } catch (TimeoutException e) {
            errors.add(id + ": still running after " + timeoutSeconds + "s (it is dead-lettered again, reason shutdown, when this command exits)");
            ok = false;
            continue;
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw CliFailure.failed("interrupted");
          } catch (ExecutionException e) {
            errors.add(id + ": " + e.getCause());
            ok = false;
            continue;
          }
          ok &= o.status() == DeliveryOutcome.Status.DELIVERED || o.status() == DeliveryOutcome.Status.DUPLICATE;
          ObjectNode n = arr.addObject();
          n.put("id", id);
          outcome(n, o);
          rows.add(List.of(id, o.handler(), status(ctx, o), Integer.toString(o.attempts()), Out.duration(o.elapsed()), o.detail()));
        }
        if (json) {
          ObjectNode o = ctx.out.object();
          o.set("replayed", arr);
          ArrayNode e = o.putArray("errors");
          errors.forEach(e::add);
          ctx.out.json(o);
        } else {
          if (!rows.isEmpty()) {
            ctx.out.table(List.of("ID", "HANDLER", "OUTCOME", "ATTEMPTS", "TOOK", "DETAIL"), rows);
          } else if (errors.isEmpty()) {
            ctx.out.line("no dead letters match: nothing replayed");
          }
          errors.forEach(x -> ctx.out.line(ctx.out.red(x)));
        }
        return ok ? FraiseqlObserversCli.OK : FraiseqlObserversCli.FAILED;
      }
    }
  }

  @Command(name = "discard", mixinStandardHelpOptions = true, description = "Discard dead letters (they are deleted from the store).")
  static final class DiscardCmd implements Callable<Integer> {
    @Parameters(arity = "0..*", paramLabel = "ID", description = "dead letters to discard")
    List<String> ids = new ArrayList<>();

    @Option(names = "--all", description = "discard every dead letter that matches the filters")
    boolean all;

    @Mixin
    Filters filters = new Filters();

    @Option(names = "--json", description = "print the result as JSON")
    boolean json;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      Ctx ctx = Ctx.of(spec);
      if (ids.isEmpty() == !all) {
        throw CliFailure.usage("give dead-letter ids, or --all (with --handler, --since, --reason, --limit to narrow it)");
      }
      ObserversConfig cfg = ctx.loadConfig();
      try (ObserverEngine engine = Engines.forDeadLetters(ctx, cfg, ctx.javaHandlers(cfg))) {
        List<String> discarded = new ArrayList<>();
        List<String> missing = new ArrayList<>();
        for (String id : ids) {
          (engine.deadLetters().discard(id) ? discarded : missing).add(id);
        }
        int many = 0;
        if (all) {
          many = engine.deadLetters().discard(filters.query());
        }
        if (json) {
          ObjectNode o = ctx.out.object();
          ArrayNode d = o.putArray("discarded");
          discarded.forEach(d::add);
          o.put("discarded_by_filter", many);
          ArrayNode m = o.putArray("not_found");
          missing.forEach(m::add);
          ctx.out.json(o);
        } else {
          discarded.forEach(x -> ctx.out.line("discarded " + x));
          if (all) {
            ctx.out.line("discarded " + ValidateCommand.plural(many, "dead letter"));
          }
          missing.forEach(x -> ctx.out.line(ctx.out.red("no dead letter with id " + x)));
        }
        return missing.isEmpty() ? FraiseqlObserversCli.OK : FraiseqlObserversCli.FAILED;
      }
    }
  }

  static ObjectNode summary(Ctx ctx, DeadLetter d) {
    ObjectNode n = ctx.out.object();
    n.put("id", d.id());
    n.put("handler", d.handler());
    d.subject().ifPresent(s -> n.put("subject", s));
    n.put("event_id", d.event().id().toString());
    n.put("event", d.event().name());
    n.put("table", d.event().table());
    n.put("operation", d.event().operation().name());
    n.put("reason", d.reason());
    n.put("last_error", d.lastError());
    n.put("attempt_count", d.attempts().size());
    n.put("dead_lettered_at", d.deadLetteredAt().toString());
    return n;
  }

  static com.fasterxml.jackson.databind.JsonNode payload(ObservedEvent e) {
    try {
      return Out.JSON.readTree(e.toJson());
    } catch (java.io.IOException ex) {
      return Out.JSON.getNodeFactory().textNode(e.toJsonString());
    }
  }

  static void outcome(ObjectNode n, DeliveryOutcome o) {
    n.put("handler", o.handler());
    n.put("status", o.status().name());
    n.put("attempts", o.attempts());
    n.put("elapsed_ms", o.elapsed().toMillis());
    n.put("detail", o.detail());
  }

  static String status(Ctx ctx, DeliveryOutcome o) {
    switch (o.status()) {
      case DELIVERED:
        return ctx.out.green("DELIVERED");
      case DEAD_LETTERED:
        return ctx.out.red("DEAD_LETTERED");
      default:
        return ctx.out.yellow(o.status().name());
    }
  }
}

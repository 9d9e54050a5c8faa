package dev.fraiseql.observers.cli.internal;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fraiseql.observers.DryRun;
import dev.fraiseql.observers.ObservedEvent;
import dev.fraiseql.observers.ObserverConfigException;
import dev.fraiseql.observers.cli.FraiseqlObserversCli;
import dev.fraiseql.observers.config.HandlerConfig;
import dev.fraiseql.observers.config.ObserversConfig;
import dev.fraiseql.observers.config.RetryPolicy;
import dev.fraiseql.observers.config.SubscriptionConfig;
import dev.fraiseql.observers.config.Trigger;
import dev.fraiseql.observers.spi.ActionPreview;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code explain [--event file.json]}: the routing table, or what one event would do. */
@Command(name = "explain", mixinStandardHelpOptions = true,
    description = "Show the routing table: for each event name or table and operation, its handlers in definition order (the order they start in) with condition, action, retry budget and delivery guarantee. With --event, which handlers that event would fire and the exact request each would send (rendered template; configured header values and signatures masked). Sends nothing, connects to nothing.")
final class ExplainCommand implements Callable<Integer> {
  @Option(names = {"-e", "--event"}, paramLabel = "FILE", description = "an event's JSON (\"-\" reads stdin)")
  String event;

  @Option(names = "--json", description = "print the result as JSON")
  boolean json;

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    Ctx ctx = Ctx.of(spec);
    ObserversConfig cfg = ctx.loadConfig();
    ObservedEvent e = event == null ? null : Ctx.readEvent(event);
    DryRun plan;
    try {
      plan = ctx.builder(cfg, ctx.javaHandlers(cfg)).dryRun();
    } catch (ObserverConfigException ex) {
      ctx.printProblems(ctx.configPath(), ex.problems());
      return FraiseqlObserversCli.FAILED;
    }
    try (plan) {
      if (e == null) {
        table(ctx, cfg, plan);
      } else {
        explainEvent(ctx, cfg, plan, e);
      }
    }
    return FraiseqlObserversCli.OK;
  }

  private void table(Ctx ctx, ObserversConfig cfg, DryRun plan) {
    Map<Trigger, List<DryRun.Handler>> byTrigger = new LinkedHashMap<>();
    for (DryRun.Handler h : plan.handlers()) {
      byTrigger.computeIfAbsent(h.config().trigger(), t -> new ArrayList<>()).add(h);
    }
    if (json) {
      ObjectNode o = header(ctx, cfg);
      ArrayNode routes = o.putArray("routes");
      for (Map.Entry<Trigger, List<DryRun.Handler>> r : byTrigger.entrySet()) {
        ObjectNode n = routes.addObject();
        trigger(n, r.getKey());
        ArrayNode hs = n.putArray("handlers");
        for (DryRun.Handler h : r.getValue()) {
          hs.add(handler(ctx, h.config(), h.action()));
        }
      }
      ArrayNode subs = o.putArray("subscriptions");
      for (SubscriptionConfig s : cfg.subscriptions()) {
        ObjectNode n = subs.addObject();
        n.put("subject", s.subject());
        n.put("handler", s.handler());
        n.put("durable", s.durable());
        n.put("action", subscriptionAction(s));
        s.condition().ifPresent(c -> n.put("condition", c));
        n.set("retry", retry(ctx, s.retry()));
      }
      ctx.out.json(o);
      return;
    }
    printHeader(ctx, cfg);
    ctx.out.line();
    List<List<String>> rows = new ArrayList<>();
    for (Map.Entry<Trigger, List<DryRun.Handler>> r : byTrigger.entrySet()) {
      int i = 0;
      for (DryRun.Handler h : r.getValue()) {
        HandlerConfig c = h.config();
        rows.add(List.of(i == 0 ? ctx.out.bold(triggerText(r.getKey())) : "", Integer.toString(++i), c.name(),
            c.condition().orElse("-"), h.action(), budget(c.retry()), c.synchronous() ? "yes (" + c.synchronousTimeout().toMillis() + "ms)" : "no"));
      }
    }
    if (rows.isEmpty()) {
      ctx.out.line("no handlers");
    } else {
      ctx.out.table(List.of("EVENT", "#", "HANDLER", "CONDITION", "ACTION", "RETRY BUDGET", "SYNC"), rows);
    }
    if (!cfg.subscriptions().isEmpty()) {
      ctx.out.line();
      List<List<String>> subs = new ArrayList<>();
      for (SubscriptionConfig s : cfg.subscriptions()) {
        subs.add(List.of(ctx.out.bold(s.subject()), s.handler(), s.durable(), s.condition().orElse("-"),
            subscriptionAction(s), budget(s.retry())));
      }
      ctx.out.table(List.of("SUBSCRIBED SUBJECT", "HANDLER", "DURABLE", "CONDITION", "ACTION", "RETRY BUDGET"), subs);
    }
  }

  private void explainEvent(Ctx ctx, ObserversConfig cfg, DryRun plan, ObservedEvent e) {
    List<DryRun.Match> matches = plan.explain(e);
    if (json) {
      ObjectNode o = header(ctx, cfg);
      ObjectNode ev = o.putObject("event");
      ev.put("id", e.id().toString());
      ev.put("name", e.name());
      ev.put("table", e.table());
      ev.put("operation", e.operation().name());
      ArrayNode arr = o.putArray("handlers");
      int i = 0;
      for (DryRun.Match m : matches) {
        ObjectNode n = handler(ctx, m.handler(), m.action());
        n.put("order", ++i);
        n.put("fires", m.conditionHolds());
        m.preview().ifPresent(p -> {
          ObjectNode r = n.putObject("request");
          r.put("target", p.target());
          ObjectNode hs = r.putObject("headers");
          p.headers().forEach(hs::put);
          r.put("body", p.body());
        });
        m.previewError().ifPresent(x -> n.put("preview_error", x));
        arr.add(n);
      }
      ctx.out.json(o);
      return;
    }
    ctx.out.line(ctx.out.bold("event " + e.name()) + " (" + e.operation() + " on " + e.table() + ", id " + e.id() + ")");
    long fires = matches.stream().filter(DryRun.Match::conditionHolds).count();
    ctx.out.line(matches.isEmpty() ? "no handler matches this event: nothing would be sent"
        : "matches " + ValidateCommand.plural(matches.size(), "handler") + ", " + fires + " would fire (in this order); nothing was sent");
    int i = 0;
    for (DryRun.Match m : matches) {
      HandlerConfig c = m.handler();
      ctx.out.line();
      String state = m.conditionHolds() ? ctx.out.green("FIRES") : ctx.out.yellow("SKIPPED") + " (condition is false: " + c.condition().orElse("") + ")";
      ctx.out.line(ctx.out.bold((++i) + ". " + c.name()) + "  " + state);
      ctx.out.line("   " + m.action() + ", " + budget(c.retry()));
      if (m.previewError().isPresent()) {
        ctx.out.line("   " + ctx.out.red("cannot render the request: " + m.previewError().get()));
      }
      if (m.preview().isPresent()) {
        ActionPreview p = m.preview().get();
        ctx.out.line("   " + ctx.out.bold(p.target()));
        p.headers().forEach((k, v) -> ctx.out.line("   " + k + ": " + v));
        ctx.out.line();
        for (String line : p.body().split("\n", -1)) {
          ctx.out.line("   " + line);
        }
      } else if (m.conditionHolds() && m.previewError().isEmpty()) {
        ctx.out.line("   " + ctx.out.dim("(this action cannot show what it would do: it runs inside the application)"));
      }
    }
  }

  private ObjectNode header(Ctx ctx, ObserversConfig cfg) {
    ObjectNode o = ctx.out.object();
    o.put("file", cfg.source());
    o.put("backend", cfg.backend());
    o.put("checkpoint_strategy", cfg.checkpointStrategy().configName());
    o.put("max_in_flight", cfg.maxInFlight());
    o.put("overflow_policy", cfg.overflowPolicy().configName());
    return o;
  }

  private void printHeader(Ctx ctx, ObserversConfig cfg) {
    ctx.out.line(ctx.out.bold(cfg.source()) + ": backend " + cfg.backend() + ", delivery " + cfg.checkpointStrategy().configName()
        + (cfg.checkpointStrategy().configName().equals("effectively_once") ? " (keys in " + cfg.idempotencyStore().orElse("automatic store")
            + ", table " + cfg.idempotencyTable() + ")" : "")
        + ", max_in_flight " + cfg.maxInFlight() + " (" + cfg.overflowPolicy().configName() + ")");
  }

  private static void trigger(ObjectNode n, Trigger t) {
    t.eventName().ifPresent(x -> n.put("event", x));
    t.table().ifPresent(x -> n.put("table", x));
    t.operation().ifPresent(x -> n.put("operation", x.name()));
  }

  private static String triggerText(Trigger t) {
    if (t.eventName().isPresent()) {
      return t.eventName().get();
    }
    return t.table().orElse("") + " " + t.operation().map(Enum::name).orElse("(any operation)");
  }

  private ObjectNode handler(Ctx ctx, HandlerConfig c, String action) {
    ObjectNode n = ctx.out.object();
    n.put("name", c.name());
    trigger(n, c.trigger());
    c.condition().ifPresent(x -> n.put("condition", x));
    n.put("action_type", c.action());
    n.put("action", action);
    n.set("retry", retry(ctx, c.retry()));
    n.put("synchronous", c.synchronous());
    if (c.synchronous()) {
      n.put("synchronous_timeout_ms", c.synchronousTimeout().toMillis());
    }
    n.put("defined_at", c.location().toString());
    return n;
  }

  private static ObjectNode retry(Ctx ctx, RetryPolicy r) {
    ObjectNode n = ctx.out.object();
    n.put("max_attempts", r.maxAttempts());
    n.put("backoff_strategy", r.backoff().configName());
    n.put("initial_delay_ms", r.initialDelay().toMillis());
    n.put("max_delay_ms", r.maxDelay().toMillis());
    n.put("jitter", r.jitter());
    n.put("timeout_ms", r.attemptTimeout().toMillis());
    return n;
  }

  /** {@code 3× exponential 1s..60s ±20%, 30s/attempt} */
  static String budget(RetryPolicy r) {
    return r.maxAttempts() + "× " + r.backoff().configName() + " " + Out.compact(r.initialDelay()) + ".."
        + Out.compact(r.maxDelay()) + " ±" + Math.round(r.jitter() * 100) + "%, " + Out.compact(r.attemptTimeout())
        + " per attempt";
  }

  private static String subscriptionAction(SubscriptionConfig s) {
    Object a = s.settings().value("action").orElse(null);
    if (a instanceof String) {
      return ((String) a).toLowerCase(Locale.ROOT);
    }
    return "sql function " + s.handler() + " (or the Java handler of that name)";
  }
}

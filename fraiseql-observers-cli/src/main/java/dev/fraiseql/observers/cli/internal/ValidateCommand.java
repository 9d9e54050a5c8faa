package dev.fraiseql.observers.cli.internal;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fraiseql.observers.ObserverConfigException;
import dev.fraiseql.observers.ObserverEngine;
import dev.fraiseql.observers.cli.FraiseqlObserversCli;
import dev.fraiseql.observers.config.ConfigProblem;
import dev.fraiseql.observers.config.ObserversConfig;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code validate [fraiseql.toml]}: every problem at once, as the loader and the engine report them. */
@Command(name = "validate", mixinStandardHelpOptions = true,
    description = "Check a fraiseql.toml as the application's engine would: keys, types, $${VAR}s, actions, conditions, backend names. Every problem at once, each with file:line:column and a fix. Connects to nothing. Exit 0 valid, 1 invalid, 2 usage.")
final class ValidateCommand implements Callable<Integer> {
  @Parameters(index = "0", arity = "0..1", paramLabel = "FILE", description = "the file (default: --config, $FRAISEQL_CONFIG, ./fraiseql.toml)")
  Path file;

  @Option(names = "--json", description = "print the result as JSON")
  boolean json;

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    Ctx ctx = Ctx.of(spec);
    Path path = ctx.configPath(file);
    Ctx.requireReadable(path, "configuration file");
    List<ConfigProblem> problems;
    List<String> notes = new ArrayList<>();
    ObserversConfig cfg = null;
    try {
      cfg = ObserversConfig.load(path);
      Set<String> java = ctx.javaHandlers(cfg);
      for (String name : java) {
        notes.add("Java handler `" + name + "` is registered by the application (builder().handler(\"" + name
            + "\", ...)): not checked here");
      }
      ObserverEngine.Builder b = ctx.builder(cfg, java);
      problems = b.validate();
    } catch (ObserverConfigException e) {
      problems = e.problems();
    } catch (UncheckedIOException e) {
      throw CliFailure.usage("cannot read " + path + ": " + e.getCause().getMessage());
    }
    if (problems.stream().anyMatch(p -> p.message().startsWith("unknown action"))) {
      notes.add("an action that names a Java handler of your application: pass --java-handler NAME");
    }
    if (json) {
      ObjectNode o = ctx.out.object();
      o.put("file", path.toString());
      o.put("valid", problems.isEmpty());
      ArrayNode arr = o.putArray("problems");
      for (ConfigProblem p : problems) {
        ObjectNode n = arr.addObject();
        n.put("file", p.location().file());
        n.put("line", p.location().line());
        n.put("column", p.location().column());
        n.put("section", p.location().section());
        n.put("key", p.key());
        n.put("message", p.message());
        n.put("fix", p.fix());
        n.put("text", p.toString());
      }
      if (cfg != null && problems.isEmpty()) {
        o.put("backend", cfg.backend());
        o.put("handlers", cfg.handlers().size());
        o.put("subscriptions", cfg.subscriptions().size());
        o.put("checkpoint_strategy", cfg.checkpointStrategy().configName());
      }
      ArrayNode n = o.putArray("notes");
      notes.forEach(n::add);
      ctx.out.json(o);
    } else if (problems.isEmpty()) {
      ctx.out.line(ctx.out.green(path + ": valid") + " — backend " + cfg.backend() + ", " + plural(cfg.handlers().size(), "handler")
          + ", " + plural(cfg.subscriptions().size(), "subscription") + ", checkpoint " + cfg.checkpointStrategy().configName());
      notes.forEach(x -> ctx.out.line("  note: " + x));
    } else {
      ctx.printProblems(path, problems);
      notes.forEach(x -> ctx.out.line("  note: " + x));
    }
    return problems.isEmpty() ? FraiseqlObserversCli.OK : FraiseqlObserversCli.FAILED;
  }

  static String plural(int n, String word) {
    return n + " " + word + (n == 1 ? "" : "s");
  }
}

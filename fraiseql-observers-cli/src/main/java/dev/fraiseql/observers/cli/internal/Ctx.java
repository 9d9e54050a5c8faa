package dev.fraiseql.observers.cli.internal;

import dev.fraiseql.observers.ObservedEvent;
import dev.fraiseql.observers.ObserverConfigException;
import dev.fraiseql.observers.ObserverEngine;
import dev.fraiseql.observers.config.ConfigProblem;
import dev.fraiseql.observers.config.HandlerConfig;
import dev.fraiseql.observers.config.ObserversConfig;
import dev.fraiseql.observers.config.SubscriptionConfig;
import dev.fraiseql.observers.spi.PermanentFailureException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import picocli.CommandLine;

/** What every command shares: the global options, the output, loading the config and building engines. */
final class Ctx {
  final RootCommand root;
  final Out out;

  private Ctx(RootCommand root, Out out) {
    this.root = root;
    this.out = out;
  }

  /** The context of the command {@code spec} belongs to; sets up logging before any engine class logs. */
  static Ctx of(CommandLine.Model.CommandSpec spec) {
    RootCommand root = (RootCommand) spec.root().userObject();
    if (System.getProperty("org.slf4j.simpleLogger.defaultLogLevel") == null) {
      System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", root.verbose ? "debug" : "warn");
    }
    System.setProperty("org.slf4j.simpleLogger.logFile", "System.err");
    System.setProperty("org.slf4j.simpleLogger.showThreadName", "false");
    System.setProperty("org.slf4j.simpleLogger.showLogName", "false");
    System.setProperty("org.slf4j.simpleLogger.levelInBrackets", "true");
    CommandLine cl = spec.commandLine();
    return new Ctx(root, new Out(cl.getOut(), cl.getErr(), Out.colorFor(root.color)));
  }

  /** The config file: --config, else $FRAISEQL_CONFIG, else ./fraiseql.toml. */
  Path configPath(Path explicit) {
    if (explicit != null) {
      return explicit;
    }
    if (root.config != null) {
      return root.config;
    }
    String env = System.getenv("FRAISEQL_CONFIG");
    return Path.of(env != null && !env.isBlank() ? env : "fraiseql.toml");
  }

  Path configPath() {
    return configPath(null);
  }

  /** Checks that the file can be read: a missing or unreadable file is a usage error (exit 2). */
  static void requireReadable(Path file, String what) {
    if (!Files.isRegularFile(file)) {
      throw CliFailure.usage(what + " " + file + " does not exist or is not a file");
    }
    if (!Files.isReadable(file)) {
      throw CliFailure.usage(what + " " + file + " cannot be read (permissions)");
    }
  }

  /**
   * Loads the config; an invalid one prints every problem and fails with exit code 1.
   */
  ObserversConfig loadConfig() {
    Path path = configPath();
    requireReadable(path, "configuration file");
    try {
      return ObserversConfig.load(path);
    } catch (ObserverConfigException e) {
      printProblems(path, e.problems());
      throw CliFailure.failed(path + " is not valid (run `fraiseql-observers validate " + path + "`)");
    } catch (UncheckedIOException e) {
      throw CliFailure.usage("cannot read " + path + ": " + e.getCause().getMessage());
    }
  }

  void printProblems(Path path, List<ConfigProblem> problems) {
    out.line(out.red(path + " has " + problems.size() + (problems.size() == 1 ? " problem:" : " problems:")));
    for (ConfigProblem p : problems) {
      out.line("  " + p);
    }
  }

  /**
   * The Java handlers the config names that the command line registers as stand-ins: those given with
   * --java-handler or $FRAISEQL_JAVA_HANDLERS, and every {@code action = "handler"} target (which can
   * only be a Java handler). A stand-in fails permanently: the command line cannot run the host's code.
   */
  Set<String> javaHandlers(ObserversConfig cfg) {
    Set<String> names = new LinkedHashSet<>(root.javaHandlers);
    String env = System.getenv("FRAISEQL_JAVA_HANDLERS");
    if (env != null) {
      for (String s : env.split(",")) {
        if (!s.isBlank()) {
          names.add(s.trim());
        }
      }
    }
    for (HandlerConfig h : cfg.handlers()) {
      if ("handler".equals(h.action()) && h.settings().value("handler").orElse(null) instanceof String) {
        names.add((String) h.settings().value("handler").get());
      }
    }
    for (SubscriptionConfig s : cfg.subscriptions()) {
      if ("handler".equals(s.settings().value("action").orElse(null))) {
        names.add(s.handler());
      }
    }
    return names;
  }

  /** A builder for {@code cfg} with stand-ins for the Java handlers it names. */
  ObserverEngine.Builder builder(ObserversConfig cfg, Set<String> javaHandlers) {
    ObserverEngine.Builder b = ObserverEngine.builder().config(cfg);
    for (String name : javaHandlers) {
      b.handler(name, event -> {
        throw new PermanentFailureException("Java handler " + name + " runs only inside the application that registers it");
      });
    }
    return b;
  }

  /** Reads an event file (the event's JSON, as the library writes it or as seed payloads show it); "-" is stdin. */
  static ObservedEvent readEvent(String file) {
    byte[] bytes;
    try {
      if ("-".equals(file)) {
        bytes = System.in.readAllBytes();
      } else {
        bytes = Files.readAllBytes(Path.of(file));
      }
    } catch (NoSuchFileException e) {
      throw CliFailure.usage("event file " + file + " does not exist");
    } catch (IOException e) {
      throw CliFailure.usage("cannot read event file " + file + ": " + e.getMessage());
    }
    try {
      return ObservedEvent.fromJson(bytes);
    } catch (IllegalArgumentException e) {
      throw CliFailure.usage(file + ": " + e.getMessage()
          + " (an event looks like {\"event\":\"INSERT\",\"table\":\"tb_user\",\"data\":{\"new\":{...},\"old\":null}})");
    }
  }
}

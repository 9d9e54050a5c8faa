package dev.fraiseql.observers.cli.internal;

import dev.fraiseql.observers.cli.FraiseqlObserversCli;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.AutoComplete;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/** The top command: global options and the list of commands. */
@Command(name = "fraiseql-observers", mixinStandardHelpOptions = true, versionProvider = RootCommand.Version.class,
    description = "Operate fraiseql-observers from a shell: check a fraiseql.toml, see what an event would do, inspect and replay dead letters, look at the outbox, send one event. Reads the same fraiseql.toml and environment ($${VAR}, url_env, secrets) as the application.",
    subcommands = {ValidateCommand.class, ExplainCommand.class, DeadLettersCommand.class, OutboxCommand.class,
        CaptureCommand.class, SendCommand.class, AutoComplete.GenerateCompletion.class},
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {"0:success", "1:invalid configuration, failed delivery or replay, not found, server unreachable,"
        + " capture triggers not as configured",
        "2:usage error (unknown option, missing argument, unreadable file)"},
    footer = {"", "Configuration: --config, else $FRAISEQL_CONFIG, else ./fraiseql.toml."})
public final class RootCommand implements Runnable {

  @Option(names = {"-c", "--config"}, scope = ScopeType.INHERIT, paramLabel = "FILE",
      description = "the fraiseql.toml to read (default: $FRAISEQL_CONFIG, else ./fraiseql.toml)")
  Path config;

  @Option(names = "--color", scope = ScopeType.INHERIT, paramLabel = "WHEN", defaultValue = "auto",
      description = "colour the output: auto (on a terminal, unless NO_COLOR is set), always, never")
  String color;

  @Option(names = {"-v", "--verbose"}, scope = ScopeType.INHERIT,
      description = "log the engine's work to stderr (DEBUG); by default only warnings")
  boolean verbose;

  @Option(names = "--java-handler", scope = ScopeType.INHERIT, paramLabel = "NAME", split = ",",
      description = "a Java handler the application registers (builder().handler(NAME, ...)); the command "
          + "line cannot run it, but accepts handlers that name it (also $FRAISEQL_JAVA_HANDLERS, comma-separated)")
  List<String> javaHandlers = new ArrayList<>();

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "name a command");
  }

  /** A command line for this command, with the exit codes and error handling set up. */
  public static CommandLine commandLine() {
    CommandLine cl = new CommandLine(new RootCommand());
    cl.setCaseInsensitiveEnumValuesAllowed(true);
    cl.setExecutionExceptionHandler((ex, cmd, parseResult) -> {
      if (ex instanceof CliFailure) {
        CliFailure f = (CliFailure) ex;
        cmd.getErr().println("fraiseql-observers: " + f.getMessage());
        return f.exitCode();
      }
      cmd.getErr().println("fraiseql-observers: " + ex.getClass().getSimpleName()
          + (ex.getMessage() == null ? "" : ": " + ex.getMessage()));
      return FraiseqlObserversCli.FAILED;
    });
    return cl;
  }

  /** The version from the jar's manifest. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = RootCommand.class.getPackage().getImplementationVersion();
      return new String[] {"fraiseql-observers " + (v == null ? "(development build)" : v),
          "JVM: ${java.version} (${java.vendor} ${java.vm.name})"};
    }
  }
}

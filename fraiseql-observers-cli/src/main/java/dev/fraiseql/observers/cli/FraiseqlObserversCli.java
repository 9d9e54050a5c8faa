package dev.fraiseql.observers.cli;

import dev.fraiseql.observers.cli.internal.RootCommand;
import java.io.PrintWriter;
import picocli.CommandLine;

/**
 * Entry point of the {@code fraiseql-observers} command line.
 *
 * <pre>
 * fraiseql-observers validate [fraiseql.toml] [--json]
 * fraiseql-observers explain [--event event.json] [--json]
 * fraiseql-observers dead-letters list|show|replay|discard ... [--json]
 * fraiseql-observers outbox status [--json]
 * fraiseql-observers send event.json [--json]
 * fraiseql-observers generate-completion
 * </pre>
 *
 * Exit codes: {@value #OK} success; {@value #FAILED} an invalid configuration, a failed delivery or
 * replay, or something not found; {@value #USAGE} a usage error (unknown option, missing argument,
 * unreadable file).
 */
public final class FraiseqlObserversCli {
  /** Success. */
  public static final int OK = 0;
  /** An invalid configuration, a failed delivery or replay, a dead letter not found, a server that cannot be reached. */
  public static final int FAILED = 1;
  /** A usage error. */
  public static final int USAGE = 2;

  private FraiseqlObserversCli() {}

  /** Runs the command line and exits with its code. */
  public static void main(String[] args) {
    System.exit(run(new PrintWriter(System.out, true), new PrintWriter(System.err, true), args));
  }

  /**
   * Runs the command line, printing to {@code out} and {@code err}.
   *
   * @return the exit code
   */
  public static int run(PrintWriter out, PrintWriter err, String... args) {
    CommandLine cl = RootCommand.commandLine();
    cl.setOut(out);
    cl.setErr(err);
    return cl.execute(args);
  }
}

package dev.fraiseql.observers.cli.internal;

import dev.fraiseql.observers.cli.FraiseqlObserversCli;

/** A failure the command explains itself: printed as one line on stderr, with an exit code. */
final class CliFailure extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private final int exitCode;

  CliFailure(String message, int exitCode) {
    super(message, null, false, false);
    this.exitCode = exitCode;
  }

  static CliFailure failed(String message) {
    return new CliFailure(message, FraiseqlObserversCli.FAILED);
  }

  static CliFailure usage(String message) {
    return new CliFailure(message, FraiseqlObserversCli.USAGE);
  }

  int exitCode() {
    return exitCode;
  }
}

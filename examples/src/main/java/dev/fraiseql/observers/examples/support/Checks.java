package dev.fraiseql.observers.examples.support;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;

/** Prints {@code PASS}/{@code FAIL} lines and keeps the failures. */
public final class Checks {
  private final PrintStream out;
  private final List<String> failures = new ArrayList<>();

  public Checks(PrintStream out) {
    this.out = out;
  }

  /** Prints {@code PASS what} or {@code FAIL what (detail)}. */
  public boolean check(boolean ok, String what, String detail) {
    if (ok) {
      out.println("  PASS " + what);
    } else {
      out.println("  FAIL " + what + " — " + detail);
      failures.add(what + ": " + detail);
    }
    return ok;
  }

  /** Records a failure that is not a check (a timeout, an error). */
  public void fail(String what) {
    out.println("  FAIL " + what);
    failures.add(what);
  }

  public List<String> failures() {
    return List.copyOf(failures);
  }
}

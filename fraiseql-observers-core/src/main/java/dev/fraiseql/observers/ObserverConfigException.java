package dev.fraiseql.observers;

import dev.fraiseql.observers.config.ConfigProblem;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The configuration cannot be used. Carries every problem found, not just the first, each naming
 * the file, line, column and key and saying how to fix it:
 *
 * <pre>
 * fraiseql.toml has 2 problems:
 *   fraiseql.toml:14:1: unknown key `max_atempts` in [[observers.handlers]] #2 — did you mean `max_attempts`?
 *   fraiseql.toml:9:16: environment variable WELCOME_EMAIL_SERVICE_URL is not set (in webhook_url of [[observers.handlers]] #1) — set it, or ...
 * </pre>
 *
 * Messages never contain secret values: they name variables and keys, not what they hold.
 */
public class ObserverConfigException extends ObserverException {
  private static final long serialVersionUID = 1L;
  private final transient List<ConfigProblem> problems;

  public ObserverConfigException(String source, List<ConfigProblem> problems) {
    super(render(source, problems));
    this.problems = List.copyOf(problems);
  }

  public ObserverConfigException(ConfigProblem problem) {
    this(problem.location().file(), List.of(problem));
  }

  /** Every problem found, in file order. */
  public List<ConfigProblem> problems() {
    return problems;
  }

  private static String render(String source, List<ConfigProblem> problems) {
    if (problems.isEmpty()) {
      throw new IllegalArgumentException("an ObserverConfigException needs at least one problem");
    }
    if (problems.size() == 1) {
      return problems.get(0).toString();
    }
    return source + " has " + problems.size() + " problems:\n"
        + problems.stream().map(p -> "  " + p).collect(Collectors.joining("\n"));
  }
}

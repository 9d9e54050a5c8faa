package dev.fraiseql.observers.email.internal;

import dev.fraiseql.observers.ObserverConfigException;
import dev.fraiseql.observers.config.ConfigProblem;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/** Collects every configuration problem of a handler, so that all are reported at once, not just the first. */
final class Problems {
  private final List<ConfigProblem> problems = new ArrayList<>();

  /** The value, or {@code fallback} after recording the problems {@code step} reported. */
  <T> T check(Supplier<T> step, T fallback) {
    try {
      return step.get();
    } catch (ObserverConfigException e) {
      problems.addAll(e.problems());
      return fallback;
    }
  }

  void throwIfAny(String source) {
    if (!problems.isEmpty()) {
      throw new ObserverConfigException(source, problems);
    }
  }
}

package dev.fraiseql.observers.internal.config;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;

/**
 * Expands {@code ${VAR}} in a string from an environment lookup. {@code $${} writes a literal
 * {@code ${}; a {@code $} not followed by {@code {} is kept as it is. A variable's value is inserted
 * as is (never expanded again) and never appears in an error.
 */
final class EnvExpander {
  /** One thing wrong in a string: what, and at which offset of the (decoded) string. */
  static final class Issue {
    final int offset;
    final String variable;
    final String message;
    final String fix;

    Issue(int offset, String variable, String message, String fix) {
      this.offset = offset;
      this.variable = variable;
      this.message = message;
      this.fix = fix;
    }
  }

  /** The expanded string, whether any variable was used, and the problems found. */
  static final class Result {
    final String value;
    final boolean expanded;
    final List<Issue> issues;

    Result(String value, boolean expanded, List<Issue> issues) {
      this.value = value;
      this.expanded = expanded;
      this.issues = issues;
    }
  }

  private EnvExpander() {}

  /**
   * Expands {@code s}. With {@code env} null, variables are not allowed here: each {@code ${NAME}} is an
   * issue (with {@link Issue#variable} set and a null message, which the caller words), and only the
   * {@code $${} escape is applied.
   */
  static Result expand(String s, Function<String, Optional<String>> env) {
    if (s.indexOf('$') < 0) {
      return new Result(s, false, List.of());
    }
    StringBuilder out = new StringBuilder(s.length() + 32);
    List<Issue> issues = new ArrayList<>();
    boolean expanded = false;
    java.util.Set<String> reported = new java.util.HashSet<>();
    int i = 0;
    while (i < s.length()) {
      char c = s.charAt(i);
      if (c == '$' && s.startsWith("$${", i)) {
        out.append("${");
        i += 3;
        continue;
      }
      if (c == '$' && s.startsWith("${", i)) {
        int close = s.indexOf('}', i + 2);
        if (close < 0) {
          issues.add(new Issue(i, null, "`${` is not closed with `}`",
              "write ${NAME} to use a variable, or $${ for a literal ${"));
          out.append(s, i, s.length());
          break;
        }
        String name = s.substring(i + 2, close);
        if (!validName(name)) {
          if (reported.add("")) {
            issues.add(new Issue(i, null, "`${...}` does not hold a variable name",
                "a variable name is letters, digits and _, not starting with a digit; write $${ for a literal ${"));
          }
        } else if (env == null) {
          if (reported.add(name)) {
            issues.add(new Issue(i, name, null, null));
          }
        } else {
          Optional<String> value = env.apply(name);
          if (value == null || value.isEmpty()) {
            if (reported.add(name)) {
              issues.add(new Issue(i, name, "environment variable " + name + " is not set",
                  "set " + name + " in the environment, or write the value directly"));
            }
          } else {
            out.append(value.get());
            expanded = true;
          }
        }
        i = close + 1;
        continue;
      }
      out.append(c);
      i++;
    }
    return new Result(out.toString(), expanded, issues);
  }

  static boolean validName(String name) {
    if (name.isEmpty() || name.length() > 256) {
      return false;
    }
    for (int k = 0; k < name.length(); k++) {
      char c = name.charAt(k);
      boolean ok = c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (k > 0 && c >= '0' && c <= '9');
      if (!ok) {
        return false;
      }
    }
    return true;
  }
}

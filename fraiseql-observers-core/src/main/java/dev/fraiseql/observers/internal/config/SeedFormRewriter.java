package dev.fraiseql.observers.internal.config;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Makes seed 000's rule form valid TOML without moving any line: {@code [[observers]]} becomes
 * {@code [[observers.rules]]}, and {@code [[observers.actions]]} (or a sub-table of it) that follows
 * such an entry (or a {@code [[observers.rules]]} entry) becomes {@code [[observers.rules.actions]]}.
 * Header lines inside multi-line strings are
 * left alone. Only the header text of a rewritten line changes, so every line number stays true.
 */
final class SeedFormRewriter {
  private static final Pattern RULE = Pattern.compile("^(\\s*)\\[\\[\\s*observers\\s*\\]\\](.*)$", Pattern.DOTALL);
  private static final Pattern ACTION = Pattern.compile(
      "^(\\s*)(\\[\\[?)\\s*observers\\s*\\.\\s*actions\\s*(\\]\\]?|\\.)(.*)$", Pattern.DOTALL);
  private static final Pattern CANONICAL_RULE = Pattern.compile(
      "^\\s*\\[\\[\\s*observers\\s*\\.\\s*rules\\s*\\]\\](.*)$", Pattern.DOTALL);
  private static final Pattern HEADER = Pattern.compile("^\\s*\\[.*", Pattern.DOTALL);

  /** The rewritten text and whether the seed form was seen. */
  static final class Result {
    final String text;
    final boolean seedForm;

    Result(String text, boolean seedForm) {
      this.text = text;
      this.seedForm = seedForm;
    }
  }

  private SeedFormRewriter() {}

  static Result rewrite(String toml) {
    StringBuilder out = new StringBuilder(toml.length() + 64);
    boolean seedForm = false;
    boolean changed = false;
    boolean inRule = false;
    int state = 0; // 0 none, 1 inside """, 2 inside '''
    int start = 0;
    while (start <= toml.length()) {
      int nl = toml.indexOf('\n', start);
      int end = nl < 0 ? toml.length() : nl;
      String line = toml.substring(start, end);
      if (state == 0 && HEADER.matcher(line).matches()) {
        Matcher rule = RULE.matcher(line);
        Matcher action = ACTION.matcher(line);
        if (rule.matches()) {
          line = rule.group(1) + "[[observers.rules]]" + rule.group(2);
          seedForm = true;
          changed = true;
          inRule = true;
        } else if (CANONICAL_RULE.matcher(line).matches()) {
          inRule = true;
        } else if (inRule && action.matches()) {
          line = action.group(1) + action.group(2) + "observers.rules.actions" + action.group(3) + action.group(4);
          changed = true;
        } else {
          inRule = false;
        }
      }
      state = scan(line, state);
      out.append(line);
      if (nl < 0) {
        break;
      }
      out.append('\n');
      start = nl + 1;
    }
    return new Result(changed ? out.toString() : toml, seedForm);
  }

  /** The multi-line string state after {@code line}, starting in {@code state}. */
  private static int scan(String line, int state) {
    int i = 0;
    int n = line.length();
    while (i < n) {
      if (state == 1) {
        int close = line.indexOf("\"\"\"", i);
        while (close > 0 && escaped(line, close)) {
          close = line.indexOf("\"\"\"", close + 1);
        }
        if (close < 0) {
          return 1;
        }
        state = 0;
        i = close + 3;
        continue;
      }
      if (state == 2) {
        int close = line.indexOf("'''", i);
        if (close < 0) {
          return 2;
        }
        state = 0;
        i = close + 3;
        continue;
      }
      char c = line.charAt(i);
      if (c == '#') {
        return 0;
      }
      if (line.startsWith("\"\"\"", i)) {
        state = 1;
        i += 3;
      } else if (line.startsWith("'''", i)) {
        state = 2;
        i += 3;
      } else if (c == '"') {
        i++;
        while (i < n && line.charAt(i) != '"') {
          i += line.charAt(i) == '\\' ? 2 : 1;
        }
        i++;
      } else if (c == '\'') {
        int close = line.indexOf('\'', i + 1);
        i = close < 0 ? n : close + 1;
      } else {
        i++;
      }
    }
    return state;
  }

  private static boolean escaped(String line, int at) {
    int backslashes = 0;
    for (int k = at - 1; k >= 0 && line.charAt(k) == '\\'; k--) {
      backslashes++;
    }
    return backslashes % 2 == 1;
  }
}

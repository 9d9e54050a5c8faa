package dev.fraiseql.observers.internal.config;

import java.util.ArrayList;
import java.util.List;

/**
 * Finds where, in the file, a character of a decoded TOML string value was written: the value of the
 * key at (line, column), character {@code offset} of the decoded string, allowing for escapes, literal
 * strings and multi-line strings. Used to point at the exact column of a bad condition or a missing
 * {@code ${VAR}}. Returns null when the value is not a plain string written after its key.
 */
final class ValueLocator {
  private final List<String> lines = new ArrayList<>();

  ValueLocator(String text) {
    int start = 0;
    while (true) {
      int nl = text.indexOf('\n', start);
      if (nl < 0) {
        lines.add(text.substring(start));
        break;
      }
      lines.add(text.substring(start, nl));
      start = nl + 1;
    }
  }

  /** {line, column} (1-based) of decoded character {@code offset}, or null. */
  int[] locate(int keyLine, int keyColumn, int offset) {
    try {
      return find(keyLine, keyColumn, offset);
    } catch (RuntimeException e) {
      return null;
    }
  }

  private int[] find(int keyLine, int keyColumn, int offset) {
    if (keyLine < 1 || keyLine > lines.size() || offset < 0) {
      return null;
    }
    int li = keyLine - 1;
    String line = lines.get(li);
    int i = Math.max(0, keyColumn - 1);
    // skip the key (bare, quoted or dotted) up to '='
    while (i < line.length() && line.charAt(i) != '=') {
      char c = line.charAt(i);
      if (c == '"' || c == '\'') {
        int close = line.indexOf(c, i + 1);
        if (close < 0) {
          return null;
        }
        i = close + 1;
      } else {
        i++;
      }
    }
    if (i >= line.length()) {
      return null;
    }
    i++;
    while (i < line.length() && (line.charAt(i) == ' ' || line.charAt(i) == '\t')) {
      i++;
    }
    if (i >= line.length()) {
      return null;
    }
    char q = line.charAt(i);
    if (q != '"' && q != '\'') {
      return null;
    }
    boolean multi = line.startsWith(q == '"' ? "\"\"\"" : "'''", i);
    boolean basic = q == '"';
    i += multi ? 3 : 1;
    if (multi && i >= line.length()) {
      li++; // a newline right after the opening delimiter is trimmed
      i = 0;
      if (li >= lines.size()) {
        return null;
      }
      line = lines.get(li);
    }
    int decoded = 0;
    while (true) {
      if (i >= line.length()) {
        if (!multi) {
          return null;
        }
        if (decoded == offset) {
          return new int[] {li + 1, i + 1};
        }
        decoded++; // the newline itself
        li++;
        i = 0;
        if (li >= lines.size()) {
          return null;
        }
        line = lines.get(li);
        continue;
      }
      if (multi ? line.startsWith(basic ? "\"\"\"" : "'''", i) : line.charAt(i) == q) {
        return decoded == offset ? new int[] {li + 1, i + 1} : null;
      }
      if (decoded == offset) {
        return new int[] {li + 1, i + 1};
      }
      char c = line.charAt(i);
      if (basic && c == '\\') {
        char e = i + 1 < line.length() ? line.charAt(i + 1) : '\n';
        if (e == 'u') {
          i += 6;
          decoded++;
        } else if (e == 'U') {
          int cp = Integer.parseInt(line.substring(i + 2, i + 10), 16);
          i += 10;
          decoded += Character.charCount(cp);
        } else if (multi && (e == '\n' || e == ' ' || e == '\t' || e == '\r')) {
          // line-ending backslash: skip all whitespace and newlines
          i++;
          while (true) {
            while (i < line.length() && Character.isWhitespace(line.charAt(i))) {
              i++;
            }
            if (i < line.length()) {
              break;
            }
            li++;
            i = 0;
            if (li >= lines.size()) {
              return null;
            }
            line = lines.get(li);
          }
        } else {
          i += 2;
          decoded++;
        }
      } else {
        i++;
        decoded++;
      }
    }
  }
}

package dev.fraiseql.observers.internal.config;

/**
 * Finds arrays and inline tables nested deeper than any real configuration needs, before the TOML
 * parser sees them: the parser's recursion (and its error recovery) grows with nesting, so absurd
 * input would cost stack and time. Strings and comments are skipped.
 */
final class NestingGuard {
  private NestingGuard() {}

  /** {line, column} (1-based) of the first bracket deeper than {@code max}, or null. */
  static int[] tooDeep(String text, int max) {
    int depth = 0;
    int line = 1;
    int col = 0;
    int n = text.length();
    for (int i = 0; i < n; i++) {
      char c = text.charAt(i);
      col++;
      if (c == '\n') {
        line++;
        col = 0;
        continue;
      }
      if (c == '#') {
        while (i + 1 < n && text.charAt(i + 1) != '\n') {
          i++;
        }
        continue;
      }
      if (c == '"' || c == '\'') {
        boolean multi = text.startsWith(c == '"' ? "\"\"\"" : "'''", i);
        String close = multi ? (c == '"' ? "\"\"\"" : "'''") : String.valueOf(c);
        int j = i + (multi ? 3 : 1);
        while (j < n) {
          char d = text.charAt(j);
          if (d == '\\' && c == '"') {
            j += 2;
            continue;
          }
          if (!multi && d == '\n') {
            break;
          }
          if (text.startsWith(close, j)) {
            j += close.length();
            break;
          }
          j++;
        }
        // account for newlines inside the string
        boolean newline = false;
        for (int k = i + 1; k < Math.min(j, n); k++) {
          if (text.charAt(k) == '\n') {
            line++;
            col = 0;
            newline = true;
          } else {
            col++;
          }
        }
        if (newline && col == 0) {
          col = 0;
        }
        i = Math.min(j, n) - 1;
        continue;
      }
      if (c == '[' || c == '{') {
        if (++depth > max) {
          return new int[] {line, col};
        }
      } else if (c == ']' || c == '}') {
        depth = Math.max(0, depth - 1);
      }
    }
    return null;
  }
}

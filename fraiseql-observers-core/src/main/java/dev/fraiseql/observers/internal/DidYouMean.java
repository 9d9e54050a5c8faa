package dev.fraiseql.observers.internal;

import java.util.Collection;
import java.util.Locale;
import java.util.Optional;

/** Suggests the closest known name for a misspelt one. */
public final class DidYouMean {
  private DidYouMean() {}

  /** The closest candidate within an edit distance of max(2, length/4), or a case-insensitive match. */
  public static Optional<String> closest(String given, Collection<String> candidates) {
    if (given == null) {
      return Optional.empty();
    }
    String g = given.toLowerCase(Locale.ROOT);
    String best = null;
    int bestDistance = Integer.MAX_VALUE;
    for (String c : candidates) {
      int d = distance(g, c.toLowerCase(Locale.ROOT));
      if (d < bestDistance) {
        bestDistance = d;
        best = c;
      }
    }
    int allowed = Math.max(2, g.length() / 4);
    return best != null && bestDistance <= allowed ? Optional.of(best) : Optional.empty();
  }

  /** " — did you mean `x`?" or, with none close, " — expected one of: a, b, c". */
  public static String hint(String given, Collection<String> candidates) {
    return closest(given, candidates).map(c -> "did you mean `" + c + "`?")
        .orElse("expected one of: " + String.join(", ", candidates.stream().sorted().toList()));
  }

  /** Optimal string alignment distance (Levenshtein with transpositions). */
  public static int distance(String a, String b) {
    int n = a.length();
    int m = b.length();
    if (Math.abs(n - m) > 8) {
      return Math.abs(n - m);
    }
    int[][] d = new int[n + 1][m + 1];
    for (int i = 0; i <= n; i++) {
      d[i][0] = i;
    }
    for (int j = 0; j <= m; j++) {
      d[0][j] = j;
    }
    for (int i = 1; i <= n; i++) {
      for (int j = 1; j <= m; j++) {
        int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
        d[i][j] = Math.min(Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + cost);
        if (i > 1 && j > 1 && a.charAt(i - 1) == b.charAt(j - 2) && a.charAt(i - 2) == b.charAt(j - 1)) {
          d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
        }
      }
    }
    return d[n][m];
  }
}

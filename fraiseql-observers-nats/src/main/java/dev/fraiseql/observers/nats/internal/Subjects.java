package dev.fraiseql.observers.nats.internal;

/** NATS subject syntax and matching, as the server applies it. */
public final class Subjects {
  private Subjects() {}

  /** Dot-separated non-empty tokens without white space; wildcards only where {@code wildcards}. */
  public static boolean isValid(String subject, boolean wildcards) {
    if (subject == null || subject.isEmpty()) {
      return false;
    }
    String[] tokens = subject.split("\\.", -1);
    for (int i = 0; i < tokens.length; i++) {
      String t = tokens[i];
      if (t.isEmpty() || t.chars().anyMatch(c -> c <= ' ' || c == 127)) {
        return false;
      }
      if (t.contains("*") || t.contains(">")) {
        if (!wildcards || !(t.equals("*") || t.equals(">")) || (t.equals(">") && i != tokens.length - 1)) {
          return false;
        }
      }
    }
    return true;
  }

  /**
   * Whether every subject matched by {@code filter} is also matched by {@code pattern}
   * ({@code fraiseql.>} covers {@code fraiseql.order.created} and {@code fraiseql.*.created}).
   */
  public static boolean covers(String pattern, String filter) {
    String[] p = pattern.split("\\.", -1);
    String[] f = filter.split("\\.", -1);
    for (int i = 0; i < p.length; i++) {
      if (p[i].equals(">")) {
        return f.length > i;
      }
      if (i >= f.length) {
        return false;
      }
      if (p[i].equals("*")) {
        if (f[i].equals(">")) {
          return false;
        }
        continue;
      }
      if (!p[i].equals(f[i])) {
        return false;
      }
    }
    return p.length == f.length;
  }
}

package dev.fraiseql.observers.internal.memory;

/** NATS-style subject matching: tokens separated by '.', {@code *} matches one token, {@code >} the rest. */
public final class Subjects {
  private Subjects() {}

  public static boolean isWildcard(String pattern) {
    for (String t : pattern.split("\\.", -1)) {
      if (t.equals("*") || t.equals(">")) {
        return true;
      }
    }
    return false;
  }

  /** Whether {@code subject} (no wildcards) matches {@code pattern}. */
  public static boolean matches(String pattern, String subject) {
    if (pattern.equals(subject)) {
      return true;
    }
    String[] p = pattern.split("\\.", -1);
    String[] s = subject.split("\\.", -1);
    for (int i = 0; i < p.length; i++) {
      if (p[i].equals(">")) {
        return i == p.length - 1 && s.length > i;
      }
      if (i >= s.length) {
        return false;
      }
      if (!p[i].equals("*") && !p[i].equals(s[i])) {
        return false;
      }
    }
    return p.length == s.length;
  }

  /** Null when valid, else what is wrong. */
  public static String validate(String pattern) {
    if (pattern == null || pattern.isEmpty()) {
      return "a subject must not be empty";
    }
    String[] p = pattern.split("\\.", -1);
    for (int i = 0; i < p.length; i++) {
      String t = p[i];
      if (t.isEmpty()) {
        return "subject `" + pattern + "` has an empty token (two dots, or a leading or trailing dot)";
      }
      if (t.equals(">") && i != p.length - 1) {
        return "subject `" + pattern + "`: `>` may only be the last token";
      }
      if (!t.equals("*") && !t.equals(">") && (t.contains("*") || t.contains(">") || t.chars().anyMatch(Character::isWhitespace))) {
        return "subject `" + pattern + "` has an invalid token `" + t + "` (wildcards are whole tokens; no spaces)";
      }
    }
    return null;
  }
}

package dev.fraiseql.observers.email.internal;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;

/**
 * Removes a handler's known secret strings (the SMTP password and its encodings, URL credentials)
 * from any text that is about to reach a log line, an attempt record or an exception
 * message: exception messages from the mail stack and server replies could echo them back.
 */
final class Scrubber {
  private static final int MIN_SECRET_LENGTH = 4;
  private final List<String> secrets;

  Scrubber(Collection<String> secrets) {
    List<String> s = new ArrayList<>();
    for (String x : secrets) {
      if (x != null && x.length() >= MIN_SECRET_LENGTH) {
        s.add(x);
      }
    }
    s.sort(Comparator.comparingInt(String::length).reversed());
    this.secrets = List.copyOf(s);
  }

  String scrub(String text) {
    if (text == null || text.isEmpty() || secrets.isEmpty()) {
      return text == null ? "" : text;
    }
    String out = text;
    for (String secret : secrets) {
      if (out.contains(secret)) {
        out = out.replace(secret, "***");
      }
    }
    return out;
  }
}

package dev.fraiseql.observers.nats.internal;

/**
 * Reads the JetStream publish acknowledgement {@code {"stream":"ORDERS","seq":5}} (plus
 * {@code "duplicate":true}, {@code "domain":...} or other flat members) without a JSON tree: the
 * acknowledgements of all publishes are read on jnats' one reply thread. Anything else (an
 * {@code "error"} object, escapes, fractions, no {@code seq}) is left to jnats' own parser.
 */
final class PubAcks {
  /** Sequence and duplicate flag of an acknowledgement. */
  record Ack(long seq, boolean duplicate) {}

  private PubAcks() {}

  /** The acknowledgement in {@code json}, or null when it is not the plain shape (use jnats' parser). */
  static Ack parse(byte[] json) {
    if (json == null) {
      return null;
    }
    int n = json.length;
    int i = skip(json, 0);
    if (i >= n || json[i] != '{') {
      return null;
    }
    long seq = -1;
    boolean duplicate = false;
    boolean stream = false;
    i = skip(json, i + 1);
    if (i < n && json[i] == '}') {
      return null;
    }
    while (true) {
      if (i >= n || json[i] != '"') {
        return null;
      }
      int keyStart = i + 1;
      int keyEnd = endOfString(json, keyStart);
      if (keyEnd < 0) {
        return null;
      }
      i = skip(json, keyEnd + 1);
      if (i >= n || json[i] != ':') {
        return null;
      }
      i = skip(json, i + 1);
      if (i >= n) {
        return null;
      }
      byte c = json[i];
      if (c == '"') {
        int end = endOfString(json, i + 1);
        if (end < 0) {
          return null;
        }
        if (is(json, keyStart, keyEnd, "stream")) {
          stream = end > i + 1;
        }
        i = end + 1;
      } else if (c == '-' || (c >= '0' && c <= '9')) {
        long v = 0;
        boolean negative = c == '-';
        if (negative) {
          i++;
        }
        int digits = 0;
        while (i < n && json[i] >= '0' && json[i] <= '9') {
          if (digits++ >= 18) {
            return null;
          }
          v = v * 10 + (json[i] - '0');
          i++;
        }
        if (digits == 0 || (i < n && (json[i] == '.' || json[i] == 'e' || json[i] == 'E'))) {
          return null;
        }
        if (is(json, keyStart, keyEnd, "seq")) {
          if (negative) {
            return null;
          }
          seq = v;
        }
      } else if (c == 't' && literal(json, i, "true")) {
        duplicate |= is(json, keyStart, keyEnd, "duplicate");
        i += 4;
      } else if (c == 'f' && literal(json, i, "false")) {
        i += 5;
      } else if (c == 'n' && literal(json, i, "null")) {
        i += 4;
      } else {
        return null; // an object or array ("error": {...}): not a plain acknowledgement
      }
      if (is(json, keyStart, keyEnd, "error")) {
        return null;
      }
      i = skip(json, i);
      if (i >= n) {
        return null;
      }
      if (json[i] == '}') {
        return stream && seq >= 0 && skip(json, i + 1) == n ? new Ack(seq, duplicate) : null;
      }
      if (json[i] != ',') {
        return null;
      }
      i = skip(json, i + 1);
    }
  }

  private static int skip(byte[] b, int i) {
    while (i < b.length && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n')) {
      i++;
    }
    return i;
  }

  /** Index of the closing quote of a string starting at {@code i}; -1 if escaped, unterminated or not ASCII. */
  private static int endOfString(byte[] b, int i) {
    while (i < b.length) {
      byte c = b[i];
      if (c == '"') {
        return i;
      }
      if (c == '\\' || c < 0x20) {
        return -1;
      }
      i++;
    }
    return -1;
  }

  private static boolean is(byte[] b, int start, int end, String key) {
    if (end - start != key.length()) {
      return false;
    }
    for (int k = 0; k < key.length(); k++) {
      if (b[start + k] != key.charAt(k)) {
        return false;
      }
    }
    return true;
  }

  private static boolean literal(byte[] b, int i, String word) {
    return i + word.length() <= b.length && is(b, i, i + word.length(), word);
  }
}

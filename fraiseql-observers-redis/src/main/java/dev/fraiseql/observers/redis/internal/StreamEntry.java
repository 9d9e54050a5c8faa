package dev.fraiseql.observers.redis.internal;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One stream entry as this library writes it: {@code payload <bytes> dedup <id> h:<name> <value>...}.
 * Entries written by others keep their fields as headers and have an empty payload.
 */
record StreamEntry(String id, byte[] payload, Map<String, String> headers) {
  static final String PAYLOAD = "payload";
  static final String DEDUP = "dedup";
  static final String HEADER_PREFIX = "h:";

  /** Parses the raw binary reply of one entry: {@code [id, [field, value, ...]]}; null when it was deleted. */
  static StreamEntry parse(Object raw) {
    if (!(raw instanceof List)) {
      return null;
    }
    List<?> pair = (List<?>) raw;
    if (pair.isEmpty() || !(pair.get(0) instanceof byte[])) {
      return null;
    }
    String id = str(pair.get(0));
    if (pair.size() < 2 || !(pair.get(1) instanceof List)) {
      return new StreamEntry(id, null, Map.of());
    }
    List<?> fields = (List<?>) pair.get(1);
    byte[] payload = new byte[0];
    Map<String, String> headers = new LinkedHashMap<>();
    for (int i = 0; i + 1 < fields.size(); i += 2) {
      String name = str(fields.get(i));
      Object v = fields.get(i + 1);
      if (name.equals(PAYLOAD)) {
        payload = v instanceof byte[] ? (byte[]) v : new byte[0];
      } else if (name.equals(DEDUP)) {
        continue;
      } else if (name.startsWith(HEADER_PREFIX)) {
        headers.put(name.substring(HEADER_PREFIX.length()), str(v));
      } else {
        headers.put(name, str(v));
      }
    }
    return new StreamEntry(id, payload, Collections.unmodifiableMap(headers));
  }

  /** The entries of an XREADGROUP reply for one stream: {@code [[key, [entry...]]...]}. */
  static List<StreamEntry> fromRead(List<Object> reply) {
    List<StreamEntry> out = new ArrayList<>();
    if (reply == null) {
      return out;
    }
    for (Object stream : reply) {
      if (stream instanceof List && ((List<?>) stream).size() >= 2 && ((List<?>) stream).get(1) instanceof List) {
        addAll(out, (List<?>) ((List<?>) stream).get(1));
      }
    }
    return out;
  }

  static void addAll(List<StreamEntry> out, List<?> entries) {
    for (Object e : entries) {
      StreamEntry se = parse(e);
      if (se != null) {
        out.add(se);
      }
    }
  }

  /** Whether the entry's data is gone (deleted or trimmed while pending). */
  boolean deleted() {
    return payload == null;
  }

  static String str(Object o) {
    return o instanceof byte[] ? new String((byte[]) o, StandardCharsets.UTF_8) : String.valueOf(o);
  }

  @Override
  public String toString() {
    return "StreamEntry{" + id + "}";
  }
}

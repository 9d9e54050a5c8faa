package dev.fraiseql.observers.graphqlws.internal;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.io.JsonStringEncoder;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The graphql-ws message framing; payloads are written by Jackson. */
final class Frames {
  static final ObjectMapper JSON = new ObjectMapper();
  /** Canonical (sorted-key) JSON, for keys of shared executions. */
  static final ObjectMapper CANONICAL = new ObjectMapper()
      .configure(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS, true);
  static final String ACK = "{\"type\":\"connection_ack\"}";
  static final String PONG = "{\"type\":\"pong\"}";
  static final String PING = "{\"type\":\"ping\"}";

  private Frames() {}

  static String quoted(String s) {
    return "\"" + new String(JsonStringEncoder.getInstance().quoteAsString(s)) + "\"";
  }

  /** {@code {"id":"<id>","type":"next","payload":} : the payload and a closing brace follow. */
  static String nextPrefix(String id) {
    return "{\"id\":" + quoted(id) + ",\"type\":\"next\",\"payload\":";
  }

  static String complete(String id) {
    return "{\"id\":" + quoted(id) + ",\"type\":\"complete\"}";
  }

  static String error(String id, List<Map<String, Object>> errors) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", id);
    m.put("type", "error");
    m.put("payload", errors);
    return write(m);
  }

  static String write(Object o) {
    try {
      return JSON.writeValueAsString(o);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot serialize a graphql-ws message: " + e.getOriginalMessage(), e);
    }
  }

  static String canonical(Object o) {
    try {
      return CANONICAL.writeValueAsString(o);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }
}

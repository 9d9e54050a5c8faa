package dev.fraiseql.observers.internal;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import dev.fraiseql.observers.MutationContext;
import dev.fraiseql.observers.ObservedEvent;
import dev.fraiseql.observers.Operation;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;

/** Writes and reads the default event JSON (seed 001's webhook payload plus id and context). */
public final class EventJson {
  private static final JsonFactory FACTORY = JsonValues.MAPPER.getFactory();

  private EventJson() {}

  public static byte[] write(ObservedEvent e) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(256);
    try (JsonGenerator g = FACTORY.createGenerator(out)) {
      g.writeStartObject();
      g.writeStringField("id", e.id().toString());
      g.writeStringField("event", e.operation().name());
      g.writeStringField("table", e.table());
      g.writeStringField("timestamp", e.timestamp().toString());
      g.writeObjectFieldStart("data");
      g.writeFieldName("new");
      writeRow(g, e.newRow().orElse(null));
      g.writeFieldName("old");
      writeRow(g, e.oldRow().orElse(null));
      g.writeEndObject();
      g.writeObjectFieldStart("context");
      g.writeStringField("event_name", e.name());
      if (e.mutation().isPresent()) {
        g.writeStringField("mutation", e.mutation().get());
      }
      MutationContext c = e.context();
      if (c.userId().isPresent()) {
        g.writeStringField("user_id", c.userId().get());
      }
      if (c.tenantId().isPresent()) {
        g.writeStringField("tenant_id", c.tenantId().get());
      }
      if (c.requestId().isPresent()) {
        g.writeStringField("request_id", c.requestId().get());
      }
      if (!c.attributes().isEmpty()) {
        g.writeFieldName("attributes");
        JsonValues.MAPPER.writeValue(g, c.attributes());
      }
      g.writeEndObject();
      g.writeEndObject();
    } catch (IOException ex) {
      throw new UncheckedIOException("cannot serialize " + e, ex);
    }
    return out.toByteArray();
  }

  private static void writeRow(JsonGenerator g, Map<String, Object> row) throws IOException {
    if (row == null) {
      g.writeNull();
    } else {
      JsonValues.MAPPER.writeValue(g, row);
    }
  }

  /**
   * Reads an event in one streaming pass, straight into frozen rows (no tree, no second copy).
   * Unknown fields are skipped; the last of duplicate keys wins. When the input names the event's
   * id, timestamp and event name (as everything this library writes does), a copy of the input is
   * kept as the event's default JSON: forwarding the event sends exactly the bytes that were read,
   * and it is never serialized again.
   */
  public static ObservedEvent read(byte[] json) {
    try (JsonParser p = FACTORY.createParser(json)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        throw new IllegalArgumentException("not a FraiseQL event: expected a JSON object");
      }
      Read r = new Read();
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String field = p.currentName();
        JsonToken t = p.nextToken();
        switch (field) {
          case "id": r.id = scalar(p, t, field); break;
          case "event": r.op = scalar(p, t, field); break;
          case "table": r.table = scalar(p, t, field); break;
          case "timestamp": r.timestamp = scalar(p, t, field); break;
          case "data": readData(p, t, r); break;
          case "context": readContext(p, t, r); break;
          default: p.skipChildren();
        }
      }
      if (p.nextToken() != null) {
        throw new IllegalArgumentException("not a FraiseQL event: trailing content after the JSON object");
      }
      ObservedEvent e = r.build();
      if (r.complete()) {
        EventInternals.keepPayload(e, json.clone());
      }
      return e;
    } catch (JsonProcessingException ex) {
      throw new IllegalArgumentException("not a FraiseQL event: invalid JSON (" + ex.getOriginalMessage() + ")");
    } catch (IOException ex) {
      throw new IllegalArgumentException("not a FraiseQL event: invalid JSON (" + ex.getMessage() + ")");
    }
  }

  /** What {@link #read} found; {@link #complete} when nothing had to be made up (id, time, name). */
  private static final class Read {
    String id;
    String op;
    String table;
    String timestamp;
    Map<String, Object> newRow;
    Map<String, Object> oldRow;
    boolean hasContext;
    String name;
    String mutation;
    String userId;
    String tenantId;
    String requestId;
    Map<String, Object> attributes;

    ObservedEvent build() {
      ObservedEvent.Builder b = ObservedEvent.builder();
      if (op == null) {
        throw new IllegalArgumentException("not a FraiseQL event: missing \"event\"");
      }
      b.operation(Operation.parse(op).orElseThrow(() ->
          new IllegalArgumentException("not a FraiseQL event: \"event\" is " + op + ", expected INSERT, UPDATE or DELETE")));
      if (table == null) {
        throw new IllegalArgumentException("not a FraiseQL event: missing \"table\"");
      }
      b.table(table);
      if (id != null) {
        try {
          b.id(UUID.fromString(id));
        } catch (IllegalArgumentException ex) {
          throw new IllegalArgumentException("not a FraiseQL event: \"id\" is not a UUID: " + id);
        }
      }
      if (timestamp != null) {
        try {
          b.timestamp(Instant.parse(timestamp));
        } catch (DateTimeParseException ex) {
          throw new IllegalArgumentException("not a FraiseQL event: \"timestamp\" is not ISO-8601: " + timestamp);
        }
      }
      b.newRow(newRow);
      b.oldRow(oldRow);
      if (hasContext) {
        if (name != null) {
          b.name(name);
        }
        if (mutation != null) {
          b.mutation(mutation);
        }
        MutationContext.Builder c = MutationContext.builder().userId(userId).tenantId(tenantId).requestId(requestId);
        if (attributes != null) {
          attributes.forEach((k, v) -> {
            if (v != null) {
              c.attribute(k, v);
            }
          });
        }
        b.context(c.build());
      }
      return b.build();
    }

    /** True when the event's default JSON would carry nothing the input did not: id, time and name came from it. */
    boolean complete() {
      return id != null && timestamp != null && name != null;
    }
  }

  private static void readData(JsonParser p, JsonToken t, Read r) throws IOException {
    if (t != JsonToken.START_OBJECT) {
      p.skipChildren();
      return;
    }
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String field = p.currentName();
      JsonToken v = p.nextToken();
      if ("new".equals(field) && v == JsonToken.START_OBJECT) {
        r.newRow = readObject(p);
      } else if ("old".equals(field) && v == JsonToken.START_OBJECT) {
        r.oldRow = readObject(p);
      } else {
        p.skipChildren();
      }
    }
  }

  private static void readContext(JsonParser p, JsonToken t, Read r) throws IOException {
    if (t != JsonToken.START_OBJECT) {
      p.skipChildren();
      return;
    }
    r.hasContext = true;
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String field = p.currentName();
      JsonToken v = p.nextToken();
      switch (field) {
        case "event_name": r.name = scalar(p, v, field); break;
        case "mutation": r.mutation = scalar(p, v, field); break;
        case "user_id": r.userId = scalar(p, v, field); break;
        case "tenant_id": r.tenantId = scalar(p, v, field); break;
        case "request_id": r.requestId = scalar(p, v, field); break;
        case "attributes":
          if (v == JsonToken.START_OBJECT) {
            r.attributes = readObject(p);
          } else {
            p.skipChildren();
          }
          break;
        default: p.skipChildren();
      }
    }
  }

  /** A scalar's text (numbers and booleans as written), null for JSON null; objects and arrays are an error. */
  private static String scalar(JsonParser p, JsonToken t, String field) throws IOException {
    if (t == JsonToken.VALUE_NULL) {
      return null;
    }
    if (t == JsonToken.START_OBJECT || t == JsonToken.START_ARRAY) {
      throw new IllegalArgumentException("not a FraiseQL event: \"" + field + "\" must be a string, got a JSON "
          + (t == JsonToken.START_OBJECT ? "object" : "array"));
    }
    return p.getText();
  }

  /** The object the parser is at (just after its START_OBJECT), frozen as it is read. */
  private static Map<String, Object> readObject(JsonParser p) throws IOException {
    LinkedHashMap<String, Object> m = new LinkedHashMap<>();
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String k = p.currentName();
      m.put(k, readValue(p, p.nextToken()));
    }
    return JsonValues.frozenMap(m);
  }

  private static Object readValue(JsonParser p, JsonToken t) throws IOException {
    switch (t) {
      case START_OBJECT:
        return readObject(p);
      case START_ARRAY: {
        ArrayList<Object> l = new ArrayList<>();
        JsonToken e;
        while ((e = p.nextToken()) != JsonToken.END_ARRAY) {
          l.add(readValue(p, e));
        }
        return JsonValues.frozenList(l);
      }
      case VALUE_STRING:
        return p.getText();
      case VALUE_NUMBER_INT:
        return p.getNumberValue();
      case VALUE_NUMBER_FLOAT:
        return p.getDecimalValue();
      case VALUE_TRUE:
        return Boolean.TRUE;
      case VALUE_FALSE:
        return Boolean.FALSE;
      case VALUE_NULL:
        return null;
      default:
        throw new IllegalArgumentException("not a FraiseQL event: unexpected JSON token " + t);
    }
  }
}

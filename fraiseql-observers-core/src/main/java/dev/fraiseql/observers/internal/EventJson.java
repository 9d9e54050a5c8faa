package dev.fraiseql.observers.internal;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import dev.fraiseql.observers.MutationContext;
import dev.fraiseql.observers.ObservedEvent;
import dev.fraiseql.observers.Operation;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Iterator;
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

  public static ObservedEvent read(byte[] json) {
    JsonNode root;
    try {
      root = JsonValues.MAPPER.readTree(json);
    } catch (IOException ex) {
      throw new IllegalArgumentException("not a FraiseQL event: invalid JSON (" + (ex instanceof com.fasterxml.jackson.core.JsonProcessingException ? ((com.fasterxml.jackson.core.JsonProcessingException) ex).getOriginalMessage() : ex.getMessage()) + ")");
    }
    if (root == null || !root.isObject()) {
      throw new IllegalArgumentException("not a FraiseQL event: expected a JSON object");
    }
    ObservedEvent.Builder b = ObservedEvent.builder();
    String op = text(root, "event", true);
    b.operation(Operation.parse(op).orElseThrow(() ->
        new IllegalArgumentException("not a FraiseQL event: \"event\" is " + op + ", expected INSERT, UPDATE or DELETE")));
    b.table(text(root, "table", true));
    String id = text(root, "id", false);
    if (id != null) {
      try {
        b.id(UUID.fromString(id));
      } catch (IllegalArgumentException ex) {
        throw new IllegalArgumentException("not a FraiseQL event: \"id\" is not a UUID: " + id);
      }
    }
    String ts = text(root, "timestamp", false);
    if (ts != null) {
      try {
        b.timestamp(Instant.parse(ts));
      } catch (DateTimeParseException ex) {
        throw new IllegalArgumentException("not a FraiseQL event: \"timestamp\" is not ISO-8601: " + ts);
      }
    }
    JsonNode data = root.path("data");
    if (data.path("new").isObject()) {
      b.newRow(JsonValues.MAPPER.convertValue(data.get("new"), Map.class));
    }
    if (data.path("old").isObject()) {
      b.oldRow(JsonValues.MAPPER.convertValue(data.get("old"), Map.class));
    }
    JsonNode ctx = root.path("context");
    if (ctx.isObject()) {
      String name = text(ctx, "event_name", false);
      if (name != null) {
        b.name(name);
      }
      String mutation = text(ctx, "mutation", false);
      if (mutation != null) {
        b.mutation(mutation);
      }
      MutationContext.Builder c = MutationContext.builder()
          .userId(text(ctx, "user_id", false))
          .tenantId(text(ctx, "tenant_id", false))
          .requestId(text(ctx, "request_id", false));
      JsonNode attrs = ctx.path("attributes");
      if (attrs.isObject()) {
        for (Iterator<Map.Entry<String, JsonNode>> it = attrs.fields(); it.hasNext(); ) {
          Map.Entry<String, JsonNode> f = it.next();
          Object v = JsonValues.MAPPER.convertValue(f.getValue(), Object.class);
          if (v != null) {
            c.attribute(f.getKey(), v);
          }
        }
      }
      b.context(c.build());
    }
    return b.build();
  }

  private static String text(JsonNode node, String field, boolean required) {
    JsonNode v = node.get(field);
    if (v == null || v.isNull()) {
      if (required) {
        throw new IllegalArgumentException("not a FraiseQL event: missing \"" + field + "\"");
      }
      return null;
    }
    return v.asText();
  }
}

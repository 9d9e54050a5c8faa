package dev.fraiseql.observers.pg.internal;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * Splits an outbox row written by a capture trigger (one per statement) into the events of its rows.
 *
 * <p>The row: {@code {"capture":1,"event":"INSERT","table":"tb_user","timestamp":"...","key":["id"],
 * "context":{...},"rows":[{"new":{...},"old":null}, ...]}}. Event {@code i} is
 * {@code {"id":...,"event":...,"table":...,"timestamp":...,"data":<rows[i]>,"context":...}}: the
 * default event JSON, byte for byte the shape {@code ObservedEvent.toJson()} has. Its id is the
 * outbox row's {@code event_id} with {@code i} added to its last 32 bits: stable across relay
 * crashes (a re-dispatched event has the same id, which effectively-once recognises), and for a
 * one-row statement the id is the {@code event_id} itself. {@code key} names the primary key columns
 * (each event's row holds their values).
 */
public final class CaptureRows {
  private static final JsonFactory FACTORY = new JsonFactory();
  private static final byte[] PREFIX = "{\"capture\":".getBytes(StandardCharsets.US_ASCII);

  private CaptureRows() {}

  /** Whether {@code json} is a capture row (rather than one event). */
  public static boolean isCapture(byte[] json) {
    if (json.length < PREFIX.length) {
      return false;
    }
    for (int i = 0; i < PREFIX.length; i++) {
      if (json[i] != PREFIX[i]) {
        return false;
      }
    }
    return true;
  }

  /** Event {@code index}'s id: {@code base} with {@code index} added to its last 32 bits. */
  public static UUID eventId(UUID base, int index) {
    long lsb = base.getLeastSignificantBits();
    long low = (lsb + index) & 0xffffffffL;
    return new UUID(base.getMostSignificantBits(), (lsb & ~0xffffffffL) | low);
  }

  /**
   * The events of a capture row, in row order.
   *
   * @throws IllegalArgumentException when the row is malformed
   */
  public static List<byte[]> split(UUID base, byte[] json) {
    int[] event = null;
    int[] table = null;
    int[] timestamp = null;
    int[] context = null;
    List<int[]> rows = new ArrayList<>();
    try (JsonParser p = FACTORY.createParser(json)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        throw new IllegalArgumentException("capture row: expected a JSON object");
      }
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String f = p.currentName();
        p.nextToken();
        switch (f) {
          case "event" -> event = span(p);
          case "table" -> table = span(p);
          case "timestamp" -> timestamp = span(p);
          case "context" -> context = span(p);
          case "rows" -> {
            if (p.currentToken() != JsonToken.START_ARRAY) {
              throw new IllegalArgumentException("capture row: \"rows\" is not an array");
            }
            while (p.nextToken() != JsonToken.END_ARRAY) {
              rows.add(span(p));
            }
          }
          default -> p.skipChildren();
        }
      }
    } catch (IOException e) {
      throw new IllegalArgumentException("capture row: invalid JSON (" + e.getMessage() + ")");
    }
    if (event == null || table == null || timestamp == null || context == null) {
      throw new IllegalArgumentException("capture row: missing event, table, timestamp or context");
    }
    List<byte[]> out = new ArrayList<>(rows.size());
    for (int i = 0; i < rows.size(); i++) {
      int[] r = rows.get(i);
      ByteArrayOutputStream b = new ByteArrayOutputStream(64 + r[1] - r[0] + context[1] - context[0]);
      b.writeBytes(ascii("{\"id\":\"" + eventId(base, i) + "\",\"event\":"));
      b.write(json, event[0], event[1] - event[0]);
      b.writeBytes(ascii(",\"table\":"));
      b.write(json, table[0], table[1] - table[0]);
      b.writeBytes(ascii(",\"timestamp\":"));
      b.write(json, timestamp[0], timestamp[1] - timestamp[0]);
      b.writeBytes(ascii(",\"data\":"));
      b.write(json, r[0], r[1] - r[0]);
      b.writeBytes(ascii(",\"context\":"));
      b.write(json, context[0], context[1] - context[0]);
      b.write('}');
      out.add(b.toByteArray());
    }
    return out;
  }

  /** The byte range of the value at the parser's current token (which it then skips). */
  private static int[] span(JsonParser p) throws IOException {
    int start = (int) p.currentTokenLocation().getByteOffset();
    if (p.currentToken().isScalarValue()) {
      p.finishToken(); // strings are read lazily: read it to its closing quote
    } else {
      p.skipChildren();
    }
    int end = (int) p.currentLocation().getByteOffset();
    return new int[] {start, end};
  }

  private static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}

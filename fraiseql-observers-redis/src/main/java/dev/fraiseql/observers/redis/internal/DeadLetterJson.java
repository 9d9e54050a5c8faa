package dev.fraiseql.observers.redis.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.fraiseql.observers.ObservedEvent;
import dev.fraiseql.observers.spi.AttemptRecord;
import dev.fraiseql.observers.spi.DeadLetter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A dead letter as JSON: {@code {"v":1,"id":..,"handler":..,"subject":..,"reason":..,"dead_lettered_at":..,
 * "attempts":[{"attempt":1,"started_at":..,"elapsed_ms":..,"outcome":..}],"event":<the event's default JSON>}}.
 */
final class DeadLetterJson {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private DeadLetterJson() {}

  static String write(DeadLetter d) {
    ObjectNode o = MAPPER.createObjectNode();
    o.put("v", 1);
    o.put("id", d.id());
    o.put("handler", d.handler());
    d.subject().ifPresent(s -> o.put("subject", s));
    o.put("reason", d.reason());
    o.put("dead_lettered_at", d.deadLetteredAt().toString());
    ArrayNode attempts = o.putArray("attempts");
    for (AttemptRecord a : d.attempts()) {
      ObjectNode n = attempts.addObject();
      n.put("attempt", a.attempt());
      n.put("started_at", a.startedAt().toString());
      n.put("elapsed_ms", a.elapsed().toMillis());
      n.put("outcome", a.outcome());
    }
    try {
      o.set("event", MAPPER.readTree(d.event().toJson()));
      return MAPPER.writeValueAsString(o);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot serialize dead letter " + d.id(), e);
    }
  }

  static DeadLetter read(String json) {
    try {
      JsonNode o = MAPPER.readTree(json);
      List<AttemptRecord> attempts = new ArrayList<>();
      for (JsonNode a : o.path("attempts")) {
        attempts.add(new AttemptRecord(a.path("attempt").asInt(), Instant.parse(a.path("started_at").asText()),
            Duration.ofMillis(a.path("elapsed_ms").asLong()), a.path("outcome").asText("")));
      }
      ObservedEvent event = ObservedEvent.fromJson(MAPPER.writeValueAsBytes(o.get("event")));
      Optional<String> subject = o.hasNonNull("subject") ? Optional.of(o.get("subject").asText()) : Optional.empty();
      return new DeadLetter(o.path("id").asText(), event, o.path("handler").asText(), subject,
          o.path("reason").asText(""), attempts, Instant.parse(o.path("dead_lettered_at").asText()));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read a stored dead letter", e);
    }
  }
}

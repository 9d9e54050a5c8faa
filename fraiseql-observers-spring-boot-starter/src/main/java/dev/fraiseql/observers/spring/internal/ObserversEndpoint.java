package dev.fraiseql.observers.spring.internal;

import dev.fraiseql.observers.DeliveryOutcome;
import dev.fraiseql.observers.ObserverEngine;
import dev.fraiseql.observers.config.HandlerConfig;
import dev.fraiseql.observers.spi.DeadLetter;
import dev.fraiseql.observers.spi.DeadLetterQuery;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.springframework.boot.actuate.endpoint.annotation.DeleteOperation;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.actuate.endpoint.annotation.ReadOperation;
import org.springframework.boot.actuate.endpoint.annotation.Selector;
import org.springframework.boot.actuate.endpoint.annotation.WriteOperation;

/**
 * {@code /actuator/observers}: handlers, in-flight deliveries and dead letters (GET); replay one dead
 * letter (POST {@code /actuator/observers/{id}}); discard one (DELETE). Writes are secured like every
 * other Actuator write operation (exposure and Spring Security rules of the application). Dead letters
 * are listed without their payloads.
 */
@Endpoint(id = "observers")
public final class ObserversEndpoint {
  /** At most this many dead letters are listed (newest first). */
  static final int LIST_LIMIT = 100;
  private final ObserverEngine engine;

  public ObserversEndpoint(ObserverEngine engine) {
    this.engine = engine;
  }

  @ReadOperation
  public Map<String, Object> observers() {
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("handlers", engine.config().handlers().stream().map(ObserversEndpoint::handler).toList());
    body.put("inFlight", engine.inFlight());
    body.put("deadLetterCount", engine.deadLetters().count());
    body.put("deadLetters", engine.deadLetters().list(DeadLetterQuery.all()).stream().limit(LIST_LIMIT)
        .map(ObserversEndpoint::deadLetter).toList());
    return body;
  }

  @WriteOperation
  public Map<String, Object> replay(@Selector String id) throws InterruptedException {
    try {
      DeliveryOutcome outcome = engine.deadLetters().replay(id).toCompletableFuture().get(60, TimeUnit.SECONDS);
      Map<String, Object> body = new LinkedHashMap<>();
      body.put("handler", outcome.handler());
      body.put("status", outcome.status().name());
      body.put("attempts", outcome.attempts());
      body.put("detail", outcome.detail());
      return body;
    } catch (NoSuchElementException e) {
      return Map.of("error", "no dead letter " + id);
    } catch (ExecutionException e) {
      return Map.of("error", String.valueOf(e.getCause().getMessage()));
    } catch (TimeoutException e) {
      return Map.of("status", "RUNNING", "detail", "the replay is still running after 60 s");
    }
  }

  @DeleteOperation
  public Map<String, Object> discard(@Selector String id) {
    return Map.of("discarded", engine.deadLetters().discard(id));
  }

  private static Map<String, Object> handler(HandlerConfig h) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("name", h.name());
    m.put("trigger", h.trigger().toString());
    m.put("action", h.action());
    m.put("synchronous", h.synchronous());
    m.put("maxAttempts", h.retry().maxAttempts());
    return m;
  }

  private static Map<String, Object> deadLetter(DeadLetter d) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", d.id());
    m.put("handler", d.handler());
    m.put("event", d.event().name());
    m.put("eventId", d.event().id().toString());
    m.put("table", d.event().table());
    m.put("reason", d.reason());
    m.put("lastError", d.lastError());
    m.put("attempts", d.attempts().size());
    m.put("deadLetteredAt", d.deadLetteredAt().toString());
    return m;
  }
}

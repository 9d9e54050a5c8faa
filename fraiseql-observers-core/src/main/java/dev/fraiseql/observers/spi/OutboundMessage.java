package dev.fraiseql.observers.spi;

import dev.fraiseql.observers.MutationContext;
import dev.fraiseql.observers.ObservedEvent;
import dev.fraiseql.observers.internal.EventInternals;
import dev.fraiseql.observers.internal.FrozenMap;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * A message to publish on an {@link EventBus}.
 *
 * @param subject where it goes ({@code fraiseql.order.created})
 * @param payload the bytes; for events, the event's default JSON (shared: do not modify)
 * @param headers string headers (see {@link #HEADER_EVENT_ID} and friends)
 * @param deduplicationId stable across retries of the same publish: buses that can de-duplicate
 *     (JetStream's {@code Nats-Msg-Id}) store the message once per id
 */
public record OutboundMessage(String subject, byte[] payload, Map<String, String> headers, String deduplicationId) {
  public static final String HEADER_EVENT_ID = "Fraiseql-Event-Id";
  public static final String HEADER_EVENT_NAME = "Fraiseql-Event-Name";
  public static final String HEADER_TABLE = "Fraiseql-Table";
  public static final String HEADER_OPERATION = "Fraiseql-Operation";
  public static final String HEADER_MUTATION = "Fraiseql-Mutation";
  public static final String HEADER_USER_ID = "Fraiseql-User-Id";
  public static final String HEADER_TENANT_ID = "Fraiseql-Tenant-Id";
  public static final String HEADER_REQUEST_ID = "Fraiseql-Request-Id";
  /** W3C trace context of the mutation, when its context carries one ({@link MutationContext#TRACEPARENT}). */
  public static final String HEADER_TRACEPARENT = "traceparent";
  public static final String HEADER_TRACESTATE = "tracestate";

  public OutboundMessage {
    Objects.requireNonNull(subject, "subject");
    Objects.requireNonNull(payload, "payload");
    headers = headers == null ? Map.of()
        : headers instanceof FrozenMap ? headers : Collections.unmodifiableMap(new LinkedHashMap<>(headers));
    Objects.requireNonNull(deduplicationId, "deduplicationId");
  }

  /**
   * The message for publishing {@code event} to {@code subject}: its default JSON, the standard
   * headers (event id, name, table, operation, mutation, user, tenant, request id, and
   * {@code traceparent} / {@code tracestate} when the context carries them) and
   * {@code deduplicationId} = {@code <event id>:<subject>}.
   */
  public static OutboundMessage forEvent(String subject, ObservedEvent event) {
    String id = event.id().toString();
    return new OutboundMessage(subject, EventInternals.payload(event), new FrozenMap<>(standard(event, id)), id + ":" + subject);
  }

  /** The standard headers of an event (a fresh map the caller may change). */
  public static Map<String, String> headersOf(ObservedEvent event) {
    return standard(event, event.id().toString());
  }

  private static LinkedHashMap<String, String> standard(ObservedEvent event, String id) {
    LinkedHashMap<String, String> h = new LinkedHashMap<>();
    h.put(HEADER_EVENT_ID, id);
    h.put(HEADER_EVENT_NAME, event.name());
    h.put(HEADER_TABLE, event.table());
    h.put(HEADER_OPERATION, event.operation().name());
    event.mutation().ifPresent(m -> h.put(HEADER_MUTATION, m));
    MutationContext c = event.context();
    c.userId().ifPresent(v -> h.put(HEADER_USER_ID, v));
    c.tenantId().ifPresent(v -> h.put(HEADER_TENANT_ID, v));
    c.requestId().ifPresent(v -> h.put(HEADER_REQUEST_ID, v));
    if (!c.attributes().isEmpty()) {
      c.traceparent().ifPresent(v -> h.put(HEADER_TRACEPARENT, v));
      c.tracestate().ifPresent(v -> h.put(HEADER_TRACESTATE, v));
    }
    return h;
  }

  @Override
  public String toString() {
    return "OutboundMessage{" + subject + ", " + payload.length + " bytes, dedup=" + deduplicationId + "}";
  }
}

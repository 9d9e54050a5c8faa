package dev.fraiseql.observers.spi;

import dev.fraiseql.observers.ObservedEvent;
import java.util.Map;

/**
 * A message a bus received for a subscription.
 *
 * @param subject the subject it was published to
 * @param payload its bytes (for events published by this library, the event's default JSON)
 * @param headers its headers (empty where the bus has none)
 * @param deliveryCount 1 the first time this message is delivered to the subscription, then 2, 3...
 * @param messageId the bus's id of the message (stream sequence, entry id, row id)
 */
public record InboundMessage(String subject, byte[] payload, Map<String, String> headers, int deliveryCount,
    String messageId) {

  /** The event in the payload. @throws IllegalArgumentException when it is not one */
  public ObservedEvent event() {
    return ObservedEvent.fromJson(payload);
  }

  @Override
  public String toString() {
    return "InboundMessage{" + subject + " #" + messageId + " delivery " + deliveryCount + ", " + payload.length + " bytes}";
  }
}

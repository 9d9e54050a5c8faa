package dev.fraiseql.observers.spi;

import java.util.concurrent.CompletionStage;

/**
 * Publish to a subject; subscribe a subject to a handler.
 *
 * <p>{@link #publish} completes only when the bus has stored the message (JetStream publish ack,
 * XADD reply, committed insert); it completes exceptionally when that cannot be known, and the engine
 * retries with the same {@link OutboundMessage#deduplicationId()}.
 *
 * <p>{@link #subscribe} delivers each message to the handler and carries out the returned
 * {@link Disposition}. Delivery is at-least-once: a message whose handler did not answer within
 * {@link SubscriptionSpec#ackWait()} (the consumer died) is delivered again, to this or another
 * instance, with a higher {@link InboundMessage#deliveryCount()}. A bus must not fail the host's
 * start-up when its server is down: it reconnects and resumes.
 */
public interface EventBus extends AutoCloseable {

  /** {@code in-memory}, {@code nats}, {@code redis}, {@code postgres}. */
  String name();

  CompletionStage<PublishAck> publish(OutboundMessage message);

  /**
   * Publishes {@code message} for one attempt of a delivery (the {@code publish} action calls this).
   * A bus that may hold a message locally before sending it (a full window of unacknowledged
   * publishes, a publish queue) uses the attempt as {@link Delivery} describes: {@link Delivery#markQueued()}
   * while it waits (the wait is then not timed and spends no budget), {@link Delivery#markStarted()}
   * when it sends (and does not send if that returns false), {@link Delivery#onAbandoned} to drop a
   * waiting message. The default ignores the attempt.
   */
  default CompletionStage<PublishAck> publish(OutboundMessage message, Delivery attempt) {
    return publish(message);
  }

  BusSubscription subscribe(SubscriptionSpec spec, InboundHandler handler);

  @Override
  default void close() {}
}

package dev.fraiseql.observers.spi;

import dev.fraiseql.observers.config.Settings;
import java.time.Duration;

/**
 * What a bus needs to open a subscription.
 *
 * @param subject the subject (NATS-style wildcards {@code *} and {@code >} where the bus supports them)
 * @param durable the durable consumer / consumer group name; instances with the same name share the work
 * @param ackWait how long a delivered message may stay unacknowledged before the bus redelivers it
 *     (the consumer is presumed dead)
 * @param maxInFlight how many messages of this subscription may be handled at once
 * @param settings the subscription's extra keys, for bus-specific options
 */
public record SubscriptionSpec(String subject, String durable, Duration ackWait, int maxInFlight, Settings settings) {
  public static final Duration DEFAULT_ACK_WAIT = Duration.ofSeconds(30);
  public static final int DEFAULT_MAX_IN_FLIGHT = 64;
}

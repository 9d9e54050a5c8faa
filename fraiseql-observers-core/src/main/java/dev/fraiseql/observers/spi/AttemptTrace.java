package dev.fraiseql.observers.spi;

import dev.fraiseql.observers.ObservedEvent;

/**
 * Gives each attempt its own W3C trace context, so that what an action sends names the attempt's span
 * rather than the producer's: the {@code traceparent} header of a webhook request, the context of a
 * message published to a bus. The receiver's span (the webhook receiver's server span, a subscription
 * handler's span) is then a child of the attempt's span, in the producer's trace.
 *
 * <p>A {@linkplain dev.fraiseql.observers.ObserverEngine.Builder#listener listener} that also implements
 * this interface is used for it (the OpenTelemetry module's {@code ObserverTracing} does; the first such
 * listener wins). Actions read the result through {@link Delivery#traceparent()}. Without one, or when
 * it answers null, an attempt carries the event's own {@code traceparent}
 * ({@link dev.fraiseql.observers.MutationContext#traceparent()}), unchanged.
 */
@FunctionalInterface
public interface AttemptTrace {

  /**
   * The W3C {@code traceparent} of attempt {@code attempt}'s span ({@code 00-<32 hex>-<16 hex>-<2 hex>}),
   * or null to carry the event's own. Called by actions after
   * {@link dev.fraiseql.observers.ObserverListener#attemptStarted} and before
   * {@link dev.fraiseql.observers.ObserverListener#attemptFinished} of that attempt, maybe on another
   * thread. Keep it fast; it must not throw (a value that is not a well-formed traceparent is ignored).
   */
  String traceparent(ObservedEvent event, String handler, int attempt);
}

package dev.fraiseql.observers.internal.engine;

import dev.fraiseql.observers.ObservedEvent;
import dev.fraiseql.observers.spi.IdempotencyStore;
import java.util.concurrent.CompletionStage;

/**
 * The checkpoint stage of a delivery ({@code checkpoint_strategy}): with {@code effectively_once} each
 * attempt first claims (event, handler) in the {@link IdempotencyStore}, records it there once
 * delivered, and releases the claim when the attempt fails. With {@code at_least_once}, or for an action
 * that records idempotency itself (a SQL function in the same transaction), there is nothing to do.
 */
final class Checkpoint {
  private Checkpoint() {}

  /** Whether the attempts of {@code handler} go through the idempotency store. */
  static boolean guards(Runtime rt, HandlerRuntime handler) {
    return rt.effectivelyOnce && !handler.action().recordsIdempotencyItself();
  }

  /** Claims the delivery of {@code event} to {@code handler} for the claim TTL. */
  static CompletionStage<IdempotencyStore.Claim> claim(Runtime rt, ObservedEvent event, HandlerRuntime handler) {
    return rt.idempotency.claim(event.id().toString(), handler.name(), rt.claimTtl);
  }

  /** Records it as delivered; a store failure is logged (a redelivery may then run it again), never thrown. */
  static void complete(Runtime rt, ObservedEvent event, HandlerRuntime handler) {
    rt.idempotency.complete(event.id().toString(), handler.name()).whenComplete((v, ex) -> {
      if (ex != null) {
        rt.log().warn("[observer] {}: delivered event {} but could not record its idempotency key ({}); "
            + "a redelivery may run it again", handler.name(), event.id(), ex.toString());
      }
    });
  }

  /** Gives the claim back after a failed attempt, so that the retry (or another worker) can claim it. */
  static void release(Runtime rt, ObservedEvent event, HandlerRuntime handler) {
    rt.idempotency.release(event.id().toString(), handler.name());
  }
}

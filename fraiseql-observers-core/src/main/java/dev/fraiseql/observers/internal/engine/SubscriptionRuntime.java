package dev.fraiseql.observers.internal.engine;

import dev.fraiseql.observers.ObservedEvent;
import dev.fraiseql.observers.internal.Uuid7;
import dev.fraiseql.observers.spi.ActionResult;
import dev.fraiseql.observers.spi.AttemptRecord;
import dev.fraiseql.observers.spi.DeadLetter;
import dev.fraiseql.observers.spi.Delivery;
import dev.fraiseql.observers.spi.Disposition;
import dev.fraiseql.observers.spi.IdempotencyStore;
import dev.fraiseql.observers.spi.InboundHandler;
import dev.fraiseql.observers.spi.InboundMessage;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * The engine's side of one {@code [[observers.subscribe]]}: runs the handler for each message and
 * tells the bus to ack, redeliver (with the handler's backoff) or terminate (after dead-lettering).
 * The budget counts deliveries: {@link InboundMessage#deliveryCount()} is the attempt number.
 */
final class SubscriptionRuntime implements InboundHandler {
  private final Runtime rt;
  final HandlerRuntime handler;
  private final String subject;

  SubscriptionRuntime(Runtime rt, HandlerRuntime handler, String subject) {
    this.rt = rt;
    this.handler = handler;
    this.subject = subject;
  }

  @Override
  public CompletionStage<Disposition> handle(InboundMessage message) {
    CompletableFuture<Disposition> result = new CompletableFuture<>();
    rt.safeExecutor.execute(() -> {
      try {
        process(message, result);
      } catch (RuntimeException e) {
        rt.log().error("[observer] {}: unexpected error handling message {} on {}; redelivering", handler.name(),
            message.messageId(), message.subject(), e);
        result.complete(Disposition.redeliverAfter(handler.retry().delayAfter(message.deliveryCount(), rt.random())));
      }
    });
    return result;
  }

  private void process(InboundMessage message, CompletableFuture<Disposition> result) {
    ObservedEvent event;
    try {
      event = message.event();
    } catch (IllegalArgumentException e) {
      rt.log().error("[observer] {}: message {} on {} is not a FraiseQL event ({}); terminated without running the handler",
          handler.name(), message.messageId(), message.subject(), e.getMessage());
      result.complete(Disposition.term());
      return;
    }
    if (!handler.condition().test(event)) {
      rt.listeners.skipped(event, handler.name());
      result.complete(Disposition.ack());
      return;
    }
    int n = Math.max(1, message.deliveryCount());
    try (Runtime.MdcScope ignored = Runtime.mdc(event, handler.name())) {
      if (rt.log().isDebugEnabled()) {
        rt.log().debug("[observer] {} received on {} → {}{}{}", Runtime.label(event), message.subject(), handler.name(),
            n > 1 ? " (delivery " + n + "/" + handler.retry().maxAttempts() + ")" : "", Runtime.req(event));
      }
    }
    if (rt.effectivelyOnce && !handler.action().recordsIdempotencyItself()) {
      rt.idempotency.claim(event.id().toString(), handler.name(), rt.claimTtl).whenCompleteAsync((claim, ex) -> {
        if (ex != null) {
          rt.listeners.attemptStarted(event, handler.name(), n); // every attemptFinished has its attemptStarted
          settle(event, message, n, Instant.now(), 0, ActionResult.retry("idempotency store unavailable: " + ex), false, result);
        } else if (claim == IdempotencyStore.Claim.DONE) {
          rt.listeners.duplicateSkipped(event, handler.name());
          rt.log().debug("[observer] {}: skipped duplicate of event {} (effectively_once)", handler.name(), event.id());
          result.complete(Disposition.ack());
        } else if (claim == IdempotencyStore.Claim.BUSY) {
          // a duplicate of a delivery still running elsewhere: come back later; this never spends the budget
          Duration delay = rt.busyDelay(handler, n);
          rt.log().debug("[observer] {}: event {} is being handled by another worker; redelivering in {}ms",
              handler.name(), event.id(), delay.toMillis());
          result.complete(Disposition.redeliverAfter(delay));
        } else {
          run(event, message, n, true, result);
        }
      }, rt.safeExecutor);
    } else {
      run(event, message, n, false, result);
    }
  }

  private void run(ObservedEvent event, InboundMessage message, int n, boolean claimed, CompletableFuture<Disposition> result) {
    Instant startedAt = rt.clock.instant();
    long t0 = System.nanoTime();
    rt.listeners.attemptStarted(event, handler.name(), n);
    Delivery d = new Delivery(event, handler.name(), n, message.payload(), Delivery.keyOf(event, handler.name()));
    Attempts.run(handler.action(), d, handler.retry().attemptTimeout(), rt.scheduler)
        .thenAcceptAsync(r -> settle(event, message, n, startedAt, System.nanoTime() - t0, r, claimed, result), rt.safeExecutor);
  }

  private void settle(ObservedEvent event, InboundMessage message, int n, Instant startedAt, long nanos, ActionResult r,
      boolean claimed, CompletableFuture<Disposition> result) {
    Duration elapsed = Duration.ofNanos(nanos);
    rt.listeners.attemptFinished(event, handler.name(), n, r, elapsed);
    try (Runtime.MdcScope ignored = Runtime.mdc(event, handler.name())) {
      if (r.isDelivered()) {
        if (claimed) {
          rt.idempotency.complete(event.id().toString(), handler.name());
        }
        if (DeliveryTask.isDuplicate(r)) {
          rt.listeners.duplicateSkipped(event, handler.name());
        }
        if (rt.log().isDebugEnabled()) {
          rt.log().debug("[observer] {}: completed in {}ms{}{}", handler.name(), elapsed.toMillis(),
              r.detail().isEmpty() ? "" : " (" + r.detail() + ")", Runtime.req(event));
        }
        result.complete(Disposition.ack());
        return;
      }
      if (claimed) {
        rt.idempotency.release(event.id().toString(), handler.name());
      }
      int max = handler.retry().maxAttempts();
      if (r instanceof ActionResult.Failed || n >= max) {
        String reason = r instanceof ActionResult.Failed ? "permanent failure: " + r.detail()
            : "budget spent after " + n + " deliveries: " + r.detail();
        DeadLetter letter = new DeadLetter(Uuid7.next().toString(), event, handler.name(), java.util.Optional.of(subject),
            reason, List.of(new AttemptRecord(n, startedAt, elapsed, r.toString())), rt.clock.instant());
        rt.log().warn("[observer] {}: dead-lettered event {} from {} ({}){}", handler.name(), event.id(),
            message.subject(), reason, Runtime.req(event));
        rt.storeDeadLetter(letter);
        result.complete(Disposition.term());
        return;
      }
      Duration delay = rt.retryDelay(handler, r, n);
      rt.log().warn("[observer] {}: delivery {}/{} of event {} failed in {}ms ({}); redelivering in {}ms{}", handler.name(),
          n, max, event.id(), elapsed.toMillis(), r.detail(), delay.toMillis(), Runtime.req(event));
      rt.listeners.retryScheduled(event, handler.name(), n + 1, delay);
      result.complete(Disposition.redeliverAfter(delay));
    }
  }
}

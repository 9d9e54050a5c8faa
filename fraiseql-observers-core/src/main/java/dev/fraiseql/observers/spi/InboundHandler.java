package dev.fraiseql.observers.spi;

import java.util.concurrent.CompletionStage;

/** The engine's side of a subscription: handles one message and says what to do with it. Never throws. */
@FunctionalInterface
public interface InboundHandler {
  CompletionStage<Disposition> handle(InboundMessage message);
}

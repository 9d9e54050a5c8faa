package dev.fraiseql.observers;

/**
 * A host-registered Java handler: {@code ObserverEngine.builder().handler("reserveInventory", event -> ...)}.
 * Usable as a handler's action ({@code action = "handler"}, {@code handler = "reserveInventory"}) and
 * from {@code [[observers.subscribe]] handler = "reserveInventory"}.
 *
 * <p>Returning normally means delivered. Throwing means a retryable failure, unless the exception is a
 * {@link dev.fraiseql.observers.spi.PermanentFailureException}. Runs on the engine's executor; it may
 * block (bounded by the handler's {@code timeout_ms}).
 */
@FunctionalInterface
public interface ObserverHandler {
  void handle(ObservedEvent event) throws Exception;
}

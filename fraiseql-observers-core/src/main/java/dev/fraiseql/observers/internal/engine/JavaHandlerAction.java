package dev.fraiseql.observers.internal.engine;

import dev.fraiseql.observers.ObserverHandler;
import dev.fraiseql.observers.spi.ActionResult;
import dev.fraiseql.observers.spi.Delivery;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/** A host-registered {@link ObserverHandler} as an action. Runs on the calling (executor) thread. */
final class JavaHandlerAction implements SyncAction {
  private final String name;
  private final ObserverHandler handler;

  JavaHandlerAction(String name, ObserverHandler handler) {
    this.name = name;
    this.handler = handler;
  }

  @Override
  public ActionResult executeNow(Delivery delivery) throws Exception {
    handler.handle(delivery.event());
    return ActionResult.delivered();
  }

  @Override
  public CompletionStage<ActionResult> execute(Delivery delivery) {
    try {
      return CompletableFuture.completedFuture(executeNow(delivery));
    } catch (Exception e) {
      return CompletableFuture.completedFuture(Attempts.fromThrowable(e));
    }
  }

  @Override
  public String describe() {
    return "java handler " + name;
  }
}

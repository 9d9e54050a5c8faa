package dev.fraiseql.observers.internal.engine;

import dev.fraiseql.observers.spi.Action;
import dev.fraiseql.observers.spi.ActionResult;
import dev.fraiseql.observers.spi.Delivery;

/** An action that answers on the calling thread: the engine calls it without a future. */
interface SyncAction extends Action {
  /** Runs the attempt here and now; exceptions are the engine's to classify. */
  ActionResult executeNow(Delivery delivery) throws Exception;
}

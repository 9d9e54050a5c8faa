package dev.fraiseql.observers.internal.engine;

import dev.fraiseql.observers.spi.Action;
import dev.fraiseql.observers.spi.ActionResult;
import dev.fraiseql.observers.spi.Delivery;
import dev.fraiseql.observers.spi.PermanentFailureException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/** Runs one attempt of an action under a timeout; turns exceptions into results. */
final class Attempts {
  private Attempts() {}

  @SuppressWarnings("unchecked")
  static CompletableFuture<ActionResult> run(Action action, Delivery delivery, Duration timeout,
      ScheduledExecutorService scheduler) {
    CompletionStage<ActionResult> stage;
    try {
      stage = action.execute(delivery);
      if (stage == null) {
        stage = CompletableFuture.completedFuture(ActionResult.failed("action returned no result (a bug in the action)"));
      }
    } catch (Throwable t) {
      stage = CompletableFuture.failedFuture(t);
    }
    if (stage instanceof CompletableFuture && ((CompletableFuture<ActionResult>) stage).isDone()) {
      // answered synchronously (a Java handler, a cached result): no timer to arm and cancel
      CompletableFuture<ActionResult> done = (CompletableFuture<ActionResult>) stage;
      try {
        ActionResult r = done.join();
        return CompletableFuture.completedFuture(r != null ? r : ActionResult.failed("action returned no result"));
      } catch (RuntimeException ex) {
        return CompletableFuture.completedFuture(fromThrowable(ex));
      }
    }
    CompletableFuture<ActionResult> result = new CompletableFuture<>();
    ScheduledFuture<?> timer = scheduler.schedule(
        () -> result.complete(ActionResult.retry("timed out after " + timeout.toMillis() + "ms")),
        timeout.toMillis(), TimeUnit.MILLISECONDS);
    stage.whenComplete((r, ex) -> {
      timer.cancel(false);
      result.complete(r != null ? r : fromThrowable(ex));
    });
    return result;
  }

  static ActionResult fromThrowable(Throwable t) {
    Throwable cause = t;
    while ((cause instanceof CompletionException || cause instanceof ExecutionException) && cause.getCause() != null) {
      cause = cause.getCause();
    }
    if (cause == null) {
      return ActionResult.retry("failed without a result");
    }
    String message = cause.getClass().getSimpleName() + (cause.getMessage() != null ? ": " + cause.getMessage() : "");
    if (cause instanceof PermanentFailureException) {
      return ActionResult.failed(message);
    }
    return ActionResult.retry(message);
  }
}

package dev.fraiseql.observers.spi;

import java.util.concurrent.CompletionStage;

/**
 * What a handler does with a delivery. Created once per handler by an {@link ActionProvider};
 * called concurrently from many threads.
 *
 * <p>An action does one attempt and reports how it went. It does not retry, sleep or dead-letter:
 * the dispatcher does that from the handler's retry budget. The dispatcher also enforces the
 * per-attempt timeout; an action should still bound its own I/O.
 */
public interface Action extends AutoCloseable {

  /**
   * Runs one attempt. May complete synchronously (return a completed stage) or asynchronously.
   * A thrown exception or an exceptionally completed stage counts as {@link ActionResult.Retry},
   * unless it is a {@link PermanentFailureException}.
   */
  CompletionStage<ActionResult> execute(Delivery delivery);

  /**
   * For the log line {@code [observer] welcome-email: dispatching <describe()>}, e.g.
   * {@code webhook to https://email-svc/hooks/fraiseql}. Must not contain secrets (tokens, passwords,
   * query strings).
   */
  default String describe() {
    return getClass().getSimpleName();
  }

  /**
   * True when the action records {@link Delivery#idempotencyKey()} itself, atomically with its effect
   * (a SQL function called in the same transaction as the key insert). The engine then skips its own
   * claim under {@code effectively_once}; the action reports a duplicate as
   * {@link ActionResult#duplicate(String)}.
   */
  default boolean recordsIdempotencyItself() {
    return false;
  }

  /**
   * What this action would send for {@code delivery}, worked out without sending it: no request, no
   * publish, no SQL, no side effect of any kind. Used by dry runs ({@code ObserverEngine.builder().dryRun()},
   * {@code fraiseql-observers explain --event}). Empty when the action cannot tell (the default).
   * The preview must hold no secret (see {@link ActionPreview}).
   */
  default java.util.Optional<ActionPreview> preview(Delivery delivery) {
    return java.util.Optional.empty();
  }

  /** Releases what the action holds (connections, clients). Called once, at engine close. */
  @Override
  default void close() {}
}

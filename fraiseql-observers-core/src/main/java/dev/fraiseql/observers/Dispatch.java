package dev.fraiseql.observers;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletionStage;

/**
 * The handle {@link ObserverEngine#onCommit} returns at once: which handlers matched, a stage that
 * completes when all of them are done, and a way to wait for the synchronous ones.
 */
public interface Dispatch {

  ObservedEvent event();

  /** The names of the handlers whose trigger matched, in definition order (conditions not yet evaluated). */
  List<String> matched();

  /**
   * Completes when every matched handler has ended (delivered, skipped, duplicate or dead-lettered),
   * with one outcome per handler in definition order. Never completes exceptionally.
   */
  CompletionStage<List<DeliveryOutcome>> completion();

  /**
   * Waits for the {@code synchronous = true} handlers, each up to its {@code synchronous_timeout_ms}.
   * Never throws for a failure or a timeout: those come back as warnings. Returns at once when no
   * synchronous handler matched.
   */
  SynchronousResult awaitSynchronous();

  /** As {@link #awaitSynchronous()}, with one overall timeout instead of the handlers' own. */
  SynchronousResult awaitSynchronous(Duration timeout);
}

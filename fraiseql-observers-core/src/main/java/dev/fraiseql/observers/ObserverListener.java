package dev.fraiseql.observers;

import dev.fraiseql.observers.spi.ActionResult;
import dev.fraiseql.observers.spi.DeadLetter;
import java.time.Duration;
import java.util.List;

/**
 * Hooks for metrics and tracing, in the spirit of OkHttp's {@code EventListener}: every method has a
 * no-op default, so implement only what you need. Called on the engine's threads: keep it fast and
 * never throw (exceptions are logged and ignored).
 */
public interface ObserverListener {

  /** An event matched these handlers (before conditions). */
  default void matched(ObservedEvent event, List<String> handlers) {}

  /** An attempt is about to start. */
  default void attemptStarted(ObservedEvent event, String handler, int attempt) {}

  /**
   * Attempt {@code attempt} waits locally from now, before its I/O: for a free slot at its endpoint
   * ({@code max_concurrency} of a webhook or Slack handler), a publish window, a pooled connection. The
   * wait is not part of the attempt (it spends no budget and {@code timeout_ms} does not run). Exactly
   * one {@link #attemptDequeued} follows. Only actions that wait locally report it, and only when they
   * do wait (a request that finds a free slot at once is never queued).
   */
  default void attemptQueued(ObservedEvent event, String handler, int attempt) {}

  /**
   * Attempt {@code attempt}, reported by {@link #attemptQueued}, stopped waiting after {@code waited}:
   * its I/O began ({@code abandoned} false), or it left the queue unsent ({@code abandoned} true: it
   * waited longer than the action's bound, such as {@code queue_timeout_ms}, or the engine gave up on
   * it). Called before the attempt's own {@link #attemptFinished}.
   */
  default void attemptDequeued(ObservedEvent event, String handler, int attempt, Duration waited, boolean abandoned) {}

  /** An attempt ended. */
  default void attemptFinished(ObservedEvent event, String handler, int attempt, ActionResult result,
      Duration elapsed) {}

  /** A retry was scheduled after {@code delay}. */
  default void retryScheduled(ObservedEvent event, String handler, int nextAttempt, Duration delay) {}

  /** A delivery was dead-lettered. */
  default void deadLettered(DeadLetter letter) {}

  /**
   * A delivery was skipped as a duplicate: the engine's effectively-once claim found it done, or the
   * action reported {@link ActionResult#duplicate(String)} (a SQL handler's key, a bus's de-duplication).
   */
  default void duplicateSkipped(ObservedEvent event, String handler) {}

  /** The condition was false. */
  default void skipped(ObservedEvent event, String handler) {}

  /** A delivery ended (any status). */
  default void completed(ObservedEvent event, DeliveryOutcome outcome) {}

  /** {@code onCommit} hit the in-flight bound. */
  default void overloaded(ObservedEvent event, String policy) {}
}

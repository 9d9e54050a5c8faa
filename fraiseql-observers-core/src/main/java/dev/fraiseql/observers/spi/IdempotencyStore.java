package dev.fraiseql.observers.spi;

import java.time.Duration;
import java.util.concurrent.CompletionStage;

/**
 * Guards deliveries under {@code checkpoint_strategy = "effectively_once"}, keyed by seed 001's
 * {@code (idempotency_key, listener_id)}: the event id and the handler name.
 *
 * <p>The protocol never loses an event: the engine {@link #claim claims} a key before running the
 * action; on success it {@link #complete completes} it (the key is then permanent and every later
 * claim answers {@link Claim#DONE}); on failure it {@link #release releases} it so the retry can
 * claim again. A claim that is neither completed nor released (the process died) expires after its
 * TTL and can be claimed again.
 */
public interface IdempotencyStore {

  enum Claim {
    /** This caller holds the key now: run the action. */
    CLAIMED,
    /** Completed before: skip, it is a duplicate. */
    DONE,
    /** Another caller holds a live claim: try again later (it may yet fail and release). */
    BUSY
  }

  CompletionStage<Claim> claim(String key, String listenerId, Duration ttl);

  CompletionStage<Void> complete(String key, String listenerId);

  CompletionStage<Void> release(String key, String listenerId);
}

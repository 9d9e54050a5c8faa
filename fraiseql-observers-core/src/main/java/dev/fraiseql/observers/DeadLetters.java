package dev.fraiseql.observers;

import dev.fraiseql.observers.spi.DeadLetter;
import dev.fraiseql.observers.spi.DeadLetterQuery;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

/**
 * The engine's dead-letter queue: list, replay, discard. A replay is a fresh delivery, with a fresh
 * budget, to the one handler that failed (not to every handler of the event); when it succeeds the
 * dead letter is removed, and when it fails again it is dead-lettered anew.
 */
public interface DeadLetters {

  /**
   * Where these dead letters are kept: the backend whose store holds them ({@code postgres},
   * {@code redis}), or a name starting with {@code memory} / {@code in-memory} when they live in this
   * process only (another process, such as the command line, cannot see them).
   */
  default String store() {
    return "unknown";
  }

  /** Newest first. */
  List<DeadLetter> list(DeadLetterQuery query);

  default List<DeadLetter> list() {
    return list(DeadLetterQuery.all());
  }

  Optional<DeadLetter> get(String id);

  long count();

  /**
   * Replays one dead letter.
   *
   * @return its outcome once the fresh delivery has ended
   * @throws java.util.NoSuchElementException when no dead letter has that id
   * @throws ObserverException when its handler no longer exists in this engine's configuration
   */
  CompletionStage<DeliveryOutcome> replay(String id);

  /** Replays each; their outcomes in the same order. */
  List<CompletionStage<DeliveryOutcome>> replay(Collection<String> ids);

  /** @return whether it was there */
  boolean discard(String id);

  /** Discards all that match; returns how many. */
  int discard(DeadLetterQuery query);
}

package dev.fraiseql.observers.spi;

import java.util.List;
import java.util.Optional;

/**
 * Where deliveries go when their budget is spent or their failure is permanent. The engine's
 * {@code deadLetters()} lists, replays and discards through it. Implementations: in-memory (core,
 * bounded), PostgreSQL table (pg), Redis (redis). Thread-safe.
 */
public interface DeadLetterStore {

  /** Stores it durably before returning (the delivery is forgotten by the engine afterwards). */
  void add(DeadLetter letter);

  /** Newest first, filtered. */
  List<DeadLetter> list(DeadLetterQuery query);

  Optional<DeadLetter> get(String id);

  /** @return whether it was there */
  boolean remove(String id);

  /** How many are stored. */
  long count();
}

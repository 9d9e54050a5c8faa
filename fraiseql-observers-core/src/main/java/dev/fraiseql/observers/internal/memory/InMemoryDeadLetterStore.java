package dev.fraiseql.observers.internal.memory;

import dev.fraiseql.observers.internal.LogThrottle;
import dev.fraiseql.observers.spi.DeadLetter;
import dev.fraiseql.observers.spi.DeadLetterQuery;
import dev.fraiseql.observers.spi.DeadLetterStore;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Dead letters in memory, at most {@code capacity}: at the limit the oldest is dropped, counted
 * ({@link #dropped()}) and logged at WARN: the first drop, then at most one line a second, which says
 * how many were dropped since the previous line (a burst of a million drops is a handful of lines,
 * not a thousand). Lost on restart: use the pg or redis store for durability.
 */
public final class InMemoryDeadLetterStore implements DeadLetterStore {
  private static final Logger LOG = LoggerFactory.getLogger(InMemoryDeadLetterStore.class);

  private final int capacity;
  private final LinkedHashMap<String, DeadLetter> letters = new LinkedHashMap<>();
  private final AtomicLong dropped = new AtomicLong();
  /** One drop line a second at most. */
  private final LogThrottle dropLog = new LogThrottle(1_000_000_000L, System.nanoTime());

  public InMemoryDeadLetterStore(int capacity) {
    if (capacity < 1) {
      throw new IllegalArgumentException("capacity must be at least 1");
    }
    this.capacity = capacity;
  }

  @Override
  public synchronized void add(DeadLetter letter) {
    letters.put(letter.id(), letter);
    while (letters.size() > capacity) {
      Iterator<Map.Entry<String, DeadLetter>> it = letters.entrySet().iterator();
      DeadLetter oldest = it.next().getValue();
      it.remove();
      long n = dropped.incrementAndGet();
      long heldBack = dropLog.admit(System.nanoTime());
      if (heldBack >= 0) {
        LOG.warn("[observer] in-memory dead-letter store is full (dead_letter_capacity={}): dropped the oldest ({} → {}, event {}); {} dropped since the last such line, {} in all. Raise dead_letter_capacity or use a durable store (dead_letter_store = \"postgres\" or \"redis\").",
            capacity, oldest.event().name(), oldest.handler(), oldest.event().id(), heldBack + 1, n);
      }
    }
  }

  @Override
  public synchronized List<DeadLetter> list(DeadLetterQuery query) {
    List<DeadLetter> all = new ArrayList<>(letters.values());
    List<DeadLetter> out = new ArrayList<>();
    for (int i = all.size() - 1; i >= 0 && out.size() < query.limit(); i--) {
      if (query.matches(all.get(i))) {
        out.add(all.get(i));
      }
    }
    return out;
  }

  @Override
  public synchronized Optional<DeadLetter> get(String id) {
    return Optional.ofNullable(letters.get(id));
  }

  @Override
  public synchronized boolean remove(String id) {
    return letters.remove(id) != null;
  }

  @Override
  public synchronized long count() {
    return letters.size();
  }

  /** How many were dropped at the capacity limit. */
  public long dropped() {
    return dropped.get();
  }
}

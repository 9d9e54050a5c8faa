package dev.fraiseql.observers.internal.memory;

import dev.fraiseql.observers.internal.LogThrottle;
import dev.fraiseql.observers.spi.IdempotencyStore;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Idempotency keys in memory: guards duplicates within one process and only while the key is kept.
 * At most {@code capacity} completed keys are kept; past that the oldest completed key is forgotten
 * (logged at WARN the first time, then at most once a minute with the count since the last line: at
 * the capacity every completion forgets a key, so this is a steady state, not a burst). Live claims
 * are never evicted. Not durable:
 * use the pg or redis store for effectively-once across restarts.
 */
public final class InMemoryIdempotencyStore implements IdempotencyStore {
  private static final Logger LOG = LoggerFactory.getLogger(InMemoryIdempotencyStore.class);

  private static final class Entry {
    boolean done;
    Instant claimExpires;
  }

  private final int capacity;
  private final Clock clock;
  private final LinkedHashMap<String, Entry> entries = new LinkedHashMap<>();
  private long evicted;
  /** One eviction line a minute (engine clock) at most. */
  private final LogThrottle evictionLog;

  public InMemoryIdempotencyStore(int capacity, Clock clock) {
    this.capacity = capacity;
    this.clock = clock;
    this.evictionLog = new LogThrottle(60_000, clock.millis());
  }

  private static String k(String key, String listener) {
    return listener + '\u0000' + key;
  }

  @Override
  public synchronized CompletionStage<Claim> claim(String key, String listenerId, Duration ttl) {
    Instant now = clock.instant();
    String id = k(key, listenerId);
    Entry e = entries.get(id);
    if (e != null) {
      if (e.done) {
        return CompletableFuture.completedFuture(Claim.DONE);
      }
      if (e.claimExpires.isAfter(now)) {
        return CompletableFuture.completedFuture(Claim.BUSY);
      }
    } else {
      e = new Entry();
      entries.put(id, e);
    }
    e.claimExpires = now.plus(ttl);
    return CompletableFuture.completedFuture(Claim.CLAIMED);
  }

  @Override
  public synchronized CompletionStage<Void> complete(String key, String listenerId) {
    Entry e = entries.computeIfAbsent(k(key, listenerId), x -> new Entry());
    e.done = true;
    e.claimExpires = null;
    evictIfNeeded();
    return CompletableFuture.completedFuture(null);
  }

  @Override
  public synchronized CompletionStage<Void> release(String key, String listenerId) {
    String id = k(key, listenerId);
    Entry e = entries.get(id);
    if (e != null && !e.done) {
      entries.remove(id);
    }
    return CompletableFuture.completedFuture(null);
  }

  private void evictIfNeeded() {
    if (entries.size() <= capacity) {
      return;
    }
    for (Iterator<Map.Entry<String, Entry>> it = entries.entrySet().iterator(); it.hasNext() && entries.size() > capacity; ) {
      if (it.next().getValue().done) {
        it.remove();
        evicted++;
        long heldBack = evictionLog.admit(clock.millis());
        if (heldBack >= 0) {
          LOG.warn("[observer] in-memory idempotency store holds {} keys: forgot the oldest completed key ({} since the last such line, {} in all). "
              + "Duplicates older than that are no longer detected; use idempotency_store = \"postgres\" for durable keys.",
              capacity, heldBack + 1, evicted);
        }
      }
    }
  }

  /** How many completed keys were forgotten at the capacity. */
  public synchronized long evicted() {
    return evicted;
  }

  public synchronized int size() {
    return entries.size();
  }
}

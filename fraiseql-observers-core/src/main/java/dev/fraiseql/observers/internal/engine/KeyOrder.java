package dev.fraiseql.observers.internal.engine;

import dev.fraiseql.observers.ObservedEvent;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * The per-key order of one handler with {@code ordering = "key"}: at most one delivery per key runs
 * (from its first attempt to its end state, retries included); the others wait here, in the order
 * {@code onCommit} dispatched them, and hold no thread and no place in the executor's queue. When the
 * running one ends (delivered, duplicate or dead-lettered) the next one of its key is started.
 *
 * <p>A key that nothing waits for has no entry: the map holds only keys with a delivery in flight, so
 * its size is bounded by {@code max_in_flight}. Each step is one {@link ConcurrentHashMap#compute} on
 * the key's bin (no lock shared by different keys).
 */
final class KeyOrder {
  private final Function<ObservedEvent, Object> keyOf;
  /** Per key in flight: the holding {@link DeliveryTask} alone while nothing waits (no allocation), else a {@link Lane}. */
  private final ConcurrentHashMap<Object, Object> lanes = new ConcurrentHashMap<>();

  /** One key in flight with deliveries waiting: the one that holds it and those waiting (oldest first). */
  private static final class Lane {
    DeliveryTask holder;
    final ArrayDeque<DeliveryTask> waiting = new ArrayDeque<>(4);

    Lane(DeliveryTask holder) {
      this.holder = holder;
    }
  }

  KeyOrder(Function<ObservedEvent, Object> keyOf) {
    this.keyOf = keyOf;
  }

  /** The key of an event for this handler (never null). */
  Object keyOf(ObservedEvent e) {
    Object k;
    try {
      k = keyOf.apply(e);
    } catch (RuntimeException ex) {
      k = null;
    }
    return k != null ? k : e.table();
  }

  /**
   * Takes the key of {@code t} if it is free (true: start it now), or queues {@code t} behind the
   * deliveries of its key (false: {@link #release} starts it later).
   */
  boolean acquire(DeliveryTask t) {
    if (lanes.putIfAbsent(t.orderKey, t) == null) {
      return true; // the usual case with many keys: one CAS into an empty bin, no lock
    }
    t.keyTaken = false;
    lanes.compute(t.orderKey, (k, v) -> {
      if (v == null) {
        t.keyTaken = true; // written and read by this thread (compute runs the function on the caller)
        return t;
      }
      Lane lane = v instanceof Lane ? (Lane) v : new Lane((DeliveryTask) v);
      lane.waiting.add(t);
      return lane;
    });
    return t.keyTaken;
  }

  /**
   * {@code t} ended. If it held its key, the key passes to the oldest delivery waiting for it, which is
   * returned (the caller starts it); if it was still waiting (dead-lettered at shutdown or for
   * overload), it leaves the queue. Null when there is nothing to start.
   */
  DeliveryTask release(DeliveryTask t) {
    t.successor = null;
    if (lanes.remove(t.orderKey, t)) {
      return null; // nothing waited
    }
    lanes.computeIfPresent(t.orderKey, (k, v) -> {
      if (v == t) {
        return null; // nothing waits: the key is free
      }
      if (!(v instanceof Lane)) {
        return v; // t never held it (dead-lettered for overload before it was queued)
      }
      Lane lane = (Lane) v;
      if (lane.holder != t) {
        lane.waiting.remove(t);
        return lane;
      }
      DeliveryTask next;
      while ((next = lane.waiting.poll()) != null && next.isEnded()) {
        // dead-lettered while it waited: skip it
      }
      if (next == null) {
        return null;
      }
      t.successor = next;
      if (lane.waiting.isEmpty()) {
        return next;
      }
      lane.holder = next;
      return lane;
    });
    DeliveryTask next = t.successor;
    t.successor = null;
    return next;
  }

  /** Deliveries waiting for their key now (for close(), which dead-letters what did not finish). */
  List<DeliveryTask> waiting() {
    List<DeliveryTask> out = new ArrayList<>();
    for (Object key : lanes.keySet()) {
      lanes.computeIfPresent(key, (k, v) -> {
        if (v instanceof Lane) {
          out.addAll(((Lane) v).waiting);
        }
        return v;
      });
    }
    return out;
  }

  /** Keys with a delivery in flight now. */
  int keysInFlight() {
    return lanes.size();
  }
}

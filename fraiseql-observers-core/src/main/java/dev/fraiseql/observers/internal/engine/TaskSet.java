package dev.fraiseql.observers.internal.engine;

import java.util.ArrayList;
import java.util.List;

/**
 * The deliveries that have not ended, for the timeout sweeper, for close() and for the in-flight
 * count. Striped intrusive lists: adding and removing allocate nothing and take one mostly
 * uncontended monitor, instead of a concurrent hash set's node, hash and shared counter; each stripe
 * counts its removals, so ending a delivery needs no shared counter either.
 */
final class TaskSet {
  private static final int STRIPES = 16;
  private final Stripe[] stripes = new Stripe[STRIPES];

  /** One list; its monitor guards its links and the links of the tasks in it. */
  @SuppressWarnings("unused")
  private static final class Stripe {
    DeliveryTask head;
    /** Tasks ever removed from this stripe (written under the monitor, read without it). */
    volatile long removed;
    // padding: stripes are written by different threads; keep each on its own cache line
    long p1, p2, p3, p4, p5, p6, p7;
  }

  TaskSet() {
    for (int i = 0; i < STRIPES; i++) {
      stripes[i] = new Stripe();
    }
  }

  /** The stripe for a task added at dispatch: the event id's random low bits spread events at no cost. */
  static int stripeOf(DeliveryTask t) {
    return (int) t.event.id().getLeastSignificantBits() & (STRIPES - 1);
  }

  /** The stripe for a task added by the worker that runs it: the worker's own (thread ids are sequential). */
  static int stripeOfCurrentThread() {
    return (int) Thread.currentThread().getId() & (STRIPES - 1);
  }

  /** Adds it to stripe {@code i}, unless it is in the set already. */
  void add(DeliveryTask t, int i) {
    Stripe s = stripes[i];
    synchronized (s) {
      if (t.stripe >= 0) {
        return;
      }
      t.stripe = i;
      t.prev = null;
      t.next = s.head;
      if (s.head != null) {
        s.head.prev = t;
      }
      s.head = t;
    }
  }

  void remove(DeliveryTask t) {
    int i = t.stripe;
    if (i < 0) {
      return;
    }
    Stripe s = stripes[i];
    synchronized (s) {
      if (t.stripe != i) {
        return;
      }
      if (t.prev != null) {
        t.prev.next = t.next;
      } else {
        s.head = t.next;
      }
      if (t.next != null) {
        t.next.prev = t.prev;
      }
      t.prev = null;
      t.next = null;
      t.stripe = -1;
      s.removed = s.removed + 1;
    }
  }

  /** How many tasks have ever left the set: with the count admitted, the number in flight. */
  long removedTotal() {
    long n = 0;
    for (Stripe s : stripes) {
      n += s.removed;
    }
    return n;
  }

  /**
   * Settles the running attempts past their deadline; walks the lists in place (no copy of a full
   * set every sweep) and calls {@link DeliveryTask#expireIfOverdue} outside the monitors.
   */
  void expireOverdue(long nowNanos) {
    List<DeliveryTask> overdue = null;
    for (Stripe s : stripes) {
      synchronized (s) {
        for (DeliveryTask t = s.head; t != null; t = t.next) {
          if (t.isOverdue(nowNanos)) {
            if (overdue == null) {
              overdue = new ArrayList<>();
            }
            overdue.add(t);
          }
        }
      }
    }
    if (overdue != null) {
      for (DeliveryTask t : overdue) {
        t.expireIfOverdue(nowNanos);
      }
    }
  }

  /** A copy of what is in the set now. */
  List<DeliveryTask> snapshot() {
    List<DeliveryTask> out = new ArrayList<>();
    for (Stripe s : stripes) {
      synchronized (s) {
        for (DeliveryTask t = s.head; t != null; t = t.next) {
          out.add(t);
        }
      }
    }
    return out;
  }
}

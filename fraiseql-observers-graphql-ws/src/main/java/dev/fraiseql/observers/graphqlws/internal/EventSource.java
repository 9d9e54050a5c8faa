package dev.fraiseql.observers.graphqlws.internal;

import dev.fraiseql.observers.ObservedEvent;
import dev.fraiseql.observers.Operation;
import dev.fraiseql.observers.graphqlws.SubscriptionDefinition;
import java.math.BigDecimal;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import org.reactivestreams.Publisher;
import org.reactivestreams.Subscriber;
import org.reactivestreams.Subscription;

/**
 * The source stream of one shared execution: the subscription field's data fetcher returns it, and
 * graphql-java applies the client's selection to each row it emits. It emits an event's row when the
 * table and operation match the declaration, the event's tenant is the clients' tenant, and every
 * non-null filter argument equals its row field. Only the dispatcher thread calls {@link #offer}.
 */
final class EventSource implements Publisher<Object> {
  private final SubscriptionDefinition def;
  private final Map<String, Object> filters;
  private final Optional<String> tenant;
  private volatile Subscriber<? super Object> subscriber;
  private final AtomicLong demand = new AtomicLong();
  private volatile boolean cancelled;

  EventSource(SubscriptionDefinition def, Map<String, Object> filters, Optional<String> tenant) {
    this.def = def;
    this.filters = filters;
    this.tenant = tenant;
  }

  @Override
  public void subscribe(Subscriber<? super Object> s) {
    Objects.requireNonNull(s);
    if (subscriber != null) {
      s.onSubscribe(new Subscription() {
        @Override public void request(long n) {}
        @Override public void cancel() {}
      });
      s.onError(new IllegalStateException("one subscriber only"));
      return;
    }
    subscriber = s;
    s.onSubscribe(new Subscription() {
      @Override
      public void request(long n) {
        demand.accumulateAndGet(n, (a, b) -> a + b < 0 ? Long.MAX_VALUE : a + b);
      }

      @Override
      public void cancel() {
        cancelled = true;
      }
    });
  }

  boolean cancelled() {
    return cancelled;
  }

  /** @return whether the event was emitted (matched and there was demand) */
  boolean offer(ObservedEvent e) {
    Subscriber<? super Object> s = subscriber;
    if (s == null || cancelled || !matches(e)) {
      return false;
    }
    Map<String, Object> row = e.operation() == Operation.DELETE ? e.oldRow().orElse(null) : e.newRow().orElse(null);
    if (row == null || !filtersMatch(row)) {
      return false;
    }
    if (demand.get() != Long.MAX_VALUE && demand.getAndUpdate(d -> d > 0 ? d - 1 : 0) <= 0) {
      return false;
    }
    s.onNext(row);
    return true;
  }

  void complete() {
    Subscriber<? super Object> s = subscriber;
    if (s != null && !cancelled) {
      cancelled = true;
      s.onComplete();
    }
  }

  private boolean matches(ObservedEvent e) {
    if (def.operation().isPresent() && def.operation().get() != e.operation()) {
      return false;
    }
    if (!tableMatches(def.table(), e.table())) {
      return false;
    }
    return e.context().tenantId().equals(tenant);
  }

  static boolean tableMatches(String declared, String table) {
    if (declared.equals(table)) {
      return true;
    }
    if (declared.indexOf('.') < 0) {
      int dot = table.lastIndexOf('.');
      return dot >= 0 && table.regionMatches(dot + 1, declared, 0, declared.length())
          && table.length() - dot - 1 == declared.length();
    }
    return false;
  }

  private boolean filtersMatch(Map<String, Object> row) {
    for (Map.Entry<String, Object> f : filters.entrySet()) {
      if (!same(row.get(f.getKey()), f.getValue())) {
        return false;
      }
    }
    return true;
  }

  static boolean same(Object rowValue, Object arg) {
    if (rowValue == null) {
      return false;
    }
    if (rowValue instanceof Number && arg instanceof Number) {
      try {
        return new BigDecimal(rowValue.toString()).compareTo(new BigDecimal(arg.toString())) == 0;
      } catch (NumberFormatException e) {
        return false;
      }
    }
    if (rowValue instanceof Number || rowValue instanceof Boolean || rowValue instanceof CharSequence
        || rowValue instanceof java.util.UUID) {
      return rowValue.toString().equals(String.valueOf(arg));
    }
    return false;
  }
}

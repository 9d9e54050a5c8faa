package dev.fraiseql.observers.spring.internal;

import dev.fraiseql.observers.Dispatch;
import dev.fraiseql.observers.MutationContext;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The mutation context of the web request the current thread serves, and the dispatches made during
 * it (so synchronous handlers can be awaited before the response is written). Bound by
 * {@link ObserverRequestFilter}; absent outside a request.
 */
public final class RequestState {
  private static final ThreadLocal<RequestState> CURRENT = new ThreadLocal<>();
  /** Bound on the dispatches one request keeps for its synchronous handlers. */
  static final int MAX_DISPATCHES = 10_000;

  private final MutationContext context;
  private final List<Dispatch> dispatches = new ArrayList<>();
  private final boolean collectDispatches;
  private final String tenantClaim;

  RequestState(MutationContext context, boolean collectDispatches) {
    this(context, collectDispatches, null);
  }

  RequestState(MutationContext context, boolean collectDispatches, String tenantClaim) {
    this.context = context;
    this.collectDispatches = collectDispatches;
    this.tenantClaim = tenantClaim;
  }

  /** The principal's claim the tenant comes from when the request has no tenant header. */
  public Optional<String> tenantClaim() {
    return Optional.ofNullable(tenantClaim);
  }

  public static Optional<RequestState> current() {
    return Optional.ofNullable(CURRENT.get());
  }

  static void bind(RequestState state) {
    CURRENT.set(state);
  }

  static void clear() {
    CURRENT.remove();
  }

  public MutationContext context() {
    return context;
  }

  synchronized void add(List<Dispatch> made) {
    if (collectDispatches) {
      for (Dispatch d : made) {
        if (dispatches.size() < MAX_DISPATCHES) {
          dispatches.add(d);
        }
      }
    }
  }

  synchronized List<Dispatch> dispatches() {
    return List.copyOf(dispatches);
  }
}

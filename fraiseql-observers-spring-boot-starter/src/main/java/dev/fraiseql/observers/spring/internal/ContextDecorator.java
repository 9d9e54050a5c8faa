package dev.fraiseql.observers.spring.internal;

import dev.fraiseql.observers.MutationContext;

/**
 * Adds to the mutation context of what the application publishes (and of the transactions whose
 * {@code fraiseql.*} settings the starter sets): the tracing configuration adds the current
 * {@code traceparent}. Applied after the request's user, tenant and request id were filled in.
 */
@FunctionalInterface
public interface ContextDecorator {
  MutationContext decorate(MutationContext context);
}

package dev.fraiseql.observers.spring.internal;

import dev.fraiseql.observers.MutationContext;
import dev.fraiseql.observers.ObservedEvent;
import dev.fraiseql.observers.Operation;
import dev.fraiseql.observers.opentelemetry.ObserverTracing;
import java.util.Map;

/** The current trace context into a mutation context, through {@link ObserverTracing#withCurrentContext}. */
public final class TracingContexts implements ContextDecorator {
  private final ObserverTracing tracing;

  public TracingContexts(ObserverTracing tracing) {
    this.tracing = tracing;
  }

  @Override
  public MutationContext decorate(MutationContext context) {
    if (!io.opentelemetry.api.trace.Span.current().getSpanContext().isValid()
        || context.attributes().containsKey(MutationContext.TRACEPARENT)) {
      return context;
    }
    // ObserverTracing writes the W3C headers into an event's context: a carrier event, never dispatched
    ObservedEvent carrier = ObservedEvent.builder().operation(Operation.INSERT).table("carrier")
        .newRow(Map.of()).context(context).build();
    return tracing.withCurrentContext(carrier).context();
  }
}

/**
 * OpenTelemetry tracing for the observer engine: {@link dev.fraiseql.observers.opentelemetry.ObserverTracing}
 * carries the trace context current at {@code onCommit} (or at {@code PgOutbox.record}) with the event
 * as its {@code traceparent} / {@code tracestate} context attributes, and turns every attempt into a span
 * whose parent is the producer's.
 */
package dev.fraiseql.observers.opentelemetry;

/**
 * Implementation of the tracing module. Not part of the public API: it may change in any release
 * without notice. Use {@link dev.fraiseql.observers.opentelemetry.ObserverTracing}.
 */
package dev.fraiseql.observers.opentelemetry.internal;

/**
 * Implementation of the Micrometer binder. Not part of the public API: it may change in any release
 * without notice. Use {@link dev.fraiseql.observers.micrometer.ObserverMetrics}.
 */
package dev.fraiseql.observers.micrometer.internal;

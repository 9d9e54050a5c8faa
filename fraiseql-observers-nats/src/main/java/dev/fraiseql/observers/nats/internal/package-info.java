/**
 * Implementation of the NATS JetStream backend. Not API: anything here may change in any release
 * without notice. Use {@link dev.fraiseql.observers.nats.NatsBackendProvider} and the
 * {@code [observers.nats]} configuration instead.
 */
package dev.fraiseql.observers.nats.internal;

/**
 * NATS JetStream backend for fraiseql-observers: {@code [observers] backend = "nats"}.
 *
 * <p>The only public type is {@link dev.fraiseql.observers.nats.NatsBackendProvider}, found through
 * {@link java.util.ServiceLoader}. See the module README for the configuration keys.
 */
package dev.fraiseql.observers.nats;

/**
 * Webhook and Slack actions for fraiseql-observers, over {@code java.net.http}.
 *
 * <p>Put this artifact on the classpath and handlers can use {@code action = "webhook"} and
 * {@code action = "slack"}; {@code [observers] backend = "webhook"} becomes available too. The
 * providers here are found with {@link java.util.ServiceLoader}; a host can also hand them to
 * {@link dev.fraiseql.observers.ObserverEngine.Builder#action} directly. Everything else lives in
 * {@code dev.fraiseql.observers.webhook.internal} and is not API.
 */
package dev.fraiseql.observers.webhook;

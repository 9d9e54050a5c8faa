/**
 * Extension points. Each is small: a provider has a {@code name()} and a factory, is registered in
 * {@code META-INF/services}, and can also be handed to
 * {@link dev.fraiseql.observers.ObserverEngine.Builder} directly.
 *
 * <ul>
 *   <li>{@link dev.fraiseql.observers.spi.ActionProvider} / {@link dev.fraiseql.observers.spi.Action}:
 *       what a handler does (webhook, slack, publish, sql, host handlers). An action reports an
 *       {@link dev.fraiseql.observers.spi.ActionResult}; it never retries by itself.
 *   <li>{@link dev.fraiseql.observers.spi.BackendProvider} / {@link dev.fraiseql.observers.spi.Backend}:
 *       an {@link dev.fraiseql.observers.spi.EventBus} and, where it can, durable stores.
 *   <li>{@link dev.fraiseql.observers.spi.DeadLetterStore} and
 *       {@link dev.fraiseql.observers.spi.IdempotencyStore}.
 * </ul>
 *
 * Data flows one way: event → router → deliveries → actions → outcome. A backend never sees rules;
 * an action never sees retries.
 */
package dev.fraiseql.observers.spi;

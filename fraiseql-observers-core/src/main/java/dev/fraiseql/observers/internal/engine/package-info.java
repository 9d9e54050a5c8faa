/** The engine: router, dispatcher, retries, dead letters, subscriptions. Internal: not part of the public API. */
package dev.fraiseql.observers.internal.engine;

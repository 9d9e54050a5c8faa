/**
 * The Redis backend for fraiseql-observers: {@link dev.fraiseql.observers.redis.RedisBackendProvider}
 * ({@code backend = "redis"}). Everything else is in the {@code internal} package and is not API.
 */
package dev.fraiseql.observers.redis;

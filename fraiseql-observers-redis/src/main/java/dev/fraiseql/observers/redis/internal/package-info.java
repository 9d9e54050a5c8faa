/**
 * Implementation of the Redis backend. <strong>Not part of the public API</strong>: anything in
 * {@code dev.fraiseql.observers.redis.internal} may change or disappear in any release without
 * notice. Use {@link dev.fraiseql.observers.redis.RedisBackendProvider} and the SPI in
 * {@code dev.fraiseql.observers.spi} instead.
 */
package dev.fraiseql.observers.redis.internal;

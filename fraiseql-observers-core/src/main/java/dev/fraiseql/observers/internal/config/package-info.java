/**
 * Reads {@code fraiseql.toml} into {@link dev.fraiseql.observers.config.ObserversConfig}.
 * <strong>Not part of the public API</strong>: use
 * {@link dev.fraiseql.observers.config.ObserversConfig#load(java.nio.file.Path)} and its siblings.
 */
package dev.fraiseql.observers.internal.config;

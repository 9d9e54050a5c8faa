/**
 * Immutable settings: what {@code fraiseql.toml} says, as values. Build them from a file with
 * {@link dev.fraiseql.observers.config.ObserversConfig#load(java.nio.file.Path)} or in code with
 * {@link dev.fraiseql.observers.config.ObserversConfig#builder()}; both have the same power.
 */
package dev.fraiseql.observers.config;

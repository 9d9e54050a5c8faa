/**
 * The condition language of {@code fraiseql.toml} (see
 * {@link dev.fraiseql.observers.internal.condition.ConditionCompiler}). <strong>Not part of the public
 * API</strong>: conditions are given as strings in {@link dev.fraiseql.observers.config.HandlerConfig}.
 */
package dev.fraiseql.observers.internal.condition;

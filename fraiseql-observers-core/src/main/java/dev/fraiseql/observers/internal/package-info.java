/**
 * Implementation details of fraiseql-observers. <strong>Not part of the public API</strong>: anything
 * in {@code dev.fraiseql.observers.internal} and its sub-packages may change or disappear in any
 * release without notice. Use {@code dev.fraiseql.observers}, {@code dev.fraiseql.observers.config}
 * and {@code dev.fraiseql.observers.spi} instead.
 */
package dev.fraiseql.observers.internal;

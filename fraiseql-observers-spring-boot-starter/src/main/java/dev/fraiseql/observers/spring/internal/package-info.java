/**
 * Implementation of the Spring Boot starter. Not part of the public API: anything here may change
 * without notice. Use {@code dev.fraiseql.observers.spring} instead.
 */
package dev.fraiseql.observers.spring.internal;

/**
 * Benchmarks for fraiseql-observers: {@link dev.fraiseql.observers.benchmarks.Ratios}, the harness that
 * runs our path and the raw client path side by side in one JVM and prints their ratio, and JMH micro
 * benchmarks of the core hot path in {@code jmh}. Not a library: never published, no API.
 */
package dev.fraiseql.observers.benchmarks;

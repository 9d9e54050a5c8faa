/**
 * JMH micro benchmarks of the core hot path: router match with 10 and 10,000 rules, condition
 * evaluation, event JSON serialization. Run with {@code java -jar benchmarks/target/benchmarks.jar}.
 */
package dev.fraiseql.observers.benchmarks.jmh;

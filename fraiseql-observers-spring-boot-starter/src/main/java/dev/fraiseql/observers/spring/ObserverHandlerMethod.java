package dev.fraiseql.observers.spring;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a method of a Spring bean as the Java handler named {@link #value()}: the one a
 * {@code fraiseql.toml} handler with {@code action = "handler"} and {@code handler = "name"}, or an
 * {@code [[observers.subscribe]]} entry with {@code handler = "name"}, runs.
 *
 * <pre>{@code
 * @Component
 * class Inventory {
 *   @ObserverHandlerMethod("reserveInventory")
 *   void reserve(ObservedEvent event) { ... }
 * }
 * }</pre>
 *
 * The method takes one {@link dev.fraiseql.observers.ObservedEvent}. Returning normally means delivered;
 * throwing means a retryable failure unless the exception is a
 * {@link dev.fraiseql.observers.spi.PermanentFailureException}. A bean implementing
 * {@link dev.fraiseql.observers.ObserverHandler} is registered under its bean name without this annotation.
 */
@Target(ElementType.METHOD)
@Retention(RetentionPolicy.RUNTIME)
@Documented
public @interface ObserverHandlerMethod {
  /** The handler name the configuration refers to. */
  String value();
}

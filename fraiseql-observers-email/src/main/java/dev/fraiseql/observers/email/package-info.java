/**
 * The email action for fraiseql-observers: {@code action = "email"} sends one message per delivery
 * over SMTP (Jakarta Mail with Eclipse Angus), with Mustache templates over the event for the
 * addresses, subject and bodies.
 *
 * <p>Put this artifact on the classpath and handlers can use {@code action = "email"}; the provider is
 * found with {@link java.util.ServiceLoader}, or handed to
 * {@link dev.fraiseql.observers.ObserverEngine.Builder#action} directly. Everything else lives in
 * {@code dev.fraiseql.observers.email.internal} and is not API.
 */
package dev.fraiseql.observers.email;

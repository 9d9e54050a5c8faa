/**
 * Implementation of the email action. <strong>Not part of the public API</strong>: anything in this
 * package may change or disappear in any release without notice. Use
 * {@link dev.fraiseql.observers.email.EmailActionProvider} (or, better, just {@code action = "email"} in
 * {@code fraiseql.toml}).
 */
package dev.fraiseql.observers.email.internal;

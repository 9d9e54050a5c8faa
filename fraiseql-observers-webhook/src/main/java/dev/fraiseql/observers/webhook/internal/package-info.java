/**
 * Implementation of the webhook and Slack actions. <strong>Not part of the public API</strong>:
 * anything in this package may change or disappear in any release without notice. Use the providers in
 * {@code dev.fraiseql.observers.webhook} (or, better, just {@code action = "webhook"} in
 * {@code fraiseql.toml}).
 */
package dev.fraiseql.observers.webhook.internal;

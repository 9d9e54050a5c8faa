/**
 * Implementation of the PostgreSQL module. <strong>Not part of the public API</strong>: anything in
 * {@code dev.fraiseql.observers.pg.internal} may change or disappear in any release without notice.
 * Use {@link dev.fraiseql.observers.pg.PostgresBackendProvider},
 * {@link dev.fraiseql.observers.pg.SqlFunctionActionProvider}, {@link dev.fraiseql.observers.pg.PgOutbox},
 * {@link dev.fraiseql.observers.pg.PgOutboxRelay}, {@link dev.fraiseql.observers.pg.PgCapture} and
 * {@link dev.fraiseql.observers.pg.PgMutationContext} instead.
 */
package dev.fraiseql.observers.pg.internal;

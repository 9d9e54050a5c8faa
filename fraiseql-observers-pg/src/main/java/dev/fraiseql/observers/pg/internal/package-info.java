/**
 * Implementation of the PostgreSQL module. <strong>Not part of the public API</strong>: anything in
 * {@code dev.fraiseql.observers.pg.internal} may change or disappear in any release without notice.
 * Use {@link dev.fraiseql.observers.pg.PostgresBackendProvider},
 * {@link dev.fraiseql.observers.pg.SqlFunctionActionProvider}, {@link dev.fraiseql.observers.pg.PgOutbox}
 * and {@link dev.fraiseql.observers.pg.PgOutboxRelay} instead.
 */
package dev.fraiseql.observers.pg.internal;

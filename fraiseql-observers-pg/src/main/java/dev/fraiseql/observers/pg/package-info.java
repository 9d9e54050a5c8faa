/**
 * PostgreSQL for fraiseql-observers: the {@code postgres} backend
 * ({@link dev.fraiseql.observers.pg.PostgresBackendProvider}: idempotency table for effectively-once,
 * durable dead letters, an event bus over tables and LISTEN/NOTIFY), SQL-function handlers
 * ({@link dev.fraiseql.observers.pg.SqlFunctionActionProvider}) and the transactional outbox
 * ({@link dev.fraiseql.observers.pg.PgOutbox}, {@link dev.fraiseql.observers.pg.PgOutboxRelay}), and
 * zero-code capture: triggers that record every committed change of the observed tables in the outbox
 * ({@link dev.fraiseql.observers.pg.PgCapture}, with the mutation context from
 * {@link dev.fraiseql.observers.pg.PgMutationContext}).
 */
package dev.fraiseql.observers.pg;

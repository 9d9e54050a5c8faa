-- fraiseql-observers: the transactional outbox (PgOutbox.record, PgOutboxRelay).
-- status: pending (not yet handed to the engine, or handed over by a relay that may have died),
-- done (every matched handler ended: delivered, skipped, duplicate or dead-lettered).
-- A pending row whose lease_until is in the future is being dispatched by lease_owner; an expired
-- lease means that relay died, and another one takes the row over.
CREATE TABLE IF NOT EXISTS observer_outbox (
    id              BIGSERIAL PRIMARY KEY,
    event_id        UUID NOT NULL,
    event           JSONB NOT NULL,
    recorded_at     TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    status          TEXT NOT NULL DEFAULT 'pending',
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    lease_owner     TEXT NULL,
    lease_until     TIMESTAMPTZ NULL,
    last_error      TEXT NULL,
    outcomes        JSONB NULL,
    completed_at    TIMESTAMPTZ NULL
);
CREATE INDEX IF NOT EXISTS observer_outbox_pending_idx ON observer_outbox (next_attempt_at, id) WHERE status = 'pending';
CREATE INDEX IF NOT EXISTS observer_outbox_done_idx ON observer_outbox (completed_at) WHERE status = 'done';

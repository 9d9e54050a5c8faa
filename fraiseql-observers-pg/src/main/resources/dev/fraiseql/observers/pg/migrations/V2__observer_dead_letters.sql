-- fraiseql-observers: durable dead letters ([observers.postgres] dead_letter_table).
-- event is JSON (not JSONB) on purpose: it keeps the event's JSON text exactly, key order included,
-- so a replay sends the same payload bytes as the original delivery. attempts is JSONB.
CREATE TABLE IF NOT EXISTS observer_dead_letters (
    id               TEXT PRIMARY KEY,
    event_id         UUID NOT NULL,
    handler          TEXT NOT NULL,
    subject          TEXT NULL,
    reason           TEXT NOT NULL,
    event            JSON NOT NULL,
    attempts         JSONB NOT NULL DEFAULT '[]'::jsonb,
    dead_lettered_at TIMESTAMPTZ NOT NULL,
    stored_at        TIMESTAMPTZ NOT NULL DEFAULT NOW()
);
CREATE INDEX IF NOT EXISTS observer_dead_letters_at_idx ON observer_dead_letters (dead_lettered_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS observer_dead_letters_handler_idx ON observer_dead_letters (handler, dead_lettered_at DESC);

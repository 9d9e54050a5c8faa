-- fraiseql-observers: PostgreSQL as the event bus (backend = "postgres").
-- observer_events holds published messages; observer_events_consumers registers durable consumers
-- with the subject pattern they follow; observer_events_deliveries is one row per (consumer, message)
-- with its claim-and-lease state.
CREATE TABLE IF NOT EXISTS observer_events (
    id           BIGSERIAL PRIMARY KEY,
    subject      TEXT NOT NULL,
    payload      BYTEA NOT NULL,
    headers      JSONB NOT NULL DEFAULT '{}'::jsonb,
    dedup_id     TEXT NOT NULL,
    published_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);
CREATE UNIQUE INDEX IF NOT EXISTS observer_events_dedup_idx ON observer_events (dedup_id);
CREATE TABLE IF NOT EXISTS observer_events_consumers (
    durable       TEXT PRIMARY KEY,
    subject       TEXT NOT NULL,
    subject_regex TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT NOW()
);
CREATE TABLE IF NOT EXISTS observer_events_deliveries (
    durable        TEXT NOT NULL,
    event_id       BIGINT NOT NULL,
    status         TEXT NOT NULL DEFAULT 'pending',
    delivery_count INTEGER NOT NULL DEFAULT 0,
    visible_at     TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    lease_owner    TEXT NULL,
    lease_until    TIMESTAMPTZ NULL,
    done_at        TIMESTAMPTZ NULL,
    PRIMARY KEY (durable, event_id)
);
CREATE INDEX IF NOT EXISTS observer_events_deliveries_pending_idx ON observer_events_deliveries (durable, visible_at, event_id) WHERE status = 'pending';

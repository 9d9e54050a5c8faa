-- fraiseql-observers: idempotency keys for checkpoint_strategy = "effectively_once".
-- The first three columns and the primary key are seed 001's schema. The two nullable columns hold
-- an unfinished claim: a row whose claimed_until IS NULL is processed (a duplicate from then on);
-- a row with claimed_until set is a delivery in progress, which expires at claimed_until.
-- processed_at is when the key was claimed, then when the delivery completed.
CREATE TABLE IF NOT EXISTS observer_idempotency_keys (
    idempotency_key TEXT NOT NULL,
    listener_id     TEXT NOT NULL,
    processed_at    TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    claimed_until   TIMESTAMPTZ NULL,
    claim_token     TEXT NULL,
    PRIMARY KEY (idempotency_key, listener_id)
);
-- An existing seed-001 table (three columns) is extended in place; its rows stay "processed".
ALTER TABLE observer_idempotency_keys ADD COLUMN IF NOT EXISTS claimed_until TIMESTAMPTZ NULL;
ALTER TABLE observer_idempotency_keys ADD COLUMN IF NOT EXISTS claim_token TEXT NULL;

-- Webhooks for partner organizations: endpoints with an event filter and
-- a secret kept sealed (AEAD under a key derived from the server secret,
-- since signing needs it back), one delivery per event and endpoint with
-- its retry state, and the log of attempts.

-- Who may receive an outbox event, copied from its payload when it is
-- written, and when it was handed out to the endpoints that may.
ALTER TABLE outbox ADD COLUMN partnership_id TEXT;
ALTER TABLE outbox ADD COLUMN organization_id TEXT;
ALTER TABLE outbox ADD COLUMN dispatched_at TIMESTAMP;
-- Events written before webhooks existed had no subscriber to reach.
UPDATE outbox SET dispatched_at = created_at;
CREATE INDEX outbox_undispatched ON outbox (id) WHERE dispatched_at IS NULL;
CREATE INDEX outbox_dispatched ON outbox (dispatched_at) WHERE dispatched_at IS NOT NULL;

CREATE TABLE webhook_endpoints (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    url             TEXT NOT NULL,
    events          TEXT NOT NULL,
    description     TEXT NOT NULL,
    secret_sealed   TEXT NOT NULL,
    enabled         BOOLEAN NOT NULL,
    disabled_reason TEXT,
    failing_since   TIMESTAMP,
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    version         BIGINT NOT NULL
);
CREATE INDEX webhook_endpoints_organization ON webhook_endpoints (organization_id, id);

CREATE TABLE webhook_deliveries (
    id              TEXT PRIMARY KEY,
    endpoint_id     TEXT NOT NULL REFERENCES webhook_endpoints (id),
    -- The outbox event (or the test message): the `webhook-id` a receiver
    -- deduplicates on, the same for every attempt.
    event_id        TEXT NOT NULL,
    event_type      TEXT NOT NULL,
    partnership_id  TEXT,
    -- The exact body sent, so pruning the outbox loses nothing.
    body            TEXT NOT NULL,
    status          TEXT NOT NULL,
    attempts        INTEGER NOT NULL,
    next_attempt_at TIMESTAMP,
    last_attempt_at TIMESTAMP,
    created_at      TIMESTAMP NOT NULL,
    UNIQUE (endpoint_id, event_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, id);
CREATE INDEX webhook_deliveries_finished ON webhook_deliveries (created_at) WHERE status <> 'pending';

CREATE TABLE webhook_attempts (
    id           TEXT PRIMARY KEY,
    delivery_id  TEXT NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    attempted_at TIMESTAMP NOT NULL,
    status_code  INTEGER,
    error        TEXT,
    duration_ms  BIGINT NOT NULL
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, id);

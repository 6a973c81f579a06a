-- Agreements, their signatures, their append-only audit trail, and the
-- outbox that webhook delivery reads.

CREATE TABLE agreements (
    id              TEXT PRIMARY KEY,
    partnership_id  TEXT NOT NULL REFERENCES partnerships (id),
    kind            TEXT NOT NULL CHECK (kind IN ('original', 'amendment', 'termination')),
    supersedes      TEXT REFERENCES agreements (id),
    status          TEXT NOT NULL CHECK (status IN ('draft', 'active', 'declined', 'superseded', 'terminated')),
    -- The canonical JSON (RFC 8785) of the document; content_hash is its SHA-256.
    terms           TEXT NOT NULL,
    content_hash    TEXT NOT NULL,
    currency        TEXT NOT NULL,
    effective_from  DATE NOT NULL,
    effective_until DATE,
    -- Set when a later agreement supersedes or terminates this one: the
    -- first day this one no longer governs.
    superseded_from DATE,
    superseded_by   TEXT REFERENCES agreements (id),
    created_by      TEXT NOT NULL REFERENCES users (id),
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    activated_at    TIMESTAMP,
    -- Bumped by every edit of the terms; signatures count for one revision.
    revision        BIGINT NOT NULL,
    -- Bumped by every change (edit, signature, decline, activation, supersession).
    version         BIGINT NOT NULL,
    CHECK ((kind = 'original') = (supersedes IS NULL))
);
CREATE INDEX agreements_partnership ON agreements (partnership_id, id);
-- One open amendment (or termination) per agreement at a time.
CREATE UNIQUE INDEX agreements_one_open_amendment ON agreements (supersedes) WHERE status = 'draft';

CREATE TABLE agreement_signatures (
    id           TEXT PRIMARY KEY,
    agreement_id TEXT NOT NULL REFERENCES agreements (id),
    revision     BIGINT NOT NULL,
    party_id     TEXT NOT NULL REFERENCES partnership_parties (id),
    content_hash TEXT NOT NULL,
    signed_by    TEXT NOT NULL REFERENCES users (id),
    signed_at    TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX agreement_signatures_once ON agreement_signatures (agreement_id, revision, party_id);
CREATE INDEX agreement_signatures_party ON agreement_signatures (party_id);

CREATE TABLE agreement_events (
    id                   TEXT PRIMARY KEY,
    agreement_id         TEXT NOT NULL REFERENCES agreements (id),
    kind                 TEXT NOT NULL CHECK (kind IN ('created', 'edited', 'signed', 'declined', 'activated', 'superseded', 'terminated')),
    version              BIGINT NOT NULL,
    content_hash         TEXT NOT NULL,
    actor_id             TEXT REFERENCES users (id),
    party_id             TEXT REFERENCES partnership_parties (id),
    related_agreement_id TEXT REFERENCES agreements (id),
    note                 TEXT,
    occurred_at          TIMESTAMP NOT NULL
);
CREATE INDEX agreement_events_agreement ON agreement_events (agreement_id, id);

CREATE TABLE outbox (
    id          TEXT PRIMARY KEY,
    event_type  TEXT NOT NULL,
    payload     TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL
);

-- The audit trail is append-only: the database refuses changes to it.
CREATE TRIGGER agreement_events_no_update BEFORE UPDATE ON agreement_events
BEGIN
    SELECT RAISE(ABORT, 'agreement_events is append-only');
END;
CREATE TRIGGER agreement_events_no_delete BEFORE DELETE ON agreement_events
BEGIN
    SELECT RAISE(ABORT, 'agreement_events is append-only');
END;

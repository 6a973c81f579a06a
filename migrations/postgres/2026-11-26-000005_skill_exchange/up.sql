-- Skill exchange: swaps and mentorships, their sessions, the double-entry
-- time ledger, and group workshops with registrations.

CREATE TABLE exchanges (
    id               TEXT PRIMARY KEY,
    kind             TEXT NOT NULL CHECK (kind IN ('swap', 'mentorship')),
    proposer_id      TEXT NOT NULL REFERENCES artisans (id),
    partner_id       TEXT NOT NULL REFERENCES artisans (id),
    -- JSON lists of skill slugs.
    proposer_teaches TEXT NOT NULL,
    partner_teaches  TEXT NOT NULL,
    message          TEXT NOT NULL,
    proposed_minutes BIGINT NOT NULL CHECK (proposed_minutes > 0 AND proposed_minutes % 15 = 0),
    status           TEXT NOT NULL CHECK (status IN ('proposed', 'accepted', 'declined', 'completed', 'cancelled')),
    created_at       TIMESTAMP NOT NULL,
    updated_at       TIMESTAMP NOT NULL,
    version          BIGINT NOT NULL,
    CHECK (proposer_id <> partner_id)
);
CREATE INDEX exchanges_proposer ON exchanges (proposer_id, id);
CREATE INDEX exchanges_partner ON exchanges (partner_id, id);

CREATE TABLE exchange_sessions (
    id           TEXT PRIMARY KEY,
    exchange_id  TEXT NOT NULL REFERENCES exchanges (id),
    taught_by    TEXT NOT NULL REFERENCES artisans (id),
    learner_id   TEXT NOT NULL REFERENCES artisans (id),
    skill        TEXT NOT NULL,
    minutes      BIGINT NOT NULL CHECK (minutes BETWEEN 15 AND 480 AND minutes % 15 = 0),
    held_on      DATE NOT NULL,
    recorded_by  TEXT NOT NULL REFERENCES artisans (id),
    status       TEXT NOT NULL CHECK (status IN ('pending', 'confirmed')),
    confirmed_at TIMESTAMP,
    created_at   TIMESTAMP NOT NULL,
    CHECK (taught_by <> learner_id)
);
CREATE INDEX exchange_sessions_exchange ON exchange_sessions (exchange_id, id);

CREATE TABLE workshops (
    id               TEXT PRIMARY KEY,
    host_id          TEXT NOT NULL REFERENCES artisans (id),
    title            TEXT NOT NULL,
    skill            TEXT NOT NULL,
    description      TEXT NOT NULL,
    capacity         BIGINT NOT NULL CHECK (capacity > 0),
    starts_at        TIMESTAMP NOT NULL,
    duration_minutes BIGINT NOT NULL CHECK (duration_minutes BETWEEN 15 AND 480 AND duration_minutes % 15 = 0),
    location         TEXT,
    online_url       TEXT,
    collective_id    TEXT REFERENCES collectives (id),
    -- The host's country when the workshop was created (for the filter).
    country          TEXT,
    created_at       TIMESTAMP NOT NULL,
    updated_at       TIMESTAMP NOT NULL,
    version          BIGINT NOT NULL,
    CHECK ((location IS NULL) <> (online_url IS NULL))
);
CREATE INDEX workshops_starts ON workshops (starts_at, id);
CREATE INDEX workshops_skill ON workshops (skill, starts_at, id);

CREATE TABLE workshop_registrations (
    id          TEXT PRIMARY KEY,
    workshop_id TEXT NOT NULL REFERENCES workshops (id),
    artisan_id  TEXT NOT NULL REFERENCES artisans (id),
    status      TEXT NOT NULL CHECK (status IN ('registered', 'waitlisted', 'cancelled')),
    attended    BOOLEAN NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL,
    version     BIGINT NOT NULL
);
CREATE INDEX workshop_registrations_workshop ON workshop_registrations (workshop_id, id);
CREATE UNIQUE INDEX workshop_registrations_once
    ON workshop_registrations (workshop_id, artisan_id) WHERE status <> 'cancelled';

-- Double entry: every transfer writes one positive and one negative entry
-- in the same transaction, so the sum over all entries is always 0.
CREATE TABLE time_ledger (
    id              TEXT PRIMARY KEY,
    artisan_id      TEXT NOT NULL REFERENCES artisans (id),
    minutes         BIGINT NOT NULL CHECK (minutes <> 0),
    counterparty_id TEXT NOT NULL REFERENCES artisans (id),
    session_id      TEXT REFERENCES exchange_sessions (id),
    registration_id TEXT REFERENCES workshop_registrations (id),
    created_at      TIMESTAMP NOT NULL,
    CHECK ((session_id IS NULL) <> (registration_id IS NULL))
);
CREATE INDEX time_ledger_artisan ON time_ledger (artisan_id, id);
CREATE UNIQUE INDEX time_ledger_session_once ON time_ledger (session_id, artisan_id) WHERE session_id IS NOT NULL;
CREATE UNIQUE INDEX time_ledger_registration_once ON time_ledger (registration_id, artisan_id) WHERE registration_id IS NOT NULL;

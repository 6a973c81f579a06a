-- Settlements freeze a period of a partnership's revenue into one amount
-- per recipient; payments record what was paid outside the platform.

CREATE TABLE settlements (
    id             TEXT PRIMARY KEY,
    partnership_id TEXT NOT NULL REFERENCES partnerships (id),
    -- The previous settlement's period_end (NULL for the first): the
    -- period is [period_start, period_end).
    period_start   DATE,
    period_end     DATE NOT NULL,
    created_by     TEXT NOT NULL REFERENCES users (id),
    created_at     TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX settlements_period ON settlements (partnership_id, period_end);

CREATE TABLE settlement_lines (
    id               TEXT PRIMARY KEY,
    settlement_id    TEXT NOT NULL REFERENCES settlements (id),
    currency         TEXT NOT NULL,
    party_id         TEXT REFERENCES partnership_parties (id),
    beneficiary_name TEXT,
    amount_minor     BIGINT NOT NULL,
    CHECK ((party_id IS NULL) <> (beneficiary_name IS NULL))
);
CREATE INDEX settlement_lines_settlement ON settlement_lines (settlement_id, id);

CREATE TABLE payments (
    id            TEXT PRIMARY KEY,
    settlement_id TEXT NOT NULL REFERENCES settlements (id),
    line_id       TEXT NOT NULL REFERENCES settlement_lines (id),
    amount_minor  BIGINT NOT NULL CHECK (amount_minor > 0),
    paid_at       TIMESTAMP NOT NULL,
    reference     TEXT NOT NULL,
    recorded_by   TEXT NOT NULL REFERENCES users (id),
    created_at    TIMESTAMP NOT NULL
);
CREATE INDEX payments_settlement ON payments (settlement_id, id);

-- Shared costs: what one accepted party paid for the partnership, decided
-- by another, shared by the split of the agreement in force on the day.
CREATE TABLE expenses (
    id             TEXT PRIMARY KEY,
    partnership_id TEXT NOT NULL REFERENCES partnerships (id),
    amount_minor   BIGINT NOT NULL CHECK (amount_minor > 0),
    currency       TEXT NOT NULL,
    description    TEXT NOT NULL,
    category       TEXT NOT NULL CHECK (category IN ('materials', 'booth', 'travel', 'marketing', 'other')),
    incurred_on    DATE NOT NULL,
    paid_by        TEXT NOT NULL REFERENCES partnership_parties (id),
    receipt_url    TEXT,
    event_id       TEXT REFERENCES market_events (id),
    status         TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
    decided_by     TEXT REFERENCES users (id),
    deciding_party TEXT REFERENCES partnership_parties (id),
    decision_note  TEXT,
    decided_at     TIMESTAMP,
    recorded_by    TEXT NOT NULL REFERENCES users (id),
    created_at     TIMESTAMP NOT NULL,
    updated_at     TIMESTAMP NOT NULL,
    version        BIGINT NOT NULL
);
CREATE INDEX expenses_partnership ON expenses (partnership_id, id);
-- Settlements read the approved expenses of a period.
CREATE INDEX expenses_settling ON expenses (partnership_id, status, incurred_on);

-- A settlement line shows how its amount comes about: the allocations of
-- the period, minus the recipient's part of the approved expenses, plus
-- what it laid out (amount_minor = allocated − share + reimbursed).
-- Settlements made before expenses existed held allocations only.
ALTER TABLE settlement_lines ADD COLUMN allocated_minor BIGINT NOT NULL DEFAULT 0;
ALTER TABLE settlement_lines ADD COLUMN expenses_share_minor BIGINT NOT NULL DEFAULT 0;
ALTER TABLE settlement_lines ADD COLUMN reimbursed_minor BIGINT NOT NULL DEFAULT 0;
UPDATE settlement_lines SET allocated_minor = amount_minor;

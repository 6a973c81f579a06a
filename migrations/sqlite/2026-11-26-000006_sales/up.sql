-- Sales of a partnership, each split among the recipients of the agreement
-- in force when it occurred, and refunds given back from them.

CREATE TABLE sales (
    id             TEXT PRIMARY KEY,
    partnership_id TEXT NOT NULL REFERENCES partnerships (id),
    agreement_id   TEXT NOT NULL REFERENCES agreements (id),
    content_hash   TEXT NOT NULL,
    amount_minor   BIGINT NOT NULL CHECK (amount_minor > 0),
    refunded_minor BIGINT NOT NULL CHECK (refunded_minor >= 0 AND refunded_minor <= amount_minor),
    currency       TEXT NOT NULL,
    occurred_at    TIMESTAMP NOT NULL,
    description    TEXT NOT NULL,
    channel        TEXT NOT NULL CHECK (channel IN ('market_event', 'online', 'wholesale', 'other')),
    event_id       TEXT,
    item_sku       TEXT,
    external_ref   TEXT,
    recorded_by    TEXT NOT NULL REFERENCES users (id),
    created_at     TIMESTAMP NOT NULL
);
CREATE INDEX sales_partnership ON sales (partnership_id, id);
CREATE INDEX sales_partnership_occurred ON sales (partnership_id, occurred_at);
CREATE INDEX sales_agreement ON sales (agreement_id, occurred_at);

CREATE TABLE refunds (
    id           TEXT PRIMARY KEY,
    sale_id      TEXT NOT NULL REFERENCES sales (id),
    amount_minor BIGINT NOT NULL CHECK (amount_minor > 0),
    reason       TEXT NOT NULL,
    recorded_by  TEXT NOT NULL REFERENCES users (id),
    created_at   TIMESTAMP NOT NULL
);
CREATE INDEX refunds_sale ON refunds (sale_id, id);

-- Immutable: one line per recipient per sale (positive) or refund
-- (negative), naming the agreement and hash that produced it.
CREATE TABLE allocation_lines (
    id               TEXT PRIMARY KEY,
    sale_id          TEXT NOT NULL REFERENCES sales (id),
    refund_id        TEXT REFERENCES refunds (id),
    agreement_id     TEXT NOT NULL REFERENCES agreements (id),
    content_hash     TEXT NOT NULL,
    share_index      INTEGER NOT NULL,
    party_id         TEXT REFERENCES partnership_parties (id),
    beneficiary_name TEXT,
    amount_minor     BIGINT NOT NULL,
    currency         TEXT NOT NULL,
    created_at       TIMESTAMP NOT NULL,
    CHECK ((party_id IS NULL) <> (beneficiary_name IS NULL))
);
CREATE INDEX allocation_lines_sale ON allocation_lines (sale_id, share_index);
CREATE INDEX allocation_lines_party ON allocation_lines (party_id, id);

-- What each recipient holds from an agreement's sales (refunds excluded):
-- the running state the next sale's leftover units are placed against.
CREATE TABLE allocation_totals (
    agreement_id TEXT NOT NULL REFERENCES agreements (id),
    share_index  INTEGER NOT NULL,
    held_minor   BIGINT NOT NULL,
    PRIMARY KEY (agreement_id, share_index)
);

-- Giving back: campaigns that agreements feed through beneficiary shares
-- naming them.
CREATE TABLE campaigns (
    id               TEXT PRIMARY KEY,
    title            TEXT NOT NULL,
    cause            TEXT NOT NULL,
    beneficiary_name TEXT NOT NULL,
    url              TEXT,
    goal_minor       BIGINT NOT NULL CHECK (goal_minor > 0),
    goal_currency    TEXT NOT NULL,
    starts_on        DATE NOT NULL,
    ends_on          DATE NOT NULL CHECK (ends_on >= starts_on),
    collective_id    TEXT REFERENCES collectives (id),
    created_by       TEXT NOT NULL REFERENCES users (id),
    created_at       TIMESTAMP NOT NULL
);
CREATE INDEX campaigns_newest ON campaigns (id);
CREATE INDEX campaigns_collective ON campaigns (collective_id, id) WHERE collective_id IS NOT NULL;

-- An allocation line to a beneficiary share naming a campaign carries it,
-- and whether the share gives anonymously (lines are immutable, as is
-- the share that produced them).
ALTER TABLE allocation_lines ADD COLUMN campaign_id TEXT REFERENCES campaigns (id);
ALTER TABLE allocation_lines ADD COLUMN anonymous BOOLEAN NOT NULL DEFAULT FALSE;
-- What a campaign raised, kept in the transaction of every sale and refund
-- line that names it: per partnership (or anonymous), currency and the
-- day of the sale. A campaign page sums a few hundred rows, not millions
-- of lines.
CREATE TABLE campaign_days (
    campaign_id    TEXT NOT NULL REFERENCES campaigns (id),
    partnership_id TEXT NOT NULL REFERENCES partnerships (id),
    anonymous      BOOLEAN NOT NULL,
    currency       TEXT NOT NULL,
    day            DATE NOT NULL,
    amount_minor   BIGINT NOT NULL,
    PRIMARY KEY (campaign_id, day, partnership_id, anonymous, currency)
);

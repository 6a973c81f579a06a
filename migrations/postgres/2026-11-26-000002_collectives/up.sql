-- Collectives (cooperatives), their members and join applications.

CREATE TABLE collectives (
    id                TEXT PRIMARY KEY,
    name              TEXT NOT NULL,
    search_text       TEXT NOT NULL,
    description       TEXT NOT NULL,
    crafts            TEXT NOT NULL,
    country           TEXT,
    region            TEXT,
    membership_policy TEXT NOT NULL CHECK (membership_policy IN ('open', 'application', 'invite_only')),
    created_by        TEXT NOT NULL REFERENCES users (id),
    created_at        TIMESTAMP NOT NULL,
    updated_at        TIMESTAMP NOT NULL,
    version           BIGINT NOT NULL
);
CREATE INDEX collectives_country ON collectives (country, id);

CREATE TABLE collective_crafts (
    craft         TEXT NOT NULL,
    collective_id TEXT NOT NULL REFERENCES collectives (id) ON DELETE CASCADE,
    PRIMARY KEY (craft, collective_id)
);
CREATE INDEX collective_crafts_collective ON collective_crafts (collective_id);

CREATE TABLE collective_members (
    collective_id TEXT NOT NULL REFERENCES collectives (id),
    artisan_id    TEXT NOT NULL REFERENCES artisans (id),
    role          TEXT NOT NULL CHECK (role IN ('coordinator', 'member')),
    joined_at     TIMESTAMP NOT NULL,
    version       BIGINT NOT NULL,
    PRIMARY KEY (collective_id, artisan_id)
);
CREATE INDEX collective_members_artisan ON collective_members (artisan_id);

CREATE TABLE collective_applications (
    id            TEXT PRIMARY KEY,
    collective_id TEXT NOT NULL REFERENCES collectives (id),
    artisan_id    TEXT NOT NULL REFERENCES artisans (id),
    message       TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'declined')),
    decided_by    TEXT REFERENCES users (id),
    decision_note TEXT,
    created_at    TIMESTAMP NOT NULL,
    decided_at    TIMESTAMP
);
CREATE INDEX collective_applications_collective ON collective_applications (collective_id, id);
-- At most one pending application per artisan and collective.
CREATE UNIQUE INDEX collective_applications_one_pending
    ON collective_applications (collective_id, artisan_id) WHERE status = 'pending';

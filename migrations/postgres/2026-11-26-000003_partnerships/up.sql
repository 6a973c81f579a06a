-- Partnerships and their parties (artisans or collectives).

CREATE TABLE partnerships (
    id           TEXT PRIMARY KEY,
    title        TEXT NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('co_branded_collection', 'market_event', 'skill_workshop', 'cooperative_project', 'other')),
    description  TEXT NOT NULL,
    shared_goals TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('forming', 'active', 'completed', 'dissolved')),
    created_by   TEXT NOT NULL REFERENCES users (id),
    created_at   TIMESTAMP NOT NULL,
    updated_at   TIMESTAMP NOT NULL,
    version      BIGINT NOT NULL
);

CREATE TABLE partnership_parties (
    id             TEXT PRIMARY KEY,
    partnership_id TEXT NOT NULL REFERENCES partnerships (id),
    artisan_id     TEXT REFERENCES artisans (id),
    collective_id  TEXT REFERENCES collectives (id),
    status         TEXT NOT NULL CHECK (status IN ('invited', 'accepted', 'declined', 'left')),
    invited_by     TEXT NOT NULL REFERENCES users (id),
    created_at     TIMESTAMP NOT NULL,
    updated_at     TIMESTAMP NOT NULL,
    CHECK ((artisan_id IS NULL) <> (collective_id IS NULL))
);
CREATE INDEX partnership_parties_partnership ON partnership_parties (partnership_id, id);
CREATE UNIQUE INDEX partnership_parties_one_artisan
    ON partnership_parties (partnership_id, artisan_id) WHERE artisan_id IS NOT NULL;
CREATE UNIQUE INDEX partnership_parties_one_collective
    ON partnership_parties (partnership_id, collective_id) WHERE collective_id IS NOT NULL;
CREATE INDEX partnership_parties_artisan ON partnership_parties (artisan_id, partnership_id);
CREATE INDEX partnership_parties_collective ON partnership_parties (collective_id, partnership_id);

-- Partner programs: what an organization offers, to whom (eligibility by
-- country and craft, empty meaning anyone) and when; artisans apply once.
CREATE TABLE programs (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    title           TEXT NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('grant', 'training', 'market_access', 'mentorship')),
    description     TEXT NOT NULL,
    opens_on        DATE NOT NULL,
    closes_on       DATE NOT NULL CHECK (closes_on >= opens_on),
    seats           BIGINT CHECK (seats > 0),
    status          TEXT NOT NULL CHECK (status IN ('open', 'closed')),
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    version         BIGINT NOT NULL
);
CREATE INDEX programs_organization ON programs (organization_id, id);
CREATE INDEX programs_open ON programs (closes_on, id) WHERE status = 'open';

-- Eligibility, one row per country or craft listed (the program's own
-- lists, in order, are read from here too).
CREATE TABLE program_eligibility (
    program_id TEXT NOT NULL REFERENCES programs (id),
    kind       TEXT NOT NULL CHECK (kind IN ('country', 'craft')),
    position   INTEGER NOT NULL,
    value      TEXT NOT NULL,
    PRIMARY KEY (program_id, kind, position)
);
CREATE INDEX program_eligibility_value ON program_eligibility (kind, value, program_id);

CREATE TABLE program_applications (
    id            TEXT PRIMARY KEY,
    program_id    TEXT NOT NULL REFERENCES programs (id),
    artisan_id    TEXT NOT NULL REFERENCES users (id),
    statement     TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('pending', 'accepted', 'rejected', 'withdrawn')),
    decision_note TEXT,
    decided_at    TIMESTAMP,
    created_at    TIMESTAMP NOT NULL,
    updated_at    TIMESTAMP NOT NULL,
    version       BIGINT NOT NULL
);
-- One application per artisan and program.
CREATE UNIQUE INDEX program_applications_once ON program_applications (program_id, artisan_id);
CREATE INDEX program_applications_program ON program_applications (program_id, id);
CREATE INDEX program_applications_artisan ON program_applications (artisan_id, id);

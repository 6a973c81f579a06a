-- Nobody becomes a member without saying yes: coordinators invite, the
-- artisan accepts or declines. Applicants may withdraw a pending
-- application (so applications are versioned), and a collective whose last
-- member closed their account is archived.

ALTER TABLE collectives ADD COLUMN status TEXT NOT NULL DEFAULT 'active'
    CHECK (status IN ('active', 'archived'));

-- SQLite cannot change a CHECK constraint in place: the table is rebuilt.
CREATE TABLE collective_applications_next (
    id            TEXT PRIMARY KEY,
    collective_id TEXT NOT NULL REFERENCES collectives (id),
    artisan_id    TEXT NOT NULL REFERENCES artisans (id),
    message       TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'declined', 'withdrawn')),
    decided_by    TEXT REFERENCES users (id),
    decision_note TEXT,
    created_at    TIMESTAMP NOT NULL,
    decided_at    TIMESTAMP,
    version       BIGINT NOT NULL DEFAULT 1
);
INSERT INTO collective_applications_next
    (id, collective_id, artisan_id, message, status, decided_by, decision_note, created_at, decided_at, version)
SELECT id, collective_id, artisan_id, message, status, decided_by, decision_note, created_at, decided_at, 1
  FROM collective_applications;
DROP TABLE collective_applications;
ALTER TABLE collective_applications_next RENAME TO collective_applications;
CREATE INDEX collective_applications_collective ON collective_applications (collective_id, id);
CREATE INDEX collective_applications_artisan ON collective_applications (artisan_id, id);
CREATE UNIQUE INDEX collective_applications_one_pending
    ON collective_applications (collective_id, artisan_id) WHERE status = 'pending';

CREATE TABLE collective_invitations (
    id            TEXT PRIMARY KEY,
    collective_id TEXT NOT NULL REFERENCES collectives (id),
    artisan_id    TEXT NOT NULL REFERENCES artisans (id),
    message       TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('invited', 'accepted', 'declined', 'withdrawn')),
    invited_by    TEXT NOT NULL REFERENCES users (id),
    created_at    TIMESTAMP NOT NULL,
    answered_at   TIMESTAMP,
    version       BIGINT NOT NULL
);
CREATE INDEX collective_invitations_collective ON collective_invitations (collective_id, id);
CREATE INDEX collective_invitations_artisan ON collective_invitations (artisan_id, id);
CREATE UNIQUE INDEX collective_invitations_one_open
    ON collective_invitations (collective_id, artisan_id) WHERE status = 'invited';

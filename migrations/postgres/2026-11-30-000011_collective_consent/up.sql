-- Nobody becomes a member without saying yes: coordinators invite, the
-- artisan accepts or declines. Applicants may withdraw a pending
-- application (so applications are versioned), and a collective whose last
-- member closed their account is archived.

ALTER TABLE collectives ADD COLUMN status TEXT NOT NULL DEFAULT 'active'
    CHECK (status IN ('active', 'archived'));

ALTER TABLE collective_applications DROP CONSTRAINT collective_applications_status_check;
ALTER TABLE collective_applications ADD CONSTRAINT collective_applications_status_check
    CHECK (status IN ('pending', 'approved', 'declined', 'withdrawn'));
ALTER TABLE collective_applications ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
CREATE INDEX collective_applications_artisan ON collective_applications (artisan_id, id);

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
-- At most one open invitation per artisan and collective.
CREATE UNIQUE INDEX collective_invitations_one_open
    ON collective_invitations (collective_id, artisan_id) WHERE status = 'invited';

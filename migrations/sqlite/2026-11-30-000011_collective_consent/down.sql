DROP TABLE collective_invitations;
DELETE FROM collective_applications WHERE status = 'withdrawn';
CREATE TABLE collective_applications_prev (
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
INSERT INTO collective_applications_prev
SELECT id, collective_id, artisan_id, message, status, decided_by, decision_note, created_at, decided_at
  FROM collective_applications;
DROP TABLE collective_applications;
ALTER TABLE collective_applications_prev RENAME TO collective_applications;
CREATE INDEX collective_applications_collective ON collective_applications (collective_id, id);
CREATE UNIQUE INDEX collective_applications_one_pending
    ON collective_applications (collective_id, artisan_id) WHERE status = 'pending';
ALTER TABLE collectives DROP COLUMN status;

-- A partnership shared with a partner organization: what its keys with
-- `partnerships:read` may read, and which partnership events it may
-- receive. Revoking deletes the row and takes effect at once.
CREATE TABLE partnership_shares (
    partnership_id  TEXT NOT NULL REFERENCES partnerships (id),
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    shared_by       TEXT NOT NULL REFERENCES users (id),
    created_at      TIMESTAMP NOT NULL,
    PRIMARY KEY (partnership_id, organization_id)
);
CREATE INDEX partnership_shares_organization ON partnership_shares (organization_id, partnership_id);

-- What administrators did to accounts (suspensions and reinstatements),
-- through the API or the command line. Append-only.
CREATE TABLE admin_audit_log (
    id             TEXT PRIMARY KEY,
    action         TEXT NOT NULL CHECK (action IN ('suspend', 'reinstate')),
    target_user_id TEXT NOT NULL REFERENCES users (id),
    -- The administrator, or NULL when done from the command line.
    actor_id       TEXT REFERENCES users (id),
    via            TEXT NOT NULL CHECK (via IN ('api', 'cli')),
    reason         TEXT NOT NULL,
    occurred_at    TIMESTAMP NOT NULL
);
CREATE INDEX admin_audit_log_target ON admin_audit_log (target_user_id, id);
CREATE TRIGGER admin_audit_log_no_update BEFORE UPDATE ON admin_audit_log
BEGIN
    SELECT RAISE(ABORT, 'admin_audit_log is append-only');
END;
CREATE TRIGGER admin_audit_log_no_delete BEFORE DELETE ON admin_audit_log
BEGIN
    SELECT RAISE(ABORT, 'admin_audit_log is append-only');
END;

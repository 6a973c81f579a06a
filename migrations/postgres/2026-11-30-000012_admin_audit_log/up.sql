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

CREATE FUNCTION admin_audit_log_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'admin_audit_log is append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER admin_audit_log_no_change BEFORE UPDATE OR DELETE ON admin_audit_log
    FOR EACH ROW EXECUTE FUNCTION admin_audit_log_append_only();

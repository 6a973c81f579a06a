-- Notifications for people: an inbox per account, written in the
-- transaction of the change each reports, never to the person who caused
-- it.
CREATE TABLE notifications (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id),
    kind         TEXT NOT NULL,
    subject_type TEXT NOT NULL,
    subject_id   TEXT NOT NULL,
    actor_id     TEXT REFERENCES users (id),
    data         TEXT NOT NULL,
    read_at      TIMESTAMP,
    created_at   TIMESTAMP NOT NULL
);
-- The inbox, newest first, and its unread part (the badge).
CREATE INDEX notifications_inbox ON notifications (user_id, id);
CREATE INDEX notifications_unread ON notifications (user_id, id) WHERE read_at IS NULL;

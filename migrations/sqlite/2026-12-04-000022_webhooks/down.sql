DROP TABLE webhook_attempts;
DROP TABLE webhook_deliveries;
DROP TABLE webhook_endpoints;
DROP INDEX outbox_dispatched;
DROP INDEX outbox_undispatched;
ALTER TABLE outbox DROP COLUMN dispatched_at;
ALTER TABLE outbox DROP COLUMN organization_id;
ALTER TABLE outbox DROP COLUMN partnership_id;

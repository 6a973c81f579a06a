ALTER TABLE agreement_events DROP COLUMN document;

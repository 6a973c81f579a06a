DROP TRIGGER agreement_events_no_update ON agreement_events;
DROP FUNCTION agreement_events_append_only();
DROP TABLE outbox;
DROP TABLE agreement_events;
DROP TABLE agreement_signatures;
DROP TABLE agreements;

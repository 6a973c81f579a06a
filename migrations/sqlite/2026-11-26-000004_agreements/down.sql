DROP TABLE outbox;
DROP TABLE agreement_events;
DROP TABLE agreement_signatures;
DROP TABLE agreements;

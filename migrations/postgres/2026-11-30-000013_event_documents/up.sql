-- The audit trail records the document an agreement had after each
-- `created` and `edited` event, so that the agreement can be shown as it
-- stood at any moment (a party that left reads it as it stood then).
-- Existing trails get the current document on the events that carry its
-- hash; earlier edits' documents were not kept.
ALTER TABLE agreement_events ADD COLUMN document TEXT;
ALTER TABLE agreement_events DISABLE TRIGGER agreement_events_no_update;
UPDATE agreement_events SET document = a.terms
  FROM agreements a
 WHERE a.id = agreement_events.agreement_id
   AND a.content_hash = agreement_events.content_hash
   AND agreement_events.kind IN ('created', 'edited');
ALTER TABLE agreement_events ENABLE TRIGGER agreement_events_no_update;

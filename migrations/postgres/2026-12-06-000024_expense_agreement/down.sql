ALTER TABLE expenses DROP COLUMN agreement_id;

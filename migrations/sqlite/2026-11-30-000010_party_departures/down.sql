ALTER TABLE partnership_parties DROP COLUMN left_at;

-- When a party left, so that it reads its partnership as it stood then
-- (agreements made and events recorded up to that moment).
ALTER TABLE partnership_parties ADD COLUMN left_at TIMESTAMP;
UPDATE partnership_parties SET left_at = updated_at WHERE status = 'left';

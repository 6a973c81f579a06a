DROP TABLE campaign_days;
ALTER TABLE allocation_lines DROP COLUMN anonymous;
ALTER TABLE allocation_lines DROP COLUMN campaign_id;
DROP TABLE campaigns;

DROP INDEX allocation_lines_campaign;
ALTER TABLE allocation_lines DROP COLUMN anonymous;
ALTER TABLE allocation_lines DROP COLUMN campaign_id;
DROP TABLE campaigns;

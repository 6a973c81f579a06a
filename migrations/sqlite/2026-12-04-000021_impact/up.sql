-- Impact figures for partner organizations (GET /v1/impact).
--
-- Each artisan is counted under one craft, the first they list: with one
-- country and one primary craft per artisan, the groups that suppression
-- compares partition the artisans (see docs/API-DESIGN.md, "Impact").
ALTER TABLE artisans ADD COLUMN primary_craft TEXT;
UPDATE artisans SET primary_craft = json_extract(crafts, '$[0]');

-- One index per figure's period filter.
CREATE INDEX sales_occurred ON sales (occurred_at, partnership_id, currency);
CREATE INDEX agreements_activated ON agreements (activated_at) WHERE activated_at IS NOT NULL;
CREATE INDEX agreement_signatures_signed ON agreement_signatures (signed_at, party_id);
CREATE INDEX exchange_sessions_held ON exchange_sessions (held_on) WHERE status = 'confirmed';
CREATE INDEX program_applications_created ON program_applications (created_at, artisan_id);

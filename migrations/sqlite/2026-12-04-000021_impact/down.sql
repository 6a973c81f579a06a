DROP INDEX program_applications_created;
DROP INDEX exchange_sessions_held;
DROP INDEX agreement_signatures_signed;
DROP INDEX agreements_activated;
DROP INDEX sales_occurred;
ALTER TABLE artisans DROP COLUMN primary_craft;

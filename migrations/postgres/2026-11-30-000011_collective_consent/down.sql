DROP TABLE collective_invitations;
DROP INDEX collective_applications_artisan;
ALTER TABLE collective_applications DROP COLUMN version;
DELETE FROM collective_applications WHERE status = 'withdrawn';
ALTER TABLE collective_applications DROP CONSTRAINT collective_applications_status_check;
ALTER TABLE collective_applications ADD CONSTRAINT collective_applications_status_check
    CHECK (status IN ('pending', 'approved', 'declined'));
ALTER TABLE collectives DROP COLUMN status;

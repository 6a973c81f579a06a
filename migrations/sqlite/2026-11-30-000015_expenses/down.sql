ALTER TABLE settlement_lines DROP COLUMN reimbursed_minor;
ALTER TABLE settlement_lines DROP COLUMN expenses_share_minor;
ALTER TABLE settlement_lines DROP COLUMN allocated_minor;
DROP TABLE expenses;

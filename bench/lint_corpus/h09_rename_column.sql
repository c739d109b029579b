-- truth: hazard
-- why: every query using the old name breaks
ALTER TABLE accounts RENAME COLUMN email TO email_address;

-- truth: hazard
-- why: scans 200k rows under ACCESS EXCLUSIVE
ALTER TABLE accounts ALTER COLUMN email SET NOT NULL;

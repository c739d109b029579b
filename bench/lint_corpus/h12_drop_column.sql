-- truth: hazard
-- why: the column's values are gone for good
ALTER TABLE accounts DROP COLUMN legacy_code;

-- truth: hazard
-- why: int to bigint rewrites the table and its indexes
ALTER TABLE events ALTER COLUMN amount TYPE bigint;

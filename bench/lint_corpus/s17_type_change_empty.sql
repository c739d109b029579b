-- truth: safe
-- why: an empty table: the rewrite is instant
ALTER TABLE drafts ALTER COLUMN title TYPE varchar(20);

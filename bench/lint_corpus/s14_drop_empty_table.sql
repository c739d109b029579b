-- truth: safe
-- why: an empty table: nothing is lost
DROP TABLE drafts;

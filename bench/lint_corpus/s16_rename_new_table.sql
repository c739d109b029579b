-- truth: safe
-- why: renaming a table this migration created breaks nobody
CREATE TABLE staging_rows (id bigint);
ALTER TABLE staging_rows RENAME TO staged_rows;

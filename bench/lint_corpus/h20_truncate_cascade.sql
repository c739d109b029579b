-- truth: hazard
-- why: empties every table that references settings too, in a schema migration
TRUNCATE settings CASCADE;

-- truth: hazard
-- why: fails at once on a table with rows
ALTER TABLE accounts ADD COLUMN tier integer NOT NULL;

-- truth: safe
-- why: a nullable column without default is a catalog change only
ALTER TABLE accounts ADD COLUMN nickname text;

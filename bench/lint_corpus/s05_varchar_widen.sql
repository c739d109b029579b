-- truth: safe
-- why: widening varchar needs no rewrite
ALTER TABLE accounts ALTER COLUMN name TYPE varchar(200);

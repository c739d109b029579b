-- truth: safe
-- why: varchar to text is binary coercible: no rewrite
ALTER TABLE accounts ALTER COLUMN name TYPE text;

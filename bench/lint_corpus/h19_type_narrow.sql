-- truth: hazard
-- why: varchar(100) to varchar(50) checks and rewrites every row
ALTER TABLE accounts ALTER COLUMN name TYPE varchar(50);

-- truth: hazard
-- why: SET UNLOGGED rewrites the table under ACCESS EXCLUSIVE
ALTER TABLE events SET UNLOGGED;

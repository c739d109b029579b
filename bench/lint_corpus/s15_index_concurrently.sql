-- truth: safe
-- why: CONCURRENTLY (migr runs it after commit, in a background worker)
CREATE INDEX CONCURRENTLY accounts_name_idx ON accounts (name);

-- truth: hazard
-- why: builds a unique index under ACCESS EXCLUSIVE
ALTER TABLE accounts ADD CONSTRAINT accounts_email_key UNIQUE (email);

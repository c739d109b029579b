-- truth: hazard
-- why: a plain index build on a 200k-row table blocks writes for the whole build
CREATE INDEX accounts_email_idx ON accounts (email);

-- truth: safe
-- why: the index was built concurrently before; attaching it is instant
ALTER TABLE accounts ADD CONSTRAINT accounts_code_key UNIQUE USING INDEX accounts_code_idx;

-- truth: safe
-- why: NOT VALID checks only new rows; validation comes in a later migration
ALTER TABLE events ADD CONSTRAINT events_account_fk FOREIGN KEY (account_id) REFERENCES accounts (id) NOT VALID;

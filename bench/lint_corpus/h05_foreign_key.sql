-- truth: hazard
-- why: validates 300k rows while blocking writes to both tables
ALTER TABLE events ADD CONSTRAINT events_account_fk FOREIGN KEY (account_id) REFERENCES accounts (id);

-- truth: hazard
-- why: scans 300k rows under ACCESS EXCLUSIVE
ALTER TABLE events ADD CONSTRAINT events_amount_check CHECK (amount >= 0);

-- truth: hazard
-- why: NOT VALID then VALIDATE in one transaction: the ADD's lock is held during the scan
ALTER TABLE events ADD CONSTRAINT events_amount_nonneg CHECK (amount >= 0) NOT VALID;
ALTER TABLE events VALIDATE CONSTRAINT events_amount_nonneg;

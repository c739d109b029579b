-- truth: safe
-- why: validation in its own migration takes SHARE UPDATE EXCLUSIVE, which does not block writes
ALTER TABLE events VALIDATE CONSTRAINT events_kind_check;

-- truth: hazard
-- why: filling a serial column rewrites the table
ALTER TABLE events ADD COLUMN seq bigserial;

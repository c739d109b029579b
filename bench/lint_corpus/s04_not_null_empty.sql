-- truth: safe
-- why: an empty table has no row to violate NOT NULL
ALTER TABLE drafts ADD COLUMN owner_id bigint NOT NULL;

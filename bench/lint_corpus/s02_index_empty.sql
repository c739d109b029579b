-- truth: safe
-- why: an empty table
CREATE INDEX drafts_title_idx ON drafts (title);

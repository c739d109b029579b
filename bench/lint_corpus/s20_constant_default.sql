-- truth: safe
-- why: a constant default is stored in the catalog: no rewrite
ALTER TABLE events ADD COLUMN source text NOT NULL DEFAULT 'web';

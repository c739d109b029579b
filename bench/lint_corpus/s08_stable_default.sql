-- truth: safe
-- why: now() is stable: evaluated once, no rewrite
ALTER TABLE accounts ADD COLUMN created_at timestamptz DEFAULT now();

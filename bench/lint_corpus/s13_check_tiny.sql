-- truth: safe
-- why: five rows
ALTER TABLE settings ADD CONSTRAINT settings_key_check CHECK (key <> '');

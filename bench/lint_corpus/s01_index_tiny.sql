-- truth: safe
-- why: five rows: the build takes microseconds
CREATE INDEX settings_value_idx ON settings (value);

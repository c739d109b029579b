-- truth: hazard
-- why: small, but every query using the old name breaks
ALTER TABLE settings RENAME TO app_settings;

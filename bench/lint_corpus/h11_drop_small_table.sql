-- truth: hazard
-- why: five rows of configuration are gone for good
DROP TABLE settings;

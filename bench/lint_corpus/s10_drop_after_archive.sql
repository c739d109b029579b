-- truth: safe
-- why: the rows are archived first and can be recovered
SELECT migr_archive_table('legacy_imports');
DROP TABLE legacy_imports;

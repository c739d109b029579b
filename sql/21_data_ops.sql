--
-- Data operations (README, "Lint"): every statement is classified from its
-- parse tree; INSERT, UPDATE, DELETE, MERGE, COPY, TRUNCATE, SELECT INTO and
-- CREATE TABLE AS in a schema revision follow migr.data_operations (warn,
-- error, allow); a data revision may hold them.
--
LOAD 'migr';
SET migr.lint = off;

CREATE TABLE dop (id int PRIMARY KEY, v text);
INSERT INTO dop VALUES (1, 'a');

-- what counts as a data operation, and what does not
SHOW migr.data_operations;
SELECT statement, line, severity, code, message FROM migr_lint($$
INSERT INTO dop VALUES (2, 'b');
UPDATE dop SET v = 'c';
DELETE FROM dop WHERE id = 2;
MERGE INTO dop USING (VALUES (3)) s(id) ON dop.id = s.id
  WHEN NOT MATCHED THEN INSERT VALUES (s.id, 'm');
COPY dop FROM '/nonexistent/dop.csv';
COPY dop TO '/nonexistent/dop.csv';
TRUNCATE dop;
SELECT * INTO dop_copy FROM dop;
CREATE TABLE dop_copy2 AS SELECT * FROM dop;
WITH gone AS (DELETE FROM dop RETURNING *) SELECT count(*) FROM gone;
EXPLAIN ANALYZE INSERT INTO dop VALUES (4, 'd');
$$);
SELECT statement, severity, code FROM migr_lint($$
CREATE TABLE dop_copy3 AS SELECT * FROM dop WITH NO DATA;
CREATE MATERIALIZED VIEW dop_mv AS SELECT * FROM dop;
SELECT count(*) FROM dop;
SELECT migr_archive_table('dop');
EXPLAIN INSERT INTO dop VALUES (4, 'd');
WITH s AS (SELECT 1) SELECT * FROM s;
SET search_path = public;
LOCK TABLE dop IN SHARE MODE;
ALTER TABLE dop ADD COLUMN w text;
$$);
-- a data revision may hold them
SELECT statement, severity, code FROM migr_lint('INSERT INTO dop VALUES (2, ''b''); TRUNCATE dop', 'data');
-- the SQL inside a DO block cannot be seen: it is an opaque statement
SELECT statement, severity, code FROM migr_lint($$DO 'BEGIN DELETE FROM dop; END'$$);

-- warn (the default): a WARNING at define time, whatever migr.lint says
SELECT migr_define('do1', NULL, $$ALTER TABLE dop ADD COLUMN w text;
UPDATE dop SET w = v$$, 'ALTER TABLE dop DROP COLUMN w');
-- also in the downgrade script
SELECT migr_define('do2', '{do1}', 'CREATE TABLE dop_log (a int)', $$DELETE FROM dop_log;
DROP TABLE dop_log$$);
-- error: nothing is defined
SET migr.data_operations = error;
SELECT migr_define('do3', '{do2}', $$CREATE TABLE dop_seed (a int);
INSERT INTO dop_seed VALUES (1)$$, 'DROP TABLE dop_seed');
\echo :SQLSTATE
SELECT migr_define('do3', '{do2}', 'SELECT 1', 'TRUNCATE dop');
\echo :SQLSTATE
SELECT count(*) FROM migr.revision WHERE id = 'do3';
-- ... unless the revision is a data revision
SELECT migr_define('do3', '{do2}', $$CREATE TABLE dop_seed (a int);
INSERT INTO dop_seed VALUES (1)$$, 'DROP TABLE dop_seed', kind => 'data');
SELECT migr_load($f$-- migr:revision do4
-- migr:down_revision do3
-- migr:kind data
-- migr:upgrade
UPDATE dop_seed SET a = a + 1;
-- migr:downgrade
UPDATE dop_seed SET a = a - 1;
$f$);
-- a directive does not acknowledge a data operation: the kind does
SELECT migr_define('do5', '{do4}', $$-- migr:allow data_operation
DELETE FROM dop_seed$$);
\echo :SQLSTATE
-- the finding in migr_lint follows the setting too
SELECT statement, severity, code FROM migr_lint('TRUNCATE dop');
-- allow: nothing is said
SET migr.data_operations = allow;
SELECT migr_define('do5', '{do4}', 'DELETE FROM dop_seed', 'SELECT 1');
SELECT statement, severity, code FROM migr_lint('TRUNCATE dop');
SET migr.data_operations = 'sometimes';
RESET migr.data_operations;

-- migr_check() reports them for unapplied schema revisions
SELECT revision, severity, code, message FROM migr_check() ORDER BY 1, 4;
SELECT revision FROM migr_upgrade('head');
SELECT a FROM dop_seed;
SELECT revision, severity, code, message FROM migr_check() ORDER BY 1, 4;
SELECT revision FROM migr_downgrade('base');

-- transaction control is still refused outright, whatever the settings
SET migr.data_operations = allow;
SELECT migr_define('do6', NULL, 'INSERT INTO dop VALUES (9, ''z''); COMMIT');

-- clean up
DROP TABLE dop;
DROP EXTENSION migr;
CREATE EXTENSION migr;

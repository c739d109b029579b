--
-- The scripts given to migr_define(): parsed by the server's parser when the
-- revision is defined; syntax errors and statements that can never run
-- inside a migration are refused then, not when applied.
--

-- an empty upgrade (nothing but white space and comments) is allowed: real
-- histories have marker revisions (a branch's root, a release point); lint
-- reports it as info (empty_upgrade), never as a warning
SELECT migr_define('e1', NULL, '');
SELECT migr_define('e1', NULL, E'  \n\t\n  ');
SELECT migr_define('e1', NULL, '-- nothing to do');
SELECT migr_define('e1', NULL, E'/* a block\n   comment */\n-- and a line comment\n');
SELECT migr_define('e1', NULL, '/* nested /* comments */ still a comment */');
SELECT migr_define('e1', NULL, ';;');
SELECT severity, code FROM migr_lint(';;');
-- with a single parent too; applying and reverting it runs nothing
SELECT migr_define('e0', NULL, 'CREATE TABLE scr_e0 (a int)', 'DROP TABLE scr_e0');
SELECT migr_define('e1', '{e0}', '-- release 1.0', '-- nothing to undo');
SELECT id, upgrade, downgrade FROM migr.revision WHERE id = 'e1';
SELECT revision FROM migr_upgrade('e1');
SELECT step, revision, statement FROM migr_plan('e0', 'downgrade');
SELECT revision FROM migr_downgrade('e0');
SELECT revision, code FROM migr_check() WHERE revision = 'e1';
-- but a merge revision (two or more parents) may be empty
SELECT migr_define('e2', NULL, 'CREATE TABLE scr_e2 (a int)', 'DROP TABLE scr_e2');
SELECT migr_define('e3', '{e0,e2}', '', '', 'merge');
SELECT migr_define('e4', '{e0,e2}', '-- merge', NULL, 'merge, irreversible');
SELECT id, upgrade, downgrade FROM migr.revision WHERE id IN ('e3', 'e4') ORDER BY id;
-- an empty downgrade is allowed: reverting runs nothing
SELECT migr_define('e5', '{e3}', 'CREATE TABLE scr_e5 (a int)', '-- nothing to undo');
SELECT revision FROM migr_upgrade('e5');
SELECT revision FROM migr_downgrade('e3');
SELECT to_regclass('scr_e5') IS NOT NULL AS scr_e5_kept;
DROP TABLE scr_e5;

-- syntax errors, in either script, name the revision and the script.
-- (Caught in a function only to show the SQLSTATE and the context line
-- that names them on one line.)
CREATE FUNCTION pg_temp.try(sql text) RETURNS text LANGUAGE plpgsql AS $f$
DECLARE
    st text;
    msg text;
    ctx text;
BEGIN
    EXECUTE sql;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT,
                            ctx = PG_EXCEPTION_CONTEXT;
    RETURN st || ': ' || msg || ' (' || split_part(ctx, E'\n', 1) || ')';
END
$f$;
SELECT pg_temp.try($$SELECT migr_define('s1', NULL, 'CREATE TABL scr_s1 (a int)')$$);
SELECT pg_temp.try($$SELECT migr_define('s1', NULL, E'CREATE TABLE scr_s1 (a int);\nALTER TABLE scr_s1 ADD COLUMN;')$$);
SELECT pg_temp.try($$SELECT migr_define('s1', NULL, 'CREATE TABLE scr_s1 (a int)', 'DROP TABEL scr_s1')$$);
SELECT pg_temp.try($$SELECT migr_define('s1', NULL, 'SELECT ''unterminated')$$);
SELECT pg_temp.try($$SELECT migr_define('s1', NULL, 'SELECT $x$unterminated')$$);
SELECT pg_temp.try($$SELECT migr_define('s1', NULL, 'SELECT 1 /* unterminated')$$);
-- psql meta-commands are not SQL
SELECT pg_temp.try($$SELECT migr_define('s1', NULL, E'\\set x 1\nSELECT :x;')$$);
SELECT count(*) FROM migr.revision WHERE id = 's1';

-- transaction control is always an error, anywhere in either script
SELECT migr_define('t1', NULL, 'BEGIN; CREATE TABLE scr_t1 (a int); COMMIT;');
\echo :SQLSTATE
SELECT migr_define('t1', NULL, E'CREATE TABLE scr_t1 (a int);\n\nCOMMIT;');
SELECT migr_define('t1', NULL, 'START TRANSACTION');
SELECT migr_define('t1', NULL, 'CREATE TABLE scr_t1 (a int); ROLLBACK');
SELECT migr_define('t1', NULL, 'SAVEPOINT s1; CREATE TABLE scr_t1 (a int)');
SELECT migr_define('t1', NULL, 'CREATE TABLE scr_t1 (a int); RELEASE SAVEPOINT s1');
SELECT migr_define('t1', NULL, 'CREATE TABLE scr_t1 (a int); ROLLBACK TO SAVEPOINT s1');
SELECT migr_define('t1', NULL, 'END');
SELECT migr_define('t1', NULL, 'CREATE TABLE scr_t1 (a int); PREPARE TRANSACTION ''x''');
SELECT migr_define('t1', NULL, 'COMMIT PREPARED ''x''');
SELECT migr_define('t1', NULL, 'CREATE TABLE scr_t1 (a int)', 'DROP TABLE scr_t1; COMMIT');
\echo :SQLSTATE
SELECT count(*) FROM migr.revision WHERE id = 't1';
-- the word in a string, an identifier or a comment is not a statement
SELECT migr_define('t2', NULL, $$
CREATE TABLE scr_t2 ("commit" text DEFAULT 'COMMIT; BEGIN;');
-- COMMIT;
/* ROLLBACK; */
COMMENT ON TABLE scr_t2 IS 'BEGIN; SAVEPOINT x;';
$$, 'DROP TABLE scr_t2');
-- hidden in a DO block, the parser cannot see it: it fails when applied,
-- and nothing is left half done
SELECT migr_define('t3', '{t2}', $$
CREATE TABLE scr_t3 (a int);
DO $do$ BEGIN COMMIT; END $do$;
$$);
SELECT revision FROM migr_upgrade('t3');
SELECT to_regclass('scr_t2') AS t2, to_regclass('scr_t3') AS t3;
SELECT count(*) FROM migr.applied;

-- statements that cannot run inside a transaction block: the CONCURRENTLY
-- forms and VACUUM are accepted in an upgrade (a background worker runs
-- them after commit, see 14_jobs), the CONCURRENTLY forms in a downgrade
-- (run in line without CONCURRENTLY)
SELECT migr_define('c1', NULL, 'CREATE INDEX CONCURRENTLY scr_i ON scr_t2 ("commit")');
\echo :SQLSTATE
SELECT migr_define('c1', NULL, 'CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS scr_i ON scr_t2 ("commit")');
SELECT migr_define('c1', NULL, 'SELECT 1', E'SELECT 1;\nDROP INDEX CONCURRENTLY scr_i');
SELECT migr_define('c1', NULL, 'REINDEX TABLE CONCURRENTLY scr_t2');
SELECT migr_define('c1', NULL, 'REINDEX (CONCURRENTLY) INDEX scr_i');
SELECT migr_define('c1', NULL, 'ALTER TABLE scr_p DETACH PARTITION scr_p1 CONCURRENTLY');
SELECT migr_define('c1', NULL, 'VACUUM scr_t2');
\echo :SQLSTATE
SELECT migr_define('c1', NULL, 'VACUUM (ANALYZE) scr_t2');
-- VACUUM has no form that runs in a transaction: not in a downgrade
SELECT migr_define('c1', NULL, 'SELECT 1', 'VACUUM scr_t2');
\echo :SQLSTATE
-- and these can never run in a migration
SELECT migr_define('c1', NULL, 'CREATE DATABASE scr_db');
SELECT migr_define('c1', NULL, 'DROP DATABASE scr_db');
SELECT migr_define('c1', NULL, 'REINDEX DATABASE contrib_regression');
SELECT migr_define('c1', NULL, 'REINDEX SYSTEM contrib_regression');
SELECT migr_define('c1', NULL, 'CLUSTER');
SELECT migr_define('c1', NULL, 'ALTER SYSTEM SET work_mem = ''1MB''');
SELECT migr_define('c1', NULL, 'CREATE TABLESPACE scr_ts LOCATION ''/nonexistent''');
SELECT count(*) FROM migr.revision WHERE id = 'c1';
-- their transactional forms are fine
SELECT migr_define('c2', '{t2}', $$
CREATE INDEX scr_i ON scr_t2 ("commit");
REINDEX INDEX scr_i;
ANALYZE scr_t2;
CLUSTER scr_t2 USING scr_i;
$$, 'DROP INDEX scr_i');

-- COPY to or from the client has no client in a migration
SELECT migr_define('p1', NULL, 'COPY scr_t2 FROM STDIN');
\echo :SQLSTATE
SELECT migr_define('p1', NULL, 'COPY scr_t2 TO STDOUT', kind => 'data');
SELECT migr_define('p1', NULL, 'SELECT 1', 'COPY (SELECT 1) TO STDOUT');
SELECT count(*) FROM migr.revision WHERE id = 'p1';

-- errors are reported at the statement where they are found, by line
SELECT migr_define('l1', NULL, E'CREATE TABLE scr_l1 (a int);\n\n-- comment\nCREATE INDEX ON scr_l1 (a);\n\n  VACUUM scr_l1;');

-- clean up
SELECT revision FROM migr_downgrade('base');
SELECT to_regclass('scr_t2') AS t2, to_regclass('scr_e0') AS e0;
DROP EXTENSION migr;
CREATE EXTENSION migr;

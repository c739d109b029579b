--
-- migr_plan(): what an upgrade or downgrade would run, statement by
-- statement, without running it.
--
-- Settings of features that come later (lint, data operations) are turned
-- off where they exist, so that this file's output does not depend on them.
LOAD 'migr';
SET migr.lint = 'off';
DO $$ BEGIN PERFORM set_config('migr.data_operations', 'allow', false); EXCEPTION WHEN OTHERS THEN NULL; END $$;

-- nothing defined: nothing to do
SELECT * FROM migr_plan('heads');

SELECT migr_define('p1', NULL, $$
-- a leading comment
CREATE TABLE pln_t (
    a text DEFAULT 'semi; colon',   -- a comment; with a semicolon
    b text DEFAULT $x$ dollar; quoted $x$
);
COMMENT ON TABLE pln_t IS 'it''s; fine';;
/* block; comment */ CREATE FUNCTION pln_f() RETURNS int LANGUAGE plpgsql AS $body$
BEGIN
    RETURN 1;  -- ; inside
END
$body$;
CREATE INDEX pln_i ON pln_t (a)
$$, $$DROP FUNCTION pln_f(); DROP TABLE pln_t;$$, 'first');
SELECT migr_define('p2', '{p1}', 'ALTER TABLE pln_t ADD c int', 'ALTER TABLE pln_t DROP c', 'second');
SELECT migr_define('p3', '{p2}', 'SELECT 1/0', 'SELECT 1/0', 'would fail');

-- the upgrade, statement by statement; nothing runs
SELECT step, revision, statement, deferred FROM migr_plan('head');
SELECT step, revision, statement, deferred FROM migr_plan('p2', 'upgrade');
SELECT to_regclass('pln_t') AS not_created;
SELECT count(*) FROM migr.applied;
-- the default direction is upgrade
SELECT count(*) FROM migr_plan('p1');

SELECT revision FROM migr_upgrade('p3-1');
-- what remains to do
SELECT step, revision, statement FROM migr_plan('head');
SELECT step, revision, statement FROM migr_plan('p2');
-- the downgrade, children first
SELECT step, revision, statement, deferred FROM migr_plan('base', 'downgrade');
SELECT step, revision, statement FROM migr_plan('p1', 'downgrade');
SELECT step, revision, statement FROM migr_plan('p2', 'downgrade');
SELECT count(*) FROM migr.applied;

-- an empty merge has one row with a NULL statement
SELECT migr_define('q1', '{p1}', 'CREATE TABLE pln_q (a int)', 'DROP TABLE pln_q', 'other branch');
SELECT migr_merge(ARRAY['p3', 'q1'], 'merge', 'pm');
SELECT step, revision, statement, statement IS NULL AS no_statement FROM migr_plan('pm');

-- errors
SELECT * FROM migr_plan('head', 'sideways');
\echo :SQLSTATE
SELECT * FROM migr_plan('head', NULL);
\echo :SQLSTATE
SELECT * FROM migr_plan('base');
SELECT * FROM migr_plan('q1', 'downgrade');
SELECT * FROM migr_plan('nope');
SELECT migr_define('r2', '{r1}', 'SELECT 1');
SELECT * FROM migr_plan('r2');
\echo :SQLSTATE
UPDATE migr.revision SET upgrade = 'SELECT 42' WHERE id = 'q1';
SELECT * FROM migr_plan('q1');
\echo :SQLSTATE

-- clean up
UPDATE migr.revision SET upgrade = 'CREATE TABLE pln_q (a int)' WHERE id = 'q1';
SELECT revision FROM migr_downgrade('base');
DROP EXTENSION migr;
CREATE EXTENSION migr;

--
-- Targets (README, "Targets"): head, heads, base, current, ids and unique
-- prefixes, labels, label@head, +N, -N, target+N, target-N.
-- migr_show() resolves a target without changing anything; migr_upgrade()
-- and migr_downgrade() move.
--

-- the SQLSTATE of a statement, for errors whose wording is not settled
CREATE FUNCTION pg_temp.sqlstate(sql text) RETURNS text LANGUAGE plpgsql AS $f$
DECLARE
    st text;
BEGIN
    EXECUTE sql;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE;
    RETURN st;
END
$f$;

-- a single line: tg1 <- tg2 <- tg3, tg1 labelled "core"
SELECT migr_define('tg1', NULL, 'CREATE TABLE tgt_1 (a int)', 'DROP TABLE tgt_1', 'one',
                   branch_labels => '{core}');
SELECT migr_define('tg2', '{tg1}', 'CREATE TABLE tgt_2 (a int)', 'DROP TABLE tgt_2', 'two');
SELECT migr_define('tg3', '{tg2}', 'CREATE TABLE tgt_3 (a int)', 'DROP TABLE tgt_3', 'three');

SELECT revision FROM migr_show('head');
SELECT revision FROM migr_show('heads');
SELECT revision FROM migr_show('tg2');
SELECT revision FROM migr_show('core');
SELECT revision FROM migr_show('core@head');
SELECT revision FROM migr_show('head-1');
SELECT revision FROM migr_show('head-2');
SELECT revision FROM migr_show('tg1+2');
SELECT revision FROM migr_show('core+1');
SELECT revision FROM migr_show('core@head-2');
SELECT revision FROM migr_show('base+1');
SELECT revision FROM migr_show('base+3');
SELECT revision FROM migr_show('tg2+0');
-- down to base, and below it
-- (migr_show() names no revision for base; its message currently says
-- target "base" rather than the target given, see the report)
SELECT pg_temp.sqlstate($$SELECT migr_show('head-3')$$);
SELECT pg_temp.sqlstate($$SELECT migr_show('tg1-1')$$);
SELECT revision FROM migr_downgrade('head-3');
SELECT revision FROM migr_show('head-4');
\echo :SQLSTATE
SELECT pg_temp.sqlstate($$SELECT migr_show('tg1-2')$$);
-- up beyond the heads
SELECT revision FROM migr_show('head+1');
\echo :SQLSTATE
SELECT revision FROM migr_show('base+4');
SELECT revision FROM migr_show('+4');
-- relative steps from something that does not exist
SELECT revision FROM migr_show('nope+1');
\echo :SQLSTATE
SELECT revision FROM migr_show('nope@head');
\echo :SQLSTATE
SELECT revision FROM migr_show('head+99999999999');
-- unknown, empty and NULL targets
SELECT revision FROM migr_show('zzz');
\echo :SQLSTATE
SELECT revision FROM migr_upgrade('zzz');
\echo :SQLSTATE
SELECT revision FROM migr_upgrade('');
\echo :SQLSTATE
SELECT revision FROM migr_upgrade(NULL);
\echo :SQLSTATE
SELECT revision FROM migr_downgrade('zzz');
SELECT revision FROM migr_downgrade(NULL);
SELECT revision FROM migr_stamp('zzz');
SELECT revision FROM migr_stamp(NULL);
SELECT revision FROM migr_show(NULL);
SELECT revision FROM migr_plan(NULL);
-- base is no revision to upgrade to or show
SELECT revision FROM migr_upgrade('base');
\echo :SQLSTATE
SELECT revision FROM migr_show('base');
-- nothing is applied yet: current is base
SELECT pg_temp.sqlstate($$SELECT migr_show('current')$$);
SELECT pg_temp.sqlstate($$SELECT migr_upgrade('current')$$);
SELECT revision FROM migr_downgrade('current');
SELECT count(*) FROM migr.applied;

-- steps relative to current
SELECT revision, message FROM migr_upgrade('+1');
SELECT revision FROM migr_show('current');
SELECT revision, message FROM migr_upgrade('+1');
-- an upgrade never goes down
SELECT revision, message FROM migr_upgrade('-1');
SELECT revision, message FROM migr_upgrade('current');
SELECT revision, message FROM migr_upgrade('+0');
SELECT revision, message FROM migr_downgrade('-1');
SELECT revision FROM migr_show('current');
SELECT revision, message FROM migr_upgrade('+2');
SELECT revision, message FROM migr_upgrade('+1');
\echo :SQLSTATE
SELECT revision, message FROM migr_downgrade('-2');
SELECT revision, message FROM migr_downgrade('current-1');
SELECT pg_temp.sqlstate($$SELECT migr_downgrade('-1')$$);
SELECT count(*) FROM migr.applied;
-- head applies the whole line; "head" again has nothing to do
SELECT revision, message FROM migr_upgrade('head');
SELECT revision, message FROM migr_upgrade('head');
SELECT revision, message FROM migr_upgrade('heads');
SELECT revision, message FROM migr_downgrade('head-2');
SELECT revision, message FROM migr_downgrade('head');

--
-- branches: tg3 <- tg4a (label feat) <- tg5a, and tg3 <- tg4b
--
SELECT migr_define('tg4a', '{tg3}', 'CREATE TABLE tgt_4a (a int)', 'DROP TABLE tgt_4a', 'four a',
                   branch_labels => '{feat}');
SELECT migr_define('tg5a', '{tg4a}', 'CREATE TABLE tgt_5a (a int)', 'DROP TABLE tgt_5a', 'five a');
SELECT migr_define('tg4b', '{tg3}', 'CREATE TABLE tgt_4b (a int)', 'DROP TABLE tgt_4b', 'four b');

-- "head" is ambiguous now (MG001), and the hint says what to do
SELECT revision FROM migr_upgrade('head');
\echo :SQLSTATE
SELECT revision FROM migr_upgrade();
SELECT revision FROM migr_show('head');
SELECT revision FROM migr_show('head-1');
\echo :SQLSTATE
SELECT revision FROM migr_show('heads');
SELECT revision FROM migr_show('heads-1');
SELECT revision FROM migr_show('feat');
SELECT revision FROM migr_show('feat@head');
SELECT revision FROM migr_show('feat@head-1');
SELECT revision FROM migr_show('feat-1');
SELECT revision FROM migr_show('core@head');
\echo :SQLSTATE
-- a unique prefix, and an ambiguous one
SELECT revision FROM migr_show('tg5');
SELECT revision FROM migr_show('tg5-2');
SELECT revision FROM migr_show('tg4');
\echo :SQLSTATE
SELECT revision FROM migr_upgrade('tg4');
-- relative steps through the branch point
SELECT revision FROM migr_show('tg3+1');
\echo :SQLSTATE
SELECT revision FROM migr_show('tg1+3');
SELECT revision FROM migr_show('tg4b-1');
SELECT revision FROM migr_show('tg5a-3');

-- moving along one branch
SELECT revision, message FROM migr_upgrade('feat@head');
SELECT revision FROM migr_current();
SELECT revision, message FROM migr_upgrade('tg4b');
SELECT revision FROM migr_current();
-- two revisions are current: counting from current is ambiguous
SELECT revision FROM migr_show('current');
\echo :SQLSTATE
SELECT revision FROM migr_downgrade('-1');
\echo :SQLSTATE
SELECT revision FROM migr_upgrade('+1');
-- counting from one of them is not
SELECT revision, message FROM migr_downgrade('tg5a-1');
SELECT revision FROM migr_current();
SELECT revision, message FROM migr_upgrade('heads');
SELECT revision, message FROM migr_upgrade('heads');

--
-- exact ids win over prefixes and over relative steps
--
SELECT migr_define('abc', NULL, 'SELECT 1', 'SELECT 1', 'abc');
SELECT migr_define('abcd1', '{abc}', 'SELECT 1', 'SELECT 1', 'abcd1');
SELECT migr_define('abcd2', '{abcd1}', 'SELECT 1', 'SELECT 1', 'abcd2');
SELECT migr_define('abcd2-1', '{abcd2}', 'SELECT 1', 'SELECT 1', 'abcd2-1: an id, not a step');
SELECT revision, message FROM migr_show('abc');
SELECT revision, message FROM migr_show('abcd');
SELECT revision, message FROM migr_show('abcd2');
SELECT revision, message FROM migr_show('abcd2-1');
SELECT revision, message FROM migr_show('abcd2-2');
SELECT revision, message FROM migr_show('abcd2-');
-- an ambiguous prefix lists its candidates, at most ten
SELECT migr_define('many' || i, NULL, 'SELECT 1') FROM generate_series(1, 12) AS i;
SELECT revision FROM migr_show('many1');
SELECT revision FROM migr_show('many1-0');
SELECT revision FROM migr_show('many');
SELECT revision FROM migr_show('man');
SELECT revision FROM migr_show('many13');
\echo :SQLSTATE
-- several roots: the way up from base is ambiguous
SELECT revision FROM migr_show('base+1');

-- clean up
SELECT revision FROM migr_downgrade('base');
SELECT count(*) FROM pg_class WHERE relname LIKE 'tgt\_%';
DROP EXTENSION migr;
CREATE EXTENSION migr;

--
-- The revision graph answers as Alembic's RevisionMap does (issue 8; README,
-- "Targets"), on the issue's expand/contract graph:
--
--   base0 <- e1 (label expand) <- e2
--   base0 <- c1 (label contract) <- c2 (depends_on e1) <- c3
--
-- test/t/030_graph_alembic.pl compares many random graphs with Alembic;
-- this file pins each case of the issue.
--
LOAD 'migr';
-- the SQLSTATE of a statement, where the message would echo a huge input
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
SET migr.lint = 'off';

SELECT migr_define('base0', NULL, 'CREATE TABLE ag_base0 (a int)', 'DROP TABLE ag_base0', 'base');
SELECT migr_define('e1', '{base0}', 'CREATE TABLE ag_e1 (a int)', 'DROP TABLE ag_e1', 'expand one',
                   branch_labels => '{expand}');
SELECT migr_define('e2', '{e1}', 'CREATE TABLE ag_e2 (a int)', 'DROP TABLE ag_e2', 'expand two');
SELECT migr_define('c1', '{base0}', 'CREATE TABLE ag_c1 (a int)', 'DROP TABLE ag_c1', 'contract one',
                   branch_labels => '{contract}');
SELECT migr_define('c2', '{c1}', 'CREATE TABLE ag_c2 (a int)', 'DROP TABLE ag_c2', 'contract two',
                   depends_on => '{e1}');
SELECT migr_define('c3', '{c2}', 'CREATE TABLE ag_c3 (a int)', 'DROP TABLE ag_c3', 'contract three');

-- 2. current: what no other applied revision needs, through parents or
-- depends_on.  Upgrading to c2 applies e1 for it, but only c2 is current,
-- and +1 steps along c2's line, to c3.
SELECT revision FROM migr_upgrade('c2');
SELECT revision FROM migr_current();
SELECT revision FROM migr_show('current');
SELECT revision FROM migr_plan('+1');
SELECT revision FROM migr_upgrade('+1');
SELECT revision FROM migr_current();

-- 1. downgrading to e1 reverts only what lies above e1 through parents
-- (e2) and what needs that; c2 and c3 depend on e1 itself and stay
SELECT revision FROM migr_upgrade('heads');
SELECT revision FROM migr_current() ORDER BY revision;
SELECT revision FROM migr_plan('e1', 'downgrade');
SELECT revision FROM migr_downgrade('e1');
SELECT revision FROM migr_current() ORDER BY revision;
-- downgrading to base0 reverts everything above it, children first
SELECT revision FROM migr_plan('base0', 'downgrade');
-- downgrading to c1 reverts c2 and c3, and keeps e1
SELECT revision FROM migr_downgrade('c1');
SELECT revision FROM migr_current() ORDER BY revision;

-- "-N" from a single current revision steps down its line, and reverts
-- along that line only: from c3, "-2" is c1, and e1 stays
SELECT revision FROM migr_upgrade('c3');
SELECT revision FROM migr_current() ORDER BY revision;
SELECT revision FROM migr_plan('-2', 'downgrade');
SELECT revision FROM migr_downgrade('-2');
SELECT revision FROM migr_current() ORDER BY revision;
-- from c3, "-3" is base0 and only c1's line goes; "-4" is base, reached
-- from the root base0, and everything above base0 goes with it
SELECT revision FROM migr_upgrade('c3');
SELECT revision FROM migr_plan('-3', 'downgrade');
SELECT revision FROM migr_plan('-4', 'downgrade');
-- counted from a named revision, "c3-3" is base0, and downgrading to it
-- reverts everything above base0, as the target base0 does
SELECT revision FROM migr_plan('c3-3', 'downgrade');

-- 3. history ranges follow parents from their lower end: e1's line only;
-- their upper end takes what it needs through depends_on too
SELECT revision FROM migr_history('e1:');
SELECT revision FROM migr_history('e1:heads');
SELECT revision FROM migr_history('c1:');
SELECT revision FROM migr_history(':c2');
SELECT revision FROM migr_history('expand:contract@head');
SELECT revision FROM migr_history('contract:expand@head');
SELECT revision FROM migr_history('current:');

-- 4. a step below a root means base, refused for an upgrade as base is;
-- steps past base or the heads are errors that say so
SELECT revision FROM migr_upgrade('base0-1');
SELECT revision FROM migr_plan('base0-1');
SELECT revision FROM migr_upgrade('base0-2');
SELECT revision FROM migr_plan('c3+1');
SELECT revision FROM migr_plan('e2+5');
SELECT revision FROM migr_downgrade('base0-1');
SELECT revision FROM migr_current();

-- 7. two heads, each the head of its own labelled branch: information
SELECT revision, severity, code, message, hint FROM migr_check()
 WHERE code = 'multiple_heads';

-- a revision that needs one being reverted goes too: n1 (on c1) depends
-- on e2, so downgrading to e1 reverts n1 with e2, and c2 and c3 stay
SELECT migr_define('n1', '{c1}', 'CREATE TABLE ag_n1 (a int)', 'DROP TABLE ag_n1', 'needs e2',
                   depends_on => '{e2}');
SELECT revision FROM migr_upgrade('heads');
SELECT revision FROM migr_current() ORDER BY revision;
SELECT revision FROM migr_plan('e1', 'downgrade');
-- "-1" is refused when several revisions are current (Alembic would count
-- from one of them), with the current revisions named
SELECT revision FROM migr_plan('-1', 'downgrade');
SELECT revision FROM migr_plan('c3-1', 'downgrade');
-- branch contract now has two heads (c3, n1): a warning again
SELECT revision, severity, code, message FROM migr_check()
 WHERE code = 'multiple_heads';
SELECT revision FROM migr_downgrade('base0');

-- 5. depends_on may name a branch label, meaning the revision that carries
-- it, when applied and everywhere the graph is used
SELECT migr_define('l1', '{c1}', 'CREATE TABLE ag_l1 (a int)', 'DROP TABLE ag_l1', 'needs expand',
                   depends_on => '{expand}');
SELECT revision FROM migr_plan('l1');
SELECT revision FROM migr_upgrade('l1');
SELECT revision FROM migr_current() ORDER BY revision;
SELECT revision FROM migr_plan('e1', 'downgrade');
SELECT revision FROM migr_plan('base0', 'downgrade');
SELECT revision FROM migr_history('expand:');
SELECT revision, code FROM migr_check() WHERE code LIKE 'missing%';
-- a name that is neither an id nor a label is still missing
SELECT migr_define('l2', '{c1}', 'CREATE TABLE ag_l2 (a int)', 'DROP TABLE ag_l2', 'needs nothing known',
                   depends_on => '{nolabel}');
SELECT revision, code FROM migr_check() WHERE code LIKE 'missing%';
SELECT revision FROM migr_upgrade('l2');
-- a label defined later that closes a cycle through depends_on is refused
-- (MG005), as an id would be
SELECT migr_define('lx1', NULL, 'CREATE TABLE ag_lx1 (a int)', depends_on => '{later}');
SELECT migr_define('lx2', '{lx1}', 'CREATE TABLE ag_lx2 (a int)', branch_labels => '{later}');
SELECT count(*) FROM migr.revision WHERE id = 'lx2';
-- and so is a revision that depends on its own label
SELECT migr_define('lx3', NULL, 'CREATE TABLE ag_lx3 (a int)', branch_labels => '{mine}',
                   depends_on => '{mine}');
SELECT count(*) FROM migr.revision WHERE id = 'lx3';

-- 9. a target costs time and memory linear in its length, however many
-- steps it chains (the first took 40 GB before); each step is walked
SELECT count(*) FROM migr_plan('base0' || repeat('+0', 200000));
SELECT pg_temp.sqlstate($$SELECT migr_plan('ab12' || repeat('-0', 24000))$$);
SELECT revision FROM migr_show('e1' || repeat('+1-1', 1000));
SELECT revision FROM migr_show('c3' || repeat('-0', 1000) || '-1');
SELECT pg_temp.sqlstate($$SELECT migr_show(repeat('x', 1000000))$$);
SELECT pg_temp.sqlstate($$SELECT migr_show(repeat('x', 100000) || '@head')$$);
SELECT pg_temp.sqlstate($$SELECT migr_show('c3' || repeat('-1', 100000))$$);

-- clean up
SELECT revision FROM migr_downgrade('base');
SELECT count(*) FROM pg_class WHERE relname LIKE 'ag\_%';
DROP EXTENSION migr;
CREATE EXTENSION migr;

--
-- migr_upgrade(): order (parents and dependencies first, ties by definition
-- order), what is recorded, and all-or-nothing failure.
--
-- Settings of features that come later (lint, data operations) are turned
-- off where they exist, so that this file's output does not depend on them.
LOAD 'migr';
SET migr.lint = 'off';
DO $$ BEGIN PERFORM set_config('migr.data_operations', 'allow', false); EXCEPTION WHEN OTHERS THEN NULL; END $$;

-- every script appends its revision's id here, so the order is visible
CREATE TABLE upg_order (n serial, revision text);

--
-- a diamond, with the branches defined "out of order": o1 <- o2b, o1 <- o2a,
-- merged by o3.  Ties are broken by definition order, so o2b comes first.
--
SELECT migr_define('o1', NULL, $$INSERT INTO upg_order (revision) VALUES ('o1')$$,
                   $$INSERT INTO upg_order (revision) VALUES ('-o1')$$, 'root', kind => 'data');
SELECT migr_define('o2b', '{o1}', $$INSERT INTO upg_order (revision) VALUES ('o2b')$$,
                   $$INSERT INTO upg_order (revision) VALUES ('-o2b')$$, 'branch b', kind => 'data');
SELECT migr_define('o2a', '{o1}', $$INSERT INTO upg_order (revision) VALUES ('o2a')$$,
                   $$INSERT INTO upg_order (revision) VALUES ('-o2a')$$, 'branch a', kind => 'data');
SELECT migr_define('o3', '{o2a,o2b}', $$INSERT INTO upg_order (revision) VALUES ('o3')$$,
                   $$INSERT INTO upg_order (revision) VALUES ('-o3')$$, 'merge', kind => 'data');
SELECT revision, message, ms IS NOT NULL AND ms >= 0 AS timed FROM migr_upgrade('head');
SELECT revision FROM upg_order ORDER BY n;
-- nothing left to do
SELECT revision, message FROM migr_upgrade('head');
SELECT revision, message FROM migr_upgrade('o3');
SELECT revision, message FROM migr_upgrade('o1');
-- downgrade: the exact reverse
TRUNCATE upg_order;
SELECT revision, message, ms IS NOT NULL AS timed FROM migr_downgrade('base');
SELECT revision FROM upg_order ORDER BY n;
-- the same order whatever the target: one branch, then the rest
SELECT revision FROM migr_upgrade('o2a');
SELECT revision FROM migr_upgrade('o3');
SELECT revision FROM migr_downgrade('base');

--
-- depends_on across branches: y2 depends on x2 of another root.  y was
-- defined first, so y1 goes first; x1 and x2 must precede y2.
--
SELECT migr_define('y1', NULL, $$INSERT INTO upg_order (revision) VALUES ('y1')$$,
                   $$INSERT INTO upg_order (revision) VALUES ('-y1')$$, kind => 'data');
SELECT migr_define('y2', '{y1}', $$INSERT INTO upg_order (revision) VALUES ('y2')$$,
                   $$INSERT INTO upg_order (revision) VALUES ('-y2')$$, kind => 'data',
                   depends_on => '{x2}');
SELECT migr_define('x1', NULL, $$INSERT INTO upg_order (revision) VALUES ('x1')$$,
                   $$INSERT INTO upg_order (revision) VALUES ('-x1')$$, kind => 'data');
SELECT migr_define('x2', '{x1}', $$INSERT INTO upg_order (revision) VALUES ('x2')$$,
                   $$INSERT INTO upg_order (revision) VALUES ('-x2')$$, kind => 'data');
-- a dependency is not a parent: y2 and x2 are both heads
SELECT revision FROM migr_heads() WHERE revision IN ('x2', 'y2') ORDER BY revision;
TRUNCATE upg_order;
SELECT revision FROM migr_upgrade('y2');
SELECT revision FROM upg_order ORDER BY n;
-- downgrading x1 reverts what descends from it through parents and
-- dependencies (x2, y2), children first; y1 stays
TRUNCATE upg_order;
SELECT revision FROM migr_downgrade('x1');
SELECT revision FROM upg_order ORDER BY n;
SELECT revision FROM migr_current() ORDER BY revision;
SELECT revision FROM migr_downgrade('base');

-- a parent defined after its child still goes first
SELECT migr_define('late_child', NULL, $$INSERT INTO upg_order (revision) VALUES ('late_child')$$,
                   'SELECT 1', kind => 'data', depends_on => '{late_dep}');
SELECT migr_define('late_child2', '{late_child}', $$INSERT INTO upg_order (revision) VALUES ('late_child2')$$,
                   'SELECT 1', kind => 'data');
SELECT migr_define('late_dep', '{late_parent}', $$INSERT INTO upg_order (revision) VALUES ('late_dep')$$,
                   'SELECT 1', kind => 'data');
SELECT migr_define('late_parent', NULL, $$INSERT INTO upg_order (revision) VALUES ('late_parent')$$,
                   'SELECT 1', kind => 'data');
TRUNCATE upg_order;
SELECT revision FROM migr_upgrade('late_child2');
SELECT revision FROM upg_order ORDER BY n;
SELECT revision FROM migr_downgrade('base');

--
-- what is recorded
--
TRUNCATE migr.log;	-- superuser housekeeping, to see only what follows
SELECT revision FROM migr_upgrade('o2b');
SELECT a.revision, a.checksum = r.checksum AS checksum_recorded,
       a.applied_by = current_user AS by_me, a.applied_at IS NOT NULL AS has_time,
       a.ms IS NOT NULL AS timed
  FROM migr.applied a JOIN migr.revision r ON r.id = a.revision
 ORDER BY a.applied_at, a.revision;
SELECT action, revision, target, ms IS NOT NULL AS timed, outcome, role = current_user AS by_me
  FROM migr.log ORDER BY id;
SELECT revision FROM migr_downgrade('base');

--
-- a failing revision: the whole call rolls back, schema and migr's tables
-- alike, and the error names the revision, the statement and its line
--
SELECT migr_define('f1', NULL, 'CREATE TABLE upg_f1 (a int)', 'DROP TABLE upg_f1', 'fine');
SELECT migr_define('f2', '{f1}', $$CREATE TABLE upg_f2 (a int);

-- the second statement fails
ALTER TABLE upg_no_such_table ADD COLUMN b int;
CREATE TABLE upg_f2b (a int);
$$, 'DROP TABLE upg_f2b; DROP TABLE upg_f2', 'fails');
SELECT count(*) AS applied_before FROM migr.applied;
SELECT count(*) AS log_before FROM migr.log;
SELECT generation AS generation_before FROM migr.state \gset
SELECT revision FROM migr_upgrade('f2');
\echo :SQLSTATE
SELECT to_regclass('upg_f1') AS f1, to_regclass('upg_f2') AS f2, to_regclass('upg_f2b') AS f2b;
SELECT count(*) AS applied_after FROM migr.applied;
SELECT count(*) AS log_after FROM migr.log;
SELECT generation = :generation_before AS same_generation FROM migr.state;
-- when f1 was applied by an earlier call, f1 stays
SELECT revision FROM migr_upgrade('f1');
SELECT revision FROM migr_upgrade('f2');
SELECT revision FROM migr_current();
SELECT to_regclass('upg_f1') AS f1, to_regclass('upg_f2') AS f2;
-- a statement that fails in a PL/pgSQL block deep inside is reported the same way
SELECT migr_define('f3', '{f1}', $$
CREATE TABLE upg_f3 (a int);
DO $do$
BEGIN
    RAISE EXCEPTION 'boom' USING ERRCODE = 'P0042', HINT = 'from the script';
END
$do$;
$$, NULL, 'fails in a DO block');
SELECT revision FROM migr_upgrade('f3');
\echo :SQLSTATE
SELECT to_regclass('upg_f3') AS f3;

--
-- inside the caller's transaction: it commits or rolls back with it
--
BEGIN;
SELECT revision FROM migr_downgrade('base');
SELECT to_regclass('upg_f1') AS f1;
ROLLBACK;
SELECT revision FROM migr_current();
SELECT to_regclass('upg_f1') IS NOT NULL AS f1_kept;
BEGIN;
SAVEPOINT before_f2;
SELECT revision FROM migr_upgrade('f2');
ROLLBACK TO SAVEPOINT before_f2;
SELECT revision FROM migr_downgrade('base');
SELECT revision FROM migr_upgrade('f1');
COMMIT;
SELECT revision FROM migr_current();
SELECT action, revision, outcome FROM migr.log WHERE revision LIKE 'f%' ORDER BY id;

--
-- a revision whose row was edited behind migr's back is never run (MG002)
--
SELECT migr_define('e1', '{f1}', 'CREATE TABLE upg_e1 (a int)', 'DROP TABLE upg_e1');
UPDATE migr.revision SET upgrade = 'CREATE TABLE upg_e1_evil (a int)' WHERE id = 'e1';
SELECT revision FROM migr_upgrade('e1');
\echo :SQLSTATE
SELECT to_regclass('upg_e1_evil') AS evil;
-- putting it back makes it runnable again
UPDATE migr.revision SET upgrade = 'CREATE TABLE upg_e1 (a int)' WHERE id = 'e1';
SELECT revision FROM migr_upgrade('e1');

--
-- a script cannot call migr itself (it would corrupt the applied set or
-- recurse), and what a script SETs lasts only until the end of its revision
--
SELECT revision FROM migr_downgrade('base');
DROP EXTENSION migr;
CREATE EXTENSION migr;
SELECT migr_define('re1', NULL, 'CREATE TABLE upg_re1 (a int)', 'DROP TABLE upg_re1');
SELECT migr_define('re2', '{re1}', $$SELECT revision FROM migr_downgrade('base')$$, 'SELECT 1', kind => 'data');
SELECT revision FROM migr_upgrade('head');
\echo :SQLSTATE
SELECT migr_define('re2', '{re1}', $$SELECT count(*) FROM migr_upgrade('head')$$, 'SELECT 1', kind => 'data');
SELECT revision FROM migr_upgrade('head');
SELECT migr_define('re2', '{re1}', $$SELECT migr_define('re3', '{re2}', 'SELECT 1')$$, 'SELECT 1', kind => 'data');
SELECT revision FROM migr_upgrade('head');
SELECT revision, applied FROM migr_history();
SELECT migr_define('re2', '{re1}', $$CREATE SCHEMA upg_s; SET search_path = upg_s; CREATE TABLE upg_in_s (a int)$$,
                   'DROP SCHEMA upg_s CASCADE');
SELECT migr_define('re3', '{re2}', 'CREATE TABLE upg_after (a int)', 'DROP TABLE upg_after');
SHOW search_path;
SELECT revision FROM migr_upgrade('head');
SHOW search_path;
SELECT to_regclass('upg_s.upg_in_s') IS NOT NULL AS in_s,
       to_regclass('public.upg_after') IS NOT NULL AS after_in_public;

-- a read-only transaction is refused up front, with the server's message
BEGIN READ ONLY;
SELECT revision FROM migr_downgrade('re1');
ROLLBACK;
BEGIN READ ONLY;
SELECT revision FROM migr_upgrade('head');  -- nothing to do: fine
ROLLBACK;

-- clean up
SELECT revision FROM migr_downgrade('base');
DROP TABLE upg_order;
DROP EXTENSION migr;
CREATE EXTENSION migr;

-- the no-op path remembers migr's relations per session: it sees a REINDEX,
-- and a new extension's tables, not the dropped ones
SELECT count(*) FROM migr_upgrade('head');
SELECT migr_define('nc1', '{}', 'CREATE TABLE upg_nc (a int)', 'DROP TABLE upg_nc');
SELECT count(*) FROM migr_upgrade('head');
SELECT count(*) FROM migr_upgrade('head');
REINDEX TABLE migr.head;
REINDEX TABLE migr.applied;
SELECT count(*) FROM migr_upgrade('head');
SELECT revision FROM migr_downgrade('base');
DROP EXTENSION migr;
CREATE EXTENSION migr;
SELECT count(*) FROM migr_upgrade('head');
SELECT migr_define('nc1', '{}', 'CREATE TABLE upg_nc (a int)', 'DROP TABLE upg_nc');
SELECT count(*) FROM migr_upgrade('head');
SELECT count(*) FROM migr_upgrade('head');
SELECT revision FROM migr_downgrade('base');
DROP EXTENSION migr;
CREATE EXTENSION migr;

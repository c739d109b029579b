--
-- Looking without changing anything: migr_heads(), migr_current(),
-- migr_branches(), migr_history(), migr_show() and migr_check().
--
-- Settings of features that come later (lint, data operations) are turned
-- off where they exist, so that this file's output does not depend on them.
LOAD 'migr';
SET migr.lint = 'off';
DO $$ BEGIN PERFORM set_config('migr.data_operations', 'allow', false); EXCEPTION WHEN OTHERS THEN NULL; END $$;

-- r0 <- r1 (label main) <- r2, and r1 <- f1 (label feature) <- f2 depends on r2
SELECT migr_define('r0', NULL, 'CREATE TABLE look_r0 (a int)', 'DROP TABLE look_r0', 'root');
SELECT migr_define('r1', '{r0}', 'CREATE TABLE look_r1 (a int)', 'DROP TABLE look_r1', 'main line',
                   branch_labels => '{main}');
SELECT migr_define('r2', '{r1}', 'CREATE TABLE look_r2 (a int)', 'DROP TABLE look_r2', 'main two');
SELECT migr_define('f1', '{r1}', 'CREATE TABLE look_f1 (a int)', 'DROP TABLE look_f1', 'feature',
                   branch_labels => '{feature}');
SELECT migr_define('f2', '{f1}', 'CREATE TABLE look_f2 (a int)', NULL, 'feature two',
                   depends_on => '{r2}', kind => 'schema');

SELECT * FROM migr_heads();
SELECT * FROM migr_branches();
SELECT revision, message FROM migr_current();
SELECT revision, down_revision, message, applied, applied_at, is_head FROM migr_history();

SELECT revision FROM migr_upgrade('r2');
SELECT revision, message, applied_at IS NOT NULL AS has_time FROM migr_current();
SELECT revision, down_revision, message, applied, applied_at IS NOT NULL AS has_time, is_head
  FROM migr_history();

--
-- history ranges, "from:to" as in Alembic
--
SELECT revision FROM migr_history(':');
SELECT revision FROM migr_history('base:heads');
SELECT revision FROM migr_history('r1:');
SELECT revision FROM migr_history(':r1');
SELECT revision FROM migr_history('r1:r2');
SELECT revision FROM migr_history('main:feature@head');
SELECT revision FROM migr_history('current:');
SELECT revision FROM migr_history(':current');
SELECT revision FROM migr_history('r2:r1');
SELECT revision FROM migr_history('base:base');
SELECT revision FROM migr_history('f2-1:');
-- bad ranges
SELECT revision FROM migr_history('r1');
\echo :SQLSTATE
SELECT revision FROM migr_history('zzz:');
\echo :SQLSTATE
SELECT revision FROM migr_history(':zzz');
SELECT revision FROM migr_history('base:head');
\echo :SQLSTATE

--
-- migr_show: a revision whole
--
SELECT revision, down_revision, depends_on, branch_labels, message, kind, upgrade, downgrade,
       checksum ~ '^[0-9a-f]{64}$' AS sha256, applied, applied_at IS NOT NULL AS has_time,
       is_head, children
  FROM migr_show('r1');
SELECT revision, down_revision, depends_on, branch_labels, message, kind, upgrade, downgrade,
       applied, applied_at, is_head, children
  FROM migr_show('f2');
SELECT revision FROM migr_show('heads');
-- the checksum is the one recorded when it was defined and applied
SELECT s.checksum = r.checksum AND s.checksum = a.checksum AS same
  FROM migr_show('r1') s, migr.revision r, migr.applied a
 WHERE r.id = 'r1' AND a.revision = 'r1';
-- whatever the message or labels, the checksum covers the id, parents,
-- dependencies, kind and scripts
BEGIN;
SELECT checksum AS before FROM migr_show('f2') \gset
SELECT migr_define('f2', '{f1}', 'CREATE TABLE look_f2 (a int)', NULL, 'other message',
                   depends_on => '{r2}', branch_labels => '{other}');
SELECT checksum = :'before' AS same_checksum FROM migr_show('f2');
SELECT migr_define('f2', '{f1}', 'CREATE TABLE look_f2 (a int)', NULL, 'other message',
                   depends_on => '{r2}', kind => 'data');
SELECT checksum = :'before' AS same_checksum FROM migr_show('f2');
ROLLBACK;

--
-- migr_check: nothing wrong but two heads
--
SELECT revision, severity, code, message, hint FROM migr_check();
SELECT migr_merge(NULL, 'merge', 'm1');
SELECT revision, severity, code, message, hint FROM migr_check();
SELECT revision FROM migr_heads();

-- a missing parent and a missing dependency
SELECT migr_define('x2', '{x1}', 'SELECT 1', depends_on => '{x0}');
SELECT revision, severity, code, message, hint FROM migr_check() ORDER BY code;

-- rows changed behind migr's back (as a superuser may):
-- an unapplied revision's script
UPDATE migr.revision SET upgrade = 'CREATE TABLE look_f1_evil (a int)' WHERE id = 'f1';
-- an applied revision's script
UPDATE migr.revision SET downgrade = 'DROP TABLE look_r2 CASCADE' WHERE id = 'r2';
-- an applied revision whose recorded checksum is not the one it has now
UPDATE migr.applied SET checksum = repeat('0', 64) WHERE revision = 'r1';
-- an applied revision whose parent is not
INSERT INTO migr.applied (revision, checksum, applied_at, applied_by)
SELECT 'x2', checksum, now(), current_user FROM migr.revision WHERE id = 'x2';
SELECT revision, severity, code, message, hint FROM migr_check() ORDER BY revision, code;
-- none of them is ever run
SELECT revision FROM migr_upgrade('f1');
\echo :SQLSTATE
SELECT revision FROM migr_downgrade('r1');
\echo :SQLSTATE
SELECT revision FROM migr_downgrade('r0');
\echo :SQLSTATE
SELECT to_regclass('look_f1_evil') AS evil;
-- and migr_check changed nothing
SELECT upgrade FROM migr.revision WHERE id = 'f1';
-- put them back
UPDATE migr.revision SET upgrade = 'CREATE TABLE look_f1 (a int)' WHERE id = 'f1';
UPDATE migr.revision SET downgrade = 'DROP TABLE look_r2' WHERE id = 'r2';
UPDATE migr.applied a SET checksum = r.checksum FROM migr.revision r
 WHERE r.id = a.revision AND a.revision = 'r1';
DELETE FROM migr.applied WHERE revision = 'x2';
SELECT revision, code FROM migr_check() ORDER BY revision, code;

-- a cycle, made by editing the parents directly (migr_define refuses it)
SELECT migr_define('c1', NULL, 'SELECT 1');
SELECT migr_define('c2', '{c1}', 'SELECT 1');
SELECT migr_define('c3', '{c2}', 'SELECT 1');
UPDATE migr.revision SET down_revision = '{c3}' WHERE id = 'c1';
SELECT revision, severity, code, message FROM migr_check() ORDER BY code, revision;
SELECT revision FROM migr_heads();
-- the history lists the revisions of a cycle last, in definition order
SELECT revision, is_head FROM migr_history();
-- moving through it is an error (MG005)
SELECT revision FROM migr_upgrade('c2');
\echo :SQLSTATE
SELECT revision FROM migr_stamp('c3');
\echo :SQLSTATE
UPDATE migr.revision SET down_revision = '{}' WHERE id = 'c1';
SELECT revision, code FROM migr_check() ORDER BY revision, code;

-- anyone may look: these functions are not refused to PUBLIC (13_privileges
-- checks it as another role)

-- clean up
SELECT revision FROM migr_downgrade('base');
DROP EXTENSION migr;
CREATE EXTENSION migr;

--
-- migr_stamp(): make the applied set exactly the target and its ancestors,
-- running no script.
--
-- Settings of features that come later (lint, data operations) are turned
-- off where they exist, so that this file's output does not depend on them.
LOAD 'migr';
SET migr.lint = 'off';
DO $$ BEGIN PERFORM set_config('migr.data_operations', 'allow', false); EXCEPTION WHEN OTHERS THEN NULL; END $$;

-- every script would fail: stamping must not run any of them
SELECT migr_define('s1', NULL, 'SELECT 1/0', 'SELECT 1/0', 'one');
SELECT migr_define('s2', '{s1}', 'SELECT 1/0', 'SELECT 1/0', 'two');
SELECT migr_define('s3', '{s2}', 'SELECT 1/0', NULL, 'three, irreversible');
SELECT migr_define('t1', '{s1}', 'SELECT 1/0', 'SELECT 1/0', 'other branch');
SELECT migr_define('t2', '{t1}', 'SELECT 1/0', 'SELECT 1/0', 'other branch, depends on s2',
                   depends_on => '{s2}');

-- up
SELECT * FROM migr_stamp('s2');
SELECT revision FROM migr_current();
SELECT revision, ms IS NULL AS not_timed, checksum IS NOT NULL AS has_checksum
  FROM migr.applied ORDER BY revision;
-- the same again: nothing to do
SELECT * FROM migr_stamp('s2');
-- further up, through an irreversible revision
SELECT * FROM migr_stamp('s3');
-- down, through an irreversible revision too: no script runs either way
SELECT * FROM migr_stamp('s1');
SELECT revision FROM migr_current();
-- exactly the target and its ancestors: the other branch comes off, and a
-- dependency comes on
SELECT * FROM migr_stamp('s3');
SELECT * FROM migr_stamp('t2');
SELECT revision FROM migr_current() ORDER BY revision;
SELECT * FROM migr_stamp('t1');
SELECT * FROM migr_stamp('heads');
SELECT * FROM migr_stamp('heads');
-- relative targets
SELECT * FROM migr_stamp('s3-1');
SELECT * FROM migr_stamp('base');
SELECT * FROM migr_stamp('base');
SELECT * FROM migr_stamp('+1');
SELECT * FROM migr_stamp('+1');
SELECT * FROM migr_stamp('-1');
SELECT count(*) FROM migr.applied;

-- what is logged
SELECT action, revision, target, ms IS NULL AS not_timed, outcome
  FROM migr.log WHERE action = 'stamp' ORDER BY id DESC LIMIT 3;

-- after a stamp, an upgrade runs only what the stamp did not mark
CREATE TABLE stamp_ran (revision text);
SELECT migr_define('s4', '{s3}', $$INSERT INTO stamp_ran VALUES ('s4')$$,
                   'DELETE FROM stamp_ran', kind => 'data');
SELECT * FROM migr_stamp('s3');
SELECT revision FROM migr_upgrade('s4');
SELECT * FROM stamp_ran;

-- errors: an unknown target, a missing parent (MG003), an edited revision
-- (MG002), and nothing changes
SELECT * FROM migr_stamp('nope');
SELECT migr_define('u2', '{u1}', 'SELECT 1');
SELECT * FROM migr_stamp('u2');
\echo :SQLSTATE
UPDATE migr.revision SET upgrade = 'SELECT 2' WHERE id = 't1';
SELECT * FROM migr_stamp('t1');
\echo :SQLSTATE
SELECT revision FROM migr_current();
UPDATE migr.revision SET upgrade = 'SELECT 1/0' WHERE id = 't1';
SELECT * FROM migr_stamp('t1');

-- inside a transaction that rolls back, nothing is stamped
BEGIN;
SELECT * FROM migr_stamp('base');
ROLLBACK;
SELECT revision FROM migr_current();

-- clean up
SELECT * FROM migr_stamp('base');
DROP TABLE stamp_ran;
DROP EXTENSION migr;
CREATE EXTENSION migr;

--
-- Issue 13: migr_undefine() removes a revision that was never applied
-- (what "migr rm" calls), refusing applied, partially applied and needed
-- ones; migr_grant_deploy() grants a deploying role what it needs.
--
LOAD 'migr';
SET migr.lint = 'off';
DO $$ BEGIN PERFORM set_config('migr.data_operations', 'allow', false); EXCEPTION WHEN OTHERS THEN NULL; END $$;
DROP EXTENSION migr;
CREATE EXTENSION migr;
\set VERBOSITY default

SELECT migr_define('u1', NULL, 'CREATE TABLE u1 (a int)', 'DROP TABLE u1');
SELECT migr_define('u2', '{u1}', 'CREATE TABLE u2 (a int)', 'DROP TABLE u2', 'second', '{ulabel}');
SELECT migr_define('u3', '{u1}', 'CREATE TABLE u3 (a int)', 'DROP TABLE u3', 'beside u2');
SELECT migr_define('u4', '{u3}', 'CREATE TABLE u4 (a int)', 'DROP TABLE u4', 'needs ulabel',
                   '{}', '{ulabel}');
SELECT revision FROM migr_upgrade('u1');

-- bad input
SELECT migr_undefine(NULL);
SELECT migr_undefine('no such');
SELECT migr_undefine('nosuch');
-- applied
SELECT migr_undefine('u1');
-- a parent of another revision
SELECT migr_undefine('u3');
-- needed through its branch label
SELECT migr_undefine('u2');
-- partially applied (as a worker leaves it)
INSERT INTO migr.partial (revision, checksum, next_statement, started_at, started_by)
  SELECT id, checksum, 2, now(), current_user FROM migr.revision WHERE id = 'u4';
SELECT migr_undefine('u4');
DELETE FROM migr.partial;

-- nothing was changed by the refusals
SELECT id FROM migr.revision ORDER BY seq;

-- u4, then u3: u1 keeps u2 as its child; the heads follow
SELECT migr_undefine('u4');
SELECT revision FROM migr_heads() ORDER BY 1;
SELECT migr_undefine('u3');
SELECT revision FROM migr_heads() ORDER BY 1;
SELECT parent, child, kind FROM migr.edge ORDER BY 1, 2;
-- now u2 is needed by nobody
SELECT migr_undefine('u2');
SELECT revision FROM migr_heads() ORDER BY 1;
SELECT count(*) AS labels FROM migr.label;
SELECT action, revision, outcome FROM migr.log WHERE action = 'undefine' ORDER BY id;
-- defined again, as the files say
SELECT migr_define('u2', '{u1}', 'CREATE TABLE u2 (a int)', 'DROP TABLE u2', 'second', '{ulabel}');
SELECT revision FROM migr_upgrade('head');

-- migr_grant_deploy
SET client_min_messages = warning;
DROP ROLE IF EXISTS migr_deployer;
RESET client_min_messages;
CREATE ROLE migr_deployer NOLOGIN;
SELECT p.proname
  FROM pg_proc p
 WHERE p.proname LIKE 'migr\_%'
   AND NOT has_function_privilege('migr_deployer', p.oid, 'EXECUTE')
 ORDER BY 1;
SELECT migr_grant_deploy('migr_deployer');
SELECT migr_grant_deploy(NULL);
SELECT migr_grant_deploy('no_such_role');
SELECT p.proname
  FROM pg_proc p
 WHERE p.proname LIKE 'migr\_%'
   AND NOT has_function_privilege('migr_deployer', p.oid, 'EXECUTE')
 ORDER BY 1;
SET ROLE migr_deployer;
SELECT migr_grant_deploy('migr_deployer');
SELECT migr_undefine('u2');
RESET ROLE;
DROP EXTENSION migr;
DROP ROLE migr_deployer;
CREATE EXTENSION migr;

--
-- Privileges and security (README, "Security"): functions that change state are
-- not granted to PUBLIC; EXECUTE on migr_upgrade(text) is all a role needs;
-- scripts run as the calling role; migr's tables are not writable; migr's
-- own queries are immune to objects planted on the search_path.
--
-- Settings of features that come later (lint, data operations) are turned
-- off where they exist, so that this file's output does not depend on them.
LOAD 'migr';
SET migr.lint = 'off';
DO $$ BEGIN PERFORM set_config('migr.data_operations', 'allow', false); EXCEPTION WHEN OTHERS THEN NULL; END $$;

SET client_min_messages = warning;
DROP ROLE IF EXISTS migr_app;
RESET client_min_messages;
CREATE ROLE migr_app NOLOGIN;
CREATE SCHEMA app AUTHORIZATION migr_app;

-- revisions defined by the owner
SELECT migr_define('pv1', NULL, 'CREATE TABLE app.t1 (a int)', 'DROP TABLE app.t1', 'in a schema migr_app owns');
SELECT migr_define('pv2', '{pv1}', $$
CREATE TABLE app.who (who name, sess name);
INSERT INTO app.who VALUES (current_user, session_user);
$$, 'DROP TABLE app.who', 'records who runs it', kind => 'data');
SELECT migr_define('pv3', '{pv2}', 'CREATE TABLE public.priv_pv3 (a int)', 'DROP TABLE public.priv_pv3',
                   'needs CREATE on public, which migr_app lacks');
SELECT migr_define('pv4', '{pv2}', 'DELETE FROM migr.log', NULL,
                   'tries to write migr''s tables from a script', kind => 'data');

SET ROLE migr_app;
SELECT current_user;
-- functions that change state are refused
SELECT migr_define('x', NULL, 'SELECT 1');
\echo :SQLSTATE
SELECT migr_load(E'-- migr:revision x\n-- migr:upgrade\nSELECT 1;\n');
SELECT migr_merge();
SELECT * FROM migr_upgrade('head');
\echo :SQLSTATE
SELECT * FROM migr_upgrade();
SELECT * FROM migr_downgrade('base');
SELECT * FROM migr_stamp('pv1');
-- anyone may look
SELECT revision, message FROM migr_heads();
SELECT revision, applied FROM migr_history();
SELECT revision FROM migr_current();
SELECT revision FROM migr_branches();
SELECT revision, code FROM migr_check();
SELECT revision, message, kind FROM migr_show('pv2');
SELECT step, revision FROM migr_plan('pv2');
SELECT id FROM migr.revision ORDER BY seq;
SELECT count(*) FROM migr.applied;
SELECT count(*) > 0 AS has_rows FROM migr.log;
-- but nobody writes migr's tables directly
INSERT INTO migr.applied VALUES ('pv1', 'x', now(), 'migr_app', NULL);
\echo :SQLSTATE
UPDATE migr.revision SET upgrade = 'SELECT 2' WHERE id = 'pv1';
DELETE FROM migr.revision;
DELETE FROM migr.log;
TRUNCATE migr.applied;
INSERT INTO migr.log (at, role, action, outcome) VALUES (now(), 'migr_app', 'fake', 'ok');
UPDATE migr.state SET generation = 0;
SELECT * FROM migr.state;
SELECT nextval('migr.revision_seq');
RESET ROLE;

-- EXECUTE on migr_upgrade(text) is all a role needs
GRANT EXECUTE ON FUNCTION migr_upgrade(text) TO migr_app;
SET ROLE migr_app;
SELECT revision, message FROM migr_upgrade('pv2');
-- the scripts ran as migr_app
SELECT * FROM app.who;
SELECT pg_get_userbyid(relowner) AS owner FROM pg_class WHERE oid = 'app.t1'::regclass;
SELECT revision, applied_by FROM migr.applied ORDER BY revision;
SELECT action, revision, role FROM migr.log WHERE action = 'upgrade' ORDER BY id;
-- a script that needs a privilege migr_app lacks fails, and nothing is kept
SELECT revision FROM migr_upgrade('pv3');
\echo :SQLSTATE
-- a script cannot write migr's tables either: it runs as migr_app, never as
-- the extension's owner
SELECT revision FROM migr_upgrade('pv4');
\echo :SQLSTATE
SELECT revision FROM migr_current();
-- other state-changing functions are still refused
SELECT * FROM migr_downgrade('pv1');
SELECT * FROM migr_stamp('pv1');
SELECT migr_define('x', NULL, 'SELECT 1');
-- and the tables are still not writable
DELETE FROM migr.applied;
RESET ROLE;

-- a grant of migr_define records who defined a revision
GRANT EXECUTE ON FUNCTION migr_define(text, text[], text, text, text, text[], text[], text) TO migr_app;
SET ROLE migr_app;
SELECT migr_define('pv5', '{pv2}', 'CREATE TABLE app.t5 (a int)', 'DROP TABLE app.t5', 'by migr_app');
SELECT defined_by FROM migr.revision WHERE id = 'pv5';
SELECT revision FROM migr_upgrade('pv5');
RESET ROLE;
REVOKE EXECUTE ON FUNCTION migr_define(text, text[], text, text, text, text[], text[], text) FROM migr_app;

--
-- CVE-2018-1058: objects planted on the caller's search_path, ahead of
-- pg_catalog, take no part in migr's own queries.  Every planted function
-- raises an error, so any use of one would show.
--
SELECT migr_define('pv_sp', '{pv5}', 'CREATE TABLE app.sp (a int)', 'DROP TABLE app.sp',
                   'applied with a planted search_path');
CREATE SCHEMA evil AUTHORIZATION migr_app;
-- a new session, so that migr prepares its queries under the planted path
\c -
LOAD 'migr';
SET migr.lint = 'off';
DO $$ BEGIN PERFORM set_config('migr.data_operations', 'allow', false); EXCEPTION WHEN OTHERS THEN NULL; END $$;
SET ROLE migr_app;
CREATE FUNCTION evil.trap_text(text, text) RETURNS boolean LANGUAGE plpgsql AS
  $$BEGIN RAISE EXCEPTION 'planted text operator called'; END$$;
CREATE FUNCTION evil.trap_arr(text[], text[]) RETURNS boolean LANGUAGE plpgsql AS
  $$BEGIN RAISE EXCEPTION 'planted array operator called'; END$$;
CREATE FUNCTION evil.trap_plus(bigint, integer) RETURNS bigint LANGUAGE plpgsql AS
  $$BEGIN RAISE EXCEPTION 'planted + called'; END$$;
CREATE OPERATOR evil.= (LEFTARG = text, RIGHTARG = text, FUNCTION = evil.trap_text);
CREATE OPERATOR evil.@> (LEFTARG = text[], RIGHTARG = text[], FUNCTION = evil.trap_arr);
CREATE OPERATOR evil.+ (LEFTARG = bigint, RIGHTARG = integer, FUNCTION = evil.trap_plus);
CREATE FUNCTION evil.now() RETURNS timestamptz LANGUAGE plpgsql AS
  $$BEGIN RAISE EXCEPTION 'planted now() called'; END$$;
CREATE FUNCTION evil.clock_timestamp() RETURNS timestamptz LANGUAGE plpgsql AS
  $$BEGIN RAISE EXCEPTION 'planted clock_timestamp() called'; END$$;
CREATE FUNCTION evil.nextval(regclass) RETURNS bigint LANGUAGE plpgsql AS
  $$BEGIN RAISE EXCEPTION 'planted nextval() called'; END$$;
CREATE FUNCTION evil.nextval(text) RETURNS bigint LANGUAGE plpgsql AS
  $$BEGIN RAISE EXCEPTION 'planted nextval(text) called'; END$$;
CREATE TABLE evil.revision (id text);
CREATE TABLE evil.applied (revision text);
SET search_path = evil, pg_catalog, public;
-- the planted operator is really what an unqualified query would use
SELECT 'a'::text = 'b'::text;
-- migr does not use it
SELECT revision, message FROM public.migr_upgrade('pv_sp');
SELECT revision, message FROM public.migr_upgrade('pv_sp');
SELECT revision, message FROM public.migr_upgrade('head');
\echo :SQLSTATE
SELECT revision, message FROM public.migr_heads();
SELECT revision, applied FROM public.migr_history();
SELECT revision FROM public.migr_current();
SELECT revision, code FROM public.migr_check();
SELECT revision, message FROM public.migr_show('pv2');
SELECT step, revision FROM public.migr_plan('heads');
RESET ROLE;
-- nor when the owner defines, upgrades, downgrades and stamps
SET search_path = evil, pg_catalog, public;
SELECT public.migr_define('pv6', '{pv_sp}', 'SELECT 1', 'SELECT 1', 'defined with a planted search_path');
SELECT public.migr_define('pv6', '{pv_sp}', 'SELECT 1', 'SELECT 1', 'defined with a planted search_path');
SELECT public.migr_merge(ARRAY['pv4', 'pv6'], 'merge', 'pv7');
SELECT revision FROM public.migr_upgrade('pv6');
SELECT revision FROM public.migr_downgrade('pv5');
SELECT revision, action FROM public.migr_stamp('pv6');
SELECT revision, action FROM public.migr_stamp('pv5');
SELECT public.migr_load(E'-- migr:revision pv8\n-- migr:down_revision pv7\n-- migr:upgrade\nSELECT 1;\n');
RESET search_path;
SELECT revision FROM migr_current();

-- clean up
SELECT revision FROM migr_downgrade('base');
SET client_min_messages = warning;
DROP SCHEMA evil CASCADE;
DROP SCHEMA app CASCADE;
RESET client_min_messages;
REVOKE EXECUTE ON FUNCTION migr_upgrade(text) FROM migr_app;
DROP EXTENSION migr;

-- default privileges of the role creating the extension reach no table of
-- migr's: the install script takes them back
ALTER DEFAULT PRIVILEGES GRANT ALL ON TABLES TO migr_app;
ALTER DEFAULT PRIVILEGES GRANT ALL ON SEQUENCES TO migr_app;
CREATE EXTENSION migr;
SELECT count(*) AS granted_to_app
  FROM pg_class c, LATERAL aclexplode(c.relacl) a
 WHERE c.relnamespace = 'migr'::regnamespace
   AND a.grantee = 'migr_app'::regrole;
ALTER DEFAULT PRIVILEGES REVOKE ALL ON TABLES FROM migr_app;
ALTER DEFAULT PRIVILEGES REVOKE ALL ON SEQUENCES FROM migr_app;
DROP ROLE migr_app;

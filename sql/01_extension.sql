--
-- The install script: what CREATE EXTENSION migr makes, and that it never
-- adopts a schema "migr" somebody else created.
--

-- the functions live in the extension's schema (public), the tables in migr
SELECT e.extname, n.nspname AS extschema, e.extrelocatable
  FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
 WHERE e.extname = 'migr';

SELECT p.oid::regprocedure AS function, p.pronamespace::regnamespace AS schema,
       p.prosecdef AS security_definer, p.provolatile
  FROM pg_proc p
 WHERE p.proname LIKE 'migr\_%'
 ORDER BY p.proname;

SELECT c.relname, c.relkind
  FROM pg_class c
 WHERE c.relnamespace = 'migr'::regnamespace
 ORDER BY c.relname;

-- every migr function has a comment
SELECT p.proname
  FROM pg_proc p
 WHERE p.proname LIKE 'migr\_%' AND obj_description(p.oid, 'pg_proc') IS NULL;

-- functions that change state are not granted to PUBLIC; the others are
SELECT p.proname,
       has_function_privilege('public', p.oid, 'EXECUTE') AS public_execute
  FROM pg_proc p
 WHERE p.proname LIKE 'migr\_%'
 ORDER BY p.proname;

-- migr's tables: anyone may look (except at the internal state row), nobody
-- but the owner may write
SELECT c.relname,
       has_table_privilege('public', c.oid, 'SELECT') AS sel,
       has_table_privilege('public', c.oid, 'INSERT') AS ins,
       has_table_privilege('public', c.oid, 'UPDATE') AS upd,
       has_table_privilege('public', c.oid, 'DELETE') AS del,
       has_table_privilege('public', c.oid, 'TRUNCATE') AS trunc
  FROM pg_class c
 WHERE c.relnamespace = 'migr'::regnamespace AND c.relkind = 'r'
 ORDER BY c.relname;
SELECT c.relname, has_sequence_privilege('public', c.oid, 'USAGE') AS usage
  FROM pg_class c
 WHERE c.relnamespace = 'migr'::regnamespace AND c.relkind = 'S'
 ORDER BY c.relname;

-- the tables are dumped with the extension
SELECT unnest(extconfig)::regclass AS dumped
  FROM pg_extension WHERE extname = 'migr'
 ORDER BY 1::text;

-- a fresh install is empty, with one state row
SELECT count(*) FROM migr.revision;
SELECT count(*) FROM migr.applied;
SELECT count(*) FROM migr.log;
SELECT one, generation FROM migr.state;
SELECT * FROM migr_heads();
SELECT * FROM migr_current();
SELECT * FROM migr_branches();
SELECT * FROM migr_history();
SELECT * FROM migr_check();
SELECT * FROM migr_upgrade('head');
SELECT * FROM migr_upgrade('heads');

-- a pre-existing schema "migr" is never adopted
DROP EXTENSION migr;
CREATE SCHEMA migr;
CREATE TABLE migr.revision (id text PRIMARY KEY);
CREATE EXTENSION migr;
-- nothing of the failed CREATE EXTENSION is left behind
SELECT count(*) FROM pg_extension WHERE extname = 'migr';
SELECT count(*) FROM pg_proc WHERE proname LIKE 'migr\_%';
SELECT c.relname FROM pg_class c
 WHERE c.relnamespace = 'migr'::regnamespace ORDER BY 1;
-- the same with an empty schema
DROP TABLE migr.revision;
CREATE EXTENSION migr;
SELECT count(*) FROM pg_extension WHERE extname = 'migr';
DROP SCHEMA migr;

-- functions called with the extension gone fail cleanly (they are gone too)
SELECT * FROM migr_heads();

-- drop and create again in one session: migr works with the new tables
CREATE EXTENSION migr;
SELECT migr_define('ext1', NULL, 'CREATE TABLE ext_t1 (a int)', 'DROP TABLE ext_t1');
SELECT revision, message FROM migr_upgrade('head');
SELECT revision FROM migr_current();
DROP EXTENSION migr;
CREATE EXTENSION migr;
-- the new install does not know revision ext1
SELECT count(*) FROM migr.revision;
SELECT migr_define('ext1', NULL, 'CREATE TABLE ext_t2 (a int)', 'DROP TABLE ext_t2');
SELECT revision, message FROM migr_upgrade('head');
SELECT to_regclass('ext_t1') IS NOT NULL AS t1, to_regclass('ext_t2') IS NOT NULL AS t2;
SELECT revision FROM migr_downgrade('base');

-- leave a fresh extension for the next tests
DROP TABLE ext_t1;
DROP EXTENSION migr;
CREATE EXTENSION migr;
SELECT count(*) FROM migr.revision;

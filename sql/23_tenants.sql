--
-- Tenants: the tenant argument of the moving and looking functions, and
-- its errors (README, "Tenants and fleets").  Rollouts by background
-- workers are tested in test/t/040_tenants.pl.
--
SET client_min_messages = warning;
DROP EXTENSION migr;
CREATE EXTENSION migr;
-- a tenant name that needs quoting, and a plain one
CREATE SCHEMA "Big Co";
CREATE SCHEMA acme;
CREATE TABLE public.shared_ref (id int PRIMARY KEY);
RESET client_min_messages;

-- shared revisions on one branch, per-tenant ones on another
SELECT migr_define('s1', NULL, 'CREATE TABLE public.settings (k text)',
                   'DROP TABLE public.settings', branch_labels => '{shared}');
SELECT migr_define('t1', NULL,
  'CREATE TABLE item (id int PRIMARY KEY, ref int REFERENCES shared_ref)',
  'DROP TABLE item', branch_labels => '{tenant}');
SELECT migr_define('t2', '{t1}',
  $$CREATE INDEX CONCURRENTLY item_ref_idx ON item (ref);
    ALTER TABLE item ADD COLUMN note text$$,
  'DROP INDEX item_ref_idx; ALTER TABLE item DROP COLUMN note');

-- what a tenant's upgrade would run, and where
SELECT * FROM migr_plan('tenant@head', 'upgrade', tenant => 'Big Co');

-- the shared set and each tenant's are apart
SELECT revision FROM migr_upgrade('shared@head');
SELECT revision FROM migr_upgrade('tenant@head', tenant => 'Big Co');
SELECT revision FROM migr_current();
SELECT revision FROM migr_current(tenant => 'Big Co') ORDER BY revision;
SELECT revision FROM migr_current(tenant => 'acme');
SELECT revision, applied FROM migr_history(NULL, tenant => 'Big Co');
SELECT revision, applied FROM migr_history('t1:', tenant => 'acme');
SELECT count(*) FROM migr.applied;

-- the scripts ran in the tenant's schema (the index in line: its table is
-- new in this transaction), with the shared schema still reachable
SELECT c.relname, c.relnamespace::regnamespace AS schema
  FROM pg_class c
 WHERE c.relname IN ('item', 'item_ref_idx', 'settings')
 ORDER BY 1;
SELECT current_setting('search_path');

-- nothing to do: no rows
SELECT revision FROM migr_upgrade('tenant@head', tenant => 'Big Co');

-- migr_tenants(): pending toward each tenant's latest target
SELECT tenant, current, pending, state, error FROM migr_tenants();

-- a tenant moves alone
SELECT revision FROM migr_upgrade('t1', tenant => 'acme');
SELECT * FROM migr_stamp('t2', tenant => 'acme');
SELECT revision FROM migr_downgrade('t1', tenant => 'Big Co');
SELECT attname FROM pg_attribute
 WHERE attrelid = '"Big Co".item'::regclass AND attnum > 0 AND NOT attisdropped
 ORDER BY attnum;
SELECT tenant, current, pending, state FROM migr_tenants();
SELECT tenant, action, revision, target, outcome FROM migr.log
 WHERE tenant IS NOT NULL ORDER BY id;

-- a revision a tenant applied is immutable, as one the shared set applied
SELECT migr_define('t1', NULL, 'CREATE TABLE item (id bigint PRIMARY KEY)',
                   'DROP TABLE item', branch_labels => '{tenant}');
\echo :SQLSTATE

-- a failed tenant upgrade leaves nothing behind
SELECT migr_define('t3', '{t2}', 'ALTER TABLE item ADD COLUMN broken nosuchtype',
                   'ALTER TABLE item DROP COLUMN broken');
SELECT revision FROM migr_upgrade('tenant@head', tenant => 'acme');
SELECT tenant, current, state FROM migr_tenants() WHERE tenant = 'acme';

-- errors: the tenant must be an existing schema, not a system one
\set VERBOSITY default
SELECT * FROM migr_upgrade('head', tenant => 'nosuch');
\echo :SQLSTATE
SELECT * FROM migr_current(tenant => 'ACME');
\echo :SQLSTATE
SELECT * FROM migr_upgrade('head', tenant => '');
\echo :SQLSTATE
SELECT * FROM migr_upgrade('head', tenant => repeat('x', 64));
\echo :SQLSTATE
SELECT * FROM migr_stamp('base', tenant => 'pg_catalog');
\echo :SQLSTATE
SELECT * FROM migr_plan('head', 'upgrade', tenant => 'migr');
\echo :SQLSTATE
SELECT * FROM migr_history(NULL, tenant => 'information_schema');
\echo :SQLSTATE
-- a downgrade of a tenant to what it has not applied
SELECT * FROM migr_downgrade('t2', tenant => 'Big Co');
\echo :SQLSTATE

-- migr_upgrade_tenants(): its arguments are checked before anything starts
SELECT migr_upgrade_tenants('tenant@head', ARRAY['nosuch']);
\echo :SQLSTATE
SELECT migr_upgrade_tenants('tenant@head', ARRAY['acme', NULL]);
\echo :SQLSTATE
SELECT migr_upgrade_tenants('tenant@head', NULL, 0);
\echo :SQLSTATE
SELECT migr_upgrade_tenants('tenant@head', NULL, NULL);
\echo :SQLSTATE
SELECT migr_upgrade_tenants('base');
\echo :SQLSTATE
SELECT migr_upgrade_tenants('+1');
\echo :SQLSTATE
SELECT migr_upgrade_tenants('nosuchrev');
\echo :SQLSTATE
-- with no tenant to upgrade, a rollout is done at once
SELECT migr_upgrade_tenants('t1', '{}') > 0 AS started;
SELECT state, pids, finished_at IS NOT NULL AS finished FROM migr.rollout;

-- the tenant forms are overloads: the 1.0 functions are there as they were
SELECT p.oid::regprocedure AS function, pg_get_function_arguments(p.oid) AS arguments
  FROM pg_proc p
 WHERE p.proname IN ('migr_upgrade', 'migr_downgrade', 'migr_stamp',
                     'migr_current', 'migr_history', 'migr_plan')
 ORDER BY p.oid::regprocedure::text;
-- each call form resolves to one of them: without tenant the 1.0 one
-- (the 1.0 function with its default 'head': ambiguous here, two heads)
SELECT count(*) FROM migr_upgrade();
SELECT count(*) FROM migr_upgrade('shared@head');
SELECT count(*) FROM migr_upgrade('t2', 'acme');
SELECT count(*) FROM migr_upgrade('t2', tenant => 'acme');
SELECT count(*) FROM migr_upgrade(target => 'shared@head', tenant => NULL);
SELECT string_agg(revision, ',') FROM migr_current();
SELECT string_agg(revision, ',') FROM migr_current('acme');
SELECT string_agg(revision, ',') FROM migr_current(tenant => 'acme');
SELECT string_agg(revision, ',') FROM migr_current(NULL);
SELECT string_agg(revision || ':' || applied, ',') FROM migr_history();
SELECT string_agg(revision || ':' || applied, ',') FROM migr_history('t1:');
SELECT string_agg(revision || ':' || applied, ',') FROM migr_history(range => 't1:');
SELECT string_agg(revision || ':' || applied, ',') FROM migr_history('t1:', 'acme');
SELECT count(*) FROM migr_plan('shared@head');
SELECT count(*) FROM migr_plan('base', 'downgrade', tenant => 'acme');
-- the tenant form has no defaults: what comes before tenant is written out
SELECT * FROM migr_upgrade(tenant => 'acme');
\echo :SQLSTATE
SELECT * FROM migr_history(tenant => 'acme');
\echo :SQLSTATE
SELECT * FROM migr_plan('head', tenant => 'acme');
\echo :SQLSTATE
SELECT * FROM migr_plan('head', NULL, tenant => 'acme');
\echo :SQLSTATE

-- what a role may do: look, but not move a tenant without EXECUTE, and
-- EXECUTE on migr_upgrade(text) is not EXECUTE on migr_upgrade(text, text)
CREATE ROLE migr_tenant_reader;
GRANT EXECUTE ON FUNCTION migr_upgrade(text) TO migr_tenant_reader;
SELECT f, has_function_privilege('public', f, 'EXECUTE') AS public,
       has_function_privilege('migr_tenant_reader', f, 'EXECUTE') AS reader
  FROM unnest(ARRAY['migr_upgrade(text)', 'migr_upgrade(text, text)',
                    'migr_downgrade(text, text)', 'migr_stamp(text, text)',
                    'migr_current(text)', 'migr_history(text, text)',
                    'migr_plan(text, text, text)']) f;
SET ROLE migr_tenant_reader;
SELECT count(*) FROM migr_tenants();
SELECT string_agg(revision, ',') FROM migr_current(tenant => 'acme');
SELECT count(*) FROM migr_upgrade('shared@head');
SELECT * FROM migr_upgrade('t1', tenant => 'acme');
\echo :SQLSTATE
SELECT migr_upgrade_tenants('t1');
\echo :SQLSTATE
RESET ROLE;
-- granted separately, the tenant form is all it needs
GRANT EXECUTE ON FUNCTION migr_upgrade(text, text) TO migr_tenant_reader;
SET ROLE migr_tenant_reader;
SELECT count(*) FROM migr_upgrade('t2', tenant => 'acme');
RESET ROLE;
REVOKE ALL ON FUNCTION migr_upgrade(text), migr_upgrade(text, text) FROM migr_tenant_reader;
DROP ROLE migr_tenant_reader;

SET client_min_messages = warning;
DROP SCHEMA "Big Co", acme CASCADE;
DROP TABLE public.settings, public.shared_ref;
DROP EXTENSION migr;
CREATE EXTENSION migr;
RESET client_min_messages;

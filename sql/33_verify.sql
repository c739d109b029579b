--
-- migr_verify(): the stairway test (upgrade, downgrade, upgrade again, each
-- revision toward the target, schemas compared), always rolled back.
-- Everything lives in schema v33, the only schema described (migr.schemas).
--
-- a clean slate, whatever the tests before left applied
DROP EXTENSION migr;
CREATE EXTENSION migr SCHEMA public;
SET migr.lint = 'off';
SET migr.data_operations = 'allow';
SET migr.schemas = 'v33';
CREATE SCHEMA v33;
SET search_path = v33, public;
SET client_min_messages = warning;
DROP ROLE IF EXISTS regress_v33;
RESET client_min_messages;
CREATE ROLE regress_v33;
-- the owner's name is the cluster's: shown as OWNER
CREATE FUNCTION pg_temp.verify(target text DEFAULT 'heads')
RETURNS TABLE (revision text, step text, ok boolean, detail text)
LANGUAGE sql AS $$
    SELECT v.revision, v.step, v.ok, replace(v.detail, current_user, 'OWNER')
      FROM public.migr_verify(target) v
$$;

-- downgrades that forget an index, an enum type, a sequence, a grant, a
-- comment; one correct; one that cannot run
SELECT migr_define('f0', NULL, 'CREATE TABLE v33.t (a int, b int)', 'DROP TABLE v33.t');
SELECT migr_define('f1', '{f0}', 'CREATE INDEX t_a_idx ON v33.t (a)', 'SELECT 1');
SELECT migr_define('f2', '{f1}', 'CREATE TYPE v33.mood AS ENUM (''sad'', ''ok'')', 'SELECT 1');
SELECT migr_define('f3', '{f2}', 'CREATE SEQUENCE v33.s', 'SELECT 1');
SELECT migr_define('f4', '{f3}', 'GRANT SELECT ON v33.t TO regress_v33', 'SELECT 1');
SELECT migr_define('f5', '{f4}', 'COMMENT ON COLUMN v33.t.b IS ''the b''', 'SELECT 1');
SELECT migr_define('f6', '{f5}', 'CREATE VIEW v33.tv AS SELECT a FROM v33.t', 'DROP VIEW v33.tv');
SELECT migr_define('f7', '{f6}', 'CREATE TABLE v33.u (x int)', 'DROP TABLE v33.nonexistent');
SELECT * FROM pg_temp.verify();
-- toward a revision: only what an upgrade to it applies
SELECT * FROM pg_temp.verify('f2');

-- a downgrade that removes too much: what it removed is named
SELECT migr_define('f8', '{f7}', 'ALTER TABLE v33.u ADD COLUMN y int', 'DROP TABLE v33.u');
SELECT * FROM pg_temp.verify('f8') WHERE revision = 'f8';

-- an upgrade that fails stops the stairway: what follows cannot be reached
SELECT migr_define('f9', '{f8}', 'ALTER TABLE v33.nonexistent ADD COLUMN z int', 'SELECT 1');
SELECT migr_define('f10', '{f9}', 'SELECT 1', 'SELECT 1');
SELECT migr_define('f11', '{f10}', 'SELECT 1', 'SELECT 1');
SELECT * FROM pg_temp.verify() WHERE revision IN ('f8', 'f9', 'f10', 'f11');

-- nothing persists: not the schema, the applied set, the log, the recorded
-- schemas, the jobs, the lock; here from a state where f0..f3 are applied
SELECT revision FROM migr_upgrade('f3');
CREATE TEMP TABLE before AS
SELECT migr_fingerprint() AS fingerprint,
       (SELECT array_agg(revision ORDER BY revision) FROM migr_current()) AS current,
       (SELECT array_agg(revision ORDER BY revision) FROM migr.applied) AS applied,
       (SELECT count(*) FROM migr.log) AS log_rows,
       (SELECT max(id) FROM migr.log) AS log_max,
       (SELECT count(*) FROM migr.schema_snapshot) AS snapshots,
       (SELECT count(*) FROM migr.log WHERE schema_fingerprint IS NOT NULL) AS recorded,
       (SELECT md5(string_agg(l::text, ',' ORDER BY l.id)) FROM migr.log l) AS log_md5,
       (SELECT md5(string_agg(s::text, ',' ORDER BY s.fingerprint)) FROM migr.schema_snapshot s) AS snapshot_md5,
       (SELECT md5(string_agg(s::text, ',')) FROM migr.state s) AS state_md5;
SELECT current, log_rows > 0 AS logged, snapshots > 0 AS recorded FROM before;
BEGIN;
SELECT count(*) AS steps, count(*) FILTER (WHERE NOT ok) AS failures FROM migr_verify();
-- the migr lock went with the verify's subtransaction
SELECT count(*) AS advisory_locks FROM pg_locks
 WHERE locktype = 'advisory' AND pid = pg_backend_pid();
-- and the caller's transaction goes on
SELECT count(*) AS rows_in_t FROM v33.t;
COMMIT;
SELECT b.fingerprint = migr_fingerprint() AS same_schema,
       b.current = (SELECT array_agg(revision ORDER BY revision) FROM migr_current()) AS same_current,
       b.applied = (SELECT array_agg(revision ORDER BY revision) FROM migr.applied) AS same_applied,
       b.log_rows = (SELECT count(*) FROM migr.log) AS same_log_rows,
       b.log_max = (SELECT max(id) FROM migr.log) AS same_last_log_row,
       b.snapshots = (SELECT count(*) FROM migr.schema_snapshot) AS same_snapshots,
       b.recorded = (SELECT count(*) FROM migr.log WHERE schema_fingerprint IS NOT NULL) AS same_recorded,
       b.log_md5 = (SELECT md5(string_agg(l::text, ',' ORDER BY l.id)) FROM migr.log l) AS same_log,
       b.snapshot_md5 = (SELECT md5(string_agg(s::text, ',' ORDER BY s.fingerprint)) FROM migr.schema_snapshot s) AS same_snapshots_text,
       b.state_md5 = (SELECT md5(string_agg(s::text, ',')) FROM migr.state s) AS same_state,
       (SELECT count(*) FROM migr_jobs()) AS jobs,
       to_regclass('v33.u') IS NULL AS no_u,
       to_regtype('v33.mood') IS NOT NULL AS mood_from_f2
  FROM before b;
SELECT * FROM migr_drift();

-- nothing to verify below the current state
SELECT * FROM pg_temp.verify('f2');

-- clean slate
SELECT revision FROM migr_stamp('base');
DROP TABLE v33.t;
DROP TYPE v33.mood;
DROP SEQUENCE v33.s;
DROP TABLE before;
DROP EXTENSION migr;
CREATE EXTENSION migr SCHEMA public;

-- upgrading again does not give the same schema: the upgrade depends on
-- data its downgrade does not put back
CREATE TABLE v33.counter (n int);
INSERT INTO v33.counter VALUES (0);
SELECT migr_define('n1', NULL,
    $u$UPDATE v33.counter SET n = n + 1;
DO $$ BEGIN EXECUTE format('CREATE TABLE v33.t_%s (a int)', (SELECT n FROM v33.counter)); END $$;$u$,
    $d$DO $$ BEGIN EXECUTE format('DROP TABLE v33.t_%s', (SELECT n FROM v33.counter)); END $$;$d$,
    kind => 'data');
-- and one whose second upgrade fails
SELECT migr_define('n2', '{n1}', 'CREATE TABLE v33.once (a int)', 'ALTER TABLE v33.once RENAME TO gone');
SELECT * FROM pg_temp.verify();
SELECT n FROM v33.counter;

-- irreversible revisions are upgraded, not downgraded; deferred statements
-- (CREATE INDEX CONCURRENTLY, VACUUM) run in line, nothing is queued
SELECT revision, action FROM migr_stamp('base');
DROP EXTENSION migr;
CREATE EXTENSION migr SCHEMA public;
SELECT migr_define('i1', NULL, 'CREATE TABLE v33.big (a int)', 'DROP TABLE v33.big');
SELECT migr_define('i2', '{i1}', 'ALTER TABLE v33.big ADD COLUMN b int');
SELECT migr_define('i3', '{i2}', 'CREATE INDEX CONCURRENTLY big_b_idx ON v33.big (b); VACUUM v33.big',
                   'DROP INDEX CONCURRENTLY v33.big_b_idx');
SELECT revision FROM migr_upgrade('i1');
SELECT * FROM pg_temp.verify();
SELECT count(*) AS jobs FROM migr_jobs();
SELECT to_regclass('v33.big_b_idx') AS not_built;

-- migr.forward_only refuses downgrades, not verify: nothing it does stays
SET migr.forward_only = on;
SELECT count(*) AS steps, bool_and(ok) AS all_ok FROM migr_verify('i3');
RESET migr.forward_only;

-- a correct history of 50 revisions, one kind of object after another
SELECT revision, action FROM migr_stamp('base');
DROP TABLE v33.big;
DROP EXTENSION migr;
CREATE EXTENSION migr SCHEMA public;
SELECT count(migr_define('h' || i, CASE WHEN i > 1 THEN ARRAY['h' || (i - 1)] END,
    CASE i % 10
    WHEN 1 THEN format('CREATE TABLE v33.h%s (id int PRIMARY KEY, v text)', i)
    WHEN 2 THEN format('CREATE INDEX CONCURRENTLY h%s_v_idx ON v33.h%s (v)', i, i - 1)
    WHEN 3 THEN format('CREATE TYPE v33.e%s AS ENUM (''a'', ''b'')', i)
    WHEN 4 THEN format('CREATE SEQUENCE v33.s%s', i)
    WHEN 5 THEN format('GRANT SELECT ON v33.h%s TO regress_v33', i - 4)
    WHEN 6 THEN format('COMMENT ON TABLE v33.h%s IS ''table %s''', i - 5, i)
    WHEN 7 THEN format('CREATE VIEW v33.w%s AS SELECT id FROM v33.h%s', i, i - 6)
    WHEN 8 THEN format('CREATE FUNCTION v33.f%s() RETURNS int LANGUAGE sql AS ''SELECT %s''', i, i)
    WHEN 9 THEN format('ALTER TABLE v33.h%s ADD COLUMN c%s int NOT NULL DEFAULT 0', i - 8, i)
    ELSE format('ALTER TABLE v33.h%s ADD CONSTRAINT h%s_check CHECK (id > 0)', i - 9, i)
    END,
    CASE i % 10
    WHEN 1 THEN format('DROP TABLE v33.h%s', i)
    WHEN 2 THEN format('DROP INDEX CONCURRENTLY v33.h%s_v_idx', i)
    WHEN 3 THEN format('DROP TYPE v33.e%s', i)
    WHEN 4 THEN format('DROP SEQUENCE v33.s%s', i)
    WHEN 5 THEN format('REVOKE SELECT ON v33.h%s FROM regress_v33', i - 4)
    WHEN 6 THEN format('COMMENT ON TABLE v33.h%s IS NULL', i - 5)
    WHEN 7 THEN format('DROP VIEW v33.w%s', i)
    WHEN 8 THEN format('DROP FUNCTION v33.f%s()', i)
    WHEN 9 THEN format('ALTER TABLE v33.h%s DROP COLUMN c%s', i - 8, i)
    ELSE format('ALTER TABLE v33.h%s DROP CONSTRAINT h%s_check', i - 9, i)
    END)) AS defined
  FROM generate_series(1, 50) AS i;
SELECT count(*) AS steps, count(DISTINCT revision) AS revisions,
       count(*) FILTER (WHERE NOT ok) AS failures
  FROM migr_verify();
SELECT * FROM migr_current();
SELECT count(*) AS objects FROM pg_class WHERE relnamespace = 'v33'::regnamespace;

-- bad targets
SELECT * FROM migr_verify('nope');
SELECT * FROM migr_verify('base');
SELECT * FROM migr_verify('h1-1');
SELECT * FROM migr_verify(NULL);
SELECT * FROM migr_verify('h');

-- refused where nothing may be written, and from a migration script
BEGIN READ ONLY;
SELECT * FROM migr_verify();
ROLLBACK;
SELECT migr_define('h51', '{h50}', 'SELECT count(*) FROM public.migr_verify()', 'SELECT 1');
SELECT * FROM migr_upgrade('h51');

-- not granted to PUBLIC: it runs scripts and takes the migr lock
SELECT has_function_privilege('public', 'migr_verify(text)', 'EXECUTE') AS public_may;
SET ROLE regress_v33;
SELECT * FROM migr_verify();
RESET ROLE;

-- clean up
DROP EXTENSION migr;
CREATE EXTENSION migr SCHEMA public;
SET client_min_messages = warning;
DROP SCHEMA v33 CASCADE;
RESET client_min_messages;
DROP ROLE regress_v33;

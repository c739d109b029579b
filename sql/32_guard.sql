--
-- migr.guard (README, "The guard against manual DDL"): DDL on the managed
-- schemas outside migr's moves is refused under block (MG008) and recorded
-- in migr.log under log, for every object kind the schema model knows; a
-- revision doing the same passes; temporary objects, migr_archive_table and
-- DDL inside functions a migration calls pass; session_replication_role,
-- SET ROLE and the setting's privileges.
--
LOAD 'migr';
SET migr.lint = off;
SET client_min_messages = warning;
SET migr.guard = off;
DROP SCHEMA IF EXISTS guard_s, guard_x, guard_y, guard_k CASCADE;
DO $$ BEGIN
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'migr_guard_user') THEN
        DROP OWNED BY migr_guard_user;
        DROP ROLE migr_guard_user;
    END IF;
END $$;
RESET migr.guard;
RESET client_min_messages;
CREATE ROLE migr_guard_user NOLOGIN;
SHOW migr.guard;

-- the guard starts with the first revision: one of our own
SELECT migr_define('guard_root', NULL, '-- the guard test''s root');
SELECT revision FROM migr_upgrade('guard_root');

-- Runs a statement, and says whether it passed or which error stopped it.
-- A temporary function: temporary objects never count, even under block.
SET migr.guard = block;
CREATE FUNCTION pg_temp.try(stmt text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE stmt;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

-- The objects the alter and drop cases work on, made with the guard off.
CREATE FUNCTION pg_temp.fixtures() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    SET LOCAL migr.guard = off;
    SET LOCAL client_min_messages = error;
    DROP SCHEMA IF EXISTS guard_s, guard_x, guard_y, guard_k CASCADE;
    DROP EXTENSION IF EXISTS tsm_system_rows, tsm_system_time;
    DROP PUBLICATION IF EXISTS guard_pub1, guard_pub2;
    CREATE SCHEMA guard_s;
    CREATE SCHEMA guard_x;
    CREATE SCHEMA guard_y;
    CREATE TABLE guard_s.base (a int, b int, c int);
    CREATE TABLE guard_s.other (a int);
    CREATE TABLE guard_s.gone (a int);
    ALTER TABLE guard_s.base ADD CONSTRAINT chk1 CHECK (a > 0) NOT VALID;
    ALTER TABLE guard_s.base ADD CONSTRAINT chk2 CHECK (b > 0);
    CREATE INDEX base_a ON guard_s.base (a);
    CREATE INDEX base_b ON guard_s.base (b);
    CREATE SEQUENCE guard_s.seq1;
    CREATE VIEW guard_s.v1 AS SELECT a FROM guard_s.base;
    CREATE VIEW guard_s.v2 AS SELECT a FROM guard_s.base;
    CREATE MATERIALIZED VIEW guard_s.mv1 AS SELECT a FROM guard_s.base;
    CREATE FUNCTION guard_s.f1() RETURNS int LANGUAGE sql AS 'SELECT 1';
    CREATE PROCEDURE guard_s.p1() LANGUAGE sql AS 'SELECT 1';
    CREATE FUNCTION guard_s.trgf() RETURNS trigger LANGUAGE plpgsql
        AS 'BEGIN RETURN NEW; END';
    CREATE TRIGGER tg1 BEFORE INSERT ON guard_s.base
        FOR EACH ROW EXECUTE FUNCTION guard_s.trgf();
    CREATE RULE r1 AS ON INSERT TO guard_s.v1 DO INSTEAD NOTHING;
    CREATE TYPE guard_s.e1 AS ENUM ('a');
    CREATE TYPE guard_s.c1 AS (a int);
    CREATE TYPE guard_s.r1 AS RANGE (subtype = int4);
    CREATE DOMAIN guard_s.d1 AS int;
    CREATE COLLATION guard_s.co1 FROM "C";
    CREATE EXTENSION tsm_system_time SCHEMA guard_x;
    COMMENT ON TABLE guard_s.other IS 'other';
    GRANT SELECT ON guard_s.other TO migr_guard_user;
    ALTER DEFAULT PRIVILEGES IN SCHEMA guard_x GRANT SELECT ON TABLES TO migr_guard_user;
    CREATE POLICY pol1 ON guard_s.base USING (true);
    CREATE PUBLICATION guard_pub1 FOR TABLE guard_s.other;
    CREATE STATISTICS guard_s.st1 ON a, b FROM guard_s.base;
END $$;

-- One create, alter and drop of every kind of the schema model.
CREATE TEMP TABLE guard_case (n int, kind text, verb text, stmt text);
INSERT INTO guard_case VALUES
 (1, 'schema', 'create', 'CREATE SCHEMA guard_k'),
 (2, 'schema', 'alter', 'ALTER SCHEMA guard_y OWNER TO migr_guard_user'),
 (3, 'schema', 'drop', 'DROP SCHEMA guard_y'),
 (4, 'table', 'create', 'CREATE TABLE guard_s.k_t (a int)'),
 (5, 'table', 'alter', 'ALTER TABLE guard_s.other SET (fillfactor = 90)'),
 (6, 'table', 'drop', 'DROP TABLE guard_s.gone'),
 (7, 'column', 'create', 'ALTER TABLE guard_s.base ADD COLUMN k_c int'),
 (8, 'column', 'alter', 'ALTER TABLE guard_s.base ALTER COLUMN b TYPE bigint'),
 (9, 'column', 'drop', 'ALTER TABLE guard_s.base DROP COLUMN c'),
 (10, 'constraint', 'create', 'ALTER TABLE guard_s.base ADD CONSTRAINT k_chk CHECK (a < 100)'),
 (11, 'constraint', 'alter', 'ALTER TABLE guard_s.base VALIDATE CONSTRAINT chk1'),
 (12, 'constraint', 'drop', 'ALTER TABLE guard_s.base DROP CONSTRAINT chk2'),
 (13, 'index', 'create', 'CREATE INDEX k_i ON guard_s.other (a)'),
 (14, 'index', 'alter', 'ALTER INDEX guard_s.base_a SET (fillfactor = 80)'),
 (15, 'index', 'drop', 'DROP INDEX guard_s.base_b'),
 (16, 'sequence', 'create', 'CREATE SEQUENCE guard_s.k_seq'),
 (17, 'sequence', 'alter', 'ALTER SEQUENCE guard_s.seq1 INCREMENT 2'),
 (18, 'sequence', 'drop', 'DROP SEQUENCE guard_s.seq1'),
 (19, 'view', 'create', 'CREATE VIEW guard_s.k_v AS SELECT 1 AS one'),
 (20, 'view', 'alter', 'ALTER VIEW guard_s.v1 ALTER COLUMN a SET DEFAULT 1'),
 (21, 'view', 'drop', 'DROP VIEW guard_s.v2'),
 (22, 'matview', 'create', 'CREATE MATERIALIZED VIEW guard_s.k_mv AS SELECT 1 AS one'),
 (23, 'matview', 'alter', 'ALTER MATERIALIZED VIEW guard_s.mv1 SET (fillfactor = 70)'),
 (24, 'matview', 'drop', 'DROP MATERIALIZED VIEW guard_s.mv1'),
 (25, 'function', 'create', 'CREATE FUNCTION guard_s.k_f() RETURNS int LANGUAGE sql AS ''SELECT 2'''),
 (26, 'function', 'alter', 'ALTER FUNCTION guard_s.f1() IMMUTABLE'),
 (27, 'function', 'drop', 'DROP FUNCTION guard_s.f1()'),
 (28, 'procedure', 'create', 'CREATE PROCEDURE guard_s.k_p() LANGUAGE sql AS ''SELECT 2'''),
 (29, 'procedure', 'alter', 'ALTER PROCEDURE guard_s.p1() SET work_mem = ''1MB'''),
 (30, 'procedure', 'drop', 'DROP PROCEDURE guard_s.p1()'),
 (31, 'trigger', 'create', 'CREATE TRIGGER k_tg BEFORE UPDATE ON guard_s.base FOR EACH ROW EXECUTE FUNCTION guard_s.trgf()'),
 (32, 'trigger', 'alter', 'ALTER TRIGGER tg1 ON guard_s.base DEPENDS ON EXTENSION tsm_system_time'),
 (33, 'trigger', 'drop', 'DROP TRIGGER tg1 ON guard_s.base'),
 (34, 'rule', 'create', 'CREATE RULE k_r AS ON UPDATE TO guard_s.v1 DO INSTEAD NOTHING'),
 (35, 'rule', 'alter', 'CREATE OR REPLACE RULE r1 AS ON INSERT TO guard_s.v1 DO ALSO NOTHING'),
 (36, 'rule', 'drop', 'DROP RULE r1 ON guard_s.v1'),
 (37, 'enum', 'create', 'CREATE TYPE guard_s.k_e AS ENUM (''x'')'),
 (38, 'enum', 'alter', 'ALTER TYPE guard_s.e1 ADD VALUE ''b'''),
 (39, 'enum', 'drop', 'DROP TYPE guard_s.e1'),
 (40, 'composite', 'create', 'CREATE TYPE guard_s.k_c AS (x int)'),
 (41, 'composite', 'alter', 'ALTER TYPE guard_s.c1 ADD ATTRIBUTE b int'),
 (42, 'composite', 'drop', 'DROP TYPE guard_s.c1'),
 (43, 'range', 'create', 'CREATE TYPE guard_s.k_r AS RANGE (subtype = int8)'),
 (44, 'range', 'alter', 'ALTER TYPE guard_s.r1 OWNER TO migr_guard_user'),
 (45, 'range', 'drop', 'DROP TYPE guard_s.r1'),
 (46, 'domain', 'create', 'CREATE DOMAIN guard_s.k_d AS text'),
 (47, 'domain', 'alter', 'ALTER DOMAIN guard_s.d1 ADD CONSTRAINT pos CHECK (VALUE > 0)'),
 (48, 'domain', 'drop', 'DROP DOMAIN guard_s.d1'),
 (49, 'collation', 'create', 'CREATE COLLATION guard_s.k_co FROM "POSIX"'),
 (50, 'collation', 'alter', 'ALTER COLLATION guard_s.co1 OWNER TO migr_guard_user'),
 (51, 'collation', 'drop', 'DROP COLLATION guard_s.co1'),
 (52, 'extension', 'create', 'CREATE EXTENSION tsm_system_rows SCHEMA guard_s'),
 (53, 'extension', 'alter', 'ALTER EXTENSION tsm_system_time SET SCHEMA guard_s'),
 (54, 'extension', 'drop', 'DROP EXTENSION tsm_system_time CASCADE'),
 (55, 'comment', 'create', 'COMMENT ON TABLE guard_s.base IS ''base'''),
 (56, 'comment', 'alter', 'COMMENT ON TABLE guard_s.other IS ''changed'''),
 (57, 'comment', 'drop', 'COMMENT ON TABLE guard_s.other IS NULL'),
 (58, 'grant', 'create', 'GRANT SELECT ON guard_s.base TO migr_guard_user'),
 (59, 'grant', 'alter', 'GRANT EXECUTE ON FUNCTION guard_s.trgf() TO migr_guard_user'),
 (60, 'grant', 'drop', 'REVOKE SELECT ON guard_s.other FROM migr_guard_user'),
 (61, 'default privileges', 'create', 'ALTER DEFAULT PRIVILEGES IN SCHEMA guard_s GRANT SELECT ON SEQUENCES TO migr_guard_user'),
 (62, 'default privileges', 'alter', 'ALTER DEFAULT PRIVILEGES GRANT USAGE ON TYPES TO migr_guard_user'),
 (63, 'default privileges', 'drop', 'ALTER DEFAULT PRIVILEGES IN SCHEMA guard_x REVOKE SELECT ON TABLES FROM migr_guard_user'),
 (64, 'policy', 'create', 'CREATE POLICY k_pol ON guard_s.base FOR SELECT USING (a > 0)'),
 (65, 'policy', 'alter', 'ALTER POLICY pol1 ON guard_s.base USING (false)'),
 (66, 'policy', 'drop', 'DROP POLICY pol1 ON guard_s.base'),
 (67, 'publication', 'create', 'CREATE PUBLICATION guard_pub2 FOR TABLE guard_s.base'),
 (68, 'publication', 'alter', 'ALTER PUBLICATION guard_pub1 ADD TABLE guard_s.base'),
 (69, 'publication', 'drop', 'DROP PUBLICATION guard_pub1'),
 (70, 'statistics', 'create', 'CREATE STATISTICS guard_s.k_st ON a, b FROM guard_s.base'),
 (71, 'statistics', 'alter', 'ALTER STATISTICS guard_s.st1 SET STATISTICS 10'),
 (72, 'statistics', 'drop', 'DROP STATISTICS guard_s.st1');

SELECT pg_temp.fixtures();

-- block: every case refused with MG008, nothing changed
SET client_min_messages = error;     -- wal_level and publications
SELECT n, kind, verb, pg_temp.try(stmt) AS result FROM guard_case ORDER BY n;
RESET client_min_messages;
SELECT count(*) AS objects_in_guard_s
  FROM pg_class WHERE relnamespace = 'guard_s'::regnamespace;
SELECT to_regnamespace('guard_k') IS NULL AS no_guard_k,
       (SELECT extnamespace::regnamespace FROM pg_extension
         WHERE extname = 'tsm_system_time') AS tsm_schema;

-- the error in full
CREATE TABLE guard_s.k_t (a int);
DROP TABLE guard_s.gone;
ALTER TABLE guard_s.base DROP COLUMN c;
GRANT SELECT ON guard_s.base TO migr_guard_user;

-- a revision doing the same passes the guard, still under block
SELECT migr_define('guard_kinds', '{guard_root}',
                   (SELECT string_agg(stmt, E';\n' ORDER BY n) FROM guard_case));
SET client_min_messages = error;
SELECT revision FROM migr_upgrade('guard_kinds');
RESET client_min_messages;
SELECT to_regclass('guard_s.k_t') IS NOT NULL AS created,
       to_regclass('guard_s.gone') IS NULL AS dropped,
       (SELECT extnamespace::regnamespace FROM pg_extension
         WHERE extname = 'tsm_system_rows') AS tsm_rows_schema;

-- log: every case runs, and each leaves one row naming its objects
SELECT pg_temp.fixtures();
SET migr.guard = log;
SELECT max(id) AS before_log FROM migr.log \gset
SET client_min_messages = error;
SELECT n, kind, verb, pg_temp.try(stmt) AS result FROM guard_case ORDER BY n;
RESET client_min_messages;
SELECT l.role, l.action, l.outcome, l.command_tag, l.objects
  FROM migr.log l
 WHERE l.id > :before_log
 ORDER BY l.id;
SELECT count(*) AS rows_per_case FROM migr.log WHERE id > :before_log;

-- a statement sent as such is recorded as sent
SELECT max(id) AS before_log FROM migr.log \gset
CREATE INDEX k_direct ON guard_s.base (a);
SELECT role, action, command_tag, objects, statement, revision, at IS NOT NULL AS has_time
  FROM migr.log WHERE id > :before_log;

-- temporary objects never count, under block either
SET migr.guard = block;
CREATE TEMP TABLE guard_tmp (a int PRIMARY KEY);
CREATE INDEX ON guard_tmp (a);
CREATE TEMP VIEW guard_tmp_v AS SELECT a FROM guard_tmp;
CREATE TEMP SEQUENCE guard_tmp_seq;
CREATE TRIGGER tmp_tg BEFORE INSERT ON guard_tmp
    FOR EACH ROW EXECUTE FUNCTION guard_s.trgf();
ALTER TABLE guard_tmp ADD COLUMN b int;
COMMENT ON TABLE guard_tmp IS 'temporary';
GRANT SELECT ON guard_tmp TO migr_guard_user;
DROP VIEW guard_tmp_v;
DROP TABLE guard_tmp;

-- nor objects outside the managed schemas (migr's own here)
COMMENT ON TABLE migr.log IS 'every define, upgrade, downgrade and stamp, with role, time and duration';

-- migr_archive_table() is migr's own DDL: it passes outside a migration
INSERT INTO guard_s.other VALUES (1), (2);
SELECT migr_archive_table('guard_s.other');
SELECT count(*) FROM guard_s.archive_other;

-- CONCURRENTLY statements are refused before they start: no invalid index
CREATE INDEX CONCURRENTLY k_cic ON guard_s.base (a);
DROP INDEX CONCURRENTLY guard_s.base_a;
SELECT count(*) AS invalid_indexes FROM pg_index
 WHERE NOT indisvalid AND indrelid = 'guard_s.base'::regclass;
SELECT to_regclass('guard_s.base_a') IS NOT NULL AS base_a_kept;

-- DDL inside a function: refused when called outside a migration, passes
-- when a migration calls it
SET migr.guard = off;
CREATE FUNCTION guard_s.make_table(name text) RETURNS void LANGUAGE plpgsql
    AS $$ BEGIN EXECUTE format('CREATE TABLE guard_s.%I (a int)', name); END $$;
SET migr.guard = block;
SELECT guard_s.make_table('by_hand');
SELECT migr_define('guard_fn', '{guard_kinds}', 'SELECT guard_s.make_table(''by_revision'')',
                   'DROP TABLE guard_s.by_revision');
SELECT revision FROM migr_upgrade('guard_fn');
SELECT to_regclass('guard_s.by_revision') IS NOT NULL AS made;
-- a downgrade is a move too
SELECT revision FROM migr_downgrade('guard_kinds');
SELECT to_regclass('guard_s.by_revision') IS NULL AS unmade;

-- session_replication_role = replica does not switch the guard off
SET session_replication_role = replica;
CREATE TABLE guard_s.replica (a int);
RESET session_replication_role;
SELECT evtname, evtenabled FROM pg_event_trigger
 WHERE evtname LIKE 'migr\_guard\_%' ORDER BY evtname;

-- a non-superuser can neither relax the guard nor get past it
SET migr.guard = off;
GRANT CREATE, USAGE ON SCHEMA guard_s TO migr_guard_user;
SET migr.guard = block;
SET ROLE migr_guard_user;
SET migr.guard = off;
SET migr.guard = log;
SELECT set_config('migr.guard', 'off', true);
SHOW migr.guard;
CREATE TABLE guard_s.by_user (a int);
RESET ROLE;

-- a superuser may relax it for the session
SET migr.guard = off;
SELECT max(id) AS before_log FROM migr.log \gset
CREATE TABLE guard_s.relaxed (a int);
DROP TABLE guard_s.relaxed;
SELECT count(*) AS logged_when_off FROM migr.log WHERE id > :before_log;
-- ALTER ROLE ... SET is the superuser's too
SET ROLE migr_guard_user;
ALTER ROLE migr_guard_user SET migr.guard = off;
RESET ROLE;

-- the event trigger functions are for event triggers only
SELECT migr_guard_ddl_end();

-- clean up (with the guard off: this is the test's own mess)
SET migr.guard = off;
SET client_min_messages = warning;
DROP SCHEMA IF EXISTS guard_s, guard_x, guard_y, guard_k CASCADE;
DROP EXTENSION IF EXISTS tsm_system_rows, tsm_system_time;
DROP PUBLICATION IF EXISTS guard_pub1, guard_pub2;
DROP OWNED BY migr_guard_user;
DROP ROLE migr_guard_user;
RESET client_min_messages;
RESET migr.guard;

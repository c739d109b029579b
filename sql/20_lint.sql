--
-- Lint (README, "Lint"): every rule with a positive and a negative case,
-- severity from the catalog's sizes, migr.lint, the "-- migr:allow"
-- directive, migr_lint() on scripts with comments, dollar quotes and strings
-- that look like SQL, and migr_check() on unapplied revisions.
-- Data operations are covered by 21_data_ops.
--
LOAD 'migr';
SET migr.data_operations = allow;

-- What the migrations find in the catalog: a big table (20000 rows), a tiny
-- one (2 rows) and an empty one.  ANALYZE makes the estimates exact.
CREATE TABLE lint_big (id int PRIMARY KEY, v text, n int, t varchar(10),
                       num numeric(8,2), ts timestamp(0));
INSERT INTO lint_big SELECT g, 'v' || g, g, 'x', g, '2020-01-01'
  FROM generate_series(1, 20000) g;
ALTER TABLE lint_big ADD CONSTRAINT lint_big_n_nn CHECK (n IS NOT NULL);
CREATE TABLE lint_tiny (id int PRIMARY KEY, v text, n int);
INSERT INTO lint_tiny VALUES (1, 'a', 1), (2, 'b', 2);
CREATE TABLE lint_empty (id int PRIMARY KEY, v text);
CREATE UNIQUE INDEX lint_big_v_key ON lint_big (v);
ANALYZE lint_big, lint_tiny, lint_empty;

-- the full shape of a finding
SELECT * FROM migr_lint('CREATE INDEX ON lint_big (n)');

--
-- not_null_without_default
--
SELECT statement, severity, code, message FROM migr_lint($$
ALTER TABLE lint_big ADD COLUMN a int NOT NULL;             -- fails: the table has rows
ALTER TABLE lint_big ADD COLUMN b int PRIMARY KEY;          -- PRIMARY KEY implies NOT NULL
ALTER TABLE lint_empty ADD COLUMN a int NOT NULL;           -- empty: info
$$);
-- negative: a default, a nullable column, a table the script creates
SELECT statement, severity, code FROM migr_lint($$
ALTER TABLE lint_big ADD COLUMN a int NOT NULL DEFAULT 0;
ALTER TABLE lint_big ADD COLUMN b int;
CREATE TABLE lint_new (id int);
ALTER TABLE lint_new ADD COLUMN a int NOT NULL;
$$);

--
-- index_not_concurrent: severity from the table's size
--
SELECT statement, severity, code, message FROM migr_lint($$
CREATE INDEX lint_big_n ON lint_big (n);
CREATE UNIQUE INDEX ON lint_big (n, v);
CREATE INDEX lint_tiny_n ON lint_tiny (n);
$$);
-- negative: CONCURRENTLY, a table created by the script, an unknown table
SELECT statement, severity, code FROM migr_lint($$
CREATE INDEX CONCURRENTLY lint_big_n ON lint_big (n);
CREATE TABLE lint_new (id int);
CREATE INDEX ON lint_new (id);
CREATE INDEX ON lint_nowhere (id);
$$);

--
-- constraint_under_lock
--
SELECT statement, severity, code, message FROM migr_lint($$
ALTER TABLE lint_big ADD CONSTRAINT lint_big_v_uq UNIQUE (v);
ALTER TABLE lint_big ADD COLUMN k int UNIQUE;
ALTER TABLE lint_tiny ADD CONSTRAINT lint_tiny_v_uq UNIQUE (v);
ALTER TABLE lint_big ADD CONSTRAINT lint_big_ex EXCLUDE (n WITH =);
$$);
-- negative: USING INDEX
SELECT statement, severity, code FROM migr_lint($$
ALTER TABLE lint_big ADD CONSTRAINT lint_big_v_uq UNIQUE USING INDEX lint_big_v_key;
$$);

--
-- constraint_not_valid
--
SELECT statement, severity, code, message FROM migr_lint($$
ALTER TABLE lint_big ADD CONSTRAINT lint_big_fk FOREIGN KEY (n) REFERENCES lint_big (id);
ALTER TABLE lint_big ADD CONSTRAINT lint_big_ck CHECK (n > 0);
ALTER TABLE lint_big ADD CONSTRAINT lint_big_ck2 CHECK (n < 0) NOT VALID;
ALTER TABLE lint_big VALIDATE CONSTRAINT lint_big_ck2;      -- same revision: no gain
ALTER DOMAIN lint_dom ADD CONSTRAINT c CHECK (VALUE > 0);
$$);
-- negative: NOT VALID, VALIDATE in a later revision, a domain constraint NOT VALID
CREATE DOMAIN lint_dom AS int;
SELECT statement, severity, code FROM migr_lint($$
ALTER TABLE lint_big ADD CONSTRAINT lint_big_fk FOREIGN KEY (n) REFERENCES lint_big (id) NOT VALID;
ALTER TABLE lint_big VALIDATE CONSTRAINT lint_big_n_nn;
ALTER DOMAIN lint_dom ADD CONSTRAINT c CHECK (VALUE > 0) NOT VALID;
$$);
-- positive on an existing domain
SELECT statement, severity, code FROM migr_lint($$
ALTER DOMAIN lint_dom ADD CONSTRAINT c CHECK (VALUE > 0);
$$);

--
-- column_type_change: a rewrite is a warning, a binary-compatible change info
--
SELECT statement, severity, code, message FROM migr_lint($$
ALTER TABLE lint_big ALTER COLUMN n TYPE bigint;
ALTER TABLE lint_big ALTER COLUMN t TYPE varchar(5);
ALTER TABLE lint_big ALTER COLUMN num TYPE numeric(8,3);
ALTER TABLE lint_big ALTER COLUMN v TYPE text USING v || '';
ALTER TABLE lint_big ALTER COLUMN v TYPE lint_unknown_type;
$$);
SELECT statement, severity, code, message FROM migr_lint($$
ALTER TABLE lint_big ALTER COLUMN t TYPE varchar(20);
ALTER TABLE lint_big ALTER COLUMN t TYPE text;
ALTER TABLE lint_big ALTER COLUMN num TYPE numeric(12,2);
ALTER TABLE lint_big ALTER COLUMN num TYPE numeric;
ALTER TABLE lint_big ALTER COLUMN ts TYPE timestamp(3);
$$);
-- negative: a table the script creates
SELECT statement, severity, code FROM migr_lint($$
CREATE TABLE lint_new (n int);
ALTER TABLE lint_new ALTER COLUMN n TYPE bigint;
$$);
-- a column the script added has the type it was given there: changing it
-- to the same type, or widening it, rewrites nothing (and the change is
-- remembered for the statements after it)
SELECT statement, severity, code, message FROM migr_lint($$
ALTER TABLE lint_big ADD COLUMN c varchar(18);
ALTER TABLE lint_big ALTER COLUMN c TYPE varchar(18);
ALTER TABLE lint_big ALTER COLUMN c TYPE varchar(40);
ALTER TABLE lint_big ALTER COLUMN c TYPE varchar(30);
ALTER TABLE lint_big ALTER COLUMN c TYPE text;
ALTER TABLE lint_big ADD COLUMN s serial, ALTER COLUMN n TYPE int;
ALTER TABLE lint_big ALTER COLUMN s TYPE int;
$$);
-- the server decides, and lint agrees, case by case: each change is run
-- (after its setup) on a table and rolled back, and the table's file
-- changing says it was rewritten
CREATE TABLE lint_rw (v text, t varchar(10), num numeric(8,2), n int,
                      ts timestamp(0), b bit varying(4), i interval);
INSERT INTO lint_rw VALUES ('1', 'x', 1, 1, '2020-01-01', '1', '1 day');
CREATE DOMAIN lint_rw_plain AS int;
CREATE DOMAIN lint_rw_checked AS int CHECK (VALUE > 0);
CREATE FUNCTION pg_temp.server_rewrites(setup text, stmt text)
RETURNS boolean LANGUAGE plpgsql AS $f$
DECLARE
    before oid;
BEGIN
    IF setup <> '' THEN
        EXECUTE setup;
    END IF;
    before := (SELECT relfilenode FROM pg_class WHERE oid = 'lint_rw'::regclass);
    EXECUTE stmt;
    RAISE EXCEPTION '%', before <> (SELECT relfilenode FROM pg_class WHERE oid = 'lint_rw'::regclass);
EXCEPTION WHEN raise_exception THEN
    RETURN SQLERRM::boolean;
END
$f$;
CREATE FUNCTION pg_temp.lint_rewrites(setup text, stmt text)
RETURNS boolean LANGUAGE sql AS $f$
    SELECT bool_or(message LIKE '% rewrites %')
      FROM migr_lint(concat_ws(E';\n', nullif(setup, ''), stmt))
     WHERE code = 'column_type_change'
       AND statement = CASE WHEN setup = '' THEN 1 ELSE 2 END
$f$;
CREATE TEMP TABLE lint_rw_cases (setup text, stmt text);
INSERT INTO lint_rw_cases VALUES
  ('', 'ALTER TABLE lint_rw ALTER COLUMN t TYPE varchar(10)'),
  ('', 'ALTER TABLE lint_rw ALTER COLUMN t TYPE varchar(20)'),
  ('', 'ALTER TABLE lint_rw ALTER COLUMN t TYPE varchar(5)'),
  ('', 'ALTER TABLE lint_rw ALTER COLUMN t TYPE varchar'),
  ('', 'ALTER TABLE lint_rw ALTER COLUMN t TYPE text'),
  ('', 'ALTER TABLE lint_rw ALTER COLUMN t TYPE char(10)'),
  ('', 'ALTER TABLE lint_rw ALTER COLUMN v TYPE varchar'),
  ('', 'ALTER TABLE lint_rw ALTER COLUMN v TYPE varchar(100)'),
  ('', 'ALTER TABLE lint_rw ALTER COLUMN v TYPE text USING v'),
  ('', 'ALTER TABLE lint_rw ALTER COLUMN v TYPE text USING v || '''''),
  ('', 'ALTER TABLE lint_rw ALTER COLUMN v TYPE text COLLATE "C"'),
  ('', 'ALTER TABLE lint_rw ALTER COLUMN num TYPE numeric(12,2)'),
  ('', 'ALTER TABLE lint_rw ALTER COLUMN num TYPE numeric(12,3)'),
  ('', 'ALTER TABLE lint_rw ALTER COLUMN num TYPE numeric(6,2)'),
  ('', 'ALTER TABLE lint_rw ALTER COLUMN num TYPE numeric'),
  ('', 'ALTER TABLE lint_rw ALTER COLUMN n TYPE int4'),
  ('', 'ALTER TABLE lint_rw ALTER COLUMN n TYPE bigint'),
  ('', 'ALTER TABLE lint_rw ALTER COLUMN n TYPE oid'),
  ('', 'ALTER TABLE lint_rw ALTER COLUMN n TYPE lint_rw_plain'),
  ('', 'ALTER TABLE lint_rw ALTER COLUMN n TYPE lint_rw_checked'),
  ('', 'ALTER TABLE lint_rw ALTER COLUMN ts TYPE timestamp(3)'),
  ('', 'ALTER TABLE lint_rw ALTER COLUMN ts TYPE timestamp'),
  ('', 'ALTER TABLE lint_rw ALTER COLUMN ts TYPE timestamptz'),
  ('', 'ALTER TABLE lint_rw ALTER COLUMN b TYPE bit varying(8)'),
  ('', 'ALTER TABLE lint_rw ALTER COLUMN b TYPE bit varying(2)'),
  ('', 'ALTER TABLE lint_rw ALTER COLUMN i TYPE interval day'),
  ('ALTER TABLE lint_rw ADD COLUMN c varchar(18)', 'ALTER TABLE lint_rw ALTER COLUMN c TYPE varchar(18)'),
  ('ALTER TABLE lint_rw ADD COLUMN c varchar(18)', 'ALTER TABLE lint_rw ALTER COLUMN c TYPE varchar(40)'),
  ('ALTER TABLE lint_rw ADD COLUMN c varchar(18)', 'ALTER TABLE lint_rw ALTER COLUMN c TYPE varchar(10)'),
  ('ALTER TABLE lint_rw ADD COLUMN c varchar(18)', 'ALTER TABLE lint_rw ALTER COLUMN c TYPE int USING c::int'),
  ('ALTER TABLE lint_rw ADD COLUMN c numeric(5,1)', 'ALTER TABLE lint_rw ALTER COLUMN c TYPE numeric(9,1)'),
  ('ALTER TABLE lint_rw ALTER COLUMN t TYPE varchar(40)', 'ALTER TABLE lint_rw ALTER COLUMN t TYPE varchar(30)'),
  ('ALTER TABLE lint_rw ALTER COLUMN t TYPE varchar(40)', 'ALTER TABLE lint_rw ALTER COLUMN t TYPE varchar(50)'),
  ('ALTER TABLE lint_rw ALTER COLUMN n TYPE bigint', 'ALTER TABLE lint_rw ALTER COLUMN n TYPE int');
SELECT stmt, setup <> '' AS after_setup,
       pg_temp.server_rewrites(setup, stmt) AS server,
       pg_temp.lint_rewrites(setup, stmt) AS lint
  FROM lint_rw_cases;
-- timestamp to timestamptz keeps the values only when the session is in UTC
SET TimeZone = 'UTC';
SELECT stmt, pg_temp.server_rewrites(setup, stmt) AS server,
       pg_temp.lint_rewrites(setup, stmt) AS lint
  FROM lint_rw_cases WHERE stmt LIKE '%timestamptz';
RESET TimeZone;
DROP TABLE lint_rw;
DROP DOMAIN lint_rw_plain, lint_rw_checked;

--
-- set_not_null
--
SELECT statement, severity, code, message, hint FROM migr_lint($$
ALTER TABLE lint_big ALTER COLUMN v SET NOT NULL;
$$);
-- negative: a valid CHECK (n IS NOT NULL) lets the server skip the scan
SELECT statement, severity, code FROM migr_lint($$
ALTER TABLE lint_big ALTER COLUMN n SET NOT NULL;
$$);
-- on an empty table it is only info
SELECT statement, severity, code FROM migr_lint($$
ALTER TABLE lint_empty ALTER COLUMN v SET NOT NULL;
$$);

--
-- rename: whatever the size
--
SELECT statement, severity, code, message FROM migr_lint($$
ALTER TABLE lint_tiny RENAME TO lint_small;
ALTER TABLE lint_big RENAME COLUMN v TO w;
ALTER TABLE lint_empty RENAME v TO w;
$$);
-- negative: renaming what the script created, then using the new name
SELECT statement, severity, code FROM migr_lint($$
CREATE TABLE lint_new (a int);
ALTER TABLE lint_new RENAME TO lint_newer;
ALTER TABLE lint_newer RENAME COLUMN a TO b;
CREATE INDEX ON lint_newer (b);
$$);

--
-- drop_without_archive
--
SELECT statement, severity, code, message, hint FROM migr_lint($$
DROP TABLE lint_tiny;
ALTER TABLE lint_big DROP COLUMN n;
DROP TABLE lint_empty;
$$);
-- negative: archived first (three spellings of the call), a table the
-- script created, a table or column that does not exist
SELECT statement, severity, code FROM migr_lint($$
SELECT migr_archive_table('lint_tiny');
DROP TABLE lint_tiny;
SELECT public.migr_archive_table('public.lint_big'::regclass, 'lint_big_old');
ALTER TABLE lint_big DROP COLUMN n;
SELECT * FROM migr_archive_table(tbl => 'lint_empty');
DROP TABLE lint_empty;
CREATE TABLE lint_new (a int);
DROP TABLE lint_new;
DROP TABLE IF EXISTS lint_nowhere;
ALTER TABLE lint_big DROP COLUMN IF EXISTS nothing;
$$);
-- archiving another table does not count
SELECT statement, severity, code FROM migr_lint($$
SELECT migr_archive_table('lint_big');
DROP TABLE lint_tiny;
$$);

--
-- volatile_default: volatility from pg_proc
--
CREATE FUNCTION lint_stable() RETURNS int LANGUAGE sql STABLE AS 'SELECT 1';
CREATE FUNCTION lint_volatile() RETURNS int LANGUAGE sql VOLATILE AS 'SELECT 1';
SELECT statement, severity, code, message FROM migr_lint($$
ALTER TABLE lint_big ADD COLUMN a float8 DEFAULT random();
ALTER TABLE lint_big ADD COLUMN b timestamptz DEFAULT clock_timestamp();
ALTER TABLE lint_big ADD COLUMN c uuid DEFAULT gen_random_uuid();
ALTER TABLE lint_big ADD COLUMN d int DEFAULT lint_volatile() + 1;
ALTER TABLE lint_big ADD COLUMN e int DEFAULT lint_nowhere();
ALTER TABLE lint_big ADD COLUMN f bigserial;
ALTER TABLE lint_big ADD COLUMN g int GENERATED ALWAYS AS IDENTITY;
ALTER TABLE lint_big ADD COLUMN h int GENERATED ALWAYS AS (n * 2) STORED;
ALTER TABLE lint_tiny ADD COLUMN a float8 DEFAULT random();
$$);
-- negative: constant, stable and immutable defaults do not rewrite
SELECT statement, severity, code FROM migr_lint($$
ALTER TABLE lint_big ADD COLUMN a timestamptz DEFAULT now();
ALTER TABLE lint_big ADD COLUMN b timestamptz DEFAULT CURRENT_TIMESTAMP;
ALTER TABLE lint_big ADD COLUMN c int DEFAULT lint_stable();
ALTER TABLE lint_big ADD COLUMN d text DEFAULT lower('X');
ALTER TABLE lint_big ADD COLUMN e text DEFAULT 'x'::text;
ALTER TABLE lint_big ALTER COLUMN n SET DEFAULT lint_volatile();
$$);

--
-- table_rewrite
--
SELECT statement, severity, code, message FROM migr_lint($$
VACUUM FULL lint_big;
VACUUM FULL;
CLUSTER lint_big USING lint_big_pkey;
ALTER TABLE lint_big SET TABLESPACE pg_default;
ALTER TABLE lint_big SET UNLOGGED;
ALTER TABLE lint_big SET LOGGED;
ALTER TABLE lint_big SET ACCESS METHOD heap;
REINDEX TABLE lint_big;
CLUSTER lint_tiny USING lint_tiny_pkey;
$$);
-- negative: plain VACUUM and ANALYZE, REINDEX CONCURRENTLY
SELECT statement, severity, code FROM migr_lint($$
VACUUM lint_big;
ANALYZE lint_big;
REINDEX TABLE CONCURRENTLY lint_big;
$$);

--
-- opaque_statement
--
CREATE PROCEDURE lint_proc() LANGUAGE sql AS 'SELECT 1';
SELECT statement, severity, code, message FROM migr_lint($$
DO $do$ BEGIN EXECUTE 'DROP TABLE lint_big'; END $do$;
CALL lint_proc();
$$);
-- negative: a plain SELECT of a function is not opaque
SELECT statement, severity, code FROM migr_lint($$
SELECT lint_stable();
SELECT set_config('search_path', 'public', true);
$$);

--
-- Scripts whose text looks like SQL: only parse trees count
--
SELECT statement, line, severity, code FROM migr_lint($$
-- ALTER TABLE lint_big RENAME TO x;
/* DROP TABLE lint_big; /* nested: CREATE INDEX ON lint_big (n); */ */
SELECT 'DROP TABLE lint_big; ALTER TABLE lint_big DROP COLUMN n';
SELECT $q$ CREATE INDEX ON lint_big (v) $q$;
COMMENT ON TABLE lint_big IS 'ALTER TABLE lint_big ADD COLUMN x int NOT NULL';
CREATE FUNCTION lint_f() RETURNS void LANGUAGE sql AS $body$
  ALTER TABLE lint_big RENAME TO lint_gone;
$body$;
CREATE TABLE "lint_big; DROP TABLE lint_big" (a int);
CREATE INDEX ON "lint_big; DROP TABLE lint_big" (a);
$$);
-- names are resolved as the statement would: schema-qualified, quoted,
-- through search_path
CREATE SCHEMA lint_s;
CREATE TABLE lint_s."Mixed Case" (a int);
INSERT INTO lint_s."Mixed Case" SELECT g FROM generate_series(1, 20000) g;
ANALYZE lint_s."Mixed Case";
SELECT statement, severity, code, message FROM migr_lint($$
CREATE INDEX ON lint_s."Mixed Case" (a);
CREATE INDEX ON "Mixed Case" (a);            -- not on the search_path
$$);
SET search_path = public, lint_s;
SELECT statement, severity, code FROM migr_lint($$
CREATE INDEX ON "Mixed Case" (a);
CREATE INDEX ON "mixed case" (a);            -- another name
$$);
RESET search_path;
-- a partitioned table adds up its partitions
CREATE TABLE lint_part (a int) PARTITION BY RANGE (a);
CREATE TABLE lint_part_1 PARTITION OF lint_part FOR VALUES FROM (0) TO (10000);
CREATE TABLE lint_part_2 PARTITION OF lint_part FOR VALUES FROM (10000) TO (30000);
INSERT INTO lint_part SELECT g FROM generate_series(0, 19999) g;
ANALYZE lint_part;
SELECT statement, severity, code, message, hint FROM migr_lint('CREATE INDEX ON lint_part (a)');

--
-- "-- migr:allow <code> [reason]"
--
SELECT statement, line, severity, code, message FROM migr_lint($$
-- migr:allow index_not_concurrent built at night, reviewed by ops
CREATE INDEX lint_big_n ON lint_big (n);
ALTER TABLE lint_big
-- migr:allow set_not_null inside the statement counts too
  ALTER COLUMN v SET NOT NULL;
-- migr:allow rename
CREATE INDEX lint_big_n2 ON lint_big (n);    -- another code: not acknowledged
-- migr:allow no_such_rule
--migr:allow rename
  -- migr:allow rename
-- migr:allow data_operation
CREATE INDEX lint_big_n3 ON lint_big (n);
-- migr:allow table_rewrite nothing follows
$$);
-- directives inside strings, dollar quotes and block comments are text
SELECT statement, line, severity, code FROM migr_lint($$
SELECT '
-- migr:allow index_not_concurrent
';
CREATE INDEX lint_big_n ON lint_big (n);
/*
-- migr:allow index_not_concurrent
*/
CREATE INDEX lint_big_n2 ON lint_big (n);
SELECT $x$
-- migr:allow index_not_concurrent
$x$;
CREATE INDEX lint_big_n3 ON lint_big (n);
$$);

--
-- migr.lint at define time: warn (default), error, off
--
SHOW migr.lint;
SELECT migr_define('lw1', NULL, $$CREATE INDEX lint_big_n ON lint_big (n);
CREATE INDEX lint_tiny_n ON lint_tiny (n)$$, 'DROP INDEX lint_big_n; DROP INDEX lint_tiny_n');
-- defining the same content again is a no-op: no second warning
SELECT migr_define('lw1', NULL, $$CREATE INDEX lint_big_n ON lint_big (n);
CREATE INDEX lint_tiny_n ON lint_tiny (n)$$, 'DROP INDEX lint_big_n; DROP INDEX lint_tiny_n');
SET migr.lint = error;
SELECT migr_define('lw2', '{lw1}', $$ALTER TABLE lint_big RENAME COLUMN v TO w$$);
\echo :SQLSTATE
SELECT count(*) FROM migr.revision WHERE id = 'lw2';
-- an info finding (tiny table) is not raised
SELECT migr_define('lw2', '{lw1}', $$ALTER TABLE lint_tiny ADD CONSTRAINT lint_tiny_v_uq UNIQUE (v)$$,
                   'ALTER TABLE lint_tiny DROP CONSTRAINT lint_tiny_v_uq');
-- an acknowledged finding is not raised either
SELECT migr_define('lw3', '{lw2}', $$
-- migr:allow rename the application reads both names since release 42
ALTER TABLE lint_big RENAME COLUMN v TO w$$, 'ALTER TABLE lint_big RENAME COLUMN w TO v');
-- an unknown code in a directive is a finding of its own
SELECT migr_define('lw4', '{lw3}', $$-- migr:allow renamed
ALTER TABLE lint_tiny ADD COLUMN x int$$);
\echo :SQLSTATE
SET migr.lint = off;
SELECT migr_define('lw4', '{lw3}', $$ALTER TABLE lint_big RENAME TO lint_huge$$);
SELECT migr_define('lw4', '{lw3}', $$ALTER TABLE lint_tiny ADD COLUMN x int$$, 'ALTER TABLE lint_tiny DROP COLUMN x');
SET migr.lint = nonsense;
RESET migr.lint;

-- migr_check() lints every unapplied revision against the catalog as it is
SELECT revision, severity, code, message FROM migr_check() ORDER BY 1, 4;
-- applied revisions were linted when they were defined
SELECT revision FROM migr_upgrade('head');
SELECT revision, severity, code, message FROM migr_check() ORDER BY 1, 4;
SELECT revision FROM migr_downgrade('base');

--
-- Revision files: "-- migr:allow" lines stay in the script, so the checksum
-- covers them; before "-- migr:upgrade" they are an error
--
SELECT migr_load($f$-- migr:revision lf1
-- migr:message rename, reviewed
-- migr:upgrade
-- migr:allow rename readers use the view lint_tiny_v
ALTER TABLE lint_tiny RENAME COLUMN v TO label;
-- migr:downgrade
-- migr:allow rename
ALTER TABLE lint_tiny RENAME COLUMN label TO v;
$f$);
SELECT upgrade, downgrade FROM migr_show('lf1');
-- another reason is another definition
SELECT migr_load($f$-- migr:revision lf1
-- migr:message rename, reviewed
-- migr:upgrade
-- migr:allow rename readers use the view lint_tiny_v since v2
ALTER TABLE lint_tiny RENAME COLUMN v TO label;
-- migr:downgrade
-- migr:allow rename
ALTER TABLE lint_tiny RENAME COLUMN label TO v;
$f$);
SELECT migr_load($f$-- migr:revision lf2
-- migr:allow rename
-- migr:upgrade
ALTER TABLE lint_tiny RENAME COLUMN v TO label;
$f$);
SELECT migr_load($f$-- migr:revision lf2
-- migr:upgrade
  -- migr:allow rename
ALTER TABLE lint_tiny RENAME COLUMN v TO label;
$f$);

-- bad arguments
SELECT * FROM migr_lint('SELECT 1', 'other');
SELECT * FROM migr_lint(NULL);
SELECT * FROM migr_lint('SELEC 1');
SELECT * FROM migr_lint('');

-- clean up
DROP TABLE lint_big, lint_tiny, lint_empty, lint_part, lint_s."Mixed Case";
DROP SCHEMA lint_s;
DROP DOMAIN lint_dom;
DROP FUNCTION lint_stable(), lint_volatile();

--
-- Hostile input costs time in proportion to its size, and can be cancelled
-- (statement_timeout) at any point: a statement that would run for seconds
-- is cancelled after 50 ms, well within a second.
--
CREATE FUNCTION pg_temp.cancelled_within(sql text, bound interval)
RETURNS text LANGUAGE plpgsql AS $f$
DECLARE
    t0 timestamptz := clock_timestamp();
BEGIN
    EXECUTE sql;
    RETURN 'finished';
EXCEPTION WHEN query_canceled THEN
    RETURN CASE WHEN clock_timestamp() - t0 < bound THEN 'cancelled in time'
                ELSE 'cancelled late' END;
END
$f$;
CREATE TEMP TABLE hostile_script AS
  SELECT repeat(E'-- migr:allow rename reviewed by the on-call DBA, ticket 1234\nSELECT 1;\n', 100000) AS v;
SET statement_timeout = '50ms';
SELECT pg_temp.cancelled_within($$SELECT count(*) FROM hostile_script, migr_lint(v)$$, '1s');
RESET statement_timeout;
-- 60000 allow lines, each before a statement, and 60000 before one: each
-- line is handed out once
CREATE TABLE lint_hostile (a int);
SELECT severity, code, count(*)
  FROM migr_lint(repeat(E'-- migr:allow rename reviewed\nALTER TABLE lint_hostile ADD COLUMN b int;\n', 60000) ||
                 repeat(E'-- migr:allow rename reviewed\n', 60000) || 'ALTER TABLE lint_hostile RENAME TO x;')
 GROUP BY 1, 2 ORDER BY 1, 2;
DROP TABLE lint_hostile;
DROP PROCEDURE lint_proc();
DROP EXTENSION migr;
CREATE EXTENSION migr;

--
-- migr_archive_table() (README, "Archive a table before a destructive change"): structure, rows, owner, grants and
-- row-level security copied; names quoted, never truncated silently, never
-- overwritten; recorded with the revision being applied; migr_archives();
-- the archives' age in migr_check().
--
LOAD 'migr';
SET migr.lint = off;
SET client_min_messages = warning;
DROP ROLE IF EXISTS migr_arch_owner;
DROP ROLE IF EXISTS migr_arch_reader;
DROP ROLE IF EXISTS migr_arch_other;
RESET client_min_messages;
CREATE ROLE migr_arch_owner NOLOGIN;
CREATE ROLE migr_arch_reader NOLOGIN;
CREATE ROLE migr_arch_other NOLOGIN;
CREATE SCHEMA arch AUTHORIZATION migr_arch_owner;
GRANT USAGE ON SCHEMA arch TO migr_arch_reader, migr_arch_other;

-- A table with everything: identity, serial, generated and dropped
-- columns, defaults, CHECK constraints (one NOT VALID that old rows
-- violate), a unique index, a comment; rows.
CREATE TABLE arch."Users" (
    id      int GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    seq     serial,
    email   text NOT NULL UNIQUE,
    gone    int,
    secret  text DEFAULT 'x',
    n       int CHECK (n > 0),
    twice   int GENERATED ALWAYS AS (n * 2) STORED
);
ALTER TABLE arch."Users" DROP COLUMN gone;
COMMENT ON COLUMN arch."Users".email IS 'where to write';
INSERT INTO arch."Users" (email, n) SELECT 'u' || g || '@example.com', g FROM generate_series(1, 100) g;
ALTER TABLE arch."Users" ADD CONSTRAINT small_n CHECK (n < 50) NOT VALID;
-- owner, grants (a column grant, a grant option), row-level security
ALTER TABLE arch."Users" OWNER TO migr_arch_owner;
ALTER SEQUENCE arch."Users_seq_seq" OWNER TO migr_arch_owner;
GRANT SELECT (id, email) ON arch."Users" TO migr_arch_reader;
GRANT INSERT ON arch."Users" TO migr_arch_other WITH GRANT OPTION;
ALTER TABLE arch."Users" ENABLE ROW LEVEL SECURITY;
CREATE POLICY readers ON arch."Users" FOR SELECT TO migr_arch_reader, migr_arch_other USING (n < 10);
CREATE POLICY "no negatives" ON arch."Users" AS RESTRICTIVE USING (true) WITH CHECK (n > 0);
-- default privileges a new table would pick up must not leak to the archive
ALTER DEFAULT PRIVILEGES IN SCHEMA arch GRANT SELECT ON TABLES TO PUBLIC;

-- outside a migration
SELECT migr_archive_table('arch."Users"');
\d arch."archive_Users"
SELECT count(*), sum(n), sum(twice), min(id), max(id), max(seq) FROM arch."archive_Users";
SELECT (SELECT count(*) FROM arch."Users") AS source_rows;
-- same owner and privileges, table and columns
SELECT c.relname, c.relowner::regrole, c.relacl, c.relrowsecurity, c.relforcerowsecurity
  FROM pg_class c WHERE c.oid IN ('arch."Users"'::regclass, 'arch."archive_Users"'::regclass)
 ORDER BY 1;
SELECT attrelid::regclass, attname, attacl FROM pg_attribute
 WHERE attrelid IN ('arch."Users"'::regclass, 'arch."archive_Users"'::regclass)
   AND attacl IS NOT NULL ORDER BY 1, 2;
-- the same policies
SELECT tablename, policyname, permissive, roles, cmd, qual, with_check
  FROM pg_policies WHERE schemaname = 'arch' ORDER BY policyname, tablename;
-- the comment came along; the serial column's default (the source's
-- sequence) did not, so the source can be dropped without CASCADE
SELECT col_description('arch."archive_Users"'::regclass, 3) AS email_comment;
SELECT column_name, column_default FROM information_schema.columns
 WHERE table_schema = 'arch' AND table_name = 'archive_Users' ORDER BY ordinal_position;
-- recorded, with no revision
SELECT id, source_schema, source_table, archive_schema, archive_table, rows, revision,
       archived_by, archived_at <= now() AS recorded, archive_exists
  FROM migr_archives();

-- the archive exposes nothing the source did not
SET ROLE migr_arch_reader;
SELECT id, email FROM arch."archive_Users" ORDER BY id;
SELECT secret FROM arch."archive_Users";
RESET ROLE;
SET ROLE migr_arch_owner;
SELECT count(*) FROM arch."archive_Users";   -- the owner is not subject to RLS (not forced)
RESET ROLE;

-- an existing name is an error, never overwritten
SELECT migr_archive_table('arch."Users"');
\echo :SQLSTATE
SELECT migr_archive_table('arch."Users"', 'arch."archive_Users"');
-- explicit names: qualified or not (the source's schema), quoted or not
SELECT migr_archive_table('arch."Users"', 'Users_Then');
SELECT migr_archive_table('arch."Users"', '"Users Then"');
SELECT migr_archive_table('arch."Users"', 'public.arch_users');
SELECT migr_archive_table('arch."Users"', ' "select" ');
SELECT to_regclass('arch.users_then') IS NOT NULL AS folded, to_regclass('arch."Users Then"') IS NOT NULL AS quoted,
       to_regclass('public.arch_users') IS NOT NULL AS other_schema, to_regclass('arch."select"') IS NOT NULL AS reserved;
-- bad names and injection attempts are refused or stay names
SELECT migr_archive_table('arch."Users"', 'x; DROP TABLE arch."Users"');
\echo :SQLSTATE
SELECT migr_archive_table('arch."Users"', 'a.b.c');
SELECT migr_archive_table('arch."Users"', '');
SELECT migr_archive_table('arch."Users"', 'nowhere.t');
SELECT migr_archive_table('arch."Users"', '"x""; DROP TABLE arch.""Users""; --"');
SELECT count(*) FROM arch."Users";
SELECT migr_archive_table('arch."Users"', repeat('a', 64));
\echo :SQLSTATE
SELECT migr_archive_table('arch."Users"', repeat('é', 32));

-- long names: archive_<63 bytes> is derived, never truncated into a collision
CREATE TABLE arch.a_very_long_table_name_that_fills_the_limit_of_identifiers_xx1 (a int);
CREATE TABLE arch.a_very_long_table_name_that_fills_the_limit_of_identifiers_xx2 (a int);
SELECT migr_archive_table('arch.a_very_long_table_name_that_fills_the_limit_of_identifiers_xx1');
SELECT migr_archive_table('arch.a_very_long_table_name_that_fills_the_limit_of_identifiers_xx2');
SELECT length(archive_table), archive_table FROM migr_archives() WHERE source_table LIKE 'a_very%' ORDER BY id;
-- non-ASCII names, cut at a character boundary when long
CREATE TABLE arch."données" (a int);
INSERT INTO arch."données" VALUES (1), (2);
SELECT migr_archive_table('arch."données"');
CREATE TABLE arch."ééééééééééééééééééééééééééééééé" (a int);
SELECT migr_archive_table('arch."ééééééééééééééééééééééééééééééé"');
SELECT archive_table, octet_length(archive_table) FROM migr_archives() WHERE source_table LIKE '%é%' ORDER BY id;

-- only tables; not temporary ones; the table must exist
CREATE VIEW arch.v AS SELECT 1 AS a;
SELECT migr_archive_table('arch.v');
\echo :SQLSTATE
CREATE TEMP TABLE arch_temp (a int);
SELECT migr_archive_table('arch_temp');
SELECT migr_archive_table('arch.nowhere');
SELECT migr_archive_table(NULL);
-- a partitioned table: every partition's rows
CREATE TABLE arch.parted (a int, b text) PARTITION BY RANGE (a);
CREATE TABLE arch.parted_1 PARTITION OF arch.parted FOR VALUES FROM (0) TO (10);
CREATE TABLE arch.parted_2 PARTITION OF arch.parted FOR VALUES FROM (10) TO (20);
INSERT INTO arch.parted SELECT g, 'p' FROM generate_series(0, 19) g;
SELECT migr_archive_table('arch.parted');
SELECT count(*) FROM arch.archive_parted;
-- a parent with inheritance children: its own rows only
CREATE TABLE arch.parent (a int);
CREATE TABLE arch.child () INHERITS (arch.parent);
INSERT INTO arch.parent VALUES (1);
INSERT INTO arch.child VALUES (2), (3);
SELECT migr_archive_table('arch.parent');
SELECT a FROM arch.archive_parent;
-- a table without columns still has rows
CREATE TABLE arch.nocols ();
INSERT INTO arch.nocols SELECT FROM generate_series(1, 3);
SELECT migr_archive_table('arch.nocols');
SELECT count(*) FROM arch.archive_nocols;

-- privileges: the function is not granted to PUBLIC; the caller must own
-- the table (or be a member of its owner); every row must be visible
SET ROLE migr_arch_other;
SELECT migr_archive_table('arch."Users"', 'by_other');
\echo :SQLSTATE
RESET ROLE;
GRANT EXECUTE ON FUNCTION migr_archive_table(regclass, text) TO migr_arch_other, migr_arch_owner;
SET ROLE migr_arch_other;
SELECT migr_archive_table('arch."Users"', 'by_other');
\echo :SQLSTATE
RESET ROLE;
ALTER TABLE arch."Users" FORCE ROW LEVEL SECURITY;
SET ROLE migr_arch_owner;
SELECT migr_archive_table('arch."Users"', 'by_owner');
\echo :SQLSTATE
RESET ROLE;
ALTER TABLE arch."Users" NO FORCE ROW LEVEL SECURITY;
SET ROLE migr_arch_owner;
SELECT migr_archive_table('arch."Users"', 'by_owner');
SELECT archived_by, rows FROM migr_archives() WHERE archive_table = 'by_owner';
RESET ROLE;
-- not in a read-only transaction
BEGIN TRANSACTION READ ONLY;
SELECT migr_archive_table('arch."Users"', 'read_only');
ROLLBACK;

-- inside a migration: archive, then drop; the revision is recorded, and
-- the script's drop needs no CASCADE
CREATE TABLE public."Orders" (id bigserial PRIMARY KEY, total numeric);
INSERT INTO public."Orders" (total) SELECT g FROM generate_series(1, 10) g;
SELECT migr_define('ar1', NULL, $$
SELECT migr_archive_table('"Orders"');
DROP TABLE "Orders";
$$, NULL, 'retire orders');
SELECT revision FROM migr_upgrade('head');
SELECT to_regclass('"Orders"') AS source, to_regclass('"archive_Orders"') AS archive;
SELECT count(*), sum(total) FROM "archive_Orders";
SELECT source_table, archive_table, rows, revision FROM migr_archives() WHERE revision IS NOT NULL;
-- a failed migration leaves no archive and no record
CREATE TABLE public.lines (a int);
SELECT migr_define('ar2', '{ar1}', $$
SELECT migr_archive_table('lines');
DROP TABLE lines_typo;
$$, NULL, 'fails');
SELECT revision FROM migr_upgrade('head');
SELECT to_regclass('archive_lines') AS archive, (SELECT count(*) FROM migr_archives() WHERE source_table = 'lines') AS records;

-- lint knows about archives made earlier, not only in the same script
SELECT statement, severity, code, message FROM migr_lint('DROP TABLE arch.parted');
DROP TABLE arch.archive_parted;
SELECT statement, severity, code FROM migr_lint('DROP TABLE arch.parted');

-- migr_check() reports every archive that still exists, with its age
SELECT revision, severity, code, message, hint FROM migr_check()
 WHERE code = 'archive_age' AND message LIKE '%Orders%';
SELECT count(*) FROM migr_check() WHERE code = 'archive_age' AND message LIKE '%archive_parted%';
SELECT count(*) FROM migr_archives() WHERE NOT archive_exists;

-- the record is dumped with the extension and written only by migr
SELECT 'migr.archive'::regclass IN (SELECT unnest(extconfig) FROM pg_extension WHERE extname = 'migr') AS dumped;
SET ROLE migr_arch_other;
INSERT INTO migr.archive (source_schema, source_table, archive_schema, archive_table, rows, archived_by, archived_at)
VALUES ('a', 'b', 'c', 'd', 0, 'e', now());
SELECT count(*) > 0 AS readable FROM migr.archive;
RESET ROLE;

-- clean up
SELECT revision FROM migr_stamp('base');
DROP TABLE "archive_Orders", lines, public.arch_users;
SET client_min_messages = warning;
DROP SCHEMA arch CASCADE;
RESET client_min_messages;
DROP EXTENSION migr;
CREATE EXTENSION migr;
DROP ROLE migr_arch_owner, migr_arch_reader, migr_arch_other;


# Copyright (c) 2026, migr developers

# The schema description is deterministic: a database with one object of
# every kind gives byte for byte the same migr_schema() after pg_dump -Fc
# and pg_restore into another database, and in a third database where the
# same DDL ran directly (other OIDs, other attnums after a dropped column).
# The schema recorded by the moves survives the dump: the restored database
# shows no drift.  Every move records: upgrade, downgrade, stamp, and a
# background worker finishing a job; a database still at 1.1 records
# nothing and moves on, and records once updated.

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('schema');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'migr'\n");
$node->start;

# One of each kind, in two schemas; owned by a role of their own.
my $ddl = q{
CREATE ROLE regress_owner;
CREATE ROLE regress_reader;
CREATE SCHEMA app AUTHORIZATION regress_owner;
CREATE SCHEMA audit;
COMMENT ON SCHEMA audit IS 'audit trail';
GRANT USAGE ON SCHEMA audit TO regress_reader;
CREATE EXTENSION citext SCHEMA audit;
CREATE TYPE app.mood AS ENUM ('sad', 'ok', 'happy');
CREATE TYPE app.pair AS (a int, b text COLLATE "C");
CREATE TYPE app.span AS RANGE (subtype = float8);
CREATE DOMAIN app.posint AS int NOT NULL DEFAULT 1 CONSTRAINT positive CHECK (VALUE > 0);
CREATE COLLATION app.ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
CREATE SEQUENCE app.ticket START 100 INCREMENT 5;
CREATE FUNCTION app.add1(a int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT a + 1';
CREATE PROCEDURE app.noop() LANGUAGE sql AS 'SELECT 1';
CREATE FUNCTION app.touch() RETURNS trigger LANGUAGE plpgsql AS
  $$BEGIN NEW.updated := now(); RETURN NEW; END$$;
CREATE TABLE app.users (
    id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    gone int,
    email audit.citext NOT NULL UNIQUE,
    nick text COLLATE app.ci,
    age app.posint,
    m app.mood DEFAULT 'ok',
    twice int GENERATED ALWAYS AS (id * 2) STORED,
    updated timestamptz DEFAULT '2026-01-01 12:00:00+00',
    score float8 DEFAULT 0.1,
    CONSTRAINT adult CHECK (age >= 18) NOT VALID
) WITH (fillfactor = 70);
ALTER TABLE app.users DROP COLUMN gone;
ALTER TABLE app.users ENABLE ROW LEVEL SECURITY;
ALTER TABLE app.users REPLICA IDENTITY FULL;
COMMENT ON TABLE app.users IS 'people';
COMMENT ON COLUMN app.users.email IS 'where to write';
GRANT SELECT ON app.users TO regress_reader;
GRANT UPDATE (nick) ON app.users TO regress_reader;
CREATE TABLE app.orders (
    id bigserial PRIMARY KEY,
    user_id int REFERENCES app.users DEFERRABLE INITIALLY DEFERRED,
    during tstzrange,
    EXCLUDE USING gist (during WITH &&)
);
CREATE UNLOGGED TABLE app.scratch (x int);
CREATE TABLE app.base (a int);
CREATE TABLE app.child (b int) INHERITS (app.base);
CREATE TABLE app.events (at date NOT NULL, what text) PARTITION BY RANGE (at);
CREATE TABLE app.events_2026 PARTITION OF app.events
    FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE INDEX events_at_idx ON app.events (at);
CREATE INDEX users_lower_email ON app.users (lower(email)) WHERE age > 20;
CREATE VIEW app.adults WITH (security_barrier) AS
    SELECT id, email FROM app.users WHERE age >= 18;
CREATE MATERIALIZED VIEW app.user_count AS SELECT count(*) AS n FROM app.users;
CREATE INDEX ON app.user_count (n);
CREATE TRIGGER users_touch BEFORE UPDATE ON app.users
    FOR EACH ROW EXECUTE FUNCTION app.touch();
CREATE RULE scratch_ignore AS ON DELETE TO app.scratch DO INSTEAD NOTHING;
CREATE POLICY own ON app.users FOR SELECT TO regress_reader USING (nick IS NOT NULL);
CREATE STATISTICS app.users_stats (dependencies) ON email, nick FROM app.users;
ALTER DEFAULT PRIVILEGES IN SCHEMA app GRANT SELECT ON TABLES TO regress_reader;
CREATE PUBLICATION pub FOR TABLE app.users (id, email) WHERE (id > 0) WITH (publish = 'insert');
CREATE TABLE audit.entries (id int, said text);
ALTER TABLE app.users OWNER TO regress_owner;
};

$node->safe_psql('postgres', 'CREATE DATABASE src');
$node->safe_psql('src', 'CREATE EXTENSION migr');
# the DDL as a revision: the upgrade records the schema it leaves
$node->safe_psql('src',
	"SET migr.lint = off; SELECT migr_define('all_kinds', NULL, \$ddl\$$ddl\$ddl\$)");
$node->safe_psql('src', q{SELECT count(*) FROM migr_upgrade('head')});
my $src = $node->safe_psql('src', 'SELECT migr_schema()::text');
my $src_fp = $node->safe_psql('src', 'SELECT migr_fingerprint()');
like($src, qr/"app\.users"/, 'the description has the table');
is($node->safe_psql('src', 'SELECT count(*) FROM migr_drift()'),
	'0', 'no drift right after the upgrade');
is( $node->safe_psql(
		'src', q{SELECT schema_fingerprint FROM migr.log WHERE action = 'upgrade'}),
	$src_fp,
	'the upgrade recorded the fingerprint');
is( $node->safe_psql(
		'src', q{SELECT jsonb_array_length(migr_schema() -> 'unsupported')}),
	'0', 'nothing unsupported in the kinds used');
foreach my $section (
	qw(schemas extensions collations types sequences functions tables views
	materialized_views constraints indexes triggers rules policies statistics
	publications default_privileges))
{
	isnt(
		$node->safe_psql(
			'src', "SELECT migr_schema() -> '$section' <> '{}'"),
		'f',
		"section $section is filled");
}

# dump and restore
my $dump = $node->basedir . '/src.dump';
$node->command_ok(
	[ 'pg_dump', '-Fc', '-f', $dump, '-d', $node->connstr('src') ],
	'pg_dump -Fc');
$node->safe_psql('postgres', 'CREATE DATABASE dst');
$node->command_ok(
	[ 'pg_restore', '--exit-on-error', '-d', $node->connstr('dst'), $dump ],
	'pg_restore into another database');
is($node->safe_psql('dst', 'SELECT migr_schema()::text'),
	$src, 'the restored description is byte-identical');
is($node->safe_psql('dst', 'SELECT migr_fingerprint()'),
	$src_fp, 'the restored fingerprint is the same');
is($node->safe_psql('dst', 'SELECT count(*) FROM migr_drift()'),
	'0', 'the restored database shows no drift against the recorded schema');

# a plain-text dump too, restored with psql
my $plain = $node->basedir . '/src.sql';
$node->command_ok(
	[ 'pg_dump', '-f', $plain, '-d', $node->connstr('src') ],
	'pg_dump as SQL');
$node->safe_psql('postgres', 'CREATE DATABASE dst2');
$node->command_ok(
	[ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-f', $plain, '-d',
	  $node->connstr('dst2') ],
	'psql restores the SQL dump');
is($node->safe_psql('dst2', 'SELECT migr_fingerprint()'),
	$src_fp, 'the SQL dump restores the same fingerprint');

# the same DDL run directly in a third database: other OIDs, same bytes
$node->safe_psql('postgres', 'CREATE DATABASE again');
$node->safe_psql('again', 'CREATE EXTENSION migr');
my $again_ddl = $ddl;
$again_ddl =~ s/CREATE ROLE \w+;//g;
$node->safe_psql('again', "CREATE TABLE public.pad (a int); DROP TABLE public.pad; $again_ddl");
is($node->safe_psql('again', 'SELECT migr_schema()::text'),
	$src, 'the same DDL in another database gives the same description');
is( $node->safe_psql(
		'again', "SELECT count(*) FROM migr_drift(\$j\$$src\$j\$::jsonb)"),
	'0', 'and no drift against the first database');

# a change shows up against the other database's description
$node->safe_psql('again', 'ALTER TABLE app.scratch ADD COLUMN y text');
is( $node->safe_psql(
		'again', "SELECT object || ' ' || change || ': ' || detail FROM migr_drift(\$j\$$src\$j\$::jsonb)"),
	'app.scratch changed: column "y" added: text',
	'drift against another database names the change');

# stamp and downgrade record too
$node->safe_psql('dst', q{
SELECT migr_define('more', '{all_kinds}', 'CREATE TABLE audit.more (i int)', 'DROP TABLE audit.more')});
$node->safe_psql('dst', q{SELECT count(*) FROM migr_stamp('more')});
is( $node->safe_psql(
		'dst', q{SELECT count(*) FROM migr.log WHERE action = 'stamp' AND schema_fingerprint IS NOT NULL}),
	'1', 'a stamp records the schema once');
is( $node->safe_psql('dst', q{SELECT kind || ' ' || object || ' ' || change FROM migr_drift()}),
	'', 'a stamp makes the schema as it is the reference');
$node->safe_psql('dst', q{CREATE TABLE audit.more (i int)});
is( $node->safe_psql('dst', q{SELECT kind || ' ' || object || ' ' || change FROM migr_drift()}),
	'table audit.more added', 'what the stamped revision would have done is drift');
$node->safe_psql('dst', q{SELECT count(*) FROM migr_downgrade('all_kinds')});
is( $node->safe_psql(
		'dst', q{SELECT schema_fingerprint = migr_fingerprint() FROM migr.log WHERE action = 'downgrade'}),
	't', 'a downgrade records the schema it leaves');
is($node->safe_psql('dst', 'SELECT migr_fingerprint()'),
	$src_fp, 'the downgrade is back at the original schema');
is( $node->safe_psql(
		'dst', q{SELECT count(*), count(DISTINCT schema_fingerprint) FROM migr.log
                  WHERE schema_fingerprint IS NOT NULL}),
	'3|1', 'three moves recorded (upgrade before the dump, stamp, downgrade), one schema');
is( $node->safe_psql(
		'dst', q{SELECT count(*) FROM migr.schema_snapshot}),
	'1', 'the description is kept once');

# a worker finishing a job records the schema
$node->safe_psql('src', q{
SELECT migr_define('cic', '{all_kinds}',
    'CREATE INDEX CONCURRENTLY entries_id_idx ON audit.entries (id)',
    'DROP INDEX audit.entries_id_idx')});
$node->safe_psql('src', q{SELECT count(*) FROM migr_upgrade('head')});
$node->safe_psql('src', q{SELECT migr_wait('60s')});
is( $node->safe_psql(
		'src', q{SELECT outcome, schema_fingerprint = migr_fingerprint()
                   FROM migr.log WHERE revision = 'cic' ORDER BY id DESC LIMIT 1}),
	'applied by worker|t',
	'the worker recorded the schema with the index');
like( $node->safe_psql(
		'src', q{SELECT migr_schema() -> 'indexes' ->> 'audit.entries_id_idx'}),
	qr/CREATE INDEX entries_id_idx ON audit\.entries/,
	'the worker-built index is in the description');

# a database at 1.1: moves work and record nothing; after the update they do
$node->safe_psql('postgres', 'CREATE DATABASE old');
$node->safe_psql('old', q{CREATE EXTENSION migr VERSION '1.1'});
$node->safe_psql('old', q{
SELECT migr_define('o1', NULL, 'CREATE TABLE o1 (i int)', 'DROP TABLE o1');
SELECT count(*) FROM migr_upgrade('head')});
is($node->safe_psql('old', q{SELECT count(*) FROM migr.applied}),
	'1', 'a move at 1.1 works');
my ($ret, $out, $err) = $node->psql('old', 'SELECT * FROM migr_fingerprint()');
like($err, qr/function migr_fingerprint\(\) does not exist/,
	'no schema functions at 1.1');
$node->safe_psql('old', q{ALTER EXTENSION migr UPDATE});
($ret, $out, $err) = $node->psql('old', 'SELECT * FROM migr_drift()');
like($err, qr/no schema has been recorded yet/,
	'after the update, drift says nothing was recorded yet');
$node->safe_psql('old', q{
SELECT migr_define('o2', '{o1}', 'CREATE TABLE o2 (i int)', 'DROP TABLE o2');
SELECT count(*) FROM migr_upgrade('head')});
is($node->safe_psql('old', q{SELECT count(*) FROM migr_drift()}),
	'0', 'the first move after the update records the schema');

$node->stop;
done_testing();

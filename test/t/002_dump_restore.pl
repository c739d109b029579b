
# Copyright (c) 2026, migr developers

# pg_dump keeps migr's history: after pg_dump -Fc and pg_restore into a new
# database, the revisions (with a branch and a merge), the applied set, the
# log and the sequences are those of the original; migr_check() is clean;
# and migrating goes on in the restored database, with log ids that carry
# on from the original's.

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('dump');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'migr'");
$node->start;

$node->safe_psql('postgres', 'CREATE DATABASE src');
$node->safe_psql('src', 'CREATE EXTENSION migr');

# base -> (feature_a, feature_b) -> merge, applied; a downgrade and upgrade
# again for the log; then one revision defined and left pending.
$node->safe_psql(
	'src', q{
SELECT migr_define('dr_base', NULL, 'CREATE TABLE items (id int PRIMARY KEY)',
                   'DROP TABLE items', 'create items');
SELECT migr_define('dr_a', ARRAY['dr_base'],
                   'ALTER TABLE items ADD COLUMN name text',
                   'ALTER TABLE items DROP COLUMN name', 'items have names',
                   ARRAY['feature_a']);
SELECT migr_define('dr_b', ARRAY['dr_base'],
                   'CREATE TABLE tags (tag text PRIMARY KEY)',
                   'DROP TABLE tags', 'tags', ARRAY['feature_b']);
SELECT migr_merge(ARRAY['dr_a', 'dr_b'], 'merge names and tags', 'dr_merge');
SELECT count(*) FROM migr_upgrade('head');
SELECT count(*) FROM migr_downgrade('dr_a');
SELECT count(*) FROM migr_upgrade('head');
SELECT migr_define('dr_pending', ARRAY['dr_merge'],
                   'CREATE TABLE pending (i int)', 'DROP TABLE pending',
                   'defined before the dump, applied after the restore');
});

# What must survive the dump, as text.
my %queries = (
	history => q{
SELECT revision, down_revision, message, applied, applied_at, is_head
  FROM migr_history()},
	current => 'SELECT revision, message, applied_at FROM migr_current()',
	heads => 'SELECT * FROM migr_heads()',
	branches => 'SELECT * FROM migr_branches()',
	tables => q{
SELECT string_agg(relname, ',' ORDER BY relname) FROM pg_class
 WHERE relname IN ('items', 'tags', 'pending') AND relkind = 'r'},
	columns => q{
SELECT string_agg(attname, ',' ORDER BY attnum) FROM pg_attribute
 WHERE attrelid = 'items'::regclass AND attnum > 0 AND NOT attisdropped});

# Every table and sequence that migr asks pg_dump to keep, whole, whatever
# its columns are.
my $config = $node->safe_psql(
	'src', q{
SELECT c.oid::regclass, c.relkind
  FROM pg_extension e, unnest(e.extconfig) AS x(oid)
  JOIN pg_class c ON c.oid = x.oid
 WHERE e.extname = 'migr' ORDER BY 1});
foreach my $line (split /\n/, $config)
{
	my ($rel, $kind) = split /\|/, $line;
	$queries{$rel} =
	  $kind eq 'S'
	  ? "SELECT last_value, is_called FROM $rel"
	  : "SELECT t::text FROM $rel t ORDER BY 1";
}
ok(scalar(grep { /^migr\./ } keys %queries) >= 3,
	'migr has tables and sequences for pg_dump to keep');

my %before;
foreach my $what (sort keys %queries)
{
	$before{$what} = $node->safe_psql('src', $queries{$what});
	isnt($before{$what}, '', "the original has $what")
	  unless $what =~ /^migr\./;
}
like($before{history}, qr/dr_merge/, 'the original history has the merge');
is($node->safe_psql('src', 'SELECT count(*) FROM migr_check()'),
	'0', 'migr_check() is clean in the original');
my $max_log_id = $node->safe_psql('src', 'SELECT max(id) FROM migr.log');

# Dump and restore into a new database.
my $dump = $node->basedir . '/src.dump';
$node->command_ok(
	[ 'pg_dump', '-Fc', '-f', $dump, '-d', $node->connstr('src') ],
	'pg_dump -Fc of the original');
$node->safe_psql('postgres', 'CREATE DATABASE dst');
{
	# a restore is DDL outside a move: the README restores with the guard
	# off (a superuser's setting), so that nothing of it is logged
	local $ENV{PGOPTIONS} = '-c migr.guard=off';
	$node->command_ok(
		[ 'pg_restore', '--exit-on-error', '-d', $node->connstr('dst'), $dump ],
		'pg_restore into a new database');
}

# Without that, a restore still succeeds under the default migr.guard = log:
# the guard is idle until the history is restored (no log id taken from the
# restored ones), and then records what follows it (constraints, indexes).
$node->safe_psql('postgres', 'CREATE DATABASE dst_logged');
$node->command_ok(
	[ 'pg_restore', '--exit-on-error', '-d', $node->connstr('dst_logged'), $dump ],
	'pg_restore with the guard on');
is( $node->safe_psql(
		'dst_logged',
		"SELECT string_agg(DISTINCT action || ' ' || command_tag, ',') FROM migr.log WHERE id > $max_log_id"),
	'ddl ALTER TABLE',
	'the guard logged the post-data DDL of the restore, after the original ids');
is( $node->safe_psql(
		'dst_logged', "SELECT count(*) FROM migr.log WHERE id <= $max_log_id"),
	$max_log_id, 'the original log restored whole');

# Under block a restore is refused; with the guard off for the restore, it
# goes through.
$node->safe_psql('postgres', 'CREATE DATABASE dst_block');
$node->safe_psql('postgres', "ALTER DATABASE dst_block SET migr.guard = 'block'");
$node->command_fails(
	[ 'pg_restore', '--exit-on-error', '-d', $node->connstr('dst_block'), $dump ],
	'pg_restore under block is refused');
$node->safe_psql('postgres', 'DROP DATABASE dst_block');
$node->safe_psql('postgres', 'CREATE DATABASE dst_block');
$node->safe_psql('postgres', "ALTER DATABASE dst_block SET migr.guard = 'block'");
{
	local $ENV{PGOPTIONS} = '-c migr.guard=off';
	$node->command_ok(
		[ 'pg_restore', '--exit-on-error', '-d', $node->connstr('dst_block'), $dump ],
		'pg_restore under block with migr.guard=off for the restore');
}
is($node->safe_psql('dst_block', 'SELECT count(*) FROM migr_check()'),
	'0', 'migr_check() is clean in the database restored under block');

foreach my $what (sort keys %queries)
{
	is($node->safe_psql('dst', $queries{$what}),
		$before{$what}, "restored $what identical");
}
is($node->safe_psql('dst', 'SELECT count(*) FROM migr_check()'),
	'0', 'migr_check() is clean in the restored database');

# The restored database migrates on: the pending revision and a new one.
$node->safe_psql(
	'dst', q{
SELECT migr_define('dr_after', ARRAY['dr_pending'],
                   'ALTER TABLE items ADD COLUMN note text',
                   'ALTER TABLE items DROP COLUMN note', 'defined after the restore')});
is( $node->safe_psql(
		'dst', q{SELECT string_agg(revision, ',') FROM migr_upgrade('head')}),
	'dr_pending,dr_after',
	'upgrade in the restored database applies the pending and the new revision');
is( $node->safe_psql(
		'dst', q{SELECT string_agg(revision, ',') FROM migr_current()}),
	'dr_after', 'the restored database is at the new head');
is( $node->safe_psql(
		'dst', "SELECT min(id) > $max_log_id FROM migr.log WHERE revision = 'dr_after'"),
	't',
	'new log ids carry on after the original ones');
is( $node->safe_psql(
		'dst', q{SELECT count(*) = count(DISTINCT id) FROM migr.log}),
	't', 'no log id is used twice');
is( $node->safe_psql(
		'dst', q{SELECT string_agg(revision, ',') FROM migr_downgrade('dr_merge')}),
	'dr_after,dr_pending',
	'downgrade in the restored database');
is($node->safe_psql('dst', 'SELECT count(*) FROM migr_check()'),
	'0', 'migr_check() is clean after migrating the restored database');

# The original is untouched by all this.
is($node->safe_psql('src', $queries{'migr.log'}),
	$before{'migr.log'}, 'the original log is unchanged');

$node->stop;
done_testing();

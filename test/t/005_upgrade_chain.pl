
# Copyright (c) 2026, migr developers

# The upgrade chain: CREATE EXTENSION migr VERSION '1.0', some history, then
# ALTER EXTENSION migr UPDATE gives exactly what a fresh install of the
# default version gives (every member object described from the catalogs:
# functions with their definitions, privileges and comments; tables with
# their columns, constraints, indexes, privileges and comments; sequences,
# views, types), and the history made under 1.0 is kept and still works.

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('chain');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'migr'");
$node->start;

my $default = $node->safe_psql('postgres',
	q{SELECT default_version FROM pg_available_extensions WHERE name = 'migr'});
isnt($default, '1.0', "the default version ($default) is later than 1.0");

# Every object of the extension, described so that two installs can be
# compared as text.  Ordered by the description, never by OID.
my $describe = q{
WITH members AS (
    SELECT d.classid, d.objid
      FROM pg_depend d
     WHERE d.refclassid = 'pg_extension'::regclass
       AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'migr')
       AND d.deptype = 'e'
), rels AS (
    SELECT c.oid, c.relname, c.relkind, c.relacl, c.relnamespace,
           c.relpersistence, c.reloptions
      FROM pg_class c JOIN members m
        ON m.classid = 'pg_class'::regclass AND m.objid = c.oid
)
SELECT line FROM (
    SELECT 'function ' || p.oid::regprocedure::text || E'\n'
           || pg_get_functiondef(p.oid) || E'\nacl '
           || coalesce(p.proacl::text, 'default') || E'\ncomment '
           || coalesce(obj_description(p.oid, 'pg_proc'), '-') AS line
      FROM pg_proc p JOIN members m
        ON m.classid = 'pg_proc'::regclass AND m.objid = p.oid
    UNION ALL
    SELECT 'relation ' || r.relnamespace::regnamespace || '.' || r.relname
           || ' kind ' || r.relkind::text || ' persistence ' || r.relpersistence::text
           || ' options ' || coalesce(r.reloptions::text, '-')
           || ' acl ' || coalesce(r.relacl::text, 'default')
           || ' comment ' || coalesce(obj_description(r.oid, 'pg_class'), '-')
      FROM rels r
    UNION ALL
    SELECT 'column ' || r.relname || '.' || a.attname || ' '
           || format_type(a.atttypid, a.atttypmod)
           || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
           || coalesce(' default ' || pg_get_expr(ad.adbin, ad.adrelid), '')
           || ' identity ' || a.attidentity::text || ' generated ' || a.attgenerated::text
           || ' position ' || (SELECT count(*) FROM pg_attribute b
                                WHERE b.attrelid = a.attrelid AND b.attnum > 0
                                  AND NOT b.attisdropped AND b.attnum <= a.attnum)
           || ' comment ' || coalesce(col_description(r.oid, a.attnum), '-')
      FROM rels r
      JOIN pg_attribute a ON a.attrelid = r.oid AND a.attnum > 0
                         AND NOT a.attisdropped
      LEFT JOIN pg_attrdef ad ON ad.adrelid = r.oid AND ad.adnum = a.attnum
    UNION ALL
    SELECT 'constraint ' || r.relname || '.' || co.conname || ' '
           || pg_get_constraintdef(co.oid)
      FROM rels r JOIN pg_constraint co ON co.conrelid = r.oid
    UNION ALL
    SELECT 'index ' || regexp_replace(pg_get_indexdef(i.indexrelid),
                                      'INDEX \S+ ON', 'INDEX ON')
           || ' named ' || ic.relname
      FROM rels r JOIN pg_index i ON i.indrelid = r.oid
      JOIN pg_class ic ON ic.oid = i.indexrelid
    UNION ALL
    SELECT 'view ' || r.relname || E'\n' || pg_get_viewdef(r.oid)
      FROM rels r WHERE r.relkind IN ('v', 'm')
    UNION ALL
    SELECT 'trigger ' || pg_get_triggerdef(t.oid)
      FROM rels r JOIN pg_trigger t ON t.tgrelid = r.oid AND NOT t.tgisinternal
    UNION ALL
    SELECT 'type ' || t.oid::regtype::text || ' ' || t.typtype::text
      FROM pg_type t JOIN members m
        ON m.classid = 'pg_type'::regclass AND m.objid = t.oid
    UNION ALL
    SELECT 'schema ' || n.nspname || ' acl ' || coalesce(n.nspacl::text, 'default')
      FROM pg_namespace n JOIN members m
        ON m.classid = 'pg_namespace'::regclass AND m.objid = n.oid
    UNION ALL
    SELECT 'config ' || x.oid::regclass::text || ' '
           || coalesce(e.extcondition[x.n], '')
      FROM pg_extension e, unnest(e.extconfig) WITH ORDINALITY AS x(oid, n)
     WHERE e.extname = 'migr'
    UNION ALL
    SELECT 'other member ' || pg_describe_object(m.classid, m.objid, 0)
      FROM members m
     WHERE m.classid NOT IN ('pg_proc'::regclass, 'pg_class'::regclass,
                             'pg_type'::regclass, 'pg_namespace'::regclass)
) x ORDER BY line};

# The fresh install.
$node->safe_psql('postgres', 'CREATE DATABASE fresh');
$node->safe_psql('fresh', 'CREATE EXTENSION migr');
is($node->safe_psql('fresh',
	q{SELECT extversion FROM pg_extension WHERE extname = 'migr'}),
	$default, 'a fresh install is at the default version');
my $fresh = $node->safe_psql('fresh', $describe);
like($fresh, qr/function .*migr_upgrade/, 'the description lists functions');

# 1.0 with a history: two revisions applied, one pending, a downgrade in the log.
$node->safe_psql('postgres', 'CREATE DATABASE old');
$node->safe_psql('old', q{CREATE EXTENSION migr VERSION '1.0'});
$node->safe_psql(
	'old', q{
SELECT migr_define('ch_base', NULL, 'CREATE TABLE ch (id int PRIMARY KEY)',
                   'DROP TABLE ch', 'create ch');
SELECT migr_define('ch_two', ARRAY['ch_base'],
                   'ALTER TABLE ch ADD COLUMN name text',
                   'ALTER TABLE ch DROP COLUMN name', 'ch has names',
                   ARRAY['feature']);
SELECT count(*) FROM migr_upgrade('head');
SELECT count(*) FROM migr_downgrade('ch_base');
SELECT count(*) FROM migr_upgrade('head');
SELECT migr_define('ch_three', ARRAY['ch_two'],
                   'CREATE TABLE ch3 (i int)', 'DROP TABLE ch3', 'pending under 1.0');
});

my %history_query = (
	revisions => 'SELECT id, down_revision, branch_labels, message, checksum'
	  . ' FROM migr.revision ORDER BY seq',
	applied => 'SELECT revision FROM migr.applied ORDER BY 1',
	log => 'SELECT id, revision FROM migr.log ORDER BY id',
	history => 'SELECT revision, applied FROM migr_history()');
my %before;
$before{$_} = $node->safe_psql('old', $history_query{$_})
  foreach keys %history_query;

$node->safe_psql('old', 'ALTER EXTENSION migr UPDATE');
is($node->safe_psql('old',
	q{SELECT extversion FROM pg_extension WHERE extname = 'migr'}),
	$default, 'ALTER EXTENSION migr UPDATE reaches the default version');

my $updated = $node->safe_psql('old', $describe);
is($updated, $fresh, '1.0 then ALTER EXTENSION UPDATE gives exactly a fresh install');
if ($updated ne $fresh)
{
	# Show only the lines that differ, so a failure says what to fix.
	my %f = map { $_ => 1 } split /\n/, $fresh;
	my %u = map { $_ => 1 } split /\n/, $updated;
	diag("only in the fresh install: $_") foreach grep { !$u{$_} } sort keys %f;
	diag("only after the update: $_") foreach grep { !$f{$_} } sort keys %u;
}

foreach my $what (sort keys %history_query)
{
	is($node->safe_psql('old', $history_query{$what}),
		$before{$what}, "the update keeps the $what");
}
is($node->safe_psql('old', 'SELECT count(*) FROM migr_check()'),
	'0', 'migr_check() is clean after the update');

# Migrating goes on after the update.
is($node->safe_psql('old',
	q{SELECT string_agg(revision, ',') FROM migr_upgrade('head')}),
	'ch_three', 'the revision left pending under 1.0 is applied after the update');
is($node->safe_psql('old',
	q{SELECT string_agg(revision, ',') FROM migr_downgrade('ch_two')}),
	'ch_three', 'and reverted');

# The same from 1.1 (released): a history made under 1.1 (applied, pending
# and logged revisions) is kept and still moves after the update.
$node->safe_psql('postgres', 'CREATE DATABASE old11');
$node->safe_psql('old11', q{CREATE EXTENSION migr VERSION '1.1'});
$node->safe_psql(
	'old11', q{
SELECT migr_define('c11_base', NULL, 'CREATE TABLE c11 (id int PRIMARY KEY)',
                   'DROP TABLE c11', 'create c11');
SELECT count(*) FROM migr_upgrade('head');
SELECT migr_define('c11_two', ARRAY['c11_base'],
                   'ALTER TABLE c11 ADD COLUMN name text',
                   'ALTER TABLE c11 DROP COLUMN name', 'pending under 1.1');
});
my %before11;
$before11{$_} = $node->safe_psql('old11', $history_query{$_})
  foreach keys %history_query;
$node->safe_psql('old11', 'ALTER EXTENSION migr UPDATE');
is($node->safe_psql('old11',
	q{SELECT extversion FROM pg_extension WHERE extname = 'migr'}),
	$default, 'ALTER EXTENSION migr UPDATE from 1.1 reaches the default version');
my $updated11 = $node->safe_psql('old11', $describe);
is($updated11, $fresh, '1.1 then ALTER EXTENSION UPDATE gives exactly a fresh install');
if ($updated11 ne $fresh)
{
	my %f = map { $_ => 1 } split /\n/, $fresh;
	my %u = map { $_ => 1 } split /\n/, $updated11;
	diag("only in the fresh install: $_") foreach grep { !$u{$_} } sort keys %f;
	diag("only after the update from 1.1: $_") foreach grep { !$f{$_} } sort keys %u;
}
foreach my $what (sort keys %history_query)
{
	is($node->safe_psql('old11', $history_query{$what}),
		$before11{$what}, "the update from 1.1 keeps the $what");
}
is($node->safe_psql('old11',
	q{SELECT string_agg(revision, ',') FROM migr_upgrade('head')}),
	'c11_two', 'the revision left pending under 1.1 is applied after the update');

# A fresh install of 1.0 is refused nothing: both versions can be installed.
$node->safe_psql('postgres', 'CREATE DATABASE again');
$node->safe_psql('again', q{CREATE EXTENSION migr VERSION '1.0'});
is($node->safe_psql('again',
	q{SELECT extversion FROM pg_extension WHERE extname = 'migr'}),
	'1.0', 'version 1.0 can still be installed');

done_testing();

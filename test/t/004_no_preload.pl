
# Copyright (c) 2026, migr developers

# migr works with and without shared_preload_libraries.  Without it, the
# library is loaded by the first call of a migr function in each backend,
# and the migr.* settings exist from then on (a value set earlier, as a
# placeholder, is kept).  With it, they exist from the start.  Defining,
# upgrading, downgrading and the migr lock work the same either way.

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('preload');
$node->init;
$node->start;

# Run SQL in one new session, going on after errors; return stdout, stderr.
sub session
{
	my ($sql) = @_;
	my ($ret, $stdout, $stderr) =
	  $node->psql('postgres', $sql, on_error_stop => 0);
	return ($stdout, $stderr);
}

# Define, upgrade, downgrade and upgrade again revisions <p>1 and <p>2,
# <p>1 a child of $parent (NULL: a root).
sub define_and_move
{
	my ($p, $how, $parent) = @_;

	$node->safe_psql(
		'postgres', qq{
SELECT migr_define('${p}1', $parent, 'CREATE TABLE ${p}_a (i int)', 'DROP TABLE ${p}_a');
SELECT migr_define('${p}2', ARRAY['${p}1'], 'CREATE TABLE ${p}_b (i int)', 'DROP TABLE ${p}_b');
});
	is( $node->safe_psql(
			'postgres',
			q{SELECT string_agg(revision, ',') FROM migr_upgrade('head')}),
		"${p}1,${p}2",
		"$how: upgrade applies both revisions");
	is( $node->safe_psql(
			'postgres',
			qq{SELECT string_agg(revision, ',') FROM migr_downgrade('${p}1')}),
		"${p}2",
		"$how: downgrade reverts the second");
	is( $node->safe_psql(
			'postgres', qq{
SELECT string_agg(revision, ',') FROM migr_current();
SELECT to_regclass('${p}_a') IS NOT NULL, to_regclass('${p}_b') IS NULL}),
		"${p}1\nt|t",
		"$how: current revision and tables after the downgrade");
	is( $node->safe_psql(
			'postgres',
			q{SELECT string_agg(revision, ',') FROM migr_upgrade('head')}),
		"${p}2",
		"$how: upgrade applies it again");
	is($node->safe_psql('postgres', 'SELECT count(*) FROM migr_check()'),
		'0', "$how: migr_check() is clean");
	return;
}

# While a background session holds the migr lock, pg_locks shows it with
# the documented lock tag.
sub check_lock_tag
{
	my ($p, $how) = @_;

	$node->safe_psql('postgres',
		qq{SELECT migr_define('${p}3', ARRAY['${p}2'], 'CREATE TABLE ${p}_c (i int)', 'DROP TABLE ${p}_c')}
	);
	my $bg = $node->background_psql('postgres');
	my $pid = $bg->query_safe('SELECT pg_backend_pid()');
	$bg->query_safe('BEGIN');
	is($bg->query_safe(q{SELECT revision FROM migr_upgrade('head')}),
		"${p}3", "$how: upgrade in an open transaction");
	is( $node->safe_psql(
			'postgres', q{
SELECT pid, mode, granted, database = (SELECT oid FROM pg_database
                                        WHERE datname = current_database())
  FROM pg_locks
 WHERE locktype = 'advisory' AND classid = 1835624306 AND objid = 0
   AND objsubid = 3}),
		"$pid|ExclusiveLock|t|t",
		"$how: the migr lock is an advisory-type lock (1835624306, 0, 3) held by the migrating session");
	$bg->query_safe('COMMIT');
	$bg->quit;
	is( $node->safe_psql(
			'postgres', q{
SELECT count(*) FROM pg_locks
 WHERE locktype = 'advisory' AND classid = 1835624306}),
		'0',
		"$how: and released at commit");
	return;
}

# 1. Not preloaded.
is($node->safe_psql('postgres', 'SHOW shared_preload_libraries'),
	'', 'migr is not preloaded');
$node->safe_psql('postgres', 'CREATE EXTENSION migr');

my ($out, $err) = session(
	q{
SHOW migr.lock_timeout;
SELECT count(*) FROM migr_heads();
SHOW migr.lock_timeout;
SHOW migr.lock_retries;
SHOW migr.retry_delay;
SHOW migr.statement_timeout;
});
like(
	$err,
	qr/unrecognized configuration parameter "migr.lock_timeout"/,
	'before the first migr call of a session, migr.lock_timeout is unknown');
# (the lock defaults of 1.1: 500ms and no count, only migr.lock_deadline)
is($out, "0\n500ms\n-1\n500ms\n0",
	'after the first migr call, the settings exist with their defaults');

($out, $err) = session(
	q{
SET migr.lock_timeout = '250ms';
SELECT count(*) FROM migr_heads();
SHOW migr.lock_timeout;
});
is($out, "0\n250ms", 'a value set before the library is loaded is kept');
is($err, '', 'and no error or warning');

($out, $err) = session(
	q{
SELECT count(*) FROM migr_heads();
SET migr.lock_timout = '1s';
});
like(
	$err,
	qr/invalid configuration parameter name "migr.lock_timout"/,
	'once loaded, a misspelled migr.* setting is refused');

define_and_move('np', 'not preloaded', 'NULL');
check_lock_tag('np', 'not preloaded');

# 2. Preloaded, with a setting in postgresql.conf.
$node->append_conf(
	'postgresql.conf', qq(
shared_preload_libraries = 'migr'
migr.lock_timeout = '3s'
));
$node->restart;

($out, $err) = session(
	q{
SHOW migr.lock_timeout;
SHOW migr.lock_retries;
SET migr.lock_timout = '1s';
});
is($out, "3s\n-1",
	'preloaded: the settings exist before any migr call, postgresql.conf applies'
);
like(
	$err,
	qr/invalid configuration parameter name "migr.lock_timout"/,
	'preloaded: a misspelled migr.* setting is refused from the start');

define_and_move('pl', 'preloaded', q{ARRAY['np3']});
check_lock_tag('pl', 'preloaded');

# The revisions applied without preloading are still there, and can be
# reverted with it.
is( $node->safe_psql(
		'postgres',
		q{SELECT count(*) FROM migr_downgrade('base')}),
	'6',
	'preloaded: downgrade to base reverts all six revisions');
is( $node->safe_psql(
		'postgres', q{
SELECT count(*) FROM pg_class
 WHERE relname ~ '^(np|pl)_[abc]$' AND relkind = 'r'}),
	'0',
	'preloaded: and every table they made is gone');

$node->stop;
done_testing();

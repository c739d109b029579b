
# Copyright (c) 2026, migr developers

# Background workers (README, "Concurrent index builds"), dropping things under a worker:
# 13. DROP EXTENSION migr while a worker builds an index, and DROP DATABASE
#     ... WITH (FORCE) of the database a worker builds in: neither is
#     blocked (each must finish well within its statement_timeout), the
#     worker goes away, and the server carries on.

use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use MigrWorker;

my $node = new_worker_node('drop', preload => 1, db => 'dropext', rows => 100000);
my ($secs, $ret, $out, $err);

# Queue a build of $index on t in $db and hold it; returns the holder.
sub held_build
{
	my ($db, $index, $what) = @_;

	$node->safe_psql($db, qq{
SELECT migr_define('d_$index', NULL,
  \$\$CREATE INDEX CONCURRENTLY $index ON t (i);
    CREATE TABLE ${index}_after (x int)\$\$)});
	my $holder = hold_snapshot($node, $db);
	is($node->safe_psql($db, q{SELECT count(*) FROM migr_upgrade('head')}), '1',
		"$what: the revision is queued");
	ok(wait_build_phase($node, $db, 'waiting for old snapshots'),
		"$what: the worker builds $index");
	return $holder;
}

# --------------------------------------------------------------------
# DROP EXTENSION while the worker builds.
# --------------------------------------------------------------------
my $what = 'DROP EXTENSION';
my $holder = held_build('dropext', 't_i_idx', $what);
($secs, $ret, $out, $err) = timed_psql($node, 'dropext',
	q{SET statement_timeout = '60s'; DROP EXTENSION migr});
is($ret, 0, "$what: succeeds while the worker builds");
cmp_ok($secs, '<', 30, "$what: it took ${secs}s");
is($node->safe_psql('dropext', q{SELECT to_regnamespace('migr') IS NULL}), 't',
	"$what: migr's schema is gone");
release($holder);
ok(wait_no_worker($node, 'dropext'), "$what: the worker exits");
is($node->safe_psql('dropext', q{
SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = 1835624306}),
	'0', "$what: no migr lock is left");
is($node->safe_psql('dropext', q{
SELECT count(*) FROM pg_index WHERE indrelid = 't'::regclass AND NOT indisvalid}),
	'0', "$what: no INVALID index is left");
$node->safe_psql('dropext', 'CREATE EXTENSION migr');
is($node->safe_psql('dropext', q{SELECT count(*) FROM migr_jobs()}), '0',
	"$what: a new CREATE EXTENSION starts with an empty queue");
$node->safe_psql('dropext', q{
SELECT migr_define('again', NULL, $$CREATE INDEX CONCURRENTLY t_again_idx ON t (j)$$)});
is($node->safe_psql('dropext', q{SELECT count(*) FROM migr_upgrade('head')}), '1',
	"$what: after CREATE EXTENSION, a build is queued again");
is($node->safe_psql('dropext', q{SELECT migr_wait()}), 't', "$what: and completes");
is(index_state($node, 'dropext', 't_again_idx'), 'valid', "$what: its index is valid");

# --------------------------------------------------------------------
# DROP DATABASE ... WITH (FORCE) while the worker builds.
# --------------------------------------------------------------------
$what = 'DROP DATABASE WITH (FORCE)';
$node->safe_psql('postgres', 'CREATE DATABASE dropdb');
$node->safe_psql('dropdb', 'CREATE EXTENSION migr');
fill_table($node, 'dropdb', 't', 100000);
$holder = held_build('dropdb', 't_i_idx', $what);
my $log_offset = -s $node->logfile;
($secs, $ret, $out, $err) = timed_psql($node, 'postgres',
	q{SET statement_timeout = '60s'; DROP DATABASE dropdb WITH (FORCE)});
is($ret, 0, "$what: succeeds while the worker builds");
cmp_ok($secs, '<', 30, "$what: it took ${secs}s");
release($holder);
ok(wait_no_worker($node, 'postgres'), "$what: no worker is left");
is($node->safe_psql('postgres', q{SELECT count(*) FROM pg_database WHERE datname = 'dropdb'}),
	'0', "$what: the database is gone");
ok(!$node->log_contains(qr/server process .* was terminated by signal|all server processes terminated/,
		$log_offset),
	"$what: no crash");

$node->stop;
done_testing();

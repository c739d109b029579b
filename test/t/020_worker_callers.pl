
# Copyright (c) 2026, migr developers

# Background workers (README, "Concurrent index builds"), many callers during a long build:
#  6. ten application connections call migr_upgrade('head') again and again
#     (pgbench, 10 clients x 5 calls) while a worker's CREATE INDEX
#     CONCURRENTLY is held in "waiting for old snapshots".  Every call must
#     return within a second with the queued revisions, nobody may wait for
#     a lock but the worker, nothing deadlocks, and the build finishes once
#     the old snapshot is gone.

use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;

use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use MigrWorker;

my $db = 'postgres';
my $clients = 10;
my $calls = 5;
my $node = new_worker_node('callers', preload => 1, rows => 200000,
	conf => "max_connections = 40\n");

$node->safe_psql($db, q{
SELECT migr_define('c1', NULL,
  $$CREATE INDEX CONCURRENTLY t_i_idx ON t (i);
    CREATE TABLE c1_after (x int)$$);
SELECT migr_define('c2', ARRAY['c1'], $$CREATE TABLE c2_after (x int)$$);
SELECT migr_define('c3', ARRAY['c2'], $$CREATE TABLE c3_after (x int)$$);
});

my $holder = hold_snapshot($node, $db);
is($node->safe_psql($db, q{SELECT count(*) FROM migr_upgrade('head')}), '3',
	'c1, c2 and c3 are queued');
ok(wait_build_phase($node, $db, 'waiting for old snapshots'),
	'the build is held in "waiting for old snapshots"');

# Each call must return the three queued revisions (with ms NULL); a call
# that returns anything else fails its client.
my $script = $node->basedir . '/020_worker_callers.sql';
append_to_file($script, q{
SET client_min_messages = warning;
SELECT count(*) AS n, count(ms) AS timed,
       string_agg(revision, ',' ORDER BY revision) = 'c1,c2,c3' AS same
  FROM migr_upgrade('head') \gset
\if :n != 3
SELECT 'wrong number of rows' :: int;
\elif :timed != 0
SELECT 'a queued revision has a time' :: int;
\elif :same
\else
SELECT 'wrong revisions' :: int;
\endif
});
my $logprefix = $node->basedir . '/020_worker_callers_tx';
my ($out, $err) = ('', '');
my $total = $clients * $calls;
my $ok = IPC::Run::run(
	[
		'pgbench', '--no-vacuum', "--client=$clients", '--jobs=2',
		"--transactions=$calls", '--latency-limit=1000', '--log',
		"--log-prefix=$logprefix", '--file', $script,
		'--host', $node->host, '--port', $node->port, $db
	],
	'>', \$out, '2>', \$err,
	IPC::Run::timeout($PostgreSQL::Test::Utils::timeout_default));
ok($ok, 'pgbench exits with status 0');
like($out, qr{actually processed: $total/$total}, "all $total calls returned the queued revisions");
like($out, qr{number of transactions above the 1000\.0 ms latency limit: 0/$total},
	'no call took a second or more');

# the longest call, from the per-transaction logs (latency in microseconds)
my $max_us = 0;
foreach my $f (glob("$logprefix.*"))
{
	foreach my $line (split /\n/, slurp_file($f))
	{
		my @f = split / /, $line;
		$max_us = $f[2] if @f > 2 && $f[2] > $max_us;
	}
}
cmp_ok($max_us, '>', 0, 'per-transaction latencies were logged');
cmp_ok($max_us, '<', 1_000_000, "the longest call took ${max_us} us");

is(index_state($node, $db, 't_i_idx'), 'invalid', 'the build still waits for the old snapshot');
is( $node->safe_psql($db, q{
SELECT count(*) FROM pg_stat_activity
 WHERE wait_event_type = 'Lock' AND backend_type <> 'migr worker'}),
	'0', 'nobody but the worker waits for a lock');
is(lock_holder($node, $db), 'migr worker', 'the worker holds the migr lock');
is(applied_list($node, $db), '', 'nothing was applied out of order');

release($holder);
ok(wait_jobs_done($node, $db), 'the jobs are done once the old snapshot is gone');
is(index_state($node, $db, 't_i_idx'), 'valid', 'the index is valid');
is(applied_list($node, $db), 'c1,c2,c3', 'c1, c2 and c3 are applied');
is( $node->safe_psql($db, q{
SELECT count(*) FROM migr.log WHERE action = 'upgrade' AND outcome = 'applied by worker'}),
	'3', 'each applied once, by the worker');
ok(!$node->log_contains(qr/deadlock detected/), 'no deadlock was detected');
ok(wait_no_worker($node, $db), 'the worker exits');
is($node->safe_psql($db, q{SELECT count(*) FROM migr_upgrade('head')}), '0',
	'nothing is left to upgrade');

# --------------------------------------------------------------------
# A migr_wait() must not stall the build it waits for.  It advertises its
# statement's snapshot until its first sleep (and each poll's while that
# poll runs).  A CREATE INDEX CONCURRENTLY that reaches "waiting for old
# snapshots" inside such a window waits for migr_wait's whole transaction,
# which waits for the build.  The window is made wide here: a session
# holds a lock on migr.job so that migr_wait() blocks in its first read.
# --------------------------------------------------------------------
$node->safe_psql($db, q{
SELECT migr_define('c4', ARRAY['c3'], $$CREATE INDEX CONCURRENTLY t_j_idx ON t (j)$$);
});
my $writer = $node->background_psql($db, on_error_stop => 0);
bg_query($writer, 'BEGIN; LOCK TABLE t IN ROW EXCLUSIVE MODE');
is($node->safe_psql($db, q{SELECT count(*) FROM migr_upgrade('head')}), '1', 'wait: c4 queued');
ok(wait_build_phase($node, $db, 'waiting for writers before build'),
	'wait: the build waits for a writer');
my $locker = $node->background_psql($db, on_error_stop => 0);
bg_query($locker, 'BEGIN; LOCK TABLE migr.job IN ACCESS EXCLUSIVE MODE');
my $waiter = $node->background_psql($db, on_error_stop => 0);
$waiter->query_until(qr/waiting/, qq{\\echo waiting\nSELECT migr_wait('5s');\n});
ok($node->poll_query_until($db, q{
SELECT count(*) = 1 FROM pg_stat_activity
 WHERE query LIKE 'SELECT migr_wait%' AND wait_event_type = 'Lock'}),
	'wait: migr_wait() blocks on migr.job');
bg_query($writer, 'COMMIT');
ok(wait_build_phase($node, $db, 'waiting for old snapshots'),
	'wait: the build reaches "waiting for old snapshots"');
bg_query($locker, 'COMMIT');
my ($wout) = bg_query($waiter, '');    # migr_wait's result
# migr_wait() either sees the build finish, or, when the build waits for
# migr_wait()'s own transaction, returns false at once (with a NOTICE)
# instead of waiting out its timeout
like($wout, qr/^[tf]$/, 'wait: migr_wait() returns');
ok(wait_jobs_done($node, $db), 'wait: the build finishes (at the latest once migr_wait() returns)');
is(index_state($node, $db, 't_j_idx'), 'valid', 'wait: the index is valid');
$_->quit for ($writer, $locker, $waiter);

$node->stop;
done_testing();

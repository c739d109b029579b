
# Copyright (c) 2026, migr developers

# The lock policy (README "Locks and the application"), where isolation
# specs cannot look (test/specs/lock_policy.spec covers the rest):
#  - each retry's NOTICE names the blocking session (pid, application,
#    transaction age, state, query), the waits grow from migr.retry_delay
#    to migr.max_retry_delay with jitter, and the final error's hint names
#    the pid to end; migr.lock_retries, when set, still bounds the count;
#    statement_timeout still ends the call;
#  - a background worker follows the same policy for the statements it runs
#    after a CREATE INDEX CONCURRENTLY: it retries (logging who blocks, a
#    worker's NOTICEs going nowhere), finishes once the blocker ends, and
#    fails the job at migr.lock_deadline with the blocker in the log.

use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use MigrWorker;

my $db = 'postgres';
my $node = new_worker_node('lockpol', rows => 1000);
my ($ret, $out, $err);

$node->safe_psql($db, 'CREATE TABLE t2 (k int)');

# a session that read t2 and keeps its transaction open
sub blocker
{
	my $bg = $node->background_psql($db, on_error_stop => 0);
	bg_query($bg, q{SET application_name = 'blocker'});
	my ($pid) = bg_query($bg, 'SELECT pg_backend_pid()');
	bg_query($bg, 'BEGIN');
	bg_query($bg, 'SELECT count(*) FROM t2');
	return ($bg, $pid);
}

# --------------------------------------------------------------------
# A backend: the NOTICEs, the backoff, the error.
# --------------------------------------------------------------------
$node->safe_psql($db, q{
SELECT migr_define('b1', NULL, 'ALTER TABLE t2 ADD COLUMN e int', 'ALTER TABLE t2 DROP COLUMN e');
});
my ($bg, $bpid) = blocker();

($ret, $out, $err) = $node->psql($db, q{
SET migr.lock_timeout = '100ms';
SET migr.retry_delay = '200ms';
SET migr.max_retry_delay = '400ms';
SET migr.lock_deadline = '3s';
SELECT migr_upgrade('head');
});
isnt($ret, 0, 'backend: the upgrade fails at the deadline');
my @waits = $err =~ /NOTICE:  could not obtain the locks for revision "b1", retrying in (\d+) ms\n/g;
cmp_ok(scalar(@waits), '>=', 4, 'backend: a NOTICE for each retry (' . scalar(@waits) . ')');
ok($waits[0] >= 100 && $waits[0] <= 200,
	"backend: the first wait is within [retry_delay/2, retry_delay] ($waits[0] ms)");
ok($waits[1] >= 200 && $waits[1] <= 400,
	"backend: the second is within [200, 400] ms ($waits[1] ms)");
ok(!grep({ $_ > 400 } @waits[ 2 .. $#waits - 1 ]),
	'backend: no wait exceeds migr.max_retry_delay: ' . join(',', @waits));
like($err,
	qr/DETAIL:  Process $bpid holds a conflicting lock on table public\.t2: application "blocker", transaction open for [\d.]+ s, idle in transaction, last query: SELECT count\(\*\) FROM t2\.\nAttempt 1 failed; migr\.lock_deadline ends in 3 s\./,
	'backend: the NOTICE names the blocker, its transaction, state and query, and the deadline');
like($err,
	qr/ERROR:  could not obtain the locks for revision "b1" within migr\.lock_deadline \(3s\)\nDETAIL:  Process $bpid holds a conflicting lock on table public\.t2: .*\nHINT:  Let the blocking transaction finish, or end it with pg_terminate_backend\($bpid\), and migrate again; or raise migr\.lock_deadline\./,
	'backend: the error names the blocker and the way out');

# a count, when set, still bounds the attempts
($ret, $out, $err) = $node->psql($db, q{
SET migr.lock_timeout = '100ms';
SET migr.retry_delay = '10ms';
SET migr.lock_retries = 1;
SELECT migr_upgrade('head');
});
like($err,
	qr/NOTICE:  could not obtain the locks for revision "b1", retrying in \d+ ms \(attempt 2 of 2\)\n.*ERROR:  could not obtain the locks for revision "b1" after 2 attempts\nDETAIL:  Process $bpid holds/s,
	'backend: migr.lock_retries = 1 gives up after 2 attempts');
like($err, qr/or raise migr\.lock_retries \(-1 leaves only migr\.lock_deadline\)/,
	'backend: its hint names migr.lock_retries');

# statement_timeout ends the retrying (in a wait between attempts or in an
# attempt), long before the deadline
my $secs;
($secs, $ret, $out, $err) = timed_psql($node, $db, q{
SET statement_timeout = '1500ms';
SELECT migr_upgrade('head');
});
like($err, qr/ERROR:  57014: canceling statement due to statement timeout/,
	'backend: statement_timeout still ends the call');
cmp_ok($secs, '<', 10, "backend: at once ($secs s), not at migr.lock_deadline");
is($node->safe_psql($db, q{SELECT count(*) FROM migr.applied}), '0',
	'backend: nothing applied');
release($bg);
$node->safe_psql($db, q{SELECT migr_upgrade('head')});

# --------------------------------------------------------------------
# The worker: success once the blocker ends.
# --------------------------------------------------------------------
$node->safe_psql($db, q{
SELECT migr_define('w1', '{b1}',
  $$CREATE INDEX CONCURRENTLY t_i_idx ON t (i);
    ALTER TABLE t2 ADD COLUMN c int$$);
});
($bg, $bpid) = blocker();
my $log_offset = -s $node->logfile;
$out = $node->safe_psql($db, q{
SET migr.lock_timeout = '100ms';
SET migr.lock_deadline = '5min';
SELECT revision || ':' || COALESCE(ms::text, 'null') FROM migr_upgrade('head');
});
is($out, 'w1:null', 'worker: w1 is queued');
ok( $node->wait_for_log(
		qr/could not obtain the locks for revision "w1", retrying in \d+ ms\n.*DETAIL:  Process $bpid holds a conflicting lock on table public\.t2: application "blocker"/,
		$log_offset),
	'worker: its retries are logged, naming the blocker');
is(index_state($node, $db, 't_i_idx'), 'valid',
	'worker: the index was built (the blocker holds nothing it waits for)');
is($node->safe_psql($db, q{SELECT state FROM migr.job WHERE revision = 'w1'}),
	'running', 'worker: the job is still running, retrying');
release($bg);
ok(wait_jobs_done($node, $db), 'worker: the job finishes once the blocker ends');
is( $node->safe_psql($db, q{
SELECT count(*) FROM pg_attribute WHERE attrelid = 't2'::regclass AND attname = 'c'}),
	'1', 'worker: the column was added');
is($node->safe_psql($db, q{SELECT attempts FROM migr.job WHERE revision = 'w1'}),
	'0', 'worker: in its first attempt (the retries are within the statement)');

# --------------------------------------------------------------------
# The worker: the deadline.
# --------------------------------------------------------------------
$node->safe_psql($db, q{
SELECT migr_define('w2', '{w1}',
  $$CREATE INDEX CONCURRENTLY t_j_idx ON t (j);
    ALTER TABLE t2 ADD COLUMN d int$$);
});
($bg, $bpid) = blocker();
$log_offset = -s $node->logfile;
$node->safe_psql($db, q{
SET migr.lock_timeout = '100ms';
SET migr.lock_deadline = '1s';
SET migr.max_job_attempts = 1;
SELECT migr_upgrade('head');
});
ok($node->poll_query_until($db,
		q{SELECT state FROM migr.job WHERE revision = 'w2'}, 'failed'),
	'worker: the job fails at the deadline');
like( $node->safe_psql($db, q{SELECT sqlstate || ': ' || error FROM migr.job WHERE revision = 'w2'}),
	qr/^55P03: could not obtain the locks for revision "w2" within migr\.lock_deadline \(1s\)\nDETAIL:  Process $bpid holds a conflicting lock on table public\.t2: .*\nHINT:  Let the blocking transaction finish/,
	'worker: with 55P03 and the deadline, the blocker in the job\'s error');
like(slurp_file($node->logfile, $log_offset),
	qr/ERROR:  could not obtain the locks for revision "w2" within migr\.lock_deadline \(1s\)\n.*DETAIL:  Process $bpid holds a conflicting lock on table public\.t2/,
	'worker: the log names the blocker');
release($bg);
my $job = $node->safe_psql($db, q{SELECT id FROM migr.job WHERE revision = 'w2'});
$node->safe_psql($db, "SELECT migr_retry($job)");
ok(wait_jobs_done($node, $db), 'worker: retried once the blocker is gone, it finishes');
is(applied_list($node, $db), 'b1,w1,w2', 'worker: everything applied');

$node->stop;
done_testing();


# Copyright (c) 2026, migr developers

# Background workers (README, "Concurrent index builds"), failures:
#  5. a unique index over duplicate data: the job is tried
#     migr.max_job_attempts times (the caller's setting, 2 here), leaves no
#     INVALID index, then stops the queue: migr_jobs() shows it failed with
#     its error, migr_wait() and migr_upgrade() raise it; once the data is
#     fixed, migr_retry() builds the index and applies the rest;
#  and migr_cancel() of a running build: the build is interrupted, its
#     index dropped, the job and the ones after it cancelled; a later
#     upgrade queues them again.

use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use MigrWorker;

my $db = 'postgres';
my $node = new_worker_node('fail', rows => 100000);
my ($ret, $out, $err);

# --------------------------------------------------------------------
# 5. A unique index over duplicates.
# --------------------------------------------------------------------
$node->safe_psql($db, q{
SELECT migr_define('f1', NULL,
  $$CREATE TABLE f1_before (x int);
    CREATE UNIQUE INDEX CONCURRENTLY t_j_uidx ON t (j);
    CREATE TABLE f1_after (x int)$$);
SELECT migr_define('f2', ARRAY['f1'], $$CREATE TABLE f2_after (x int)$$);
});

my $log_offset = -s $node->logfile;
$out = $node->safe_psql($db, q{
SET migr.max_job_attempts = 2;
SELECT revision || ':' || COALESCE(ms::text, 'null') FROM migr_upgrade('head');
});
is($out, "f1:null\nf2:null", 'unique: f1 and f2 are queued');

ok($node->poll_query_until($db,
		q{SELECT state FROM migr.job WHERE revision = 'f1'}, 'failed'),
	'unique: the job fails');
my $job = $node->safe_psql($db, q{SELECT id FROM migr.job WHERE revision = 'f1'});
is( $node->safe_psql($db, q{
SELECT string_agg(revision || ':' || state || ':' || attempts || ':' ||
                  (finished_at IS NOT NULL), ',' ORDER BY id)
  FROM migr_jobs()}),
	'f1:failed:2:true,f2:queued:0:false',
	'unique: migr_jobs() shows f1 failed after 2 attempts (the caller\'s migr.max_job_attempts), f2 still queued'
);
like($node->safe_psql($db, q{SELECT error FROM migr_jobs() WHERE revision = 'f1'}),
	qr/could not create unique index "t_j_uidx"/,
	'unique: migr_jobs() shows the error');
is($node->safe_psql($db, q{SELECT sqlstate FROM migr.job WHERE revision = 'f1'}),
	'23505', 'unique: with its SQLSTATE');
is( $node->safe_psql($db, q{
SELECT count(*) FROM pg_index WHERE indrelid = 't'::regclass AND NOT indisvalid}),
	'0', 'unique: no INVALID index is left on the table');
is(index_state($node, $db, 't_j_uidx'), 'none', 'unique: the index is gone');
ok(wait_no_worker($node, $db), 'unique: the worker exits');
is(lock_holder($node, $db), '', 'unique: the migr lock is released');
is( $node->safe_psql($db, q{
SELECT (to_regclass('f1_before') IS NOT NULL) || '/' ||
       (to_regclass('f1_after') IS NULL) || '/' ||
       (to_regclass('f2_after') IS NULL)}),
	'true/true/true',
	'unique: the statement before the CIC stays, nothing after it ran');
is(applied_list($node, $db), '', 'unique: nothing applied');
my $retries = () = slurp_file($node->logfile, $log_offset) =~
  /migr: job $job for revision "f1" failed, retrying in 1000 ms/g;
is($retries, 1, 'unique: one retry after a pause of 1000 ms, then it stops');
{
	# the attempts are 1 s apart: the second starts after the pause
	is($node->safe_psql($db, q{
SELECT finished_at - started_at >= interval '1 s' FROM migr.job WHERE revision = 'f1'}),
		't', 'unique: the two attempts were at least 1 s apart');
}
ok($node->log_contains(qr/migr: dropping invalid index public\.t_j_uidx/, $log_offset),
	'unique: the worker dropped the invalid index it left');

($ret, $out, $err) = sql_result($node, $db, q{SELECT migr_wait()});
like($err,
	qr/ERROR:  23505: background job $job for revision "f1" failed: could not create unique index "t_j_uidx"/,
	'unique: migr_wait() raises the error of the failed job');
like($err, qr/HINT:  Fix the cause, then SELECT migr_retry\($job\)/,
	'unique: with a hint naming migr_retry');
($ret, $out, $err) = sql_result($node, $db, q{SELECT * FROM migr_upgrade('head')});
like($err, qr/ERROR:  23505: background job $job for revision "f1" failed/,
	'unique: migr_upgrade() errors while the queue is stopped');
($ret, $out, $err) = sql_result($node, $db, q{SELECT * FROM migr_upgrade('f2')});
like($err, qr/ERROR:  23505: background job $job for revision "f1" failed/,
	'unique: so does migr_upgrade(<id>)');
is($node->safe_psql($db, q{SELECT state FROM migr.job WHERE revision = 'f1'}),
	'failed', 'unique: no call resumed the stopped queue');
($ret, $out, $err) = sql_result($node, $db, qq{SELECT migr_retry($job + 1)});
like($err, qr/ERROR:  55000: job \d+ is not a failed job/,
	'unique: migr_retry of a job that did not fail is refused');

# Fix the data and retry.
$node->safe_psql($db, q{UPDATE t SET j = i});
$node->safe_psql($db, qq{SELECT migr_retry($job)});
($ret, $out, $err) = sql_result($node, $db, q{SELECT migr_wait()});
is($out, 't', 'retry: migr_wait() returns true');
is($err, '', 'retry: and raises nothing');
is(index_state($node, $db, 't_j_uidx'), 'valid', 'retry: the unique index is valid');
is(applied_list($node, $db), 'f1,f2', 'retry: f1 and f2 are applied');
is(job_states($node, $db), 'f1:done,f2:done', 'retry: both jobs done');
is($node->safe_psql($db, q{SELECT to_regclass('f1_after') IS NOT NULL AND to_regclass('f2_after') IS NOT NULL}),
	't', 'retry: the rest of f1 and f2 ran');
is($node->safe_psql($db, q{SELECT count(*) FROM migr_upgrade('head')}), '0',
	'retry: nothing left to upgrade');

# --------------------------------------------------------------------
# migr_cancel() of a running build.
# --------------------------------------------------------------------
$node->safe_psql($db, q{
SELECT migr_define('f3', ARRAY['f2'],
  $$CREATE INDEX CONCURRENTLY t_u_idx ON t (u);
    CREATE TABLE f3_after (x int)$$);
SELECT migr_define('f4', ARRAY['f3'], $$CREATE TABLE f4_after (x int)$$);
});
my $holder = hold_snapshot($node, $db);
is($node->safe_psql($db, q{SELECT count(*) FROM migr_upgrade('head')}), '2',
	'cancel: f3 and f4 queued');
ok(wait_build_phase($node, $db, 'waiting for old snapshots'),
	'cancel: the build runs');
$job = $node->safe_psql($db, q{SELECT id FROM migr.job WHERE revision = 'f3' AND state = 'running'});
$node->safe_psql($db, qq{SELECT migr_cancel($job)});
ok(wait_no_worker($node, $db), 'cancel: the worker stops');
is(job_states($node, $db), 'f1:done,f2:done,f3:cancelled,f4:cancelled',
	'cancel: f3 and the job after it are cancelled');
is(index_state($node, $db, 't_u_idx'), 'none', 'cancel: the interrupted build left no index');
is(applied_list($node, $db), 'f1,f2', 'cancel: f3 and f4 are not applied');
release($holder);

is($node->safe_psql($db, q{SELECT count(*) FROM migr_upgrade('head')}), '2',
	'cancel: a later upgrade queues f3 and f4 again');
is($node->safe_psql($db, q{SELECT migr_wait()}), 't', 'cancel: and they complete');
is(index_state($node, $db, 't_u_idx'), 'valid', 'cancel: the index is valid');
is(applied_list($node, $db), 'f1,f2,f3,f4', 'cancel: everything applied');
is($node->safe_psql($db, 'SELECT count(*) FROM migr_check()'), '0',
	'migr_check() is clean at the end');

$node->stop;
done_testing();

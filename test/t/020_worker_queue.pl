
# Copyright (c) 2026, migr developers

# Background workers (README, "Concurrent index builds"), the ordinary life of a queue:
#  1. an autocommit migr_upgrade() that reaches CREATE INDEX CONCURRENTLY on
#     an existing table returns at once, while the build still runs; the
#     worker holds the migr lock, other calls return the queued revisions
#     at once, downgrade and stamp are refused; then the index ends valid
#     and every revision is applied by the worker;
#  2. a caller in an explicit transaction that goes on working (and
#     sleeping) after the upgrade: the worker waits for the commit, then
#     builds;
#  3. a caller that rolls back: nothing runs, nothing is left;
# 12. migr_wait() in the transaction that queued the work: error 55000 with
#     a hint to commit first, never a hang; after the commit it waits;
#  4. an index on a table created in the same transaction is built in line,
#     without a worker, visible before the commit;
#  and VACUUM, REINDEX / DETACH PARTITION / DROP INDEX ... CONCURRENTLY in
#     one revision, all run by the worker.

use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use MigrWorker;

my $db = 'postgres';
my $node = new_worker_node('queue', rows => 200000);

# --------------------------------------------------------------------
# 1. Autocommit caller: returns without waiting for the build.
# --------------------------------------------------------------------
$node->safe_psql($db, q{
SELECT migr_define('q1', NULL,
  $$ALTER TABLE t ADD COLUMN k int;
    CREATE INDEX CONCURRENTLY t_i_idx ON t (i);
    CREATE TABLE q1_after (x int)$$);
SELECT migr_define('q2', ARRAY['q1'], $$CREATE TABLE q2_after (x int)$$);
});

my $holder = hold_snapshot($node, $db);
my ($secs, $ret, $out, $err) = timed_psql($node, $db, q{
SET statement_timeout = '30s';
SELECT revision || ':' || COALESCE(ms::text, 'null') FROM migr_upgrade('head');
});
is($ret, 0, 'autocommit: migr_upgrade succeeds');
is($out, "q1:null\nq2:null",
	'autocommit: both revisions are returned, with ms NULL');
like($err,
	qr/revision "q1" continues in a background worker after this transaction commits/,
	'autocommit: a NOTICE says the revision continues in a worker');
cmp_ok($secs, '<', 10, "autocommit: the call returned in ${secs}s");

ok(wait_build_phase($node, $db, 'waiting for old snapshots'),
	'autocommit: the worker builds the index after the call returned');
is(index_state($node, $db, 't_i_idx'), 'invalid',
	'autocommit: the index is not valid yet');
is(applied_list($node, $db), '', 'autocommit: nothing applied yet');
is(job_states($node, $db), 'q1:running,q2:queued', 'autocommit: job states');
is($node->safe_psql($db, q{
SELECT (SELECT count(*) FROM information_schema.columns
         WHERE table_name = 't' AND column_name = 'k') || '/' ||
       (to_regclass('q1_after') IS NULL)}),
	'1/true',
	'autocommit: the statement before the CIC is committed, the one after is not run yet');
is(lock_holder($node, $db), 'migr worker', 'autocommit: the worker holds the migr lock');
is( $node->safe_psql($db, q{
SELECT usename || '/' || application_name FROM pg_stat_activity
 WHERE backend_type = 'migr worker'}),
	'postgres/migr worker',
	'autocommit: the worker runs as the caller, application_name "migr worker"');

# Another caller meanwhile: returns the queued revisions at once.
($secs, $ret, $out, $err) = timed_psql($node, $db, q{
SET statement_timeout = '30s';
SELECT revision || ':' || COALESCE(ms::text, 'null') FROM migr_upgrade('head');
});
is($ret, 0, 'during the build: migr_upgrade succeeds');
is($out, "q1:null\nq2:null", 'during the build: it returns the queued revisions');
like($err, qr/revisions are queued behind job \d+ \(running: CREATE INDEX CONCURRENTLY t_i_idx/,
	'during the build: a NOTICE names the job in progress');
cmp_ok($secs, '<', 5, "during the build: it returned in ${secs}s");

($ret, $out, $err) = sql_result($node, $db, q{SELECT * FROM migr_downgrade('base')});
like($err, qr/ERROR:  55000: cannot call migr_downgrade\(\) while background jobs are queued/,
	'during the build: migr_downgrade is refused with 55000');
($ret, $out, $err) = sql_result($node, $db, q{SELECT * FROM migr_stamp('q1')});
like($err, qr/ERROR:  55000: cannot call migr_stamp\(\) while background jobs are queued/,
	'during the build: migr_stamp is refused with 55000');
is($node->safe_psql($db, q{SELECT migr_wait('100ms')}), 'f',
	'during the build: migr_wait with a short timeout returns false');

release($holder);
ok(wait_jobs_done($node, $db), 'autocommit: the jobs are done');
is(index_state($node, $db, 't_i_idx'), 'valid', 'autocommit: the index is valid');
is(applied_list($node, $db), 'q1,q2', 'autocommit: q1 and q2 are applied');
is( $node->safe_psql($db, q{
SELECT string_agg(revision || ':' || outcome, ',' ORDER BY id) FROM migr.log
 WHERE action = 'upgrade'}),
	'q1:queued,q2:queued,q1:applied by worker,q2:applied by worker',
	'autocommit: the log says queued, then applied by worker');
is($node->safe_psql($db, q{SELECT to_regclass('q1_after') IS NOT NULL AND to_regclass('q2_after') IS NOT NULL}),
	't', 'autocommit: the rest of q1 and all of q2 ran');
ok(wait_no_worker($node, $db), 'autocommit: the worker exits');
is(lock_holder($node, $db), '', 'autocommit: nobody holds the migr lock any more');
is($node->safe_psql($db, q{SELECT migr_wait()}), 't', 'autocommit: migr_wait() returns true');
is($node->safe_psql($db, q{SELECT count(*) FROM migr_upgrade('head')}), '0',
	'autocommit: nothing left to upgrade');

# --------------------------------------------------------------------
# 2. Caller in an explicit transaction that goes on working, then commits.
# --------------------------------------------------------------------
$node->safe_psql($db, q{
SELECT migr_define('q3', ARRAY['q2'],
  $$CREATE INDEX CONCURRENTLY t_j_idx ON t (j);
    CREATE TABLE q3_after (x int)$$);
SELECT migr_define('q4', ARRAY['q3'], $$CREATE TABLE q4_after (x int)$$);
});

my $caller = $node->background_psql($db, on_error_stop => 0);
bg_query($caller, 'BEGIN');
($out, $err) = bg_query($caller,
	q{SELECT revision || ':' || COALESCE(ms::text, 'null') FROM migr_upgrade('head')});
is($out, "q3:null\nq4:null", 'transaction: the upgrade returns q3 and q4 queued');
bg_query($caller, q{
CREATE TABLE side_work (x int);
INSERT INTO side_work SELECT generate_series(1, 10000)});

my $waiting_for_caller = q{
SELECT count(*) = 1 FROM pg_stat_activity
 WHERE backend_type = 'migr worker' AND wait_event_type = 'Lock'
   AND wait_event = 'transactionid'};
ok($node->poll_query_until($db, $waiting_for_caller),
	'transaction: the worker waits for the caller\'s transaction');
is(index_state($node, $db, 't_j_idx'), 'none', 'transaction: no index yet');
is($node->safe_psql($db, q{SELECT count(*) FROM migr.job WHERE revision IN ('q3', 'q4')}),
	'0', 'transaction: the jobs are not visible to others before the commit');

($out, $err) = bg_query($caller, q{SELECT pg_sleep(0.5)});
is( (bg_query($caller, q{
SELECT string_agg(revision || ':' || state, ',' ORDER BY id) FROM migr_jobs()
 WHERE revision IN ('q3', 'q4')}))[0],
	'q3:queued,q4:queued',
	'transaction: after sleeping, the caller sees its jobs still queued');
is($node->safe_psql($db, $waiting_for_caller), 't',
	'transaction: after the caller slept, the worker still waits for it');
is(index_state($node, $db, 't_j_idx'), 'none', 'transaction: still no index');

bg_query($caller, 'COMMIT');
ok(wait_jobs_done($node, $db), 'transaction: after the commit, the jobs are done');
is(index_state($node, $db, 't_j_idx'), 'valid', 'transaction: the index is valid');
is(applied_list($node, $db), 'q1,q2,q3,q4', 'transaction: q3 and q4 applied');
is($node->safe_psql($db, q{SELECT count(*) FROM side_work}), '10000',
	'transaction: the caller\'s other work is committed');
ok(wait_no_worker($node, $db), 'transaction: the worker exits');

# --------------------------------------------------------------------
# 3. Caller rolls back: nothing runs, nothing is left.
# --------------------------------------------------------------------
$node->safe_psql($db, q{
SELECT migr_define('q5', ARRAY['q4'],
  $$ALTER TABLE t ADD COLUMN q5col int;
    CREATE INDEX CONCURRENTLY t_u_idx ON t (u);
    CREATE TABLE q5_after (x int)$$);
SELECT migr_define('q6', ARRAY['q5'], $$CREATE TABLE q6_after (x int)$$);
});
my $log_offset = -s $node->logfile;
bg_query($caller, 'BEGIN');
($out, $err) = bg_query($caller, q{SELECT count(*) FROM migr_upgrade('head')});
is($out, '2', 'rollback: the upgrade queues q5 and q6');
ok($node->poll_query_until($db, $waiting_for_caller),
	'rollback: the worker waits for the caller\'s transaction');
bg_query($caller, 'ROLLBACK');
ok(wait_no_worker($node, $db), 'rollback: the worker exits');
is(index_state($node, $db, 't_u_idx'), 'none', 'rollback: no index');
is( $node->safe_psql($db, q{
SELECT (SELECT count(*) FROM information_schema.columns
         WHERE table_name = 't' AND column_name = 'q5col') || '/' ||
       (to_regclass('q5_after') IS NULL) || '/' ||
       (SELECT count(*) FROM migr.job WHERE revision IN ('q5', 'q6')) || '/' ||
       (SELECT count(*) FROM migr_jobs() WHERE revision IN ('q5', 'q6')) || '/' ||
       (SELECT count(*) FROM migr.log WHERE revision IN ('q5', 'q6') AND action <> 'define')}),
	'0/true/0/0/0',
	'rollback: no column, no table, no job rows, nothing logged');
is(applied_list($node, $db), 'q1,q2,q3,q4', 'rollback: q5 and q6 not applied');
ok(!$node->log_contains(qr/migr: (resuming|dropping)/, $log_offset),
	'rollback: no job was resumed and no index dropped');

# --------------------------------------------------------------------
# 12. migr_wait() in the queuing transaction: 55000, never a hang.
# --------------------------------------------------------------------
bg_query($caller, '\set VERBOSITY verbose');
bg_query($caller, 'BEGIN');
($out, $err) = bg_query($caller, q{SELECT count(*) FROM migr_upgrade('head')});
is($out, '2', 'migr_wait in the queuing transaction: q5 and q6 queued');
bg_query($caller, 'SAVEPOINT before_wait');
($out, $err) = bg_query($caller, q{SELECT migr_wait()});
like($err,
	qr/ERROR:  55000: cannot call migr_wait\(\) in the transaction that queued background jobs/,
	'migr_wait in the queuing transaction: error 55000');
like($err, qr/HINT:  Commit first, then call migr_wait\(\) in a new transaction/,
	'migr_wait in the queuing transaction: the hint says to commit first');
bg_query($caller, 'ROLLBACK TO SAVEPOINT before_wait');
($out, $err) = bg_query($caller, q{SELECT migr_wait('10s')});
like($err, qr/55000/, 'migr_wait with a timeout in the queuing transaction: 55000 too');
bg_query($caller, 'ROLLBACK TO SAVEPOINT before_wait');
bg_query($caller, 'COMMIT');
($out, $err) = bg_query($caller, q{SELECT migr_wait()});
is($out, 't', 'after the commit, migr_wait() in a new transaction waits and returns true');
is($err, '', 'and raises nothing');
is(index_state($node, $db, 't_u_idx'), 'valid', 'after migr_wait(): the index is valid');
is(applied_list($node, $db), 'q1,q2,q3,q4,q5,q6', 'after migr_wait(): q5 and q6 applied');

# --------------------------------------------------------------------
# 4. Table created in the same transaction: built in line, no job.
# --------------------------------------------------------------------
$node->safe_psql($db, q{
SELECT migr_define('q7', ARRAY['q6'],
  $$CREATE TABLE fresh AS SELECT g AS i FROM generate_series(1, 5000) g;
    CREATE INDEX CONCURRENTLY fresh_i_idx ON fresh (i);
    CREATE TABLE q7_after (x int)$$);
SELECT migr_define('q8', ARRAY['q7'],
  $$CREATE UNIQUE INDEX CONCURRENTLY fresh_i_uidx ON fresh (i);
    REINDEX INDEX CONCURRENTLY fresh_i_idx;
    DROP INDEX CONCURRENTLY fresh_i_idx$$);
});
my $jobs_before = $node->safe_psql($db, q{SELECT count(*) FROM migr.job});
bg_query($caller, 'BEGIN');
($out, $err) = bg_query($caller,
	q{SELECT revision || ':' || (ms IS NOT NULL) FROM migr_upgrade('head')});
is($out, "q7:true\nq8:true", 'in line: q7 and q8 applied in the call, with times');
unlike($err, qr/background worker/, 'in line: no NOTICE about a background worker');
is( (bg_query($caller, q{
SELECT string_agg(indexrelid::regclass || ':' || indisvalid, ',' ORDER BY indexrelid::regclass::text)
  FROM pg_index WHERE indrelid = 'fresh'::regclass}))[0],
	'fresh_i_uidx:true',
	'in line: before the commit, the caller sees the valid index (and the dropped one gone)');
is( (bg_query($caller, q{
SELECT (SELECT count(*) FROM migr_jobs() WHERE revision IN ('q7', 'q8')) || '/' ||
       (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'migr worker') || '/' ||
       (SELECT count(*) FROM migr.applied WHERE revision IN ('q7', 'q8'))}))[0],
	'0/0/2',
	'in line: no job, no worker, both applied in the transaction');
bg_query($caller, 'COMMIT');
is(index_state($node, $db, 'fresh_i_uidx'), 'valid', 'in line: valid after the commit');
is($node->safe_psql($db, q{SELECT count(*) FROM migr.job}), $jobs_before,
	'in line: no job was queued');
is(applied_list($node, $db), 'q1,q2,q3,q4,q5,q6,q7,q8', 'in line: everything applied');
# --------------------------------------------------------------------
# The other statements that need a worker, several in one revision:
# VACUUM, REINDEX ... CONCURRENTLY, DETACH PARTITION ... CONCURRENTLY and
# DROP INDEX CONCURRENTLY on existing tables, then an ordinary statement.
# --------------------------------------------------------------------
$node->safe_psql($db, q{
CREATE TABLE parted (i int) PARTITION BY RANGE (i);
CREATE TABLE parted_1 PARTITION OF parted FOR VALUES FROM (0) TO (1000);
CREATE TABLE parted_2 PARTITION OF parted FOR VALUES FROM (1000) TO (2000);
SELECT migr_define('q9', ARRAY['q8'],
  $$VACUUM t;
    REINDEX INDEX CONCURRENTLY t_i_idx;
    ALTER TABLE parted DETACH PARTITION parted_1 CONCURRENTLY;
    DROP INDEX CONCURRENTLY t_j_idx;
    CREATE TABLE q9_after (x int)$$);
});
($out, $err) = bg_query($caller,
	q{SELECT revision || ':' || COALESCE(ms::text, 'null') FROM migr_upgrade('head')});
is($out, 'q9:null', 'other statements: q9 is queued at its VACUUM');
like($err, qr/Statement 1 cannot run inside a transaction block/,
	'other statements: the NOTICE names statement 1');
($out, $err) = bg_query($caller, q{SELECT migr_wait()});
is($out, 't', 'other statements: migr_wait() returns true');
is( $node->safe_psql($db, q{
SELECT (SELECT last_vacuum IS NOT NULL FROM pg_stat_user_tables WHERE relname = 't') || '/' ||
       (SELECT string_agg(indexrelid::regclass || ':' || indisvalid, ',' ORDER BY indexrelid::regclass::text)
          FROM pg_index WHERE indrelid = 't'::regclass) || '/' ||
       (SELECT string_agg(inhrelid::regclass::text, ',') FROM pg_inherits
         WHERE inhparent = 'parted'::regclass) || '/' ||
       (to_regclass('q9_after') IS NOT NULL)}),
	'true/t_i_idx:true,t_u_idx:true/parted_2/true',
	'other statements: t vacuumed, t_i_idx rebuilt valid (no _ccnew/_ccold left), t_j_idx dropped, parted_1 detached, the rest ran'
);
is(applied_list($node, $db), 'q1,q2,q3,q4,q5,q6,q7,q8,q9', 'other statements: q9 applied');

is($node->safe_psql($db, 'SELECT count(*) FROM migr_check()'), '0',
	'migr_check() is clean at the end');

$caller->quit;
$node->stop;
done_testing();

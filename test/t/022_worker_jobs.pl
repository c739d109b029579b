
# Copyright (c) 2026, migr developers

# Background jobs that cannot be interleaved, looped or left half done
# (README, "Concurrent index builds" and "Security"; issue 9 items 7 to 10):
#  7. settings: a worker-run statement sees the SETs of its own revision
#     (those run in line before the deferred statement included) and the
#     caller's session settings, nothing of other revisions;
#  8. a job whose role was renamed or dropped while it waited fails once,
#     clearly, whether its worker is still there or a new one resumes it;
#     a cancel that commits while the worker waits to record its progress
#     wins (every state change is compare-and-set);
#  9. a DETACH PARTITION ... CONCURRENTLY whose worker is killed between
#     its two transactions is finished with FINALIZE when resumed;
# 10. a failed job keeps its error's detail (the duplicate key), shown by
#     migr_jobs(), raised by migr_wait(); migr_check() reports failed and
#     stuck jobs.

use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use MigrWorker;

my $db = 'postgres';
my $node = new_worker_node('jobs', rows => 10000);
my ($ret, $out, $err);

# --------------------------------------------------------------------
# 7. Settings.
# --------------------------------------------------------------------
$node->safe_psql($db, q{
CREATE SCHEMA s2;
CREATE TABLE s2.t (a int);
INSERT INTO s2.t SELECT generate_series(1, 1000);
CREATE TABLE seen (label text, mwm text, wm text, path text, flag text);
-- IMMUTABLE as declared, so that it can be indexed; it checks the setting
CREATE FUNCTION public.mwm_must_be_77(v int) RETURNS int
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  IF current_setting('maintenance_work_mem') <> '77MB' THEN
    RAISE EXCEPTION 'built with maintenance_work_mem %',
                    current_setting('maintenance_work_mem');
  END IF;
  RETURN v;
END $$;
SELECT migr_define('s7a', NULL,
  $$SET search_path = s2;
    SET maintenance_work_mem = '77MB';
    CREATE INDEX CONCURRENTLY t_a_idx ON t (public.mwm_must_be_77(a));
    SET work_mem = '7MB';
    CREATE TABLE made_by_a (x int);
    INSERT INTO public.seen SELECT 'a', current_setting('maintenance_work_mem'),
      current_setting('work_mem'), current_setting('search_path'),
      current_setting('myapp.flag', true)$$);
SELECT migr_define('s7b', ARRAY['s7a'],
  $$CREATE TABLE made_by_b (x int);
    INSERT INTO public.seen SELECT 'b', current_setting('maintenance_work_mem'),
      current_setting('work_mem'), current_setting('search_path'),
      current_setting('myapp.flag', true)$$);
});
$out = $node->safe_psql($db, q{
SET myapp.flag = 'from the caller';
SELECT string_agg(revision || ':' || COALESCE(ms::text, 'null'), ',') FROM migr_upgrade('head');
});
is($out, 's7a:null,s7b:null', 'settings: queued');
ok(wait_jobs_done($node, $db), 'settings: the jobs are done');
is($node->safe_psql($db, q{SELECT to_regclass('s2.t_a_idx') IS NOT NULL}), 't',
	'settings: the index is built on s2.t (the revision\'s search_path), with maintenance_work_mem 77MB');
is( $node->safe_psql($db, q{
SELECT string_agg(label || ':' || mwm || ':' || wm || ':' || path || ':' || COALESCE(flag, '-'), E'\n' ORDER BY label)
  FROM seen}),
	"a:77MB:7MB:s2:from the caller\nb:64MB:4MB:\"\$user\", public:from the caller",
	'settings: each revision sees its own SETs and the caller\'s, nothing of the other revision');
is( $node->safe_psql($db, q{
SELECT string_agg(c.oid::regclass::text, ',' ORDER BY relname)
  FROM pg_class c WHERE relname LIKE 'made_by_%'}),
	's2.made_by_a,made_by_b', 'settings: made_by_a is in s2, made_by_b in public');

# --------------------------------------------------------------------
# 10. A failed job keeps its detail; migr_check() reports it.
# --------------------------------------------------------------------
$node->safe_psql($db, q{
SELECT migr_define('u1', ARRAY['s7b'], $$CREATE UNIQUE INDEX CONCURRENTLY t_j_uidx ON t (j)$$);
});
$node->safe_psql($db, q{
SET migr.max_job_attempts = 1;
SELECT count(*) FROM migr_upgrade('head');
});
ok($node->poll_query_until($db,
		q{SELECT state FROM migr.job WHERE revision = 'u1'}, 'failed'),
	'detail: the unique build fails');
my $u1 = $node->safe_psql($db, q{SELECT id FROM migr.job WHERE revision = 'u1'});
like($node->safe_psql($db, q{SELECT error FROM migr_jobs() WHERE revision = 'u1'}),
	qr/^could not create unique index "t_j_uidx"\nDETAIL:  Key \(j\)=\(\d+\) is duplicated\.$/,
	'detail: migr_jobs() shows the error with its detail');
($ret, $out, $err) = sql_result($node, $db, q{SELECT migr_wait()});
like($err, qr/ERROR:  23505: background job $u1 for revision "u1" failed: could not create unique index "t_j_uidx"\nDETAIL:  Key \(j\)=\(\d+\) is duplicated\.\nThe job queue is stopped/,
	'detail: migr_wait() raises it with its detail and SQLSTATE');
is( $node->safe_psql($db, q{
SELECT revision || ':' || severity || ':' || code FROM migr_check() WHERE code LIKE 'job_%'}),
	'u1:error:job_failed', 'detail: migr_check() reports the failed job');
like( $node->safe_psql($db, q{
SELECT message || ' / ' || hint FROM migr_check() WHERE code = 'job_failed'}),
	qr/^background job $u1 failed: could not create unique index "t_j_uidx"\nDETAIL:  Key .* \/ Fix the cause, then SELECT migr_retry\($u1\)/,
	'detail: with the error and what to do');
$node->safe_psql($db, qq{SELECT migr_cancel($u1)});
is($node->safe_psql($db, q{SELECT count(*) FROM migr_check() WHERE code LIKE 'job_%'}),
	'0', 'detail: once cancelled, migr_check() reports nothing');

# --------------------------------------------------------------------
# 8. A role renamed while its job waits for the caller's commit: the
# worker (still connected) fails the job once.
# --------------------------------------------------------------------
$node->safe_psql($db, q{
CREATE ROLE r1 LOGIN;
GRANT EXECUTE ON FUNCTION migr_upgrade(text) TO r1;
CREATE TABLE rt (a int);
INSERT INTO rt SELECT generate_series(1, 1000);
ALTER TABLE rt OWNER TO r1;
SELECT migr_define('r1', ARRAY['s7b'], $$CREATE INDEX CONCURRENTLY rt_a_idx ON rt (a)$$);
});
my $log_offset = -s $node->logfile;
($ret, $out, $err) = sql_result($node, $db, q{
BEGIN;
SET migr.max_job_attempts = 5;
SET ROLE r1;
SELECT count(*) FROM migr_upgrade('r1');
RESET ROLE;
ALTER ROLE r1 RENAME TO r1_renamed;
COMMIT;
});
is($ret, 0, 'renamed: queued, then the role is renamed');
# NB: the worker usually fails the job itself.  When the rename commits while
# the worker is still starting up, the worker can exit before it reads the
# job (a known race, left for a later fix); the job then stays queued with no
# worker, and the next migr call resumes it with a worker that fails it.
# Either way it fails once, with the same error.
ok( $node->poll_query_until(
		$db, q{
SELECT (SELECT state FROM migr.job WHERE revision = 'r1') = 'failed'
    OR NOT EXISTS (SELECT FROM pg_stat_activity WHERE backend_type = 'migr worker')}),
	'renamed: the job fails, or its worker is gone');
if ($node->safe_psql($db, q{SELECT state FROM migr.job WHERE revision = 'r1'}) ne 'failed')
{
	note('the worker exited before it read the job: resuming it');
	$node->psql($db, q{SELECT migr_wait('1 s')});
}
ok($node->poll_query_until($db,
		q{SELECT state FROM migr.job WHERE revision = 'r1'}, 'failed'),
	'renamed: the job fails');
is( $node->safe_psql($db, q{
SELECT attempts || ':' || sqlstate || ':' || error FROM migr.job WHERE revision = 'r1'}),
	qq{1:42704:role "r1" of the job does not exist\nDETAIL:  The role that queued the job was dropped or renamed while the job waited.\nHINT:  Cancel the job with SELECT migr_cancel(}
	  . $node->safe_psql($db, q{SELECT id FROM migr.job WHERE revision = 'r1'})
	  . '), then upgrade again as an existing role.',
	'renamed: once (not 5 times), naming the role');
ok(wait_no_worker($node, $db), 'renamed: no worker is left');
my $r1 = $node->safe_psql($db, q{SELECT id FROM migr.job WHERE revision = 'r1'});
$node->safe_psql($db, qq{SELECT migr_cancel($r1)});

# --------------------------------------------------------------------
# 8. A role dropped while its job waits, and its worker gone: the next
# migr call resumes the queue with a worker that fails the job once, and
# nothing loops.
# --------------------------------------------------------------------
$node->safe_psql($db, q{
CREATE ROLE r2 LOGIN;
GRANT EXECUTE ON FUNCTION migr_upgrade(text) TO r2;
ALTER TABLE rt OWNER TO r2;
SELECT migr_define('r2', ARRAY['s7b'], $$CREATE INDEX CONCURRENTLY rt_a2_idx ON rt (a)$$);
});
$log_offset = -s $node->logfile;
($ret, $out, $err) = sql_result($node, $db, q{
BEGIN;
SET ROLE r2;
SELECT count(*) FROM migr_upgrade('r2');
RESET ROLE;
SELECT pg_terminate_backend(worker_pid) FROM migr.job WHERE revision = 'r2' AND state = 'queued';
ALTER TABLE rt OWNER TO postgres;
REVOKE ALL ON FUNCTION migr_upgrade(text) FROM r2;
DROP ROLE r2;
COMMIT;
});
is($ret, 0, 'dropped: queued, worker terminated, role dropped') or diag $err;
($ret, $out, $err) = sql_result($node, $db, q{SELECT migr_wait('60s')});
like($err, qr/ERROR:  42704: background job \d+ for revision "r2" failed: role "r2" of the job does not exist/,
	'dropped: migr_wait() resumes the queue and raises the failure');
is($node->safe_psql($db, q{SELECT state || ':' || attempts FROM migr.job WHERE revision = 'r2'}),
	'failed:1', 'dropped: the job failed once');
ok(wait_no_worker($node, $db), 'dropped: no worker is left');
my @fails = grep { /role "r2" of the job does not exist/ && /LOG:/ }
  split /\n/, slurp_file($node->logfile, $log_offset);
is(scalar(@fails), 1, 'dropped: one worker failed it, no loop');
my $r2 = $node->safe_psql($db, q{SELECT id FROM migr.job WHERE revision = 'r2'});
$node->safe_psql($db, qq{SELECT migr_cancel($r2)});

# --------------------------------------------------------------------
# 8. A cancel that commits while the worker waits to record the end of
# its build wins: the job stays cancelled, the revision unapplied.
# --------------------------------------------------------------------
$node->safe_psql($db, q{
SELECT migr_define('c1', ARRAY['s7b'], $$CREATE INDEX CONCURRENTLY t_c1_idx ON t (u)$$);
});
my $holder = hold_snapshot($node, $db);
$node->safe_psql($db, q{SELECT count(*) FROM migr_upgrade('c1')});
ok(wait_build_phase($node, $db, 'waiting for old snapshots'), 'cas: the worker builds');
my $locker = $node->background_psql($db, on_error_stop => 0);
bg_query($locker, q{BEGIN});
bg_query($locker, q{SELECT id FROM migr.job WHERE revision = 'c1' FOR UPDATE});
release($holder);
ok($node->poll_query_until($db, q{
SELECT count(*) = 1 FROM pg_stat_activity
 WHERE backend_type = 'migr worker' AND wait_event_type = 'Lock'
   AND wait_event = 'transactionid'}),
	'cas: the built worker waits on the job\'s row');
bg_query($locker, q{UPDATE migr.job SET state = 'cancelled', finished_at = now() WHERE revision = 'c1'});
bg_query($locker, q{COMMIT});
$locker->quit;
ok(wait_no_worker($node, $db), 'cas: the worker is done');
is($node->safe_psql($db, q{SELECT state FROM migr.job WHERE revision = 'c1'}),
	'cancelled', 'cas: the cancel wins');
is($node->safe_psql($db, q{SELECT count(*) FROM migr.applied WHERE revision = 'c1'}),
	'0', 'cas: c1 is not recorded as applied');

# --------------------------------------------------------------------
# 9. DETACH PARTITION ... CONCURRENTLY interrupted between its two
# transactions: resumed, FINALIZE finishes it.
# --------------------------------------------------------------------
$node->safe_psql($db, q{
CREATE TABLE p (a int) PARTITION BY RANGE (a);
CREATE TABLE p1 PARTITION OF p FOR VALUES FROM (0) TO (100);
CREATE TABLE p2 PARTITION OF p FOR VALUES FROM (100) TO (200);
INSERT INTO p SELECT generate_series(0, 199);
SELECT migr_define('d1', ARRAY['s7b'],
  $$ALTER TABLE p DETACH PARTITION p1 CONCURRENTLY;
    CREATE TABLE after_detach (x int)$$);
});
my $reader = $node->background_psql($db, on_error_stop => 0);
bg_query($reader, q{BEGIN});
bg_query($reader, q{SELECT count(*) FROM p});
$node->safe_psql($db, q{SELECT count(*) FROM migr_upgrade('d1')});
ok($node->poll_query_until($db, q{
SELECT inhdetachpending FROM pg_inherits WHERE inhrelid = 'p1'::regclass}),
	'detach: the first transaction committed (pending detach)');
ok($node->poll_query_until($db, q{
SELECT count(*) = 1 FROM pg_stat_activity
 WHERE backend_type = 'migr worker' AND wait_event_type = 'Lock'}),
	'detach: the worker waits for the reader');
$node->safe_psql($db, q{
SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE backend_type = 'migr worker'});
ok(wait_no_worker($node, $db), 'detach: the worker is killed');
is( $node->safe_psql($db, q{
SELECT revision || ':' || severity || ':' || code FROM migr_check() WHERE code LIKE 'job_%'}),
	'd1:warning:job_stuck', 'detach: migr_check() reports the stuck job');
bg_query($reader, q{COMMIT});
$reader->quit;
($ret, $out, $err) = sql_result($node, $db, q{SELECT migr_wait('60s')});
is($out, 't', 'detach: migr_wait() resumes the job, which completes') or diag $err;
is($node->safe_psql($db, q{SELECT count(*) FROM pg_inherits WHERE inhrelid = 'p1'::regclass}),
	'0', 'detach: p1 is detached');
is($node->safe_psql($db, q{SELECT to_regclass('after_detach') IS NOT NULL}),
	't', 'detach: the rest of the revision ran');
like(applied_list($node, $db), qr/\bd1\b/, 'detach: d1 is applied');
ok(grep({ /finishing the interrupted detach of partition public\.p1/ }
		split /\n/, slurp_file($node->logfile)),
	'detach: the log says FINALIZE finished it');

$node->stop;
done_testing();

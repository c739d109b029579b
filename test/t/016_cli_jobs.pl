# Issue 13, item 6: background jobs from the command: "migr jobs",
# "migr retry N", "migr cancel N", and "migr wait" saying why a job is
# stuck: the process it waits for, that process's state and query.
use strict;
use warnings;

use FindBin;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

use lib $FindBin::RealBin;
use MigrCli;
use MigrWorker;

my $node = new_worker_node('cli_jobs', rows => 2000);
my $tmp = PostgreSQL::Test::Utils::tempdir;
my $d = "$tmp/migrations";
my ($rc, $out, $err);

sub sql { return $node->safe_psql('postgres', $_[0]); }
sub migr { return run_migr($node, [@_], cwd => $tmp); }

($rc, $out, $err) = migr('jobs');
exit_is($rc, 0, 'jobs with none');
like($out, qr/^no background job$/m, 'jobs: none');

# a build held back by an open transaction's snapshot
write_file("$d/j1.sql", revision_text('j1', upgrade => "CREATE INDEX CONCURRENTLY t_i ON t (i);\n",
	downgrade => "DROP INDEX t_i;\n"));
my $holder = hold_snapshot($node, 'postgres');
my $holder_pid = $holder->query('SELECT pg_backend_pid()');
($rc, $out, $err) = migr('upgrade', '--push');
exit_is($rc, 0, 'upgrade queues the build');
ok($node->poll_query_until('postgres', q{
SELECT count(*) > 0 FROM migr.job j
  WHERE j.state = 'running'
    AND cardinality(pg_blocking_pids(j.worker_pid)) > 0}), 'the build waits for the holder');

($rc, $out, $err) = migr('wait', '--timeout', '1s');
exit_is($rc, 1, 'wait times out');
like($err, qr/timed out after 1s/, 'wait: timed out');
like($err, qr/job \d+ \(revision j1\), running in process \d+, waits for process $holder_pid \(idle in transaction since [\d-]+ [\d:]+\): SELECT pg_backend_pid\(\)/,
	'wait: what the job waits for, who holds it back and what that one runs');
like($err, qr/hint: "migr jobs" lists them; "migr cancel JOB" cancels one/, 'wait: the way on');

($rc, $out, $err) = migr('jobs');
exit_is($rc, 0, 'jobs');
like($out, qr/^ +\d+ \| j1 +\| running \| +\d+ \| CREATE INDEX CONCURRENTLY t_i ON t \(i\)/m, 'jobs: the running job');
like($err, qr/waits for process $holder_pid/, 'jobs: says what it waits for too');

release($holder);
($rc, $out, $err) = migr('wait', '--timeout', '120s');
exit_is($rc, 0, 'wait after the holder commits');
is(index_state($node, 'postgres', 't_i'), 'valid', 'the index was built');
($rc, $out, $err) = migr('jobs');
like($out, qr/^ +\d+ \| j1 +\| done /m, 'jobs: done');

# a build that fails: retry, then cancel
write_file("$d/j2.sql", revision_text('j2', parents => 'j1',
	upgrade => "CREATE UNIQUE INDEX CONCURRENTLY t_j ON t (j);\n", downgrade => "DROP INDEX t_j;\n"));
($rc, $out, $err) = run_migr($node, [ 'upgrade', '--push' ], cwd => $tmp,
	env => { PGOPTIONS => '-c migr.max_job_attempts=1' });
exit_is($rc, 0, 'upgrade queues a build that will fail');
ok($node->poll_query_until('postgres', q{SELECT state = 'failed' FROM migr.job WHERE revision = 'j2'}),
	'the job failed');
my $job = sql(q{SELECT id FROM migr.job WHERE revision = 'j2'});
($rc, $out, $err) = migr('jobs');
like($out, qr/^ +$job \| j2 +\| failed +\| +1 \| CREATE UNIQUE INDEX .*\| could not create unique index/m,
	'jobs: the failed job and its error');
($rc, $out, $err) = migr('wait', '--timeout', '5s');
exit_is($rc, 1, 'wait raises the failure');

my $failed_at = sql(qq{SELECT finished_at FROM migr.job WHERE id = $job});
($rc, $out, $err) = migr('retry', $job);
exit_is($rc, 0, 'retry');
like($out, qr/^job $job queued again/m, 'retry: says so');
ok($node->poll_query_until('postgres', qq{SELECT state = 'failed' AND finished_at > '$failed_at' FROM migr.job WHERE id = $job}),
	'the retried job ran again (and failed again)');
($rc, $out, $err) = migr('cancel', $job);
exit_is($rc, 0, 'cancel');
like($out, qr/^job $job cancelled, with every job queued after it$/m, 'cancel: says so');
is(sql(qq{SELECT state FROM migr.job WHERE id = $job}), 'cancelled', 'the job is cancelled');

($rc, $out, $err) = migr('retry', 'abc');
exit_is($rc, 2, 'retry of a non-number');
like($err, qr/invalid job number "abc"/, 'retry: says why');
($rc, $out, $err) = migr('cancel', '999999');
exit_is($rc, 1, 'cancel of an unknown job');
like($err, qr/^ERROR:  \S+: .*999999/m, 'cancel: the server\'s error');

$node->stop;
done_testing();

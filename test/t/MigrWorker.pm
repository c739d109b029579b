# test/t/MigrWorker.pm: helpers shared by the TAP tests of migr's
# background workers (test/t/020_worker_*.pl; README, "Concurrent index
# builds").  Not run by prove (not *.pl); found through PROVE_FLAGS =
# -I ./test/t.
#
# Long index builds are made controllable, never timed: a "holder" session
# opens a REPEATABLE READ transaction and takes a snapshot before the build
# starts.  CREATE INDEX CONCURRENTLY then does its work and stops in the
# phase "waiting for old snapshots" (with its index already in the catalog,
# INVALID) until the holder commits.  Every wait is a poll_query_until.
package MigrWorker;

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);

use Exporter 'import';
our @EXPORT = qw(new_worker_node fill_table hold_snapshot release
  bg_query sql_result index_state worker_count wait_build_phase
  wait_no_worker wait_jobs_done job_states applied_list lock_holder
  worker_pid timed_psql with_timeout);

# new_worker_node($name, preload => 0|1, conf => "extra lines",
#                 rows => N, db => 'postgres')
# A started node with migr installed in $db and a table "t" of N rows
# (i int, j int, u int), no index.
sub new_worker_node
{
	my ($name, %opt) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name);
	my $db = $opt{db} // 'postgres';

	$node->init;
	$node->append_conf('postgresql.conf', qq(
restart_after_crash = on
log_line_prefix = '%m [%p] %b '
autovacuum = off
));
	$node->append_conf('postgresql.conf',
		"shared_preload_libraries = 'migr'\n")
	  if $opt{preload};
	$node->append_conf('postgresql.conf', $opt{conf}) if $opt{conf};
	$node->start;
	$node->safe_psql('postgres', "CREATE DATABASE $db") if $db ne 'postgres';
	$node->safe_psql($db, 'CREATE EXTENSION migr');
	fill_table($node, $db, 't', $opt{rows} // 100000);
	return $node;
}

# fill_table($node, $db, $table, $rows): (i, j, u) with i unique.
sub fill_table
{
	my ($node, $db, $table, $rows) = @_;
	$node->safe_psql($db, qq{
CREATE TABLE $table (i int NOT NULL, j int NOT NULL, u int NOT NULL);
INSERT INTO $table SELECT g, g % 1000, g FROM generate_series(1, $rows) g;
ANALYZE $table;
});
	return;
}

# hold_snapshot($node, $db): a session in a REPEATABLE READ transaction
# with a snapshot taken now.  A concurrent index build started after this
# stays in "waiting for old snapshots" until release().
sub hold_snapshot
{
	my ($node, $db) = @_;
	my $bg = $node->background_psql($db // 'postgres', on_error_stop => 0);
	bg_query($bg, 'BEGIN ISOLATION LEVEL REPEATABLE READ');
	bg_query($bg, 'SELECT count(*) FROM pg_class');
	return $bg;
}

# release($bg): end the holder's transaction and session.  A session whose
# server went away (crash, immediate stop, terminate) is only forgotten.
sub release
{
	my ($bg) = @_;
	eval {
		bg_query($bg, 'COMMIT');
		$bg->quit;
	};
	return;
}

# bg_query($bg, $sql): run $sql in a background session; returns
# ($stdout, $stderr) and forgets the stderr (NOTICEs, errors) afterwards.
sub bg_query
{
	my ($bg, $sql) = @_;
	my $out = $bg->query($sql);
	my $err = $bg->{stderr};
	$bg->{stderr} = '';
	return ($out, $err);
}

# sql_result($node, $db, $sql): ($ret, $stdout, $stderr) with errors in
# verbose form (with their SQLSTATE), never dying.
sub sql_result
{
	my ($node, $db, $sql) = @_;
	my ($ret, $out, $err) = $node->psql(
		$db, $sql,
		on_error_stop => 1,
		extra_params => [ '-v', 'VERBOSITY=verbose' ]);
	return ($ret, $out, $err);
}

# index_state($node, $db, $index): 'valid', 'invalid' or 'none'.
sub index_state
{
	my ($node, $db, $index) = @_;
	return $node->safe_psql($db, qq{
SELECT COALESCE((SELECT CASE WHEN indisvalid THEN 'valid' ELSE 'invalid' END
                   FROM pg_index WHERE indexrelid = to_regclass('$index')),
                'none')});
}

# worker_count($node, $db): live migr workers (of $db, or of any database).
sub worker_count
{
	my ($node, $db) = @_;
	return $node->safe_psql($db // 'postgres', q{
SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'migr worker'});
}

# worker_pid($node, $db): the pid of the (single) live migr worker.
sub worker_pid
{
	my ($node, $db) = @_;
	return $node->safe_psql($db // 'postgres', q{
SELECT pid FROM pg_stat_activity WHERE backend_type = 'migr worker'});
}

# wait_build_phase($node, $db, $phase): poll until a migr worker builds an
# index in that phase of pg_stat_progress_create_index.
sub wait_build_phase
{
	my ($node, $db, $phase) = @_;
	return $node->poll_query_until($db, qq{
SELECT count(*) = 1
  FROM pg_stat_progress_create_index p
  JOIN pg_stat_activity a USING (pid)
 WHERE a.backend_type = 'migr worker' AND p.phase = '$phase'});
}

# wait_no_worker($node, $db): poll until no migr worker is alive.
sub wait_no_worker
{
	my ($node, $db) = @_;
	return $node->poll_query_until($db // 'postgres', q{
SELECT count(*) = 0 FROM pg_stat_activity WHERE backend_type = 'migr worker'});
}

# wait_jobs_done($node, $db): poll until no job is queued or running, and
# return whether every job is done (plain reads of migr.job: they resume
# nothing).  A failed job ends the wait at once.
sub wait_jobs_done
{
	my ($node, $db) = @_;
	return 0 unless $node->poll_query_until($db, q{
SELECT count(*) > 0 AND bool_and(state IN ('done', 'failed', 'cancelled'))
  FROM migr.job});
	my $left = $node->safe_psql($db, q{
SELECT string_agg(id || ':' || revision || ':' || state || ':' || COALESCE(error, ''), ', ')
  FROM migr.job WHERE state <> 'done'});
	diag("jobs not done: $left") if $left ne '';
	return $left eq '';
}

# job_states($node, $db): "revision:state,..." in job order.
sub job_states
{
	my ($node, $db) = @_;
	return $node->safe_psql($db, q{
SELECT string_agg(revision || ':' || state, ',' ORDER BY id) FROM migr.job});
}

# applied_list($node, $db): applied revisions, sorted, comma-separated.
sub applied_list
{
	my ($node, $db) = @_;
	return $node->safe_psql($db, q{
SELECT COALESCE(string_agg(revision, ',' ORDER BY revision), '')
  FROM migr.applied});
}

# lock_holder($node, $db): the backend_type of whoever holds the migr lock
# (advisory, 1835624306, 0, 3), or ''.
sub lock_holder
{
	my ($node, $db) = @_;
	return $node->safe_psql($db, q{
SELECT COALESCE(string_agg(a.backend_type, ','), '')
  FROM pg_locks l JOIN pg_stat_activity a USING (pid)
 WHERE l.locktype = 'advisory' AND l.classid = 1835624306 AND l.objid = 0
   AND l.objsubid = 3 AND l.granted
   AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())});
}

# timed_psql($node, $db, $sql): ($seconds, $ret, $stdout, $stderr).
sub timed_psql
{
	my ($node, $db, $sql) = @_;
	my $t0 = time();
	my ($ret, $out, $err) = sql_result($node, $db, $sql);
	return (time() - $t0, $ret, $out, $err);
}

# with_timeout($seconds, sub { ... }): run the code with polls bounded by
# $seconds instead of the default (for checks expected to fail, under TODO).
sub with_timeout
{
	my ($seconds, $code) = @_;
	local $PostgreSQL::Test::Utils::timeout_default = $seconds;
	return $code->();
}

1;

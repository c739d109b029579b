
# Copyright (c) 2026, migr developers

# A crash in the middle of a revision: a backend killed with SIGKILL while
# its migr_upgrade() sleeps inside the second of two revisions, and then
# the whole server stopped in "immediate" mode at the same point.  Crash
# recovery must leave nothing of the interrupted call (the first revision
# was applied in the same transaction, so it is gone too), and the next
# migr_upgrade() must apply everything normally.

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('crash');
$node->init;
$node->append_conf(
	'postgresql.conf', qq(
shared_preload_libraries = 'migr'
restart_after_crash = on
));
$node->start;

$node->safe_psql('postgres', 'CREATE EXTENSION migr');

# crash1 creates a table; crash2 creates one and then sleeps long enough to
# be killed in the middle.
$node->safe_psql(
	'postgres', q{
SELECT migr_define('crash1', NULL, 'CREATE TABLE crash_a (i int)', 'DROP TABLE crash_a');
SELECT migr_define('crash2', ARRAY['crash1'],
                   'CREATE TABLE crash_b (i int); SELECT pg_sleep(600)',
                   'DROP TABLE crash_b');
});

# The state that nothing of an interrupted call may change.
sub state_is
{
	my ($what) = @_;

	is( $node->safe_psql(
			'postgres', q{
SELECT (SELECT count(*) FROM migr.applied) || '/' ||
       (SELECT count(*) FROM migr.log WHERE action <> 'define') || '/' ||
       (to_regclass('crash_a') IS NULL) || '/' ||
       (to_regclass('crash_b') IS NULL)
}),
		'0/0/true/true',
		"$what: no revision applied, none logged, no table left");
	is($node->safe_psql('postgres', 'SELECT count(*) FROM migr_check()'),
		'0', "$what: migr_check() is clean");
	is( $node->safe_psql(
			'postgres', q{SELECT string_agg(revision, ',') FROM migr_heads()}),
		'crash2',
		"$what: the graph is intact");
}

# Start migr_upgrade('head') in a background session, wait until it sleeps
# inside crash2, and return the session and its backend's pid.
sub start_sleeping_upgrade
{
	my $bg = $node->background_psql('postgres', on_error_stop => 0);
	$bg->query_until(qr/upgrading/, q{
\echo upgrading
SELECT * FROM migr_upgrade('head');
});
	ok( $node->poll_query_until(
			'postgres', q{
SELECT count(*) = 1 FROM pg_stat_activity
 WHERE query LIKE '%migr_upgrade%' AND wait_event = 'PgSleep'
   AND pid <> pg_backend_pid()
}),
		'the upgrade sleeps inside crash2')
	  or die 'the upgrade never reached the pg_sleep of crash2';
	my $pid = $node->safe_psql(
		'postgres', q{
SELECT pid FROM pg_stat_activity
 WHERE query LIKE '%migr_upgrade%' AND wait_event = 'PgSleep'
   AND pid <> pg_backend_pid()
});

	# what the sleeping transaction has done is not visible to others
	is( $node->safe_psql(
			'postgres', q{SELECT to_regclass('crash_a') IS NULL
                                    AND NOT EXISTS (SELECT FROM migr.applied)}),
		't',
		'crash1, applied in the sleeping transaction, is not visible yet');
	return ($bg, $pid);
}

# Forget a background session whose connection the crash closed.
sub forget_session
{
	my ($bg) = @_;
	eval { $bg->quit; };
	return;
}

# 1. SIGKILL of the backend: the postmaster resets every backend and runs
#    crash recovery.
my ($bg, $pid) = start_sleeping_upgrade();
my $log_offset = -s $node->logfile;
ok(kill('KILL', $pid), "SIGKILL sent to the migrating backend $pid");
$node->wait_for_log(qr/all server processes terminated; reinitializing/,
	$log_offset);
$node->wait_for_log(qr/database system is ready to accept connections/,
	$log_offset);
ok($node->poll_query_until('postgres', 'SELECT 1', '1'),
	'the server accepts connections again after crash recovery');
forget_session($bg);
state_is('after SIGKILL of the backend');

# 2. The whole server stopped in immediate mode (no shutdown checkpoint):
#    recovery at the next start.
($bg, $pid) = start_sleeping_upgrade();
$node->stop('immediate');
forget_session($bg);
$node->start;
state_is('after an immediate shutdown');

# crash2 is not applied, so it can be redefined (without the sleep); the
# next upgrade applies both revisions from the start.
my ($ret, $stdout, $stderr) = $node->psql(
	'postgres', q{
SELECT migr_define('crash2', ARRAY['crash1'], 'CREATE TABLE crash_b (i int)',
                   'DROP TABLE crash_b')});
is($ret, 0, 'crash2 redefined');
like($stderr, qr/replacing revision "crash2", which is not applied/,
	'redefining crash2 says it replaces an unapplied revision');

is( $node->safe_psql(
		'postgres',
		q{SELECT string_agg(revision, ',') FROM migr_upgrade('head')}),
	'crash1,crash2',
	'the next upgrade applies crash1 and crash2');
is( $node->safe_psql(
		'postgres', q{
SELECT (SELECT string_agg(revision, ',' ORDER BY revision) FROM migr.applied) || '/' ||
       (SELECT string_agg(revision, ',' ORDER BY id) FROM migr.log
         WHERE action = 'upgrade') || '/' ||
       (to_regclass('crash_a') IS NOT NULL) || '/' ||
       (to_regclass('crash_b') IS NOT NULL)
}),
	'crash1,crash2/crash1,crash2/true/true',
	'both applied once, logged once, tables created');
is($node->safe_psql('postgres', 'SELECT count(*) FROM migr_check()'),
	'0', 'migr_check() is clean at the end');

$node->stop;
done_testing();

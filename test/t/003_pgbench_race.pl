
# Copyright (c) 2026, migr developers

# Many application connections calling migr_upgrade('head') at the same
# moment, as they would at start-up: 50 pgbench clients, each running it
# five times, against 20 pending revisions.  Every revision must be applied
# exactly once, no call may fail, and the calls that find nothing to do
# must keep finding nothing to do.  Then a second round with ten more, where
# all the clients are made to wait for the migr lock and then released at
# once.

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;

my $nrevs = 20;
my $clients = 50;

my $node = PostgreSQL::Test::Cluster->new('race');
$node->init;
$node->append_conf(
	'postgresql.conf', qq(
shared_preload_libraries = 'migr'
max_connections = 80
log_statement = none
));
$node->start;

$node->safe_psql('postgres', 'CREATE EXTENSION migr');

# Define revisions race_<from> .. race_<to> in a line, each creating a table.
sub define_line
{
	my ($from, $to) = @_;
	$node->safe_psql(
		'postgres', qq{
DO \$\$
BEGIN
  FOR i IN $from..$to LOOP
    PERFORM migr_define(format('race_%s', i),
                        CASE WHEN i > 1 THEN ARRAY[format('race_%s', i - 1)] END,
                        format('CREATE TABLE race_t%s (i int)', i),
                        format('DROP TABLE race_t%s', i));
  END LOOP;
END \$\$});
	return;
}

# pgbench: every client runs the script $tx times, all connected at once.
sub race
{
	my ($name, $tx) = @_;
	my $total = $clients * $tx;

	$node->pgbench(
		"--no-vacuum --client=$clients --jobs=2 --transactions=$tx",
		0,
		[
			qr{actually processed: $total/$total},
			qr{number of failed transactions: 0 \(0\.000%\)}
		],
		[qr{^$}],
		$name,
		{
			"003_pgbench_race_$name" =>
			  q{SELECT count(*) FROM migr_upgrade('head');}
		});
	return;
}

# The applied set, the upgrade log and the tables, as one line.
sub check_applied
{
	my ($n, $what) = @_;

	is( $node->safe_psql(
			'postgres', q{
SELECT (SELECT count(*) FROM migr.applied) || '/' ||
       (SELECT count(*) FROM migr.log WHERE action = 'upgrade') || '/' ||
       (SELECT count(DISTINCT revision) FROM migr.log WHERE action = 'upgrade') || '/' ||
       (SELECT count(*) FROM pg_class
         WHERE relname ~ '^race_t[0-9]+$' AND relkind = 'r')
}),
		"$n/$n/$n/$n",
		"$what: $n revisions applied, each logged once, $n tables");
	is( $node->safe_psql(
			'postgres',
			q{SELECT count(*) FROM migr.log WHERE action = 'upgrade' AND outcome <> 'applied'}),
		'0',
		"$what: every upgrade in the log succeeded");
	is($node->safe_psql('postgres', 'SELECT count(*) FROM migr_check()'),
		'0', "$what: migr_check() is clean");
	is( $node->safe_psql(
			'postgres',
			q{SELECT count(*) FROM migr_history() WHERE NOT applied}),
		'0',
		"$what: nothing left pending");
	return;
}

define_line(1, $nrevs);
race('first', 5);
check_applied($nrevs, 'first round');

# The log names the revisions in order: they were applied parents first.
is( $node->safe_psql(
		'postgres', q{
SELECT bool_and(prev IS NULL OR prev < n) FROM (
  SELECT substr(revision, 6)::int AS n,
         lag(substr(revision, 6)::int) OVER (ORDER BY id) AS prev
    FROM migr.log WHERE action = 'upgrade') s}),
	't',
	'revisions were applied in order');

# Second round, a thundering herd: ten more revisions; a session holds the
# migr lock (a stamp that changes nothing) until all 50 clients wait for it
# (for the definition lock, objsubid 4, which every in-line holder of the
# migr lock takes first), then lets them all go at once.
define_line($nrevs + 1, $nrevs + 10);
my $holder = $node->background_psql('postgres');
$holder->query_safe('BEGIN');
$holder->query_safe(qq{SELECT * FROM migr_stamp('race_$nrevs')});

my $script = $node->basedir . '/003_pgbench_race_herd.sql';
append_to_file($script, q{SELECT count(*) FROM migr_upgrade('head');});
my ($out, $err) = ('', '');
my $pgbench = IPC::Run::start(
	[
		'pgbench', '--no-vacuum', "--client=$clients", '--jobs=2',
		'--transactions=3', '--file', $script,
		'--host', $node->host, '--port', $node->port, 'postgres'
	],
	'>', \$out, '2>', \$err);
ok( $node->poll_query_until(
		'postgres', qq{
SELECT count(*) FROM pg_locks
 WHERE locktype = 'advisory' AND classid = 1835624306 AND objid = 0
   AND objsubid IN (3, 4) AND NOT granted}, $clients),
	"all $clients clients wait for the migr lock");
$holder->query_safe('COMMIT');
$holder->quit;
ok($pgbench->finish, 'pgbench (herd) exits with status 0');
my $total = $clients * 3;
like($out, qr{actually processed: $total/$total}, 'pgbench (herd) ran every call');
like($out, qr{number of failed transactions: 0 \(0\.000%\)},
	'pgbench (herd): no call failed');
is($err, '', 'pgbench (herd) printed no error');
check_applied($nrevs + 10, 'thundering herd');

# no migr lock is left behind
is( $node->safe_psql(
		'postgres', q{
SELECT count(*) FROM pg_locks
 WHERE locktype = 'advisory' AND classid = 1835624306 AND objid = 0
   AND objsubid IN (3, 4)}),
	'0',
	'no migr lock is held at the end');

$node->stop;
done_testing();

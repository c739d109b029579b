
# Copyright (c) 2026, migr developers

# The differential test of the revision graph: test/graph_alembic.py asks
# migr and Alembic's RevisionMap (Debian's python3-alembic, installed by
# tools/setup.sh) thousands of questions about random graphs from a fixed
# seed: heads, label targets, upgrade and downgrade sets and their order,
# current after each move, +N/-N, history ranges.  Every answer must agree,
# except the differences migr makes on purpose, which the script counts
# under their names (README, "Coming from Alembic").
#
# MIGR_GRAPH_ROUNDS=N asks about N graphs instead of the default 10.

use strict;
use warnings;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use File::Basename qw(dirname);

my $python = '/usr/bin/python3';
my $script = dirname(__FILE__) . '/../graph_alembic.py';

my $node = PostgreSQL::Test::Cluster->new('graph');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'migr'");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION migr');

# Alembic and psycopg2 must be there: a missing reference is a failure,
# not a skip, or the comparison would silently stop being made.
my ($out, $err) = run_command(
	[ $python, '-c', 'import alembic.script.revision, psycopg2' ]);
is($err, '', 'python3-alembic and python3-psycopg2 are installed')
  or diag('install them with tools/setup.sh (apt-get install python3-alembic python3-psycopg2)');

my @cmd = (
	$python, $script,
	'--host' => $node->host,
	'--port' => $node->port,
	'--dbname' => 'postgres');
push @cmd, '--rounds' => 10 unless $ENV{MIGR_GRAPH_ROUNDS};
($out, $err) = run_command(\@cmd);

my @lines = split /\n/, $out;
my ($summary) = grep { /^graphs \d+/ } @lines;
ok(defined $summary, 'the differential test ran to its end')
  or diag("stdout:\n$out\nstderr:\n$err");
$summary //= '';
note($summary);
note($_) for grep { /^deliberate / } @lines;

my ($questions) = $summary =~ /questions (\d+)/;
cmp_ok($questions // 0, '>=', 2000, 'thousands of questions were asked');

my ($disagree) = $summary =~ /disagreements (\d+)/;
is($disagree, 0,
	'migr and Alembic agree, apart from the deliberate differences named')
  or diag(join("\n", grep { defined } (grep { /^(DISAGREE|graph of|    )/ } @lines)[ 0 .. 99 ]));
is($err, '', 'nothing on stderr');

$node->stop;
done_testing();


# Copyright (c) 2026, migr developers

# migr.guard = 'block' set for the database (README, "The guard against
# manual DDL"), with migr not preloaded:
#  1. a revision's CREATE INDEX CONCURRENTLY, handed to the background
#     worker, is built by the worker (a process that runs nothing but migr's
#     jobs) and ends valid; the DROP INDEX CONCURRENTLY of its downgrade too;
#  2. the same CREATE INDEX CONCURRENTLY by hand is refused before it starts
#     (MG008), leaving no invalid index; a DBA's emergency index goes
#     through once a superuser relaxes the guard for the session, and is
#     recorded under log;
#  3. the setting reaches new sessions from ALTER DATABASE; a non-superuser
#     cannot relax it, not with SET before the library is loaded, not
#     through PGOPTIONS: the session fails closed, under block.

use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use MigrWorker;

my $db = 'guarded';
my $node = new_worker_node('guard', db => $db, rows => 20000);

$node->safe_psql($db, q{
SELECT migr_define('g1', NULL, 'CREATE TABLE g1_t (a int)', 'DROP TABLE g1_t');
SELECT revision FROM migr_upgrade('head');
});
$node->safe_psql('postgres', "ALTER DATABASE $db SET migr.guard = 'block'");
is($node->safe_psql($db, 'SHOW migr.guard'), 'block',
	'a new session gets migr.guard from ALTER DATABASE');

# --------------------------------------------------------------------
# 1. The worker's CREATE INDEX CONCURRENTLY passes the guard.
# --------------------------------------------------------------------
$node->safe_psql($db, q{
SELECT migr_define('g2', ARRAY['g1'],
  'CREATE INDEX CONCURRENTLY t_i_idx ON t (i)',
  'DROP INDEX CONCURRENTLY t_i_idx');
SELECT revision FROM migr_upgrade('head');
});
ok(wait_jobs_done($node, $db), 'the worker finished the job under block');
is(index_state($node, $db, 't_i_idx'), 'valid',
	'the index the worker built under block is valid');
is(applied_list($node, $db), 'g1,g2', 'the revision is applied');
is( $node->safe_psql(
		$db, q{SELECT count(*) FROM migr.log WHERE action = 'ddl'}),
	'0', 'nothing of the moves was taken for manual DDL');

# the downgrade's DROP INDEX CONCURRENTLY runs in line, in the move
$node->safe_psql($db, q{SELECT revision FROM migr_downgrade('g1')});
is(index_state($node, $db, 't_i_idx'), 'none',
	'the downgrade dropped the index under block');

# --------------------------------------------------------------------
# 2. By hand: refused before it starts; relaxed by a superuser.
# --------------------------------------------------------------------
my ($ret, $out, $err) =
  $node->psql($db, 'CREATE INDEX CONCURRENTLY t_j_idx ON t (j)');
isnt($ret, 0, 'a CREATE INDEX CONCURRENTLY by hand fails under block');
like($err, qr/CREATE INDEX CONCURRENTLY outside a migration is not allowed/,
	'it is refused by the guard');
is(index_state($node, $db, 't_j_idx'), 'none',
	'refused before it started: no invalid index is left');

($ret, $out, $err) = $node->psql($db, q{
SET migr.guard = 'log';
CREATE INDEX CONCURRENTLY t_j_idx ON t (j);
});
is($ret, 0, 'a superuser relaxes the guard for the session: the emergency index builds');
is(index_state($node, $db, 't_j_idx'), 'valid', 'the emergency index is valid');
is( $node->safe_psql(
		$db, q{SELECT command_tag || ' ' || array_to_string(objects, ',')
                 FROM migr.log WHERE action = 'ddl'}),
	'CREATE INDEX index public.t_j_idx',
	'the emergency index is recorded in migr.log');

# --------------------------------------------------------------------
# 3. A non-superuser cannot relax it.
# --------------------------------------------------------------------
$node->safe_psql($db, q{
SET migr.guard = off;
CREATE ROLE guard_dev LOGIN;
GRANT CREATE ON SCHEMA public TO guard_dev;
});
# migr is not preloaded here: a non-superuser's SET is taken as a
# placeholder, refused when the library loads (at the first DDL), and the
# session then fails closed, under block, whatever the database says
($ret, $out, $err) = $node->psql($db, q{
SET migr.guard = 'off';
CREATE TABLE dev_t0 (a int);
}, extra_params => [ '-U', 'guard_dev' ]);
isnt($ret, 0, 'a non-superuser\'s SET migr.guard = off does not let DDL through');
like($err, qr/permission denied to set parameter "migr.guard"/,
	'the non-superuser\'s value is refused');
like($err, qr/migr.guard is "block" for this session/,
	'the session fails closed, under block');
like($err, qr/CREATE TABLE outside a migration is not allowed/,
	'the DDL is refused by the guard');
{
	local $ENV{PGOPTIONS} = '-c migr.guard=off';
	($ret, $out, $err) = $node->psql($db, q{CREATE TABLE dev_t (a int)},
		extra_params => [ '-U', 'guard_dev' ]);
	isnt($ret, 0, 'a non-superuser with PGOPTIONS migr.guard=off is still refused');
	like($err, qr/migr.guard is "block" for this session/,
		'PGOPTIONS does not relax the guard for a non-superuser');
}
is( $node->safe_psql(
		$db, q{SELECT to_regclass('dev_t') IS NULL AND to_regclass('dev_t0') IS NULL}),
	't', 'the non-superuser\'s tables were not created');

# a superuser's session value is taken (the relaxed session of part 2 was one)
{
	local $ENV{PGOPTIONS} = '-c migr.guard=off';
	$node->safe_psql($db, 'CREATE TABLE su_t (a int); DROP TABLE su_t');
	pass('a superuser\'s PGOPTIONS migr.guard=off relaxes the guard');
}

$node->stop;
done_testing();


# Copyright (c) 2026, migr developers

# Background workers (README, "Concurrent index builds"), no free worker slot:
# 10. with max_worker_processes = 1, held by the logical replication
#     launcher, an upgrade that needs a worker retries for about 5 seconds,
#     then fails with 53400 and a hint naming max_worker_processes; the
#     whole upgrade rolls back (the statements before the CIC too) and no
#     job is left.  With a slot free, the same upgrade works.

use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use MigrWorker;

my $db = 'postgres';
my $node = new_worker_node('slots', rows => 100000,
	conf => "max_worker_processes = 1\n");

is($node->safe_psql($db, q{
SELECT current_setting('max_worker_processes') || '/' ||
       (SELECT count(*) FROM pg_stat_activity
         WHERE backend_type = 'logical replication launcher')}),
	'1/1',
	'the only worker slot is taken by the logical replication launcher');

$node->safe_psql($db, q{
SELECT migr_define('s1', NULL, $$CREATE TABLE s1_t (x int)$$);
SELECT migr_define('s2', ARRAY['s1'],
  $$ALTER TABLE t ADD COLUMN s2col int;
    CREATE INDEX CONCURRENTLY t_i_idx ON t (i);
    CREATE TABLE s2_after (x int)$$);
SELECT migr_define('s3', ARRAY['s2'], $$CREATE TABLE s3_after (x int)$$);
});

my ($secs, $ret, $out, $err) = timed_psql($node, $db,
	q{SELECT * FROM migr_upgrade('head')});
isnt($ret, 0, 'no slot: migr_upgrade fails');
like($err, qr/ERROR:  53400: could not start a migr background worker/,
	'no slot: error 53400');
like($err, qr/HINT:  Raise max_worker_processes \(now 1\)/,
	'no slot: the hint names max_worker_processes');
cmp_ok($secs, '>=', 4, "no slot: it retried for a while (${secs}s)");
cmp_ok($secs, '<', 30, 'no slot: and then gave up');
is( $node->safe_psql($db, q{
SELECT (SELECT count(*) FROM migr.applied) || '/' ||
       (SELECT count(*) FROM migr.job) || '/' ||
       (SELECT count(*) FROM migr.log WHERE action <> 'define') || '/' ||
       (to_regclass('s1_t') IS NULL) || '/' ||
       (SELECT count(*) FROM information_schema.columns
         WHERE table_name = 't' AND column_name = 's2col') || '/' ||
       (to_regclass('t_i_idx') IS NULL)}),
	'0/0/0/true/0/true',
	'no slot: nothing applied, no job, nothing logged, s1 and the start of s2 rolled back');
is(worker_count($node, $db), '0', 'no slot: no worker');

# With slots, the same upgrade goes through.
$node->append_conf('postgresql.conf', "max_worker_processes = 4\n");
$node->restart;
is($node->safe_psql($db, q{SELECT string_agg(revision || ':' || COALESCE(ms::text, 'null'), ',')
                             FROM migr_upgrade('head')}) =~ s/:[0-9.]+,/:ms,/r,
	's1:ms,s2:null,s3:null',
	'with a free slot: s1 applied, s2 and s3 queued');
is($node->safe_psql($db, q{SELECT migr_wait()}), 't', 'with a free slot: the jobs complete');
is(index_state($node, $db, 't_i_idx'), 'valid', 'with a free slot: the index is valid');
is(applied_list($node, $db), 's1,s2,s3', 'with a free slot: everything applied');

$node->stop;
done_testing();

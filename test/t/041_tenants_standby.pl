
# Copyright (c) 2026, migr developers

# Replicas (README, "Tenants and fleets", replicas): on a streaming standby
# the looking functions work, a no-op migr_upgrade('head') returns no rows,
# a pending one fails with SQLSTATE 25006 and a hint, and no worker runs a
# job.  The standby is promoted while a build job and a tenant rollout are
# in progress on the primary (their builds held by an open snapshot): the
# new primary's launcher resumes both.

use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use MigrWorker;

my $db = 'postgres';
my $conf = qq(
shared_preload_libraries = 'migr'
max_worker_processes = 16
autovacuum = off
restart_after_crash = on
);

my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init(allows_streaming => 1);
$primary->append_conf('postgresql.conf', $conf);
$primary->start;
$primary->safe_psql($db, 'CREATE EXTENSION migr');
fill_table($primary, $db, 't', 20000);
$primary->safe_psql($db, q{
SELECT migr_define('r1', NULL, 'CREATE TABLE a (x int)', branch_labels => '{shared}');
SELECT count(*) FROM migr_upgrade('head');
CREATE SCHEMA ten1; CREATE SCHEMA ten2; CREATE SCHEMA ten3;
});
$primary->backup('b');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'b', has_streaming => 1);
$standby->append_conf('postgresql.conf', $conf);
$standby->start;
$primary->wait_for_catchup($standby);

# looking works on the standby; a no-op upgrade returns no rows
is($standby->safe_psql($db, q{SELECT string_agg(revision, ',') FROM migr_current()}),
	'r1', 'migr_current() on the standby');
is($standby->safe_psql($db, q{SELECT count(*) FROM migr_upgrade('head')}), '0',
	'a no-op migr_upgrade(\'head\') returns no rows on the standby');
is($standby->safe_psql($db, q{SELECT count(*) FROM migr_upgrade('r1')}), '0',
	'so does a no-op upgrade to a revision');

# tenants, and a pending shared revision, made on the primary
$primary->safe_psql($db, q{
SELECT migr_define('tn1', NULL, 'CREATE TABLE ev (id int, v int)',
                   branch_labels => '{tenant}');
SELECT migr_upgrade_tenants('tn1', ARRAY['ten1', 'ten2', 'ten3'], 2);
});
ok($primary->poll_query_until($db,
	q{SELECT count(*) = 0 FROM migr.rollout WHERE state = 'running'}),
	'the tenants are at tn1 on the primary');
$primary->safe_psql($db, q{SELECT migr_define('r2', ARRAY['r1'], 'CREATE TABLE b (x int)')});
$primary->wait_for_catchup($standby);
is($standby->safe_psql($db, q{
SELECT string_agg(tenant || ':' || current::text || ':' || state, ',' ORDER BY tenant)
  FROM migr_tenants()}), 'ten1:{tn1}:done,ten2:{tn1}:done,ten3:{tn1}:done',
	'migr_tenants() on the standby');
is($standby->safe_psql($db, q{
SELECT count(*) FROM migr_history(NULL, tenant => 'ten1') WHERE applied}), '1',
	'migr_history(tenant => ...) on the standby');
is($standby->safe_psql($db, q{SELECT string_agg(code, ',') FROM migr_check()}),
	'multiple_heads', 'migr_check() on the standby');

# a pending upgrade fails with 25006 and a hint
my ($ret, $out, $err) = sql_result($standby, $db, q{SELECT * FROM migr_upgrade('shared@head')});
like($err, qr/ERROR:  25006: cannot execute migr_upgrade\(\) on a standby server/,
	'a pending upgrade fails with 25006 on the standby');
like($err, qr/HINT:  Run migr_upgrade\(\) on the primary server/, 'with a hint');
($ret, $out, $err) = sql_result($standby, $db,
	q{SELECT * FROM migr_upgrade('tenant@head', tenant => 'ten1')});
is($ret, 0, 'a no-op tenant upgrade works on the standby');
($ret, $out, $err) = sql_result($standby, $db,
	q{SELECT migr_upgrade_tenants('tn1')});
like($err, qr/25006/, 'migr_upgrade_tenants() fails with 25006 on the standby');

# on the primary: a build held by an open snapshot, and a rollout whose
# builds are held too
my $holder = hold_snapshot($primary, $db);
$primary->safe_psql($db, q{
SELECT migr_define('r3', ARRAY['r2'], 'CREATE INDEX CONCURRENTLY t_j_idx ON t (j)');
SELECT count(*) FROM migr_upgrade('shared@head');
SELECT migr_define('tn2', ARRAY['tn1'], 'CREATE INDEX CONCURRENTLY ev_id_idx ON ev (id)');
SELECT migr_upgrade_tenants('tn2', NULL, 2);
});
ok(wait_build_phase($primary, $db, 'waiting for old snapshots'),
	'the build job is held on the primary');
ok($primary->poll_query_until($db, q{
SELECT count(*) = 2 FROM pg_stat_progress_create_index p
  JOIN pg_stat_activity a USING (pid) WHERE a.backend_type = 'migr rollout worker'}),
	'the tenant builds of the rollout\'s two workers are held too');
$primary->wait_for_catchup($standby);
is($standby->safe_psql($db, q{
SELECT string_agg(revision || ':' || state || ':' || coalesce(tenant, '-'), ','
                  ORDER BY tenant NULLS FIRST) FROM migr.job}),
	'r3:running:-,tn2:running:ten1,tn2:running:ten2',
	'the standby sees the jobs running, the shared one and two tenants\'');
is($standby->safe_psql($db, q{
SELECT count(*) FROM pg_stat_activity
 WHERE backend_type IN ('migr worker', 'migr rollout worker', 'migr launcher helper')}),
	'0', 'no migr worker runs on the standby');
is($standby->safe_psql($db, q{SELECT count(*) FROM migr_upgrade('shared@head')}), '1',
	'migr_upgrade() on the standby returns the queued revision');
is($standby->safe_psql($db, q{
SELECT count(*) FROM pg_stat_activity WHERE backend_type IN ('migr worker', 'migr rollout worker')}),
	'0', 'and starts no worker there');

# the primary goes away; the standby is promoted
$primary->stop('immediate');
release($holder);
$standby->promote;
ok($standby->poll_query_until($db, q{SELECT NOT pg_is_in_recovery()}), 'promoted');
ok($standby->poll_query_until($db, q{
SELECT count(*) = 0 FROM migr.job WHERE state <> 'done'}),
	'the new primary resumes the build job');
is(index_state($standby, $db, 't_j_idx'), 'valid', 'its index is built');
is($standby->safe_psql($db, q{SELECT string_agg(revision, ',') FROM migr_current()}),
	'r3', 'the shared set is at the head');
ok($standby->poll_query_until($db, q{
SELECT count(*) = 0 FROM migr.rollout WHERE state = 'running'}),
	'the new primary resumes the tenant rollout');
is($standby->safe_psql($db, q{
SELECT string_agg(tenant || ':' || current::text || ':' || state, ',' ORDER BY tenant)
  FROM migr_tenants()}), 'ten1:{tn2}:done,ten2:{tn2}:done,ten3:{tn2}:done',
	'every tenant is at tn2');
is($standby->safe_psql($db, q{
SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
 WHERE c.relname = 'ev_id_idx' AND i.indisvalid}), '3', 'with its index');
like(slurp_file($standby->logfile), qr/resuming tenant rollout/,
	'the launcher resumed the rollout');

done_testing();


# Copyright (c) 2026, migr developers

# Tenants (README, "Tenants and fleets"): 1,000 tenant schemas upgraded by a
# rollout of 4 background workers, one revision adding a column with a
# default and building a unique index concurrently:
#  - one tenant holds duplicates: its build fails, it is recorded failed
#    with the error, and every other tenant is done;
#  - a rollout worker is killed (SIGKILL, so the server restarts every
#    backend) half-way: the launcher resumes the rollout after the restart;
#  - a tenant added while the rollout runs gets a rollout of its own;
#  - per-tenant downgrade and stamp touch that tenant alone;
#  - at the end migr_tenants() agrees with each tenant's tables.
# MIGR_TEST_TENANTS sets the number of tenants (default 1000).

use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use MigrWorker;

my $db = 'postgres';
my $n = $ENV{MIGR_TEST_TENANTS} // 1000;
my $bad = 'c0007';
my $node = new_worker_node('tenants', preload => 1, rows => 1,
	conf => "max_worker_processes = 16\nmax_locks_per_transaction = 256\n");

# the history: the tenant's table, then the revision rolled out
$node->safe_psql($db, q{
SELECT migr_define('t1', NULL, 'CREATE TABLE ev (id int NOT NULL, v int)',
                   'DROP TABLE ev', branch_labels => '{tenant}');
});

# $n schemas c0001 ..., brought to t1 by a first rollout
$node->safe_psql($db, qq{
DO \$\$ BEGIN
  FOR i IN 1..$n LOOP
    EXECUTE pg_catalog.format('CREATE SCHEMA %I', 'c' || lpad(i::text, 4, '0'));
  END LOOP;
END \$\$;
});
my $first = $node->safe_psql($db, qq{
SELECT migr_upgrade_tenants('t1',
  (SELECT array_agg('c' || lpad(g::text, 4, '0')) FROM generate_series(1, $n) g), 4)});
ok($node->poll_query_until($db, qq{
SELECT state = 'done' FROM migr.rollout WHERE id = $first}), 'the first rollout is done');
is($node->safe_psql($db, q{
SELECT string_agg(state || ':' || current::text || ':' || pending, ',')
  FROM (SELECT state, current, pending, count(*) FROM migr_tenants()
         GROUP BY 1, 2, 3) s}), 'done:{t1}:0', "$n tenants at t1, nothing pending");
is($node->safe_psql($db, q{
SELECT count(*) FROM pg_tables WHERE tablename = 'ev'}), $n, 'each tenant has its table');

# rows, and duplicates in one tenant
$node->safe_psql($db, qq{
DO \$\$ BEGIN
  FOR i IN 1..$n LOOP
    EXECUTE pg_catalog.format('INSERT INTO %I.ev SELECT g, g FROM generate_series(1, 20) g',
                              'c' || lpad(i::text, 4, '0'));
  END LOOP;
END \$\$;
INSERT INTO $bad.ev VALUES (1, 1);
SET migr.lint = 'off';
SELECT migr_define('r1', ARRAY['t1'],
  \$\$ALTER TABLE ev ADD COLUMN flag int NOT NULL DEFAULT 7;
    CREATE UNIQUE INDEX CONCURRENTLY ev_id_idx ON ev (id)\$\$,
  \$\$DROP INDEX ev_id_idx; ALTER TABLE ev DROP COLUMN flag\$\$);
});
is($node->safe_psql($db, q{SELECT pending FROM migr_tenants() WHERE tenant = 'c0001'}),
	'0', 'pending counts toward the latest target (t1)');

my $rollout = $node->safe_psql($db, q{SELECT migr_upgrade_tenants('r1')});
ok($node->poll_query_until($db, qq{
SELECT count(*) >= 50 FROM migr.tenant WHERE rollout = $rollout AND state = 'done'}),
	'the rollout is under way');
is($node->safe_psql($db, qq{
SELECT state FROM migr.rollout WHERE id = $rollout}), 'running', 'it shows as running');

# a tenant added while it runs
$node->safe_psql($db, q{CREATE SCHEMA late});
is($node->safe_psql($db, q{SELECT count(*) FROM migr_upgrade('t1', tenant => 'late')}),
	'1', 'a tenant added during the rollout is upgraded in line');
my $late = $node->safe_psql($db, q{SELECT migr_upgrade_tenants('r1', ARRAY['late'], 1)});

# kill one rollout worker: the postmaster restarts every backend
my $victim = $node->safe_psql($db, q{
SELECT pid FROM pg_stat_activity WHERE backend_type = 'migr rollout worker' LIMIT 1});
SKIP:
{
	skip 'the rollout ended before a worker could be killed', 1 if $victim eq '';
	kill 'KILL', $victim;
	ok($node->poll_query_until($db, qq{
SELECT count(*) FROM migr.rollout WHERE id IN ($rollout, $late) AND state = 'running'},
		'0'), 'both rollouts finish after the crash restart');
}
ok($node->poll_query_until($db, qq{
SELECT count(*) = 0 FROM migr.rollout WHERE state = 'running'}), 'no rollout is left running');
like(slurp_file($node->logfile), qr/resuming tenant rollout $rollout/,
	'the launcher resumed the interrupted rollout')
  if $victim ne '';
ok($node->poll_query_until($db, q{SELECT migr_wait('1s')}), 'migr_wait() returns true');

is($node->safe_psql($db, q{
SELECT string_agg(state || ':' || current::text || ':' || coalesce(pending::text, '?') || ':' || n, ',' ORDER BY state)
  FROM (SELECT state, current, pending, count(*) AS n FROM migr_tenants()
         GROUP BY 1, 2, 3) s}), "done:{r1}:0:$n,failed:{t1}:1:1",
	'every tenant is done but the one with duplicates, which failed');
like($node->safe_psql($db, qq{SELECT error FROM migr_tenants() WHERE tenant = '$bad'}),
	qr/could not create unique index "ev_id_idx".*duplicated/s,
	'its error is recorded');
is($node->safe_psql($db, qq{SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
  WHERE c.relname = 'ev_id_idx' AND c.relnamespace = '$bad'::regnamespace}),
	'0', 'the failed build left no INVALID index');
like($node->safe_psql($db, qq{SELECT string_agg(revision || ' ' || message, ',') FROM migr_current(tenant => '$bad')}),
	qr/r1 \(partially applied: resumes at statement 2\)/,
	'the failed tenant is partially applied at the build');
my ($ret, $out, $err) = sql_result($node, $db,
	qq{SELECT * FROM migr_upgrade('r1', tenant => '$bad')});
like($err, qr/background job \d+ for revision "r1" failed/,
	'its queue is stopped, as a shared queue would be');
is($node->safe_psql($db, q{SELECT count(*) FROM migr_upgrade('head')}), '0',
	'the shared set is untouched (nothing of r1 shared)')
  if 0;

# migr_tenants() agrees with the tables
is($node->safe_psql($db, q{
SELECT count(*) FROM migr_tenants() m
 WHERE (m.current = '{r1}') IS DISTINCT FROM
       (EXISTS (SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
                 WHERE c.relname = 'ev_id_idx' AND i.indisvalid
                   AND c.relnamespace = m.tenant::regnamespace)
        AND EXISTS (SELECT 1 FROM pg_attribute a
                     WHERE a.attrelid = pg_catalog.format('%I.ev', m.tenant)::regclass
                       AND a.attname = 'flag' AND NOT a.attisdropped))}),
	'0', 'migr_tenants() matches every tenant\'s tables');
is($node->safe_psql($db, q{
SELECT count(*) FROM migr_tenants() m
 WHERE m.current IS DISTINCT FROM
       (SELECT array_agg(revision ORDER BY revision) FROM migr_current(tenant => m.tenant)
         WHERE applied_at IS NOT NULL)}),
	'0', 'migr_tenants() matches migr_current(tenant => ...)');
is($node->safe_psql($db, q{SELECT count(*) FROM migr.applied}), '0',
	'the shared applied set is untouched');

# per-tenant downgrade and stamp
is($node->safe_psql($db, q{
SELECT string_agg(revision, ',') FROM migr_downgrade('t1', tenant => 'c0001')}), 'r1',
	'downgrade of one tenant');
is($node->safe_psql($db, q{
SELECT count(*) FROM pg_attribute WHERE attrelid = 'c0001.ev'::regclass AND attname = 'flag'}),
	'0', 'its column is gone');
is($node->safe_psql($db, q{
SELECT count(*) FROM pg_attribute WHERE attrelid = 'c0002.ev'::regclass AND attname = 'flag'}),
	'1', 'another tenant keeps it');
is($node->safe_psql($db, q{
SELECT current::text || ':' || pending || ':' || state FROM migr_tenants() WHERE tenant = 'c0001'}),
	'{t1}:1:done', 'migr_tenants() shows the downgrade');
is($node->safe_psql($db, q{
SELECT string_agg(revision || ':' || action, ',') FROM migr_stamp('base', tenant => 'c0002')}),
	'r1:unapplied,t1:unapplied', 'stamp of one tenant');
is($node->safe_psql($db, q{
SELECT current::text || ':' || pending FROM migr_tenants() WHERE tenant = 'c0002'}),
	'{}:2', 'migr_tenants() shows the stamp');
is($node->safe_psql($db, q{
SELECT count(*) FROM c0002.ev}), '20', 'a stamp runs no script');
is($node->safe_psql($db, q{
SELECT tenant || ':' || action || ':' || revision FROM migr.log
 WHERE tenant = 'c0001' ORDER BY id DESC LIMIT 1}), 'c0001:downgrade:r1',
	'migr.log names the tenant');

# ALTER EXTENSION UPDATE from 1.1 adds the tenant forms as overloads: the
# 1.0 functions keep their grants, a view over migr_current() survives the
# update, and the tenant forms are granted separately
$node->safe_psql($db, q{CREATE DATABASE old11; CREATE ROLE deployer});
$node->safe_psql('old11', q{
CREATE EXTENSION migr VERSION '1.1';
GRANT EXECUTE ON FUNCTION migr_upgrade(text) TO deployer;
GRANT EXECUTE ON FUNCTION migr_stamp(text) TO deployer;
REVOKE EXECUTE ON FUNCTION migr_current() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION migr_current() TO deployer;
CREATE VIEW schema_version AS SELECT revision FROM migr_current();
ALTER EXTENSION migr UPDATE;
});
my $privs = q{
SELECT string_agg(f, ',' ORDER BY f) FROM unnest(ARRAY[
  'migr_upgrade(text)', 'migr_stamp(text)', 'migr_downgrade(text)', 'migr_current()',
  'migr_upgrade(text,text)', 'migr_stamp(text,text)', 'migr_downgrade(text,text)',
  'migr_current(text)']) f
 WHERE has_function_privilege('deployer', f, 'EXECUTE')};
is($node->safe_psql('old11', $privs),
	'migr_current(),migr_current(text),migr_stamp(text),migr_upgrade(text)',
	'the update keeps the grants on the 1.0 functions and grants nothing on the tenant forms');
is($node->safe_psql('old11', q{SELECT count(*) FROM schema_version}), '0',
	'a view over migr_current() survives the update');
$node->safe_psql('old11',
	q{GRANT EXECUTE ON FUNCTION migr_upgrade(text, text) TO deployer});
is($node->safe_psql('old11', $privs),
	'migr_current(),migr_current(text),migr_stamp(text),migr_upgrade(text),migr_upgrade(text,text)',
	'the tenant form is granted on its own');

done_testing();


# Copyright (c) 2026, migr developers

# Background workers (README, "Concurrent index builds"), the worker runs as the caller:
# 11. a role "app" with nothing but EXECUTE on migr_upgrade(), the
#     ownership of its table and CREATE on its schema (which CREATE INDEX
#     needs) upgrades; the worker's session is app's: its
#     index expression function errors unless session_user is app (during
#     an index build current_user is the table owner whoever builds it),
#     and the statements after the CIC check current_user and session_user
#     too; the revisions are recorded as applied by app.
#     Then a caller that has SET ROLE to a NOLOGIN role (the usual owner of
#     an application's schema): its jobs must run, or fail visibly, never
#     stall unseen.

use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use MigrWorker;

my $db = 'postgres';
my $node = new_worker_node('role', rows => 100000);
my ($ret, $out, $err);

$node->safe_psql($db, q{
CREATE ROLE app LOGIN;
GRANT EXECUTE ON FUNCTION migr_upgrade(text) TO app;
GRANT CREATE ON SCHEMA public TO app;
ALTER TABLE t OWNER TO app;

-- IMMUTABLE as declared, so that it can be indexed; it checks who runs it
CREATE FUNCTION must_be_app(v int) RETURNS int
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  IF session_user <> 'app' OR current_user <> 'app' THEN
    RAISE EXCEPTION 'index built as session_user %, current_user %',
                    session_user, current_user;
  END IF;
  RETURN v;
END $$;

SELECT migr_define('w1', NULL,
  $$CREATE INDEX CONCURRENTLY t_app_idx ON t (must_be_app(i));
    DO $do$
    BEGIN
      IF session_user <> 'app' OR current_user <> 'app' THEN
        RAISE EXCEPTION 'ran as session_user %, current_user %', session_user, current_user;
      END IF;
    END $do$;
    COMMENT ON TABLE t IS 'migrated by app'$$);
SELECT migr_define('w2', ARRAY['w1'],
  $$ALTER TABLE t ADD COLUMN w2col int$$);
});

# the check has teeth: built by anyone else, the index fails
($ret, $out, $err) = sql_result($node, $db, q{SELECT must_be_app(1)});
like($err, qr/index built as session_user postgres, current_user postgres/,
	'must_be_app() fails for the superuser');
is( $node->safe_psql($db, q{
SELECT has_function_privilege('app', 'migr_define(text, text[], text, text, text, text[], text[], text)', 'EXECUTE')
    || '/' || has_function_privilege('app', 'migr_upgrade(text)', 'EXECUTE')
    || '/' || (SELECT rolsuper OR rolcreaterole OR rolcreatedb FROM pg_roles WHERE rolname = 'app')}),
	'false/true/false',
	'app may only run migr_upgrade');

my $holder = hold_snapshot($node, $db);
($ret, $out, $err) = $node->psql($db,
	q{SELECT string_agg(revision || ':' || COALESCE(ms::text, 'null'), ',') FROM migr_upgrade('head')},
	extra_params => [ '-U', 'app' ]);
is($out, 'w1:null,w2:null', 'app: w1 and w2 are queued');
ok(wait_build_phase($node, $db, 'waiting for old snapshots'), 'app: the worker builds');
is( $node->safe_psql($db, q{
SELECT usename || '/' || backend_type FROM pg_stat_activity WHERE backend_type = 'migr worker'}),
	'app/migr worker',
	'app: the worker\'s session is app\'s');
is($node->safe_psql($db, q{SELECT string_agg(DISTINCT role, ',') FROM migr.job}),
	'app', 'app: the jobs record the role');
release($holder);

ok(wait_jobs_done($node, $db), 'app: the jobs are done');
is(index_state($node, $db, 't_app_idx'), 'valid', 'app: the index is valid');
is( $node->safe_psql($db, q{
SELECT string_agg(revision || ':' || applied_by, ',' ORDER BY revision) FROM migr.applied}),
	'w1:app,w2:app', 'app: the revisions are recorded as applied by app');
is( $node->safe_psql($db, q{
SELECT string_agg(DISTINCT role, ',') FROM migr.log WHERE action = 'upgrade'}),
	'app', 'app: the log names app');
is($node->safe_psql($db, q{SELECT obj_description('t'::regclass, 'pg_class')}),
	'migrated by app', 'app: the statements after the CIC ran');
is($node->safe_psql($db, q{SELECT count(*) FROM migr.job WHERE attempts > 0}), '0',
	'app: no attempt failed');
ok(wait_no_worker($node, $db), 'app: the worker exits');

# --------------------------------------------------------------------
# A caller that has SET ROLE to a NOLOGIN role.
# --------------------------------------------------------------------
$node->safe_psql($db, q{
CREATE ROLE app_owner NOLOGIN;
GRANT app_owner TO app;
GRANT EXECUTE ON FUNCTION migr_upgrade(text) TO app_owner;
CREATE TABLE owned (i int);
INSERT INTO owned SELECT generate_series(1, 10000);
ALTER TABLE owned OWNER TO app_owner;
SELECT migr_define('w3', ARRAY['w2'],
  $$CREATE INDEX CONCURRENTLY owned_i_idx ON owned (i)$$);
});
my $log_offset = -s $node->logfile;
($ret, $out, $err) = $node->psql($db,
	q{SET ROLE app_owner; SELECT string_agg(revision || ':' || COALESCE(ms::text, 'null'), ',') FROM migr_upgrade('head')},
	extra_params => [ '-U', 'app' ]);
is($out, 'w3:null', 'SET ROLE to a NOLOGIN role: w3 is queued');
{
	($ret, $out, $err) = sql_result($node, $db, q{SELECT migr_wait('12s')});
	ok($out eq 't' || $err =~ /ERROR/,
		'SET ROLE to a NOLOGIN role: migr_wait() sees the job done or raises its error');
	is($node->safe_psql($db, q{
SELECT state IN ('done', 'failed') FROM migr.job WHERE revision = 'w3'}),
		't', 'SET ROLE to a NOLOGIN role: the job is done, or failed with an error');
}
note 'server log: ' . join(' | ', grep { /not permitted to log in/ }
	  split /\n/, slurp_file($node->logfile, $log_offset));
# leave nothing running
$node->safe_psql($db, q{
SELECT migr_cancel(id) FROM migr.job WHERE revision = 'w3' AND state IN ('queued', 'running', 'failed')});

$node->stop;
done_testing();

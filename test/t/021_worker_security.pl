
# Copyright (c) 2026, migr developers

# Background workers never hold more privilege than the queuing context
# (README, "Security"; issue 9 items 1 and 2).  For each way of calling
# migr_upgrade(), a revision whose deferred CREATE INDEX CONCURRENTLY is
# followed by a probe, run by the worker, that records current_user,
# session_user and what RESET ROLE, SET SESSION AUTHORIZATION and SET ROLE
# give:
#   - a plain caller (deployer, a LOGIN role, not superuser);
#   - deployer after SET ROLE to a NOLOGIN role (owner_role);
#   - a security-definer function owned by deployer, called by a superuser;
#   - a security-restricted operation (REFRESH MATERIALIZED VIEW whose query
#     calls migr_upgrade()), run by a superuser: refused at queue time;
#   - the exploit of the issue: RESET ROLE; ALTER ROLE deployer SUPERUSER
#     queued from a security-definer function a superuser calls.
# And migr_cancel() / migr_retry() called from a migration script are
# refused.

use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use MigrWorker;

my $db = 'postgres';
my $node = new_worker_node('security', rows => 1000);
my ($ret, $out, $err);

$node->safe_psql($db, q{
CREATE ROLE deployer LOGIN;
CREATE ROLE owner_role NOLOGIN;
GRANT owner_role TO deployer;
GRANT EXECUTE ON FUNCTION migr_upgrade(text) TO deployer, owner_role;
GRANT EXECUTE ON FUNCTION
  migr_define(text, text[], text, text, text, text[], text[], text) TO deployer;
GRANT CREATE ON SCHEMA public TO deployer, owner_role;
CREATE TABLE dt (a int);
INSERT INTO dt SELECT generate_series(1, 1000);
ALTER TABLE dt OWNER TO owner_role;
CREATE TABLE seen (label text, cu name, su name, reset_role text,
                   session_auth text, set_role text);
GRANT INSERT ON seen TO PUBLIC;
});

# The probe a worker runs after the build: what it is, what it can become.
sub probe
{
	my ($label) = @_;
	return qq{
DO \$do\$
DECLARE r text; s text; t text;
BEGIN
  BEGIN RESET ROLE; r := 'ok: ' || current_user;
  EXCEPTION WHEN OTHERS THEN r := SQLSTATE || ' ' || SQLERRM; END;
  BEGIN SET SESSION AUTHORIZATION postgres; s := 'ok: ' || session_user;
  EXCEPTION WHEN OTHERS THEN s := SQLSTATE || ' ' || SQLERRM; END;
  BEGIN SET ROLE postgres; t := 'ok: ' || current_user;
  EXCEPTION WHEN OTHERS THEN t := SQLSTATE || ' ' || SQLERRM; END;
  INSERT INTO seen VALUES ('$label', current_user, session_user, r, s, t);
END \$do\$};
}

my $prev = 'NULL';
my $n = 0;

# define_case($label): a revision building an index, then probing.
sub define_case
{
	my ($label) = @_;
	$n++;
	$node->safe_psql($db, qq{
SELECT migr_define('$label', $prev,
  \$mig\$CREATE INDEX CONCURRENTLY dt_${label}_idx ON dt (a);
  @{[probe($label)]}\$mig\$)});
	$prev = "ARRAY['$label']";
	return;
}

# seen_row($label): current_user/session_user/reset/session auth/set role
sub seen_row
{
	my ($label) = @_;
	return $node->safe_psql($db, qq{
SELECT cu || '|' || su || '|' || reset_role || '|' || session_auth || '|' || set_role
  FROM seen WHERE label = '$label'});
}

my $refused_role = qr/^42501 cannot set parameter "role" within security-definer function$/;
my $refused_auth = qr/^42501 cannot set parameter "session_authorization" within security-definer function$/;

# check_case($label, $cu, $su): the probe's row
sub check_case
{
	my ($label, $cu, $su) = @_;
	my $row = seen_row($label);
	my ($gcu, $gsu, $reset, $auth, $set) = split /\|/, $row;
	note "$label: $row";
	is("$gcu/$gsu", "$cu/$su", "$label: current_user/session_user in the worker");
	like($reset, $refused_role, "$label: RESET ROLE is refused");
	like($auth, $refused_auth, "$label: SET SESSION AUTHORIZATION is refused");
	like($set, $refused_role, "$label: SET ROLE is refused");
	return;
}

# --------------------------------------------------------------------
# A plain caller.
# --------------------------------------------------------------------
define_case('plain');
($ret, $out, $err) = $node->psql($db,
	q{SELECT string_agg(revision || ':' || COALESCE(ms::text, 'null'), ',') FROM migr_upgrade('head')},
	extra_params => [ '-U', 'deployer' ]);
is($out, 'plain:null', 'plain: queued');
ok(wait_jobs_done($node, $db), 'plain: the job is done');
check_case('plain', 'deployer', 'deployer');
is( $node->safe_psql($db, q{
SELECT usename FROM pg_stat_activity WHERE backend_type = 'migr worker'
UNION ALL SELECT 'none' LIMIT 1}) =~ /^(deployer|none)$/ ? 1 : 0,
	1, 'plain: a worker, if still there, is deployer\'s session');

# --------------------------------------------------------------------
# SET ROLE to a NOLOGIN role: the worker connects as the bootstrap
# superuser and becomes owner_role, session user included.
# --------------------------------------------------------------------
define_case('nologin');
($ret, $out, $err) = $node->psql($db,
	q{SET ROLE owner_role; SELECT string_agg(revision || ':' || COALESCE(ms::text, 'null'), ',') FROM migr_upgrade('head')},
	extra_params => [ '-U', 'deployer' ]);
is($out, 'nologin:null', 'nologin: queued');
ok(wait_jobs_done($node, $db), 'nologin: the job is done');
check_case('nologin', 'owner_role', 'owner_role');
is(index_state($node, $db, 'dt_nologin_idx'), 'valid', 'nologin: the index is built');

# --------------------------------------------------------------------
# A security-definer function owned by deployer, called by a superuser:
# the worker is deployer, never the superuser.
# --------------------------------------------------------------------
define_case('secdef');
$node->safe_psql($db, q{
SET ROLE deployer;
CREATE FUNCTION harmless() RETURNS int SECURITY DEFINER LANGUAGE plpgsql
  AS $$BEGIN PERFORM * FROM migr_upgrade('head'); RETURN 1; END$$;
});
is($node->safe_psql($db, q{SELECT harmless()}), '1', 'secdef: the superuser calls harmless()');
ok(wait_jobs_done($node, $db), 'secdef: the job is done');
check_case('secdef', 'deployer', 'deployer');
is($node->safe_psql($db, q{SELECT role FROM migr.job WHERE revision = 'secdef'}),
	'deployer', 'secdef: the job records deployer as its role');

# --------------------------------------------------------------------
# A security-restricted operation: refused when work would be queued,
# and nothing is left behind.
# --------------------------------------------------------------------
define_case('restricted');
$node->safe_psql($db, q{
SET ROLE deployer;
CREATE MATERIALIZED VIEW mv AS SELECT count(*) AS n FROM migr_upgrade('head') WITH NO DATA;
});
my $jobs_before = $node->safe_psql($db, q{SELECT count(*) FROM migr.job});
($ret, $out, $err) = sql_result($node, $db, q{REFRESH MATERIALIZED VIEW mv});
like($err, qr/ERROR:  42501: cannot queue background jobs within security-restricted operation/,
	'restricted: REFRESH MATERIALIZED VIEW calling migr_upgrade() is refused (42501)');
like($err, qr/HINT:  Call migr_upgrade\(\) directly/, 'restricted: with a hint');
is($node->safe_psql($db, q{SELECT count(*) FROM migr.job}), $jobs_before,
	'restricted: no job is queued');
is(applied_list($node, $db), 'nologin,plain,secdef', 'restricted: nothing is applied');
is(index_state($node, $db, 'dt_restricted_idx'), 'none', 'restricted: no index');
# the same revision from a plain call goes through
($ret, $out, $err) = $node->psql($db,
	q{SELECT count(*) FROM migr_upgrade('head')}, extra_params => [ '-U', 'deployer' ]);
ok(wait_jobs_done($node, $db), 'restricted: called directly, the job is done');
check_case('restricted', 'deployer', 'deployer');

# --------------------------------------------------------------------
# Refused from a migration script: migr_cancel() and migr_retry().
# --------------------------------------------------------------------
$node->safe_psql($db, q{
SELECT migr_define('cancel_in_script', ARRAY['restricted'], $$SELECT migr_cancel(1)$$);
});
($ret, $out, $err) = sql_result($node, $db, q{SELECT * FROM migr_upgrade('head')});
like($err, qr/ERROR:  55000: cannot call migr_cancel\(\) from a migration script/,
	'migr_cancel() from a migration script is refused');
$node->safe_psql($db, q{
SELECT migr_define('cancel_in_script', ARRAY['restricted'], $$SELECT migr_retry(1)$$);
});
($ret, $out, $err) = sql_result($node, $db, q{SELECT * FROM migr_upgrade('head')});
like($err, qr/ERROR:  55000: cannot call migr_retry\(\) from a migration script/,
	'migr_retry() from a migration script is refused');
$node->safe_psql($db, q{
SELECT migr_define('cancel_in_script', ARRAY['restricted'], $$SELECT 1$$);
SELECT count(*) FROM migr_upgrade('head');
});
$prev = "ARRAY['cancel_in_script']";

# --------------------------------------------------------------------
# The exploit of the issue: deployer does not become superuser.
# --------------------------------------------------------------------
$node->safe_psql($db, qq{
SET ROLE deployer;
SELECT migr_define('e1', $prev, \$\$CREATE INDEX CONCURRENTLY dt_i ON dt (a);
                                RESET ROLE; ALTER ROLE deployer SUPERUSER\$\$);
});
is($node->safe_psql($db, q{SET migr.max_job_attempts = 1; SELECT harmless()}), '1',
	'exploit: the superuser calls harmless()');
ok($node->poll_query_until($db,
		q{SELECT state FROM migr.job WHERE revision = 'e1'}, 'failed'),
	'exploit: the job fails');
like($node->safe_psql($db, q{SELECT error FROM migr_jobs() WHERE revision = 'e1'}),
	qr/^cannot set parameter "role" within security-definer function/,
	'exploit: on RESET ROLE');
is($node->safe_psql($db, q{SELECT rolsuper FROM pg_roles WHERE rolname = 'deployer'}),
	'f', 'exploit: deployer is not superuser');
($ret, $out, $err) = sql_result($node, $db, q{SELECT migr_wait()});
like($err, qr/ERROR:  42501: background job \d+ for revision "e1" failed: cannot set parameter "role"/,
	'exploit: migr_wait() raises the error with its SQLSTATE');

$node->stop;
done_testing();

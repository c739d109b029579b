
# Copyright (c) 2026, migr developers

# Issue 9: a revision is applied whole or not at all, as seen by every
# later call (README, "Security").
#  item 4: a revision whose deferred statement failed cannot be redefined
#     (MG002, like an applied one), nor can one queued behind it; after
#     migr_retry() it is recorded with the checksum it was started with;
#  item 5: after migr_cancel() the revision is partially applied: shown so
#     by migr_current(), migr_history(), migr_jobs(), migr_check() and the
#     migr command; a downgrade below it is refused; a later upgrade
#     resumes it at the deferred statement, never re-running what committed
#     (before: column "team" already exists); migr_stamp() declares one
#     unapplied;
#  item 6: migr_define() during a build neither waits for it nor breaks it
#     (before: it waited for the whole build, or failed with 40P01 after
#     deadlock_timeout, or got the build killed).

use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);
use MigrWorker;
use MigrCli qw(run_migr);

my $db = 'postgres';
my $node = new_worker_node('state', rows => 300000,
	conf => "migr.max_job_attempts = 1\n");
my ($ret, $out, $err);

$node->safe_psql($db, q{
SELECT migr_define('s0', NULL, 'CREATE TABLE s0 (x int)', 'DROP TABLE s0');
SELECT count(*) FROM migr_upgrade('s0');
});

# --------------------------------------------------------------------
# Item 4: the deferred statement fails; the revision is immutable.
# --------------------------------------------------------------------
$node->safe_psql($db, q{
SELECT migr_define('s1', ARRAY['s0'],
  $$ALTER TABLE t ADD COLUMN team int DEFAULT 1;
    CREATE UNIQUE INDEX CONCURRENTLY t_team_uidx ON t (team);
    ALTER TABLE t ADD COLUMN after_build int$$,
  $$DROP INDEX t_team_uidx; ALTER TABLE t DROP COLUMN after_build, DROP COLUMN team$$,
  'team');
SELECT migr_define('s2', ARRAY['s1'], 'CREATE TABLE s2 (x int)', 'DROP TABLE s2');
});
my $checksum = $node->safe_psql($db,
	q{SELECT checksum FROM migr.revision WHERE id = 's1'});
$out = $node->safe_psql($db, q{
SET migr.max_job_attempts = 1;
SELECT string_agg(revision, ',') FROM migr_upgrade('head')});
is($out, 's1,s2', 'item 4: s1 and s2 are queued');
ok($node->poll_query_until($db,
		q{SELECT state FROM migr.job WHERE revision = 's1'}, 'failed'),
	'item 4: the unique build fails (duplicates)');
my $job = $node->safe_psql($db, q{SELECT id FROM migr.job WHERE revision = 's1'});
is($node->safe_psql($db, q{SELECT next_statement FROM migr.partial WHERE revision = 's1'}),
	'2', 'item 4: s1 is recorded partially applied, resuming at statement 2');

($ret, $out, $err) = sql_result($node, $db, q{
SELECT migr_define('s1', ARRAY['s0'],
  $$ALTER TABLE t ADD COLUMN team int DEFAULT 1;
    CREATE UNIQUE INDEX CONCURRENTLY t_team_uidx ON t (team, i)$$)});
like($err, qr/ERROR:  MG002: revision "s1" is partially applied and cannot be changed/,
	'item 4: redefining the partially applied revision is refused with MG002');
like($err, qr/DETAIL:  Its statements before statement 2 have committed/,
	'item 4: the detail says what committed');
like($err, qr/HINT:  Finish it with migr_upgrade\(\)/, 'item 4: with a hint');
($ret, $out, $err) = sql_result($node, $db, q{
SELECT migr_define('s2', ARRAY['s1'], 'CREATE TABLE s2b (x int)')});
like($err, qr/ERROR:  55000: revision "s2" is queued for a background worker and cannot be changed/,
	'item 4: so is redefining a revision queued behind it');
is($node->safe_psql($db, q{SELECT checksum FROM migr.revision WHERE id = 's1'}),
	$checksum, 'item 4: the definition is unchanged');

# Fix the data and retry: the original statements run, with the checksum
# in effect when s1 was started.
$node->safe_psql($db, q{UPDATE t SET team = i});
$node->safe_psql($db, qq{SELECT migr_retry($job)});
is($node->safe_psql($db, q{SELECT migr_wait()}), 't', 'item 4: the retry succeeds');
is($node->safe_psql($db, q{SELECT checksum FROM migr.applied WHERE revision = 's1'}),
	$checksum, 'item 4: s1 is applied with the checksum it was started with');
is($node->safe_psql($db, q{SELECT count(*) FROM migr.partial}), '0',
	'item 4: nothing is partially applied any more');
is(index_state($node, $db, 't_team_uidx'), 'valid', 'item 4: the index is valid');
is(applied_list($node, $db), 's0,s1,s2', 'item 4: s1 and s2 are applied');
is($node->safe_psql($db, q{SELECT count(*) FROM migr_check()}), '0',
	'item 4: migr_check() is clean');

# --------------------------------------------------------------------
# Item 5: cancel, fix, upgrade again: the revision resumes.
# --------------------------------------------------------------------
$node->safe_psql($db, q{
SELECT migr_define('s3', ARRAY['s2'],
  $$SET search_path = s3_missing, public;
    ALTER TABLE t ADD COLUMN squad int DEFAULT 1;
    CREATE UNIQUE INDEX CONCURRENTLY t_squad_uidx ON t (squad);
    CREATE TABLE s3_after (x int)$$,
  $$DROP TABLE s3_after; DROP INDEX t_squad_uidx; ALTER TABLE t DROP COLUMN squad$$,
  'squad');
SELECT migr_define('s4', ARRAY['s3'], 'CREATE TABLE s4 (x int)', 'DROP TABLE s4');
});
$node->safe_psql($db, q{SELECT count(*) FROM migr_upgrade('head')});
ok($node->poll_query_until($db,
		q{SELECT state FROM migr.job WHERE revision = 's3'}, 'failed'),
	'item 5: the build of s3 fails');
$job = $node->safe_psql($db, q{SELECT id FROM migr.job WHERE revision = 's3'});
$node->safe_psql($db, qq{SELECT migr_cancel($job)});
is($node->safe_psql($db, q{
SELECT string_agg(revision || ':' || state, ',' ORDER BY id) FROM migr_jobs()
 WHERE revision IN ('s3', 's4')}),
	's3:cancelled,s4:cancelled', 'item 5: the jobs are cancelled');

# shown as partially applied everywhere
is($node->safe_psql($db, q{
SELECT string_agg(revision || ':' || message || ':' || (applied_at IS NULL), ',')
  FROM migr_current()}),
	's2::false,s3:(partially applied: resumes at statement 3) squad:true',
	'item 5: migr_current() shows s3 partially applied');
is($node->safe_psql($db, q{
SELECT string_agg(revision || ':' || COALESCE(applied::text, 'partial'), ',')
  FROM migr_history() WHERE revision IN ('s2', 's3', 's4')}),
	's2:true,s3:partial,s4:false',
	'item 5: migr_history() shows applied NULL for s3');
like($node->safe_psql($db, qq{SELECT error FROM migr_jobs() WHERE id = $job}),
	qr/could not create unique index "t_squad_uidx".*\nrevision "s3" is partially applied: its statements before statement 3 committed, and migr_upgrade\(\) resumes it there/s,
	'item 5: migr_jobs() says so on its job');
is($node->safe_psql($db, q{
SELECT string_agg(revision || ':' || severity || ':' || code, ',') FROM migr_check()}),
	's3:warning:partially_applied', 'item 5: migr_check() reports it');
like($node->safe_psql($db, q{SELECT hint FROM migr_check()}),
	qr/Resume it with migr_upgrade\(\)/, 'item 5: with the way out');

# migr_plan() shows what resuming runs: the SET again, then the build on
is($node->safe_psql($db, q{
SELECT string_agg(revision || ':' || left(statement, 20) || ':' || deferred, ',' ORDER BY step)
  FROM migr_plan('s3')}),
	's3:SET search_path = s3:false,s3:CREATE UNIQUE INDEX :true,s3:CREATE TABLE s3_afte:true',
	'item 5: migr_plan() starts s3 where it resumes');

# and by the migr command
my ($rc, $cli) = run_migr($node, ['history']);
like($cli, qr/^ s3 +\| s2 +\| partial +\|/m, 'item 5: migr history prints "partial"');
($rc, $cli) = run_migr($node, ['current']);
like($cli, qr/^ s3 +\| \(partially applied: resumes at statement 3\) squad/m,
	'item 5: migr current shows it');
($rc, $cli) = run_migr($node, ['check']);
like($cli, qr/^s3: warning: .*\[partially_applied\]/m, 'item 5: migr check reports it');

# a downgrade that would revert what s3 stands on is refused
($ret, $out, $err) = sql_result($node, $db, q{SELECT * FROM migr_downgrade('s1')});
like($err,
	qr/ERROR:  55000: cannot downgrade to "s1": revision "s3" is partially applied on top of revision "s2"/,
	'item 5: a downgrade below a partially applied revision is refused');
is(applied_list($node, $db), 's0,s1,s2', 'item 5: nothing was reverted');

# redefining it is refused, as for an applied revision
($ret, $out, $err) = sql_result($node, $db, q{
SELECT migr_define('s3', ARRAY['s2'], 'CREATE TABLE s3_other (x int)')});
like($err, qr/ERROR:  MG002: revision "s3" is partially applied and cannot be changed/,
	'item 5: after the cancel too, s3 cannot be redefined');

# fix the data and upgrade again: resumes at the build, with the SET of
# statement 1 in effect, and never re-runs ADD COLUMN
$node->safe_psql($db, q{UPDATE t SET squad = i});
($ret, $out, $err) = sql_result($node, $db,
	q{SELECT string_agg(revision || ':' || COALESCE(ms::text, 'null'), ',') FROM migr_upgrade('head')});
is($out, 's3:null,s4:null', 'item 5: the upgrade queues s3 again, and s4');
unlike($err, qr/already exists/, 'item 5: no statement that committed runs again');
is($node->safe_psql($db, qq{
SELECT first_statement FROM migr.job WHERE revision = 's3' AND id > $job}),
	'3', 'item 5: the new job starts at the deferred statement');
is($node->safe_psql($db, q{SELECT migr_wait()}), 't', 'item 5: the worker finishes it');
is(applied_list($node, $db), 's0,s1,s2,s3,s4', 'item 5: s3 and s4 are applied');
is(index_state($node, $db, 't_squad_uidx'), 'valid', 'item 5: the index is valid');
is($node->safe_psql($db, q{SELECT count(*) FROM migr.partial}), '0',
	'item 5: nothing is partially applied');
is($node->safe_psql($db, q{SELECT count(*) FROM migr_check()}), '0',
	'item 5: migr_check() is clean');

# stamp declares a partially applied revision unapplied
$node->safe_psql($db, q{
SELECT migr_define('s5', ARRAY['s4'],
  $$CREATE TABLE s5 (x int);
    CREATE UNIQUE INDEX CONCURRENTLY t_j_uidx5 ON t (j)$$, 'DROP TABLE s5');
SELECT count(*) FROM migr_upgrade('head');
});
ok($node->poll_query_until($db,
		q{SELECT state FROM migr.job WHERE revision = 's5'}, 'failed'),
	'stamp: the build of s5 fails');
$job = $node->safe_psql($db, q{SELECT id FROM migr.job WHERE revision = 's5'});
($ret, $out, $err) = sql_result($node, $db, q{SELECT * FROM migr_stamp('s4')});
like($err, qr/background job $job for revision "s5" failed/,
	'stamp: refused while the failed job stops the queue');
$node->safe_psql($db, qq{SELECT migr_cancel($job)});
is($node->safe_psql($db, q{
SELECT string_agg(revision || ':' || action, ',') FROM migr_stamp('s4')}),
	's5:unapplied', 'stamp: s5 is declared unapplied');
is($node->safe_psql($db, q{SELECT count(*) FROM migr.partial}), '0',
	'stamp: it is no longer partially applied');
$node->safe_psql($db, q{
DROP TABLE s5;
SELECT migr_define('s5', ARRAY['s4'], 'CREATE TABLE s5 (x int)', 'DROP TABLE s5');
});
is($node->safe_psql($db, q{SELECT string_agg(revision, ',') FROM migr_upgrade('head')}),
	's5', 'stamp: s5 can then be redefined and applied');

# --------------------------------------------------------------------
# Item 6: defining during a build.
# --------------------------------------------------------------------
# Held in "waiting for old snapshots" by a holder: defines started now are
# not waited for by the build, and must not wait for it either.
my $holder = hold_snapshot($node, $db);
$node->safe_psql($db, q{
SELECT migr_define('s6', ARRAY['s5'], 'CREATE INDEX CONCURRENTLY t_i6 ON t (i)',
                   'DROP INDEX t_i6');
SELECT count(*) FROM migr_upgrade('head');
});
ok(wait_build_phase($node, $db, 'waiting for old snapshots'),
	'item 6: the build waits for the holder');
my ($secs) = timed_psql($node, $db, q{
SET statement_timeout = '20s';
SELECT migr_define('s7', ARRAY['s6'], 'CREATE TABLE s7 (x int)');
SELECT migr_define('s7', ARRAY['s6'], 'CREATE TABLE s7 (y int)');
SELECT migr_define('s8', ARRAY['s7'], 'CREATE TABLE s8 (x int)');
});
($ret, $out, $err) = sql_result($node, $db,
	q{SELECT string_agg(id, ',' ORDER BY seq) FROM migr.revision WHERE id IN ('s7', 's8')});
is($out, 's7,s8', 'item 6: the definitions are stored during the build');
cmp_ok($secs, '<', 10, 'item 6: and returned without waiting for the build');
release($holder);
is($node->safe_psql($db, q{SELECT migr_wait()}), 't', 'item 6: the build finishes');
is($node->safe_psql($db, q{SELECT attempts || ':' || state FROM migr.job WHERE revision = 's6'}),
	'0:done', 'item 6: in one attempt');

# Defines in a loop in a second session while a build of 300000 rows runs:
# each defining transaction ends quickly, so the build's wait for old
# snapshots ends too; no deadlock, nothing killed.
$node->safe_psql($db, q{
SELECT migr_define('s9', ARRAY['s6'], 'CREATE INDEX CONCURRENTLY t_ij9 ON t (i, j)',
                   'DROP INDEX t_ij9');
});
my $bg = $node->background_psql($db, on_error_stop => 0);
bg_query($bg, q{SELECT count(*) FROM migr_upgrade('s9')});
my ($errors, $defines, $slowest) = ('', 0, 0);
do
{
	$defines++;
	my $t0 = time();
	my ($o, $e) = bg_query($bg, qq{
BEGIN;
SELECT migr_define('loop$defines', ARRAY['s9'], 'CREATE TABLE loop$defines (x int)');
SELECT migr_define('loop$defines', ARRAY['s9'], 'CREATE TABLE loop$defines (y int)');
COMMIT;});
	$slowest = time() - $t0 if time() - $t0 > $slowest;
	$errors .= $e if $e =~ /ERROR/;
  } while ($defines < 200
	&& $node->safe_psql($db, q{SELECT state FROM migr.job WHERE revision = 's9'}) ne 'done');
$bg->quit;
is($errors, '', "item 6: $defines defines during the build, none failed");
cmp_ok($slowest, '<', 10, 'item 6: none waited for the build');
is($node->safe_psql($db, q{SELECT migr_wait()}), 't', 'item 6: the build succeeds');
is($node->safe_psql($db, q{SELECT attempts || ':' || state FROM migr.job WHERE revision = 's9'}),
	'0:done', 'item 6: in one attempt, never killed');
is(index_state($node, $db, 't_ij9'), 'valid', 'item 6: the index is valid');

done_testing();

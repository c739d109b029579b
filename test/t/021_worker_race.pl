
# Copyright (c) 2026, migr developers

# Issue 9: define, upgrade, downgrade, stamp, retry and cancel race each
# other and the background worker's index builds on a table of a million
# rows, some of which fail (a duplicate row comes and goes).  pgbench runs
# the operations at random from several clients; each operation catches
# its own error and records it in race_error.  At the end, once the queue
# is settled, migr.applied, migr.partial, the schema and migr_jobs() must
# agree, and every error must be one of the refusals migr promises
# (jobs queued, revision queued or partially applied, a failed job, a
# serialization failure): never a deadlock, never a script that found the
# schema other than its revision's state says (already exists, does not
# exist), never a checksum mismatch.
#
# Revision rN: ALTER TABLE t ADD COLUMN cN int; CREATE UNIQUE INDEX
# CONCURRENTLY t_uN ON t (u).  Applied: cN and a valid t_uN exist.
# Partially applied (resumes at statement 2): cN exists, t_uN does not.
# Neither: neither exists.

use strict;
use warnings;

use FindBin;
use lib $FindBin::RealBin;

use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use MigrWorker;

my $db = 'postgres';
my $rows = 1000000;
my $max_revisions = 8;
my $tx = 50;			# operations per pgbench client
my $node = new_worker_node(
	'race',
	rows => $rows,
	conf => "migr.max_job_attempts = 2\nmigr.retry_delay = '50ms'\n");

$node->safe_psql($db, qq{
CREATE SEQUENCE race_seq;
CREATE TABLE race_error (op text, sqlstate text, message text);
-- defines rN on top of the single head (one definer at a time: no second
-- head), or, once there are $max_revisions, redefines a random one with a
-- new downgrade comment (refused unless it is unapplied and not queued)
CREATE PROCEDURE race_define() LANGUAGE plpgsql AS \$\$
DECLARE
  n bigint;
  parent text;
BEGIN
  PERFORM pg_advisory_xact_lock(42);
  IF (SELECT count(*) FROM migr.revision) < $max_revisions THEN
    n := nextval('race_seq');
    SELECT revision INTO parent FROM migr_heads();
  ELSE
    SELECT substr(id, 2)::bigint, down_revision[1] INTO n, parent
      FROM migr.revision ORDER BY random() LIMIT 1;
  END IF;
  PERFORM migr_define('r' || n, CASE WHEN parent IS NULL THEN NULL ELSE ARRAY[parent] END,
    format('ALTER TABLE t ADD COLUMN c%s int; CREATE UNIQUE INDEX CONCURRENTLY t_u%s ON t (u)', n, n),
    format('DROP INDEX t_u%s; ALTER TABLE t DROP COLUMN c%s -- %s', n, n, random()));
END
\$\$;
});

# The operations, each in its own pgbench script: errors are caught and
# recorded, so that every client runs to the end.
my %ops = (
	define => 'CALL race_define()',
	upgrade => q{PERFORM count(*) FROM migr_upgrade('head')},
	downgrade => q{PERFORM count(*) FROM migr_downgrade(
        (SELECT x FROM (SELECT revision FROM migr.applied UNION ALL SELECT 'base') a(x)
          ORDER BY random() LIMIT 1))},
	retry => q{PERFORM migr_retry(id) FROM migr.job WHERE state = 'failed'},
	# waiting paces the clients while builds run
	wait => q{PERFORM migr_wait('1 s')},
	cancel => q{PERFORM migr_cancel(id) FROM (SELECT id FROM migr.job
        WHERE state IN ('queued', 'running', 'failed') ORDER BY random() LIMIT 1) j},
	# a stamp to where the database is: a no-op, or refused
	stamp => q{IF NOT EXISTS (SELECT FROM migr.partial) THEN
        PERFORM count(*) FROM migr_stamp(COALESCE(
          (SELECT revision FROM migr_current() LIMIT 1), 'base'));
      END IF},
	# a duplicate u makes the unique builds fail while it is there (it can
	# be inserted only while no unique index exists)
	dup => q{IF EXISTS (SELECT FROM t WHERE i = -1) THEN
        DELETE FROM t WHERE i = -1;
      ELSE
        INSERT INTO t VALUES (-1, -1, 5);
      END IF});
my %weight = (define => 3, upgrade => 4, downgrade => 2, retry => 2,
	cancel => 1, stamp => 1, dup => 2, wait => 4);
my @files;
foreach my $op (sort keys %ops)
{
	my $file = $node->basedir . "/021_race_$op.sql";
	my $sql = "DO \$\$ BEGIN $ops{$op}; EXCEPTION WHEN OTHERS THEN "
	  . "INSERT INTO race_error VALUES ('$op', SQLSTATE, SQLERRM); END \$\$;\n";
	$sql = "BEGIN ISOLATION LEVEL REPEATABLE READ;\n$sql" . "COMMIT;\n"
	  if $op eq 'stamp';
	append_to_file($file, $sql);
	push @files, '--file', "$file\@$weight{$op}";
}

my ($out, $err) = ('', '');
my $pgbench = IPC::Run::start(
	[
		'pgbench', '--no-vacuum', '--client=4', '--jobs=2',
		"--transactions=$tx", '--random-seed=9', @files,
		'--host', $node->host, '--port', $node->port, $db
	],
	'>', \$out, '2>', \$err,
	IPC::Run::timeout($PostgreSQL::Test::Utils::timeout_default));
my $finished = eval { $pgbench->finish };
$pgbench->kill_kill unless defined $finished;
ok($finished, 'pgbench exits with status 0, in time');
like($out, qr{actually processed: @{[4 * $tx]}/@{[4 * $tx]}}, 'pgbench ran every operation');
diag($err) if $err =~ /abort|invalid|error/i;

# Settle: wait for the worker, cancel what failed, remove the duplicate.
# The queue has settled when nothing runs and nothing is queued, or when a
# failed job stopped it (the jobs queued behind it wait for a retry or a
# cancel, which comes next).
$node->safe_psql($db, q{DELETE FROM t WHERE i = -1});
ok( $node->poll_query_until(
		$db, q{
SELECT NOT EXISTS (SELECT FROM migr.job WHERE state = 'running')
   AND (NOT EXISTS (SELECT FROM migr.job WHERE state = 'queued')
        OR EXISTS (SELECT FROM migr.job WHERE state = 'failed'))}),
	'the queue settles');
$node->safe_psql($db,
	q{SELECT migr_cancel(id) FROM migr.job WHERE state = 'failed'});
ok(wait_no_worker($node, $db), 'no worker is left');

# What happened, for the log.
note($node->safe_psql($db, q{
SELECT string_agg(op || ': ' || n || ' x ' || m, E'\n' ORDER BY op, m)
  FROM (SELECT op, regexp_replace(message, '\d+', 'N', 'g') m, count(*) n
          FROM race_error GROUP BY 1, 2) e}));
note($node->safe_psql($db, q{
SELECT string_agg(state || ':' || n || ' (' || attempts || ' failed attempts)', ' ' ORDER BY state)
  FROM (SELECT state, count(*) n, sum(attempts) attempts FROM migr.job GROUP BY state) j}));
note($node->safe_psql($db, q{
SELECT string_agg(outcome || ':' || n, ' ' ORDER BY outcome)
  FROM (SELECT action || ' ' || outcome AS outcome, count(*) n FROM migr.log GROUP BY 1) l}));
cmp_ok($node->safe_psql($db, q{SELECT count(*) FROM migr.job}), '>', 0,
	'background jobs ran');

# Every error is a promised refusal.
my $expected = join '|', (
	'cannot call migr_(stamp|downgrade)\(\) while background jobs are queued',
	# the downgrade's target was picked before another client reverted it
	'revision "r\d+" is not applied',
	'background job \d+ for revision "r\d+" failed',
	'revision "r\d+" is (applied|partially applied|queued for a background worker) and cannot be changed',
	'is partially applied on top of revision',
	'could not serialize access due to concurrent update',
	'could not serialize access: a background worker holds the migr lock',
	'job \d+ is not (a failed job|queued, running or failed)',
	'canceling statement due to lock timeout',
	'cannot call migr_(upgrade|downgrade|stamp)\(\) while a background worker holds the migr lock',
	'cannot call migr_wait\(\) in the transaction that queued background jobs',
	'^duplicate key value violates unique constraint "t_u\d+"');
is( $node->safe_psql(
		$db, qq{
SELECT string_agg(op || ' ' || sqlstate || ' ' || message, E'\\n')
  FROM race_error WHERE message !~ '$expected'}),
	'', 'every error was a promised refusal');

# migr.applied, migr.partial and the schema agree.
is( $node->safe_psql(
		$db, q{
SELECT string_agg(id || ':' || state || ':' || has_col || ':' || idx, ' ')
  FROM (SELECT r.id,
               CASE WHEN a.revision IS NOT NULL THEN 'applied'
                    WHEN p.revision IS NOT NULL THEN 'partial'
                    ELSE 'none' END AS state,
               EXISTS (SELECT FROM pg_attribute
                        WHERE attrelid = 't'::regclass AND NOT attisdropped
                          AND attname = 'c' || substr(r.id, 2)) AS has_col,
               COALESCE((SELECT CASE WHEN indisvalid THEN 'valid' ELSE 'invalid' END
                           FROM pg_index
                          WHERE indexrelid = to_regclass('t_u' || substr(r.id, 2))),
                        'none') AS idx,
               p.next_statement
          FROM migr.revision r
          LEFT JOIN migr.applied a ON a.revision = r.id
          LEFT JOIN migr.partial p ON p.revision = r.id) s
 WHERE NOT ((state = 'applied' AND has_col AND idx = 'valid')
         OR (state = 'partial' AND has_col AND idx = 'none' AND next_statement = 2)
         OR (state = 'none' AND NOT has_col AND idx = 'none'))}),
	'', 'every revision\'s columns and indexes are what migr.applied and migr.partial say');
is($node->safe_psql($db, q{
SELECT count(*) FROM pg_index WHERE indrelid = 't'::regclass AND NOT indisvalid}),
	'0', 'no INVALID index is left');

# migr_jobs() agrees: nothing pending; the latest job of each partially
# applied revision is cancelled and says so; every applied revision whose
# latest job is not done was applied again in line after it.
is($node->safe_psql($db, q{
SELECT count(*) FROM migr_jobs() WHERE state IN ('queued', 'running', 'failed')}),
	'0', 'migr_jobs(): nothing pending');
is( $node->safe_psql(
		$db, q{
SELECT string_agg(p.revision, ',')
  FROM migr.partial p
  LEFT JOIN LATERAL (SELECT * FROM migr_jobs() j WHERE j.revision = p.revision
                      ORDER BY j.id DESC LIMIT 1) j ON true
 WHERE j.state IS DISTINCT FROM 'cancelled'
    OR j.error !~ 'is partially applied: its statements before statement 2 committed'}),
	'', 'migr_jobs(): each partially applied revision\'s last job is cancelled and says so');
is( $node->safe_psql(
		$db, q{
SELECT string_agg(severity || ' ' || code || ' ' || coalesce(revision, ''), E'\n')
  FROM migr_check() WHERE code NOT IN ('partially_applied', 'multiple_heads')
    AND severity = 'error'}),
	'', 'migr_check() finds nothing wrong but partially applied revisions');
# on failure, the history that led there
diag($node->safe_psql($db, q{
SELECT string_agg(format('%s %s %s %s %s', id, action, revision, target, outcome), E'\n' ORDER BY id)
  FROM migr.log}) . "\n" . $node->safe_psql($db, q{
SELECT string_agg(format('%s %s %s-%s %s %s', id, revision, first_statement, next_statement,
                         state, attempts), E'\n' ORDER BY id)
  FROM migr.job}))
  if $node->safe_psql($db, q{SELECT count(*) FROM migr_check() WHERE severity = 'error'}) ne '0';
is( $node->safe_psql(
		$db, q{
SELECT (SELECT count(*) FROM migr_check() WHERE code = 'partially_applied')
     = (SELECT count(*) FROM migr.partial)}),
	't', 'migr_check() reports every partially applied revision');

# And the way out: finishing everything applies every revision.
$node->safe_psql($db, q{SELECT count(*) FROM migr_upgrade('head')});
is($node->safe_psql($db, q{SELECT migr_wait()}), 't', 'a last upgrade finishes');
is( $node->safe_psql(
		$db, q{
SELECT (SELECT count(*) FROM migr.applied) = (SELECT count(*) FROM migr.revision)
   AND (SELECT count(*) FROM migr.partial) = 0}),
	't', 'every revision is applied, none partially');
is( $node->safe_psql(
		$db, q{
SELECT count(*) FROM migr.revision r
 WHERE to_regclass('t_u' || substr(r.id, 2)) IS NULL}),
	'0', 'with every index');

done_testing();

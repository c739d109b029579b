# Every verb of the migr client against a server: what it prints and its
# exit code (0 done, 1 failed, 2 usage, 3 nothing to do); server errors
# printed with SQLSTATE, DETAIL, HINT and CONTEXT; progress; connection
# options, PG* variables and connection failures.
use strict;
use warnings;

use FindBin;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

use lib $FindBin::RealBin;
use MigrCli;

my $node = new_migr_node('verbs');
my $tmp = PostgreSQL::Test::Utils::tempdir;
my $d = "$tmp/migrations";
my ($rc, $out, $err);

sub sql { return $node->safe_psql('postgres', $_[0]); }
sub migr { return run_migr($node, [@_], cwd => $tmp); }

write_file("$d/a1.sql", revision_text('a1', message => 'create a',
	upgrade => "CREATE TABLE a (id int);\n", downgrade => "DROP TABLE a;\n"));
write_file("$d/a2.sql", revision_text('a2', parents => 'a1', message => 'add b',
	upgrade => "ALTER TABLE a ADD COLUMN b int;\n",
	downgrade => "ALTER TABLE a DROP COLUMN b;\n"));
write_file("$d/a3.sql", revision_text('a3', parents => 'a2', message => 'third',
	upgrade => "CREATE TABLE c (id int);\nCOMMENT ON TABLE c IS 'c';\n",
	downgrade => "DROP TABLE c;\n"));

# ---------------------------------------------------------------------
# upgrade

($rc, $out, $err) = migr('upgrade', '--push');
exit_is($rc, 0, 'upgrade --push');
like($out, qr/^pushed 3 revisions \(3 new, 0 changed\); 0 unchanged$/m, 'upgrade --push: pushed');
like($out, qr/^ revision \| message  \|\s+time\s*\n-+\+-+\+-+\n a1 +\| create a \| +[\d.]+ ms\n a2 +\| add b +\| +[\d.]+ ms\n a3 +\| third +\| +[\d.]+ ms\n/m,
	'upgrade: a table of the revisions applied, in order');
like($out, qr/^upgrade to "head": 3 revisions applied in [\d.]+ m?s$/m, 'upgrade: summary');
is($err, '', 'upgrade: nothing on stderr when it is not a terminal');
is(sql('SELECT count(*) FROM migr.applied'), '3', 'upgrade: applied');

($rc, $out, $err) = migr('upgrade');
exit_is($rc, 0, 'upgrade with nothing to do');
is($out, "nothing to do: the database is already at \"head\"\n", 'upgrade: nothing to do');

($rc, $out, $err) = migr('upgrade', '--push');
exit_is($rc, 0, 'upgrade --push with nothing to push or apply');

($rc, $out, $err) = migr('upgrade', '-q', '--exit-code');
exit_is($rc, 3, 'upgrade -q --exit-code');
is($out . $err, '', 'upgrade -q: silent');

# ---------------------------------------------------------------------
# looking

($rc, $out, $err) = migr('current');
exit_is($rc, 0, 'current');
like($out, qr/^ revision \| message \|\s+applied_at\s*\n-.*\n a3 +\| third +\| \d{4}-\d\d-\d\d \d\d:\d\d:\d\d.*\n\(1 row\)\n/m,
	'current: a table');

($rc, $out, $err) = migr('heads');
exit_is($rc, 0, 'heads');
like($out, qr/^ revision \| branch_labels \| applied \| message\s*\n-.*\n a3 +\| +\| yes +\| third\s*\n\(1 row\)/m,
	'heads: a table');

($rc, $out, $err) = migr('history');
exit_is($rc, 0, 'history');
like($out, qr/^ revision \| down_revision \| applied \| head \|\s+applied_at\s+\| message\s*\n-.*\n a1 .*\n a2 +\| a1 +\| yes .*\n a3 +\| a2 +\| yes +\| yes .*\n\(3 rows\)/m,
	'history: roots first');

($rc, $out, $err) = migr('history', 'a2:');
exit_is($rc, 0, 'history RANGE');
like($out, qr/\(2 rows\)/, 'history RANGE: two rows');
unlike($out, qr/^ a1 /m, 'history RANGE: a1 left out');

($rc, $out, $err) = migr('show', 'a2');
exit_is($rc, 0, 'show');
is($out,
	"Revision:      a2\n"
	  . "Parents:       a1\n"
	  . "Children:      a3\n"
	  . "Message:       add b\n"
	  . "Kind:          schema\n"
	  . "Applied:       yes, at " . sql("SELECT date_trunc('second', applied_at) FROM migr.applied WHERE revision = 'a2'") . "\n"
	  . "Checksum:      " . sql("SELECT checksum FROM migr.revision WHERE id = 'a2'") . "\n"
	  . "\n-- migr:upgrade\nALTER TABLE a ADD COLUMN b int;\n"
	  . "-- migr:downgrade\nALTER TABLE a DROP COLUMN b;\n",
	'show: the revision whole');

($rc, $out, $err) = migr('show', 'nosuch');
exit_is($rc, 1, 'show of an unknown revision');
like($err, qr/^ERROR:  42704: revision "nosuch" does not exist\nHINT:  A target is /m,
	'show: the server error with its SQLSTATE and hint');

($rc, $out, $err) = migr('check');
exit_is($rc, 0, 'check of a sound database');
like($out, qr/all clear/, 'check: all clear');

# ---------------------------------------------------------------------
# plan, downgrade, stamp

($rc, $out, $err) = migr('plan', 'head');
exit_is($rc, 0, 'plan with nothing to do');

($rc, $out, $err) = migr('plan', 'a1', '--downgrade');
exit_is($rc, 0, 'plan --downgrade');
is($out,
	"-- migr plan: downgrade to \"a1\", 2 revisions\n"
	  . "\n-- revision a3 (1/2): third\nDROP TABLE c;\n"
	  . "\n-- revision a2 (2/2): add b\nALTER TABLE a DROP COLUMN b;\n",
	'plan: the SQL, revision by revision');

($rc, $out, $err) = migr('downgrade', '-1');
exit_is($rc, 0, 'downgrade -1 (a relative target, not an option)');
like($out, qr/^ a3 +\| third +\| +[\d.]+ ms$/m, 'downgrade: the revision reverted');
like($out, qr/^downgrade to "-1": 1 revision reverted in /m, 'downgrade: summary');
is(sql("SELECT string_agg(revision, ' ' ORDER BY revision) FROM migr.applied"), 'a1 a2', 'downgrade: a3 reverted');

($rc, $out, $err) = migr('downgrade', 'a2');
exit_is($rc, 0, 'downgrade to where the database is');

($rc, $out, $err) = migr('plan', 'head');
exit_is($rc, 0, 'plan head');
is($out, "-- migr plan: upgrade to \"head\", 1 revision\n\n-- revision a3 (1/1): third\nCREATE TABLE c (id int);\nCOMMENT ON TABLE c IS 'c';\n",
	'plan head: statements with their semicolons');

($rc, $out, $err) = migr('stamp', 'head');
exit_is($rc, 0, 'stamp head');
like($out, qr/^ a3 +\| applied$/m, 'stamp: marked applied');
($rc, $out, $err) = migr('stamp', 'head', '--exit-code');
exit_is($rc, 3, 'stamp head again, --exit-code');

# a failing upgrade changes nothing, and says why
($rc, $out, $err) = migr('stamp', 'a1');
exit_is($rc, 0, 'stamp a1 (column a.b stays)');
($rc, $out, $err) = migr('upgrade');
exit_is($rc, 1, 'upgrade that fails');
like($err, qr/^ERROR:  42701: column "b" of relation "a" already exists$/m, 'failure: message and SQLSTATE');
like($err, qr/^CONTEXT:  (.*\n)?upgrade script of revision "a2", statement 1 at line 1$/m, 'failure: context');
like($err, qr/error: upgrade to "head" failed; no revision was applied/, 'failure: the outcome');
is(sql("SELECT string_agg(revision, ' ') FROM migr.applied"), 'a1', 'failure: nothing applied');

# the same, revision by revision with progress (forced: stderr is no terminal here)
($rc, $out, $err) = migr('upgrade', '--progress');
exit_is($rc, 1, 'upgrade --progress that fails');
like($err, qr/^migr: upgrading to "head": 2 revisions$/m, 'progress: announced');
like($err, qr/failed at revision "a2"; no revision was applied/, 'progress: the failing revision named');
is(sql("SELECT string_agg(revision, ' ') FROM migr.applied"), 'a1', 'progress failure: nothing applied');

sql('ALTER TABLE a DROP COLUMN b');
($rc, $out, $err) = migr('upgrade', '--progress');
exit_is($rc, 0, 'upgrade --progress');
like($err, qr/^  \[1\/2\] a2 +add b +[\d.]+ ms\n  \[2\/2\] a3 +third +[\d.]+ ms$/m, 'progress: one line per revision, with timings');
like($out, qr/^ a2 +\| add b +\| [\d.]+ ms\s*\n a3 /m, 'progress: stdout still gets the table');
like($out, qr/upgrade to "head": 2 revisions applied/, 'progress: summary');

# ---------------------------------------------------------------------
# several heads, check, merge

write_file("$d/b1.sql", revision_text('b1', parents => 'base', message => 'other root',
	extra => "-- migr:branch_labels other\n"));
($rc, $out, $err) = migr('push');
exit_is($rc, 1, 'push a second, unlabelled head is refused');
like($err, qr/this push would leave the database with 2 heads/, 'refused: why');
($rc, $out, $err) = migr('push', '--allow-heads');
exit_is($rc, 0, 'push a second root with --allow-heads');

($rc, $out, $err) = migr('upgrade');
exit_is($rc, 1, 'upgrade head with two heads');
like($err, qr/^ERROR:  MG001: /m, 'MG001');
like($err, qr/^HINT:  .*\S/m, 'MG001 comes with its hint');

($rc, $out, $err) = migr('check');
exit_is($rc, 1, 'check with two heads fails');
like($out, qr/^warning: there are 2 heads.* \[multiple_heads\]\n  hint: /m, 'check: the finding and its hint');
like($out, qr/0 errors, 1 warning, 0 info/, 'check: summary');
($rc, $out, $err) = migr('check', '--errors-only');
exit_is($rc, 0, 'check --errors-only passes warnings');

($rc, $out, $err) = migr('upgrade', 'heads');
exit_is($rc, 0, 'upgrade heads');
($rc, $out, $err) = migr('merge', '-m', 'join them', '--rev-id', 'm1');
exit_is($rc, 0, 'merge');
like($out, qr/^created migrations\/m1_join_them\.sql: revision m1 on (a3 b1|b1 a3)$/m, 'merge: writes a file');
($rc, $out, $err) = migr('merge', '-m', 'again', '--exit-code');
exit_is($rc, 3, 'merge with one head, --exit-code');
like($out, qr/nothing to merge: the folder has one head/, 'merge: nothing to merge');
($rc, $out, $err) = migr('upgrade', '--push');
exit_is($rc, 0, 'upgrade through the merge');

# on a real terminal progress is shown by itself, and replaces the table
SKIP:
{
	skip 'no script(1) to make a terminal', 4
	  unless system('script -qec true /dev/null >/dev/null 2>&1') == 0;
	($rc, $out, $err) = migr('downgrade', 'a1');
	exit_is($rc, 0, 'downgrade a1');
	local $ENV{PGHOST} = $node->host;
	local $ENV{PGPORT} = $node->port;
	local $ENV{PGDATABASE} = 'postgres';
	my $tty = `script -qec '@{[ migr_bin() ]} upgrade' /dev/null`;
	is($? >> 8, 0, 'upgrade on a terminal: exit code 0');
	like($tty, qr/migr: upgrading to "head": 3 revisions\r?\n  \[1\/3\] a2 +add b +[\d.]+ ms/,
		'upgrade on a terminal: progress without being asked');
	unlike($tty, qr/revision \| message/, 'upgrade on a terminal: the progress lines are the table');
}

# irreversible revisions stop a downgrade before anything is reverted
write_file("$d/z1.sql", revision_text('z1', parents => 'm1', downgrade => undef));
($rc, $out, $err) = migr('upgrade', '--push');
exit_is($rc, 0, 'upgrade --push of an irreversible revision');
($rc, $out, $err) = migr('downgrade', 'base');
exit_is($rc, 1, 'downgrade through an irreversible revision');
like($err, qr/^ERROR:  MG004: cannot downgrade to "base": revision "z1" is irreversible\nDETAIL:  .+\nHINT:  .+/m,
	'MG004 with DETAIL and HINT');

# ---------------------------------------------------------------------
# wait: the server's migr may not have background jobs yet

my $has_wait = sql("SELECT count(*) FROM pg_proc WHERE proname = 'migr_wait'");
if ($has_wait ne '0')
{
	($rc, $out, $err) = migr('wait', '--timeout', '1s');
	exit_is($rc, 0, 'wait');
	like($out, qr/no background job is queued or running/, 'wait: nothing queued');

	# CREATE INDEX CONCURRENTLY on an existing table goes to the worker
	$node->safe_psql('postgres', 'CREATE DATABASE bg');
	$node->safe_psql('bg', 'CREATE EXTENSION migr');
	my $bg = "$tmp/bg";
	write_file("$bg/c1.sql", revision_text('c1', upgrade => "CREATE TABLE big (id int);\n"));
	write_file("$bg/c2.sql", revision_text('c2', parents => 'c1',
		upgrade => "CREATE INDEX CONCURRENTLY big_id ON big (id);\n",
		downgrade => "DROP INDEX big_id;\n"));
	($rc, $out, $err) = run_migr($node, [ 'upgrade', '--push', '--dir', $bg, 'c1' ],
		env => { PGDATABASE => 'bg' });
	exit_is($rc, 0, 'upgrade to c1');
	($rc, $out, $err) = run_migr($node, [ 'upgrade', '--progress' ], env => { PGDATABASE => 'bg' });
	exit_is($rc, 0, 'upgrade handing a revision to the background worker');
	like($out, qr/^ c2 +\| +\| queued$/m, 'the queued revision is shown as such');
	like($out, qr/0 revisions applied, 1 queued for the background worker.*\n"migr wait" waits/,
		'the summary says how to wait');
	($rc, $out, $err) = run_migr($node, [ 'wait', '--timeout', '60s' ], env => { PGDATABASE => 'bg' });
	exit_is($rc, 0, 'wait for the worker');
	is($node->safe_psql('bg', "SELECT count(*) FROM pg_index WHERE indexrelid = 'big_id'::regclass AND indisvalid"),
		'1', 'the index was built');

	# a server whose migr predates background jobs: take the function away
	$node->safe_psql('postgres', 'CREATE DATABASE oldmigr');
	$node->safe_psql('oldmigr',
		'CREATE EXTENSION migr; '
		  . 'ALTER EXTENSION migr DROP FUNCTION migr_wait(interval); '
		  . 'DROP FUNCTION migr_wait(interval);');
}
($rc, $out, $err) = run_migr($node, ['wait'],
	env => { PGDATABASE => $has_wait ne '0' ? 'oldmigr' : 'postgres' });
exit_is($rc, 1, 'wait without migr_wait()');
like($err, qr/error: the server's migr has no migr_wait\(\)/, 'wait: says migr_wait() is missing');
like($err, qr/The server said: function .*migr_wait\(interval\) does not exist/, 'wait: the server\'s words');

# ---------------------------------------------------------------------
# connecting

my $connstr = "host=" . $node->host . " port=" . $node->port . " dbname=postgres";
($rc, $out, $err) = run_migr(undef, [ '-d', $connstr, 'current' ],
	env => { PGHOST => '/nonexistent', PGPORT => '1' });
exit_is($rc, 0, '-d with a connection string');
like($out, qr/^ z1 /m, '-d: the right database');

($rc, $out, $err) = run_migr(undef, [ '-H', $node->host, '-p', $node->port, '-d', 'postgres', 'heads' ]);
exit_is($rc, 0, '-H -p -d');
($rc, $out, $err) = run_migr(undef, [ '--host', $node->host, '-p', $node->port, '-d', 'postgres', 'heads' ]);
exit_is($rc, 0, '--host -p -d');

$node->safe_psql('postgres', 'CREATE DATABASE plain');
($rc, $out, $err) = run_migr($node, ['heads'], env => { PGDATABASE => 'plain' });
exit_is($rc, 1, 'a database without the extension (PGDATABASE)');
like($err, qr/error: the extension "migr" is not installed in database "plain"\n.*hint: Run CREATE EXTENSION migr;/,
	'no extension: message and hint');

($rc, $out, $err) = run_migr(undef, ['heads'],
	env => { PGHOST => $node->host, PGPORT => $node->port, PGUSER => 'nobody_here' });
exit_is($rc, 1, 'an unknown role (PGUSER)');
like($err, qr/role "nobody_here" does not exist/, 'the connection error is printed');

my $port = $node->port;
$node->stop;
($rc, $out, $err) = run_migr(undef, [ '-H', $node->host, '-p', $port, '-w', 'upgrade' ]);
exit_is($rc, 1, 'connection failure');
like($err, qr/^migr: error: connection to server on socket ".*" failed: No such file or directory/m,
	'connection failure: libpq\'s message');

done_testing();

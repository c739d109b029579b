# Fleets of databases in the migr client: "migr upgrade --dsn-file FILE
# --jobs N" over three databases and one that cannot be reached, a re-run
# that finishes only what is left, a revision that fails in one database
# because of its data while the others complete, "migr current" over the
# fleet, --each-database (databases without migr skipped, templates and
# databases that refuse connections left out), and the usage errors.
use strict;
use warnings;

use FindBin;
use IO::Socket::INET;
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

use lib $FindBin::RealBin;
use MigrCli;

my $node = new_migr_node('fleet');
my $tmp = PostgreSQL::Test::Utils::tempdir;
my $d = "$tmp/migrations";
my ($rc, $out, $err);

sub migr { return run_migr($node, [@_], cwd => $tmp); }

foreach my $db (qw(d1 d2 d3))
{
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	$node->safe_psql($db, 'CREATE EXTENSION migr');
}

write_file("$d/r1.sql", revision_text('r1', message => 'create t',
	upgrade => "CREATE TABLE t (id int, v int);\n",
	downgrade => "DROP TABLE t;\n"));
write_file("$d/r2.sql", revision_text('r2', parents => 'r1', message => 'add w',
	upgrade => "ALTER TABLE t ADD COLUMN w int;\n",
	downgrade => "ALTER TABLE t DROP COLUMN w;\n"));

# A port nothing listens on.
my $dead = PostgreSQL::Test::Cluster::get_free_port();
my $host = $node->host;
my $port = $node->port;
write_file("$tmp/fleet.txt", <<"EOF");
# the fleet: comments and blank lines are left out

dbname=d1
host=$host port=$port dbname=d2 password=hunter2
postgresql:///d3?host=$host&port=$port
host=$host port=$dead dbname=nowhere
EOF

# ---------------------------------------------------------------------
# first run: three upgraded, the unreachable one failed, exit 1

($rc, $out, $err) = migr('upgrade', '--push', '--dsn-file', 'fleet.txt',
	'--jobs', '2');
exit_is($rc, 1, 'fleet upgrade with one database unreachable');
foreach my $db (qw(d1 d2 d3))
{
	is($node->safe_psql($db,
		"SELECT string_agg(revision, ' ' ORDER BY revision) FROM migr.applied"),
		'r1 r2', "fleet upgrade: $db upgraded to head");
}
like($out, qr/^ +database +\| before \| after \| revisions \| +time +\| +outcome +$/m,
	'fleet upgrade: the summary table header');
like($out, qr/^ dbname=d1 +\| base +\| r2 +\| 2 +\| [\d.]+ m?s +\| applied 2 *$/m,
	'fleet upgrade: a row for d1');
like($out, qr/^ postgresql:\/\/\/d3\S* +\| base +\| r2 +\| 2 +\| .*\| applied 2 *$/m,
	'fleet upgrade: a row for d3, named as written');
like($out, qr/^ host=\S+ port=$dead dbname=nowhere +\| +\| +\| +\| .*\| failed: connection to server .*failed/m,
	'fleet upgrade: the unreachable database failed, with the first line of its error');
like($out, qr/password=\*{8}/, 'fleet upgrade: the password is starred out');
unlike($out . $err, qr/hunter2/, 'fleet upgrade: the password is never printed');
like($out, qr/^upgrade to "head": 3 databases moved, 0 already there, 1 failed$/m,
	'fleet upgrade: summary line');
my @lines = ($out =~ /^\[(\d)\/4\] /mg);
is_deeply(\@lines, [1, 2, 3, 4],
	'fleet upgrade: one progress line per finished database when not on a terminal');
like($err, qr/nowhere: connection to server/, 'fleet upgrade: the error on stderr');

# the table lists the databases in the file's order
like($out, qr/dbname=d1 .*\n.*dbname=d2 .*\n.*d3.*\n.*nowhere/,
	'fleet upgrade: rows in the order of the file');

# ---------------------------------------------------------------------
# second run: already at head, the failure again

($rc, $out, $err) = migr('upgrade', '--dsn-file', 'fleet.txt', '--jobs', '2');
exit_is($rc, 1, 'fleet re-run: still one failed');
like($out, qr/^ dbname=d1 +\| r2 +\| r2 +\| 0 +\| .*\| already at head *$/m,
	'fleet re-run: d1 already at head');
is(() = $out =~ /already at head/g, 6,
	'fleet re-run: three "already at head" progress lines and rows');
like($out, qr/^upgrade to "head": 0 databases moved, 3 already there, 1 failed$/m,
	'fleet re-run: summary line');

# without the unreachable one, nothing failed: exit 0
write_file("$tmp/ok.txt", "dbname=d1\ndbname=d2\n");
($rc, $out, $err) = migr('upgrade', '--dsn-file', 'ok.txt');
exit_is($rc, 0, 'fleet with every database at head');

# ---------------------------------------------------------------------
# a revision that fails in one database because of its data

$node->safe_psql('d2', 'INSERT INTO t (id, v) VALUES (1, 7), (2, 7)');
$node->safe_psql('d1', 'INSERT INTO t (id, v) VALUES (1, 7), (2, 8)');
write_file("$d/r3.sql", revision_text('r3', parents => 'r2', message => 'unique v',
	upgrade => "CREATE UNIQUE INDEX t_v ON t (v);\nALTER TABLE t ADD COLUMN x int;\n",
	downgrade => "DROP INDEX t_v;\nALTER TABLE t DROP COLUMN x;\n"));
($rc, $out, $err) = migr('upgrade', '--push', '--dsn-file', 'fleet.txt',
	'--jobs', '3');
exit_is($rc, 1, 'fleet upgrade with a revision failing in one database');
like($out, qr/^ dbname=d1 +\| r2 +\| r3 +\| 1 +\| .*\| applied 1 *$/m,
	'failing revision: d1 upgraded');
like($out, qr/^ postgresql:\S+ +\| r2 +\| r3 +\| 1 +\| .*\| applied 1 *$/m,
	'failing revision: d3 upgraded');
like($out, qr/^ [^|]*dbname=d2 [^|]+\| r2 +\| r2 +\| +\| .*\| failed: 23505: could not create unique index "t_v" *$/m,
	'failing revision: d2 failed, still at r2, with the SQLSTATE and message');
like($err, qr/dbname=d2 .*upgrade to "head" failed\nERROR:  23505: could not create unique index "t_v"\nDETAIL:  Key \(v\)=\(7\) is duplicated\./,
	'failing revision: the whole error on stderr');
is($node->safe_psql('d2',
	"SELECT string_agg(revision, ' ' ORDER BY revision) FROM migr.applied"),
	'r1 r2', 'failing revision: nothing of r3 recorded in d2');
is($node->safe_psql('d2',
	"SELECT count(*) FROM pg_attribute WHERE attrelid = 't'::regclass AND attname = 'x'"),
	'0', 'failing revision: nothing of r3 done in d2');
is($node->safe_psql('d1', "SELECT count(*) FROM migr.applied WHERE revision = 'r3'"),
	'1', 'failing revision: r3 applied in d1');

# fix the data; the re-run finishes d2 alone
$node->safe_psql('d2', 'DELETE FROM t WHERE id = 2');
($rc, $out, $err) = migr('upgrade', '--dsn-file', 'fleet.txt', '--jobs', '2');
exit_is($rc, 1, 'fleet re-run after the fix: the unreachable one still fails');
like($out, qr/dbname=d2 .*\| r2 +\| r3 +\| 1 +\| .*\| applied 1 *$/m,
	're-run after the fix: d2 finished');
like($out, qr/^upgrade to "head": 1 database moved, 2 already there, 1 failed$/m,
	're-run after the fix: summary line');

# ---------------------------------------------------------------------
# current and downgrade over a fleet

($rc, $out, $err) = migr('current', '--dsn-file', 'fleet.txt', '--jobs', '4');
exit_is($rc, 1, 'fleet current with one unreachable');
like($out, qr/^ +database +\| current \| +outcome/m, 'fleet current: header');
is(() = $out =~ /^ \S.* \| r3 +\| *$/mg, 3, 'fleet current: three at r3');

($rc, $out, $err) = migr('downgrade', 'r2', '--dsn-file', 'ok.txt');
exit_is($rc, 0, 'fleet downgrade');
like($out, qr/^ dbname=d1 +\| r3 +\| r2 +\| 1 +\| .*\| reverted 1 *$/m,
	'fleet downgrade: d1 reverted');
is($node->safe_psql('d3', "SELECT count(*) FROM migr.applied WHERE revision = 'r3'"),
	'1', 'fleet downgrade: a database not in the file is left alone');

# a database without migr named in the file is a failure
$node->safe_psql('postgres', 'CREATE DATABASE bare');
write_file("$tmp/bare.txt", "dbname=bare\ndbname=d1\n");
($rc, $out, $err) = migr('upgrade', '--dsn-file', 'bare.txt');
exit_is($rc, 1, 'fleet: a listed database without migr');
like($out, qr/^ dbname=bare .*\| failed: the extension "migr" is not installed in database "bare" *$/m,
	'fleet: the database without migr failed');
like($out, qr/^ dbname=d1 +\| r2 +\| r3 +\| 1 /m, 'fleet: the other one went on');

# --push where one database applied another definition of a revision: that
# database fails (MG002, from the server), the others are pushed and upgraded
$node->safe_psql('postgres', 'CREATE DATABASE other');
$node->safe_psql('other', 'CREATE EXTENSION migr');
$node->safe_psql('other',
	"SELECT migr_define('r1', '{}', 'CREATE TABLE t (id int, v int, z int)', 'DROP TABLE t')");
$node->safe_psql('other', "SELECT count(*) FROM migr_upgrade('r1')");
$node->safe_psql('d2', "SELECT count(*) FROM migr_downgrade('r2')");
write_file("$tmp/other.txt", "dbname=other\ndbname=d2\n");
($rc, $out, $err) = migr('upgrade', '--push', '--dsn-file', 'other.txt');
exit_is($rc, 1, 'fleet --push with an applied revision changed in one database');
like($out, qr/^ dbname=other +\| r1 +\| r1 +\| +\| .*\| failed: MG002: revision "r1" is applied and cannot be changed *$/m,
	'push refused: that database failed with MG002');
like($err, qr/dbname=other: push failed\nERROR:  MG002: .*\nDETAIL:  The new definition differs in: /,
	'push refused: the whole error on stderr');
like($out, qr/^ dbname=d2 +\| r2 +\| r3 +\| 1 +\| .*\| applied 1 *$/m,
	'push refused: the other database upgraded');
is($node->safe_psql('other', "SELECT count(*) FROM migr.revision"), '1',
	'push refused: nothing of the folder defined there');

# --progress: one line rewritten in place on stderr, no line per database
($rc, $out, $err) = migr('upgrade', '--progress', '--dsn-file', 'ok.txt');
exit_is($rc, 0, 'fleet --progress');
like($err, qr/\rmigr: upgrade: 0\/2 done, 1 running, 0 failed\e\[K\rmigr: upgrade: 1\/2 done, 1 running, 0 failed/,
	'fleet --progress: the progress line');
unlike($out, qr/^\[\d\/2\]/m, 'fleet --progress: no line per database');

# -q: nothing but errors
($rc, $out, $err) = migr('upgrade', '-q', '--dsn-file', 'fleet.txt');
exit_is($rc, 1, 'fleet -q');
is($out, '', 'fleet -q: nothing on stdout');
like($err, qr/nowhere: connection to server/, 'fleet -q: the error still printed');

# ---------------------------------------------------------------------
# connect_timeout is kept although libpq connects asynchronously: a server
# that accepts the connection and never answers fails in that time

my $silent = IO::Socket::INET->new(Listen => 5, LocalAddr => '127.0.0.1',
	LocalPort => 0, Proto => 'tcp') or die "could not listen: $!";
my $silent_port = $silent->sockport;
write_file("$tmp/silent.txt",
	"host=127.0.0.1 port=$silent_port dbname=x connect_timeout=2\ndbname=d1\n");
($rc, $out, $err) = migr('current', '--dsn-file', 'silent.txt', '--jobs', '2');
exit_is($rc, 1, 'a server that never answers');
like($out, qr/connect_timeout=2 +\| +\| failed: could not connect: timeout expired after 2 s \(connect_timeout\)/,
	'connect_timeout: that database failed in its time');
like($out, qr/^ dbname=d1 +\| r3 /m, 'connect_timeout: the other one was shown');
close $silent;

# ---------------------------------------------------------------------
# SIGINT: the queries in flight are canceled (their servers roll back),
# no other database is started, and the table says where each stands

write_file("$tmp/slow/s1.sql", revision_text('s1', message => 'slow',
	upgrade => "CREATE TABLE slow (id int);\nSELECT pg_sleep(120);\n",
	downgrade => "DROP TABLE slow;\n"));
foreach my $db (qw(s1 s2 s3))
{
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	$node->safe_psql($db, 'CREATE EXTENSION migr');
}
write_file("$tmp/slow.txt", "dbname=s1\ndbname=s2\ndbname=s3\n");
{
	local %ENV = %ENV;
	$ENV{PGHOST} = $node->host;
	$ENV{PGPORT} = $node->port;
	delete $ENV{PGDATABASE};
	my ($sout, $serr) = ('', '');
	my $h = IPC::Run::start(
		[ migr_bin(), 'upgrade', '--push', '--dir', "$tmp/slow",
			'--dsn-file', "$tmp/slow.txt", '--jobs', '2' ],
		'>', \$sout, '2>', \$serr, IPC::Run::timeout(180));
	$node->poll_query_until('postgres',
		"SELECT count(*) = 2 FROM pg_stat_activity WHERE wait_event = 'PgSleep'")
	  or die 'the slow revisions did not start';
	$h->signal('INT');
	$h->finish;
	is($h->result(0), 1, 'SIGINT: exit code 1');
	note("stdout:\n$sout\nstderr:\n$serr");
	like($serr, qr/interrupted: canceling the databases in flight/, 'SIGINT: said so');
	is(() = $sout =~ /^ dbname=s[12] +\| base +\| base +\| +\| .*\| failed: 57014: canceling statement due to user request *$/mg,
		2, 'SIGINT: both databases in flight canceled');
	like($sout, qr/^ dbname=s3 .*\| failed: not started: interrupted *$/m,
		'SIGINT: the third one not started');
	foreach my $db (qw(s1 s2 s3))
	{
		is($node->safe_psql($db,
			"SELECT count(*) FROM migr.applied UNION ALL SELECT count(*) FROM pg_class WHERE relname = 'slow'"),
			"0\n0", "SIGINT: nothing done in $db");
	}
	is($node->safe_psql('postgres',
		"SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'PgSleep'"),
		'0', 'SIGINT: no query left running');
}

# ---------------------------------------------------------------------
# --each-database: two databases with migr, one without, a template and
# a database that refuses connections left out

my $each = new_migr_node('each');
$each->safe_psql('postgres', 'CREATE DATABASE e1');
$each->safe_psql('e1', 'CREATE EXTENSION migr');
$each->safe_psql('postgres', 'CREATE DATABASE e2');
# a name that looks like a connection string is taken as a name
$each->safe_psql('postgres', 'CREATE DATABASE "e=5"');
$each->safe_psql('e=5', 'CREATE EXTENSION migr');
$each->safe_psql('postgres', 'CREATE DATABASE e3 ALLOW_CONNECTIONS false');
$each->safe_psql('postgres', 'CREATE DATABASE e4 IS_TEMPLATE true');

($rc, $out, $err) = run_migr($each,
	[ 'upgrade', '--push', '--each-database', '--jobs', '2' ], cwd => $tmp);
exit_is($rc, 0, 'upgrade --each-database');
like($out, qr/^ e1 +\| base +\| r3 +\| 3 +\| .*\| applied 3 *$/m, 'each-database: e1 upgraded');
like($out, qr/^ postgres +\| base +\| r3 +\| 3 +\| .*\| applied 3 *$/m,
	'each-database: postgres upgraded');
like($out, qr/^ e2 +\| +\| +\| +\| .*\| skipped: migr is not installed *$/m,
	'each-database: e2 skipped');
unlike($out, qr/^ (e3|e4|template0|template1) /m,
	'each-database: templates and databases refusing connections left out');
like($out, qr/^ e=5 +\| base +\| r3 +\| 3 +\| .*\| applied 3 *$/m,
	'each-database: "e=5" upgraded');
like($out, qr/^upgrade to "head": 3 databases moved, 0 already there, 0 failed, 1 without migr skipped$/m,
	'each-database: summary line');
is($each->safe_psql('e1', 'SELECT count(*) FROM migr.applied'), '3',
	'each-database: e1 applied');

($rc, $out, $err) = run_migr($each, [ 'upgrade', '--each-database' ],
	cwd => $tmp);
exit_is($rc, 0, 'upgrade --each-database again');
like($out, qr/^ e1 +\| r3 +\| r3 +\| 0 +\| .*\| already at head *$/m,
	'each-database again: already at head');

# the maintenance database is the one the connection options name
($rc, $out, $err) = run_migr($each, [ 'current', '--each-database', '-d', 'e1' ],
	cwd => $tmp);
exit_is($rc, 0, 'current --each-database -d e1');
like($out, qr/^ postgres +\| r3 /m, 'current --each-database: every database');

# -d as a whole connection string: its host and port reach every database
my $cs = 'host=' . $each->host . ' port=' . $each->port . ' dbname=e1';
($rc, $out, $err) = run_migr($each, [ 'current', '--each-database', '-d', $cs ],
	cwd => $tmp, env => { PGHOST => undef, PGPORT => undef, PGDATABASE => undef });
exit_is($rc, 0, 'current --each-database -d CONNSTRING');
like($out, qr/^ +e1 +\| r3 +\|.*^ +postgres +\| r3 /ms,
	'current --each-database -d CONNSTRING: the connection string applies to each database');

# named by nothing, the database listed from is "postgres" (not the user's)
$each->safe_psql('postgres', 'CREATE ROLE fleetbot LOGIN SUPERUSER');
($rc, $out, $err) = run_migr($each, [ 'current', '--each-database', '-U', 'fleetbot' ],
	cwd => $tmp, env => { PGDATABASE => undef });
exit_is($rc, 0, 'current --each-database without a database named');
like($out, qr/^ +e1 +\| r3 /m, 'without a database named: listed from "postgres"');

($rc, $out, $err) = run_migr($each, [ 'upgrade', '--each-database', '-d', 'e3' ],
	cwd => $tmp);
exit_is($rc, 1, '--each-database with an unusable maintenance database');
like($err, qr/e3.*not currently accepting connections/,
	'--each-database: the maintenance connection error');

# ---------------------------------------------------------------------
# usage errors and bad files

my @bad = (
	[ [ 'heads', '--each-database' ], qr/apply to "upgrade", "downgrade" and "current", not to "heads"/ ],
	[ [ 'upgrade', '--jobs', '2' ], qr/--jobs needs --each-database or --dsn-file/ ],
	[ [ 'upgrade', '--jobs', '0', '--each-database' ], qr/--jobs must be a number from 1 to 1024, not "0"/ ],
	[ [ 'upgrade', '--jobs', 'x', '--each-database' ], qr/--jobs must be a number/ ],
	[ [ 'upgrade', '--each-database', '--dsn-file', 'ok.txt' ], qr/cannot be given together/ ],
	[ [ 'upgrade', '--dsn-file', 'ok.txt', '-d', 'd1' ], qr/-d\/--dbname cannot be given with --dsn-file/ ],
	[ [ 'current', '--dsn-file', 'ok.txt', '--push' ], qr/option --push does not apply to "current"/ ],
	[ [ 'upgrade', '--each-database', '--dir', 'x' ], qr/--dir is used by "upgrade" only with --push/ ]);
foreach my $b (@bad)
{
	($rc, $out, $err) = migr(@{ $b->[0] });
	exit_is($rc, 2, "usage: @{ $b->[0] }");
	like($err, $b->[1], "usage: @{ $b->[0] }: message");
}

($rc, $out, $err) = migr('upgrade', '--dsn-file', 'missing.txt');
exit_is($rc, 1, 'a missing file');
like($err, qr/could not open file "missing.txt": No such file/, 'a missing file: message');

write_file("$tmp/empty.txt", "# nothing\n\n");
($rc, $out, $err) = migr('upgrade', '--dsn-file', 'empty.txt');
exit_is($rc, 1, 'a file without connection strings');
like($err, qr/the file "empty.txt" holds no connection string/, 'empty file: message');

write_file("$tmp/badline.txt", "dbname=d1\nhost=x nosuchoption=1\n");
($rc, $out, $err) = migr('downgrade', 'r2', '--dsn-file', 'badline.txt');
exit_is($rc, 1, 'a file with an invalid line');
like($err, qr/badline.txt:2: invalid connection string: invalid connection option "nosuchoption"/,
	'invalid line: named with its line number');
is($node->safe_psql('d1', "SELECT count(*) FROM migr.applied WHERE revision = 'r3'"),
	'1', 'invalid line: nothing was done, not even on the valid lines');

# standard input
($rc, $out, $err) = run_migr($node, [ 'current', '--dsn-file', '-' ],
	cwd => $tmp, stdin => "dbname=d3\n");
exit_is($rc, 0, '--dsn-file -');
like($out, qr/^ dbname=d3 +\| r3 /m, '--dsn-file -: read from standard input');

done_testing();

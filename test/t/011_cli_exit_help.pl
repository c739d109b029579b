# Issue 13, items 1 and 7: "nothing to do" is success (exit 0) so that
# "sh -e" entrypoints go on, --exit-code asks for 3; every verb has its own
# --help, -h is help (the host is -H or --host), Alembic's spellings work
# (revision, branches, history -r, --indicate-current, merge heads), an
# unknown verb suggests the nearest one, and line numbers in messages count
# from the top of the file.
use strict;
use warnings;

use FindBin;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

use lib $FindBin::RealBin;
use MigrCli;

my $node = new_migr_node('exit_help');
my $tmp = PostgreSQL::Test::Utils::tempdir;
my $d = "$tmp/migrations";
my ($rc, $out, $err);

sub migr { return run_migr($node, [@_], cwd => $tmp); }

write_file("$d/a1.sql", revision_text('a1', message => 'create a'));
write_file("$d/a2.sql", revision_text('a2', parents => 'a1', message => 'second'));

# ---------------------------------------------------------------------
# item 1: exit status

($rc, $out, $err) = migr('upgrade', '--push');
exit_is($rc, 0, 'upgrade --push with work');
for my $args ([ 'upgrade', '--push' ], ['upgrade'], ['push'], ['pull'], [ 'plan' ],
	[ 'stamp', 'head' ], [ 'downgrade', 'a2' ], [ 'merge', 'heads' ])
{
	($rc, $out, $err) = migr(@$args);
	exit_is($rc, 0, "@$args with nothing to do");
	($rc, $out, $err) = migr(@$args, '--exit-code');
	exit_is($rc, 3, "@$args --exit-code with nothing to do");
}

# a container entrypoint under "sh -e", started twice (the second finds
# nothing to do): the application still starts
my $bin = migr_bin();
for my $round (1, 2)
{
	local $ENV{PGHOST} = $node->host;
	local $ENV{PGPORT} = $node->port;
	local $ENV{PGDATABASE} = 'postgres';
	local $ENV{MIGR_DIR} = $d;
	my $o = `sh -ec '$bin upgrade --push -q; echo app started' 2>&1`;
	is($? >> 8, 0, "entrypoint round $round: exit 0");
	like($o, qr/app started/, "entrypoint round $round: the app starts");
}

# a failure is still 1, a usage error 2, with or without --exit-code
($rc, $out, $err) = migr('upgrade', 'nosuch', '--exit-code');
exit_is($rc, 1, 'a failure with --exit-code');
($rc, $out, $err) = migr('downgrade', '--exit-code');
exit_is($rc, 2, 'a usage error with --exit-code');

# ---------------------------------------------------------------------
# item 7: help

my %help;
for my $verb (qw(new merge push pull rm upgrade downgrade stamp plan current heads
	branches history show check jobs retry cancel wait))
{
	($rc, $out, $err) = run_migr(undef, [ $verb, '--help' ]);
	exit_is($rc, 0, "$verb --help");
	like($out, qr/^Usage:\n  migr \Q$verb\E\b/m, "$verb --help: its own usage line");
	$help{$verb} = $out;
}
isnt($help{upgrade}, $help{downgrade}, 'upgrade and downgrade have different help');
like($help{push}, qr/--allow-heads/, 'push --help names --allow-heads');
like($help{plan}, qr/--offline/, 'plan --help names --offline');
like($help{check}, qr/migr_lint\(\)/, 'check --help says the server lints');

($rc, $out, $err) = run_migr(undef, [ 'upgrade', '-h' ]);
exit_is($rc, 0, 'upgrade -h');
is($out, $help{upgrade}, '-h is the verb\'s help, as in Alembic');
($rc, $out, $err) = run_migr(undef, ['-h']);
exit_is($rc, 0, 'migr -h');
like($out, qr/^Verbs:\n(  \S+ +.*\n)+/m, 'migr -h: every verb on a line');
($rc, $out, $err) = run_migr(undef, [ 'help', 'stamp' ]);
is($out, $help{stamp}, 'migr help VERB');

# a psql habit: -h HOST is refused, never taken for help (which would exit 0)
($rc, $out, $err) = run_migr(undef, [ '-h', 'db1.example', 'upgrade' ]);
exit_is($rc, 2, '-h HOST');
like($err, qr/-h is help; the host is -H or --host/, '-h HOST: says what to write');
($rc, $out, $err) = run_migr(undef, [ '-H', $node->host, '-p', $node->port, 'heads' ]);
exit_is($rc, 0, '-H HOST');

# Alembic's spellings
($rc, $out, $err) = run_migr(undef, [ 'revision', '-m', 'third', '--rev-id', 'a3' ], cwd => $tmp);
exit_is($rc, 0, 'revision -m (alembic revision)');
ok(-f "$d/a3_third.sql", 'revision wrote a file');
($rc, $out, $err) = run_migr(undef, [ 'revision', '--help' ]);
like($out, qr/"migr revision" is "migr new"/, 'revision --help says it is new');
unlink "$d/a3_third.sql";

($rc, $out, $err) = migr('history', '-r', 'a2:');
exit_is($rc, 0, 'history -r');
like($out, qr/^ a2 /m, 'history -r: a2');
unlike($out, qr/^ a1 /m, 'history -r: not a1');
($rc, $out, $err) = migr('history', '--indicate-current');
exit_is($rc, 0, 'history --indicate-current');
like($out, qr/^ a2 .*\| \(current\) \|/m, 'the current revision is marked');
unlike($out, qr/^ a1 .*\(current\)/m, 'a1 is not current');

write_file("$d/b1.sql", revision_text('b1', parents => 'a1', message => 'beside a2'));
($rc, $out, $err) = migr('push', '--allow-heads');
($rc, $out, $err) = migr('branches');
exit_is($rc, 0, 'branches');
like($out, qr/^ a1 +\| (a2 b1|b1 a2) +\| create a/m, 'branches: the branch point and its children');
($rc, $out, $err) = migr('merge', 'heads', '-m', 'join', '--rev-id', 'm1');
exit_is($rc, 0, 'merge heads (alembic merge heads)');
like(read_file("$d/m1_join.sql"), qr/^-- migr:down_revision (a2 b1|b1 a2)$/m,
	'merge heads: both heads are the parents');

# an unknown verb: the nearest one
($rc, $out, $err) = run_migr(undef, ['upgarde']);
exit_is($rc, 2, 'a mistyped verb');
like($err, qr/unknown verb "upgarde".*\n.*Did you mean "migr upgrade"\?/, 'the nearest verb is suggested');
($rc, $out, $err) = run_migr(undef, ['hist']);
like($err, qr/Did you mean "migr history"\?/, 'a verb\'s beginning');
($rc, $out, $err) = run_migr(undef, ['xyzzy']);
unlike($err, qr/Did you mean/, 'nothing near: no suggestion');

# line numbers count from the top of the file
write_file("$d/z1.sql",
	"-- migr:revision z1\n-- migr:down_revision m1\n-- migr:message bad\n\n-- migr:upgrade\n"
	  . "CREATE TABLE z (a int);\nCREATE TABLE z (b int;\n-- migr:downgrade\nDROP TABLE z;\n");
($rc, $out, $err) = migr('push');
exit_is($rc, 1, 'push of a file with a syntax error');
like($err, qr/at migrations\/z1\.sql:7 \(line 2 of the upgrade script\)/, 'push: the file\'s line');
($rc, $out, $err) = run_migr($node, [ 'check', '--dir', $d ]);
like($out, qr/^\Q$d\E\/z1\.sql:7: error: upgrade script: syntax error/m, 'check --dir: the file\'s line');

# and when a script fails while it is applied
write_file("$d/z1.sql",
	"-- migr:revision z1\n-- migr:down_revision m1\n-- migr:message bad\n\n-- migr:upgrade\n"
	  . "CREATE TABLE z (a int);\nALTER TABLE nosuch ADD COLUMN b int;\n-- migr:downgrade\nDROP TABLE z;\n");
($rc, $out, $err) = migr('upgrade', '--push');
exit_is($rc, 1, 'upgrade --push of a script that fails');
like($err, qr/^ERROR:  42P01: relation "nosuch" does not exist$/m, 'the server\'s error');
like($err, qr/at migrations\/z1\.sql:7 \(line 2 of the upgrade script\)/, 'upgrade: the file\'s line');

$node->stop;
done_testing();

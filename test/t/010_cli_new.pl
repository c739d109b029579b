# The migr client without a database: "migr new", "migr merge --dir",
# "migr check --dir" on good and bad folders, and the command line itself
# (--help, --version, usage errors and their exit code).
use strict;
use warnings;

use FindBin;
use PostgreSQL::Test::Utils;
use Test::More;

use lib $FindBin::RealBin;
use MigrCli;

my $tmp = PostgreSQL::Test::Utils::tempdir;
my ($rc, $out, $err);

# Files of a folder, sorted.
sub files_in
{
	my ($dir) = @_;
	opendir my $dh, $dir or return ();
	my @f = sort grep { /\.sql$/ } readdir $dh;
	closedir $dh;
	return @f;
}

# ---------------------------------------------------------------------
# The command line

($rc, $out, $err) = run_migr(undef, ['--help']);
exit_is($rc, 0, '--help');
like($out, qr/Usage:\n  migr \[OPTION\]\.\.\. VERB/, '--help: usage line');
like($out, qr/Exit status:\n  0  done, or nothing to do.*\n.*\n  1  failed.*\n.*\n  2  usage error\n  3  with --exit-code only: nothing to do/s,
	'--help: the four exit codes');
for my $verb (qw(new push upgrade downgrade stamp current heads history show check plan merge wait))
{
	like($out, qr/^  \Q$verb\E\b/m, "--help: verb $verb");
}
like($out, qr/-d, --dbname=DBNAME.*-H, --host.*-p, --port.*-U, --username/s,
	'--help: connection options as psql has them (but -H: -h is help)');

($rc, $out, $err) = run_migr(undef, ['-V']);
exit_is($rc, 0, '--version');
like($out, qr/^migr \(migr client\) \d/, '--version prints the version');

($rc, $out, $err) = run_migr(undef, []);
exit_is($rc, 2, 'no verb');
like($err, qr/no verb given.*\n.*Try "migr --help"/, 'no verb: message and hint');

($rc, $out, $err) = run_migr(undef, ['frobnicate']);
exit_is($rc, 2, 'unknown verb');
like($err, qr/unknown verb "frobnicate"/, 'unknown verb: named');

($rc, $out, $err) = run_migr(undef, ['current', '--no-such-option']);
exit_is($rc, 2, 'unknown option');

($rc, $out, $err) = run_migr(undef, ['downgrade']);
exit_is($rc, 2, 'downgrade without a target');
like($err, qr/"downgrade" takes the arguments TARGET/, 'missing argument named');

($rc, $out, $err) = run_migr(undef, ['show', 'a', 'b']);
exit_is($rc, 2, 'too many arguments');

($rc, $out, $err) = run_migr(undef, ['heads', '-m', 'x']);
exit_is($rc, 2, 'an option of another verb');
like($err, qr/option -m\/--message does not apply to "heads"/, 'option named');

($rc, $out, $err) = run_migr(undef, [ 'new', '--dir', "$tmp/x" ]);
exit_is($rc, 2, 'new without -m');

($rc, $out, $err) = run_migr(undef, ['-q', '-v', 'heads']);
exit_is($rc, 2, '--quiet with --verbose');

# ---------------------------------------------------------------------
# migr new

my $d = "$tmp/migrations";
($rc, $out, $err) = run_migr(undef, [ 'new', '-m', 'Create users table!', '--dir', $d ]);
exit_is($rc, 0, 'new in a missing folder');
my @f = files_in($d);
is(scalar @f, 1, 'new: one file written');
like($f[0], qr/^[0-9a-f]{12}_create_users_table\.sql$/,
	'new: file name is <12 hex digits>_<slug>.sql');
my ($id1) = $f[0] =~ /^([0-9a-f]{12})/;
is(read_file("$d/$f[0]"),
	"-- migr:revision $id1\n"
	  . "-- migr:down_revision base\n"
	  . "-- migr:message Create users table!\n"
	  . "-- migr:upgrade\n"
	  . "\n"
	  . "-- migr:downgrade\n"
	  . "-- Write the SQL that reverts the upgrade here, or delete this\n"
	  . "-- section if the revision cannot be reverted.\n",
	'new: the first revision is a root, with an empty upgrade');
like($out, qr/created \Q$d\/$f[0]\E: revision $id1, a root/, 'new: says what it wrote');

# an empty upgrade is reported, but does not stop the next "new"
($rc, $out, $err) = run_migr(undef, [ 'new', '-m', 'add phone', '--dir', $d ]);
exit_is($rc, 0, 'second new');
my ($f2) = grep { !/^$id1/ } files_in($d);
my ($id2) = $f2 =~ /^([0-9a-f]{12})_add_phone\.sql$/;
ok($id2, 'second new: file name');
like(read_file("$d/$f2"), qr/\A-- migr:revision $id2\n-- migr:down_revision $id1\n/,
	'second new: its down_revision is the head of the files');

# fill in the scripts, as a developer would
for my $name (files_in($d))
{
	my $text = read_file("$d/$name");
	my ($id) = $name =~ /^([0-9a-z]+)_/;
	$text =~ s/-- migr:upgrade\n\n/-- migr:upgrade\nCREATE TABLE t_$id (id int);\n/;
	$text =~ s/-- Write the SQL.*\n.*\n/DROP TABLE t_$id;\n/;
	write_file("$d/$name", $text);
}
($rc, $out, $err) = run_migr(undef, [ 'check', '--dir', $d ]);
exit_is($rc, 0, 'check of a good folder');
like($out, qr/all clear: 2 revisions in \Q$d\E, head $id2/, 'check: all clear, the head named');

# --rev-id, --branch, --depends-on
($rc, $out, $err) = run_migr(undef,
	[ 'new', '-m', 'audit', '--dir', $d, '--rev-id', 'audit1', '--branch', 'audit',
	  '--head', 'base', '--depends-on', substr($id1, 0, 6) ]);
exit_is($rc, 0, 'new --head base --branch --depends-on --rev-id');
is(read_file("$d/audit1_audit.sql"),
	"-- migr:revision audit1\n"
	  . "-- migr:down_revision base\n"
	  . "-- migr:depends_on $id1\n"
	  . "-- migr:branch_labels audit\n"
	  . "-- migr:message audit\n"
	  . "-- migr:upgrade\n\n-- migr:downgrade\n"
	  . "-- Write the SQL that reverts the upgrade here, or delete this\n"
	  . "-- section if the revision cannot be reverted.\n",
	'new: directives for the dependency (prefix resolved) and the label');

($rc, $out, $err) = run_migr(undef, [ 'new', '-m', 'again', '--dir', $d, '--rev-id', 'audit1' ]);
exit_is($rc, 1, 'new with an id already in the folder');
like($err, qr/revision "audit1" is already defined by/, 'duplicate --rev-id named');

($rc, $out, $err) = run_migr(undef, [ 'new', '-m', 'x', '--dir', $d, '--rev-id', 'head' ]);
exit_is($rc, 2, 'new with a reserved word as id');

($rc, $out, $err) = run_migr(undef, [ 'new', '-m', 'two', '--dir', $d, '--branch', 'audit', '--head', $id2 ]);
exit_is($rc, 1, 'new with a branch label already used');
like($err, qr/branch label "audit" is already used by revision "audit1"/, 'label owner named');

# two heads now ($id2 and audit1): new refuses without --head
my @before = files_in($d);
($rc, $out, $err) = run_migr(undef, [ 'new', '-m', 'ambiguous', '--dir', $d ]);
exit_is($rc, 1, 'new on a folder with two heads');
like($err, qr/has 2 heads; which one should the new revision follow\?/, 'several heads: message');
like($err, qr/^  (\Q$id2\E .*\n^  audit1 |audit1 .*\n^  \Q$id2\E )/m, 'several heads: each listed');
like($err, qr/--head REV/, 'several heads: the way out');
is_deeply([ files_in($d) ], \@before, 'several heads: no file written');

($rc, $out, $err) = run_migr(undef, [ 'new', '-m', 'on audit', '--dir', $d, '--head', 'audit@head', '--rev-id', 'audit2' ]);
exit_is($rc, 0, 'new --head label@head');
like(read_file("$d/audit2_on_audit.sql"), qr/^-- migr:down_revision audit1$/m,
	'new --head label@head: parent is the branch head');

($rc, $out, $err) = run_migr(undef, [ 'new', '-m', 'x', '--dir', $d, '--head', 'nosuch' ]);
exit_is($rc, 1, 'new --head of an unknown revision');
like($err, qr/no file of "\Q$d\E" defines revision "nosuch"/, 'unknown --head named');

# default folder: ./migrations, then $MIGR_DIR
my $proj = "$tmp/proj";
mkdir $proj;
($rc, $out, $err) = run_migr(undef, [ 'new', '-m', 'first' ], cwd => $proj);
exit_is($rc, 0, 'new with the default folder');
is(scalar(files_in("$proj/migrations")), 1, 'default folder is ./migrations');
($rc, $out, $err) = run_migr(undef, [ 'new', '-m', 'elsewhere' ], cwd => $proj,
	env => { MIGR_DIR => "$tmp/envdir" });
exit_is($rc, 0, 'new with MIGR_DIR');
is(scalar(files_in("$tmp/envdir")), 1, 'MIGR_DIR is the folder');

# ---------------------------------------------------------------------
# migr merge --dir

for my $name (files_in($d))
{
	my $text = read_file("$d/$name");
	my ($id) = $name =~ /^([0-9a-z]+)_/;
	$text =~ s/-- migr:upgrade\n\n/-- migr:upgrade\nCREATE TABLE t_$id (id int);\n/;
	$text =~ s/-- Write the SQL.*\n.*\n/DROP TABLE t_$id;\n/;
	write_file("$d/$name", $text);
}
($rc, $out, $err) = run_migr(undef, [ 'check', '--dir', $d ]);
exit_is($rc, 1, 'check: two heads fail the check');
like($out, qr/warning: there are 2 heads: .*\[multiple_heads\]/, 'check: several heads reported');
($rc, $out, $err) = run_migr(undef, [ 'check', '--dir', $d, '--errors-only' ]);
exit_is($rc, 0, 'check --errors-only: a warning passes');

($rc, $out, $err) = run_migr(undef, [ 'merge', '-m', 'merge audit', '--dir', $d, '--rev-id', 'm1' ]);
exit_is($rc, 0, 'merge --dir');
my $merge = read_file("$d/m1_merge_audit.sql");
like($merge, qr/^-- migr:down_revision (audit2 $id2|$id2 audit2)$/m, 'merge: parents are the two heads');
like($merge, qr/-- migr:upgrade\n-- migr:downgrade\n\z/, 'merge: empty scripts');
($rc, $out, $err) = run_migr(undef, [ 'check', '--dir', $d ]);
exit_is($rc, 0, 'check after the merge');
like($out, qr/head m1/, 'check: the merge is the head');
($rc, $out, $err) = run_migr(undef, [ 'merge', '-m', 'again', '--dir', $d ]);
exit_is($rc, 0, 'merge --dir with one head: nothing to do');
like($out, qr/nothing to merge: the folder has one head/, 'merge: nothing to merge');

# --verbose lists every revision with its checksum
($rc, $out, $err) = run_migr(undef, [ 'check', '--dir', $d, '-v' ]);
like($out, qr/^\s*file\s*\|\s*revision\s*\|\s*down_revision\s*\|\s*checksum/m, 'check -v: a table');
like($out, qr/\| m1 +\| .* \| [0-9a-f]{64}\n/, 'check -v: a checksum per revision');

# ---------------------------------------------------------------------
# Bad folders

my $bad = "$tmp/bad";
write_file("$bad/a.sql", revision_text('a1'));
write_file("$bad/b.sql", revision_text('b1', parents => 'a1'));
write_file("$bad/c.sql", revision_text('a1', parents => 'b1'));
($rc, $out, $err) = run_migr(undef, [ 'check', '--dir', $bad ]);
exit_is($rc, 1, 'check: two files with one id');
like($out, qr/^\Q$bad\E\/c\.sql: error: revision id "a1" is also the id of \Q$bad\E\/a\.sql \[duplicate_id\]/m,
	'check: the duplicate names both files');
($rc, $out, $err) = run_migr(undef, [ 'new', '-m', 'x', '--dir', $bad ]);
exit_is($rc, 1, 'new refuses a folder with a duplicate id');
like($err, qr/the folder "\Q$bad\E" has 1 problem; no file was written/, 'new: why');

my $cyc = "$tmp/cycle";
write_file("$cyc/1.sql", revision_text('c1', parents => 'c3'));
write_file("$cyc/2.sql", revision_text('c2', parents => 'c1'));
write_file("$cyc/3.sql", revision_text('c3', parents => 'c2'));
write_file("$cyc/4.sql", revision_text('c4', parents => 'c4x'));
($rc, $out, $err) = run_migr(undef, [ 'check', '--dir', $cyc ]);
exit_is($rc, 1, 'check: a cycle');
like($out, qr/error: revisions form a cycle: "c1" -> "c3" -> "c2" -> "c1" .*\[cycle\]/,
	'check: the cycle spelled out');
like($out, qr/4\.sql: error: parent "c4x" is not defined by any file \[missing_parent\]/,
	'check: a missing parent');
is(() = $out =~ /\[cycle\]/g, 1, 'check: the cycle is reported once');

my $fmt = "$tmp/format";
write_file("$fmt/a.sql", "-- migr:revision f1\n-- migr:donw_revision x\n-- migr:upgrade\nSELECT 1;\n");
write_file("$fmt/b.sql", "-- migr:revision f2\n\nCREATE TABLE x ();\n-- migr:upgrade\nSELECT 1;\n");
write_file("$fmt/c.sql", "-- migr:message no id\n-- migr:upgrade\nSELECT 1;\n");
write_file("$fmt/d.sql", "-- migr:revision f4\n-- migr:upgrade\n-- only a comment\n");
write_file("$fmt/e.sql", "-- migr:revision f5\n-- migr:downgrade\nSELECT 1;\n-- migr:upgrade\nSELECT 1;\n");
write_file("$fmt/f.sql", "-- migr:revision f6\n-- migr:kind ddl\n-- migr:upgrade\nSELECT 1;\n");
write_file("$fmt/g.sql", "-- migr:revision g 7\n-- migr:upgrade\nSELECT 1;\n");
write_file("$fmt/h.sql", "-- migr:revision f8\n-- migr:upgrade\nSELECT 1;\n-- migr:message late\n");
# a directive inside a dollar quote or a string is script text
write_file("$fmt/i.sql",
	"-- migr:revision f9\n-- migr:upgrade\nCREATE FUNCTION f() RETURNS text LANGUAGE sql AS \$\$\n-- migr:downgrade\nSELECT 'x'\n\$\$;\nSELECT '\n-- migr:bogus\n';\n");
write_file("$fmt/notes.txt", "not a revision\n");
($rc, $out, $err) = run_migr(undef, [ 'check', '--dir', $fmt ]);
exit_is($rc, 1, 'check: format errors');
like($out, qr/^\Q$fmt\E\/a\.sql:2: error: unknown directive "donw_revision" \[format\]/m, 'unknown directive, with its line');
like($out, qr/^\Q$fmt\E\/b\.sql:3: error: SQL before "-- migr:upgrade" \[format\]/m, 'SQL before the upgrade, with its line');
like($out, qr/^\Q$fmt\E\/c\.sql: error: no "-- migr:revision" directive \[format\]/m, 'no revision directive');
like($out, qr/^\Q$fmt\E\/d\.sql: info: upgrade script of revision "f4" is empty \[empty_upgrade\]/m, 'empty upgrade: info');
like($out, qr/^\Q$fmt\E\/e\.sql:2: error: "-- migr:downgrade" comes before "-- migr:upgrade"/m, 'downgrade first');
like($out, qr/^\Q$fmt\E\/f\.sql: error: invalid kind "ddl" \[invalid_kind\]/m, 'invalid kind');
like($out, qr/^\Q$fmt\E\/g\.sql:1: error: "-- migr:revision" must give exactly one id/m, 'two ids');
like($out, qr/^\Q$fmt\E\/h\.sql:4: error: directive "message" comes after "-- migr:upgrade"/m, 'late directive');
unlike($out, qr/\/i\.sql(:\d+)?: error/, 'directive-like lines inside quotes are script text');
unlike($out, qr/notes\.txt/, 'files other than *.sql are ignored');
like($out, qr/\Q$fmt\E: 9 files, 7 errors, 1 warning, 1 info\n/, 'check: summary');

# the client reads files with the server's own parser (src/common/revparse.c):
# what migr_load() refuses, check refuses with the same words
my $fmt2 = "$tmp/format2";
write_file("$fmt2/a.sql", "-- migr:revision m1\n--migr:down_revision x\n-- migr:upgrade\nSELECT 1;\n");
write_file("$fmt2/b.sql", "-- migr:revision m2\n-- migr:allow MG101\n-- migr:upgrade\nSELECT 1;\n");
write_file("$fmt2/c.sql", "\xef\xbb\xbf-- migr:revision m3\n-- migr:upgrade\nSELECT 1;\n");
($rc, $out, $err) = run_migr(undef, [ 'check', '--dir', $fmt2 ]);
exit_is($rc, 1, 'check: the server\'s format errors');
like($out, qr/^\Q$fmt2\E\/a\.sql:2: error: malformed directive \[format\]\n  hint: Write directives exactly as/m,
	'a directive typo is an error, not a comment');
like($out, qr/^\Q$fmt2\E\/b\.sql:2: error: directive "allow" comes before "-- migr:upgrade" \[format\]/m,
	'an allow before the scripts');
unlike($out, qr/\/c\.sql(:\d+)?: error/, 'a UTF-8 byte order mark is not SQL');

# a marker revision (an empty upgrade) is information, not a problem
my $mk = "$tmp/marker";
write_file("$mk/1.sql", revision_text('m1', parents => 'base'));
write_file("$mk/2.sql", "-- migr:revision m2\n-- migr:down_revision m1\n-- migr:upgrade\n-- release 1.0\n");
($rc, $out, $err) = run_migr(undef, [ 'check', '--dir', $mk ]);
exit_is($rc, 0, 'check: a marker revision is no error');
like($out, qr/2\.sql: info: upgrade script of revision "m2" is empty \[empty_upgrade\]/,
	'check: the marker is reported as info');
like($out, qr/^all clear: 2 revisions in \Q$mk\E, head m2$/m, 'check: all clear');

SKIP:
{
	skip 'root reads any file', 3 if $> == 0;
	my $unr = "$tmp/unreadable";
	write_file("$unr/a.sql", revision_text('u1'));
	write_file("$unr/b.sql", revision_text('u2', parents => 'u1'));
	chmod 0000, "$unr/b.sql";
	($rc, $out, $err) = run_migr(undef, [ 'check', '--dir', $unr ]);
	exit_is($rc, 1, 'check: an unreadable file');
	like($out, qr/^\Q$unr\E\/b\.sql: error: could not read file: Permission denied \[unreadable\]/m,
		'unreadable file named with the reason');
	chmod 0644, "$unr/b.sql";
}

($rc, $out, $err) = run_migr(undef, [ 'check', '--dir', "$tmp/nosuchdir" ]);
exit_is($rc, 1, 'check: a missing folder');
like($out, qr/could not open directory "\Q$tmp\E\/nosuchdir": No such file or directory/, 'missing folder named');

done_testing();

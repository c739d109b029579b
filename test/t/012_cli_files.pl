# Issue 13, item 2: the folder is the source of truth.  "merge" and "new"
# write files (into --dir or the default folder), "pull" writes what only
# the database defines, "push" reports it (-v lists it), and "rm" removes
# an unapplied revision from both, never an applied one.
use strict;
use warnings;

use FindBin;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

use lib $FindBin::RealBin;
use MigrCli;

my $node = new_migr_node('files');
my $tmp = PostgreSQL::Test::Utils::tempdir;
my $d = "$tmp/migrations";
my ($rc, $out, $err);

sub sql { return $node->safe_psql('postgres', $_[0]); }
sub migr { return run_migr($node, [@_], cwd => $tmp); }

sub files_in
{
	opendir my $dh, $d or return ();
	my @f = sort grep { /\.sql$/ } readdir $dh;
	closedir $dh;
	return @f;
}

write_file("$d/a1.sql", revision_text('a1', message => 'root'));
write_file("$d/a2.sql", revision_text('a2', parents => 'a1', message => 'left'));
write_file("$d/b2.sql", revision_text('b2', parents => 'a1', message => 'right'));
($rc, $out, $err) = migr('upgrade', '--push', '--allow-heads', 'heads');
exit_is($rc, 0, 'two heads pushed and applied');

# the issue's scenario: "migr merge" without --dir used to merge in the
# database only; now it writes the file into the default folder
($rc, $out, $err) = migr('merge', '-m', 'join', '--rev-id', 'm1');
exit_is($rc, 0, 'merge without --dir');
ok(-f "$d/m1_join.sql", 'merge wrote migrations/m1_join.sql');
is(sql("SELECT count(*) FROM migr.revision WHERE id = 'm1'"), '0', 'merge defined nothing in the database');
($rc, $out, $err) = migr('push', '-v');
exit_is($rc, 0, 'push of the merge');
like($out, qr/^new +m1 +migrations\/m1_join\.sql$/m, 'push -v: the merge file is new');
($rc, $out, $err) = migr('merge', '-m', 'again');
like($out, qr/nothing to merge: the folder has one head/, 'no second merge head');
is(scalar(grep { /merge|again/ } files_in()), 0, 'no second merge file');

# "new" writes into --dir too
($rc, $out, $err) = run_migr(undef, [ 'new', '-m', 'elsewhere', '--dir', "$tmp/other", '--rev-id', 'o1' ]);
exit_is($rc, 0, 'new --dir');
ok(-f "$tmp/other/o1_elsewhere.sql", 'new wrote into --dir');

# a revision defined in the database only (a merge in psql, another branch)
sql(q{SELECT migr_define('db1', '{m1}', 'CREATE TABLE db1 (a int)', 'DROP TABLE db1', 'made in psql', '{dblabel}', '{a2}', 'schema')});
sql(q{SELECT migr_define('db2', '{db1}', 'CREATE TABLE db2 (a text DEFAULT ''it''''s'')', NULL, 'irreversible', '{}', '{}', 'data')});
($rc, $out, $err) = migr('push');
exit_is($rc, 0, 'push with revisions only in the database');
like($err, qr/2 revisions of the database have no file in "migrations"; "migr pull" writes them to files/,
	'push reports the database-only revisions');
($rc, $out, $err) = migr('push', '-v');
like($out, qr/^only in db db1  made in psql$/m, 'push -v lists db1');
like($out, qr/^only in db db2  irreversible$/m, 'push -v lists db2');

($rc, $out, $err) = migr('pull', '--dry-run');
exit_is($rc, 0, 'pull --dry-run');
like($out, qr/would pull 2 revisions into migrations/, 'pull --dry-run: says what');
ok(!-e "$d/db1_made_in_psql.sql", 'pull --dry-run writes nothing');
($rc, $out, $err) = migr('pull');
exit_is($rc, 0, 'pull');
like($out, qr/^pulled db1  migrations\/db1_made_in_psql\.sql$/m, 'pull: db1 written');
is(read_file("$d/db1_made_in_psql.sql"),
	"-- migr:revision db1\n-- migr:down_revision m1\n-- migr:depends_on a2\n"
	  . "-- migr:branch_labels dblabel\n-- migr:message made in psql\n"
	  . "-- migr:upgrade\nCREATE TABLE db1 (a int)\n-- migr:downgrade\nDROP TABLE db1\n",
	'pull: the file holds every field');
unlike(read_file("$d/db2_irreversible.sql"), qr/migr:downgrade/, 'pull: irreversible stays irreversible');
like(read_file("$d/db2_irreversible.sql"), qr/^-- migr:kind data$/m, 'pull: the kind');
($rc, $out, $err) = migr('push', '-v');
exit_is($rc, 0, 'push after pull');
like($out, qr/^unchanged +db1 /m, 'the pulled file is unchanged for push (same checksum)');
like($out, qr/^unchanged +db2 /m, 'db2 too');
unlike($err, qr/no file in/, 'nothing only in the database any more');
($rc, $out, $err) = migr('pull');
like($out, qr/nothing to pull/, 'a second pull has nothing to do');

# rm: an unapplied revision goes from both
($rc, $out, $err) = migr('rm', 'db2');
exit_is($rc, 0, 'rm of an unapplied revision');
like($out, qr/removed revision db2: deleted migrations\/db2_irreversible\.sql and undefined it/, 'rm: says what');
ok(!-e "$d/db2_irreversible.sql", 'rm: the file is gone');
is(sql("SELECT count(*) FROM migr.revision WHERE id = 'db2'"), '0', 'rm: undefined');
is(sql("SELECT string_agg(revision, ' ') FROM migr_heads()"), 'db1', 'rm: db1 is the head again');

# rm refuses: applied, a parent in the folder, unknown; nothing changes
($rc, $out, $err) = migr('upgrade');
($rc, $out, $err) = migr('rm', 'db1');
exit_is($rc, 1, 'rm of an applied revision');
like($err, qr/ERROR:  55000: cannot undefine revision "db1": it is applied\n.*\nHINT:  Downgrade below it first/,
	'rm: the server\'s refusal and its hint');
like($err, qr/nothing was removed/, 'rm: nothing removed');
ok(-f "$d/db1_made_in_psql.sql", 'rm: the file stays');
($rc, $out, $err) = migr('rm', 'a1');
exit_is($rc, 1, 'rm of a revision others build on');
like($err, qr/cannot remove revision "a1": a2 \(migrations\/a2\.sql\) builds on it/, 'rm: the child named');
($rc, $out, $err) = migr('rm', 'zz');
exit_is($rc, 1, 'rm of an unknown revision');
like($err, qr/revision "zz" is defined neither by a file/, 'rm: unknown named');

# rm of a file never pushed, and of a revision only in the database
write_file("$d/n1.sql", revision_text('n1', parents => 'db1'));
($rc, $out, $err) = migr('rm', 'n1');
exit_is($rc, 0, 'rm of a file never pushed');
like($out, qr/it was not defined in the database/, 'rm: file only');
sql(q{SELECT migr_define('n2', '{db1}', 'SELECT 1')});
($rc, $out, $err) = migr('rm', 'n2');
exit_is($rc, 0, 'rm of a revision only in the database');
like($out, qr/it had no file in migrations/, 'rm: database only');

# rm against a database whose extension predates 1.2
$node->safe_psql('postgres', 'CREATE DATABASE old');
$node->safe_psql('old', "CREATE EXTENSION migr VERSION '1.1'");
$node->safe_psql('old', q{SELECT migr_define('o1', NULL, 'SELECT 1')});
($rc, $out, $err) = run_migr($node, [ 'rm', 'o1', '--dir', "$tmp/none" ], env => { PGDATABASE => 'old' });
exit_is($rc, 1, 'rm on migr 1.1');
like($err, qr/has no migr_undefine\(\).*\n.*ALTER EXTENSION migr UPDATE/, 'rm on 1.1: says to update');
is($node->safe_psql('old', "SELECT count(*) FROM migr.revision"), '1', 'rm on 1.1: nothing removed');

$node->stop;
done_testing();

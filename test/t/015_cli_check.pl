# Issue 13, item 5: "migr check --dir" parses and lints every script with
# the server's migr_lint() when one is reachable, and says what it did not
# check when none is; the summary counts by severity (an info is not a
# warning, and passes); rows fit in 100 columns; a downgrade left as the
# template of "migr new" is flagged.  "migr check" of the database counts
# the same way.
use strict;
use warnings;

use FindBin;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

use lib $FindBin::RealBin;
use MigrCli;

my $node = new_migr_node('check');
my $tmp = PostgreSQL::Test::Utils::tempdir;
my $d = "$tmp/migrations";
my ($rc, $out, $err);

sub sql { return $node->safe_psql('postgres', $_[0]); }

sql("CREATE TABLE existing (a int, b int)");
write_file("$d/1_typo.sql",
	"-- migr:revision c1\n-- migr:message typo\n-- migr:upgrade\nCREATE TABLE y (a int);\n"
	  . "ALTER TABLE y ADD COLUM y int;\n-- migr:downgrade\nDROP TABLE y;\n");
write_file("$d/2_txn.sql",
	"-- migr:revision c2\n-- migr:down_revision c1\n-- migr:upgrade\nBEGIN;\n"
	  . "CREATE TABLE z (a int);\nCOMMIT;\n-- migr:downgrade\nDROP TABLE z;\n");
write_file("$d/3_lint.sql",
	"-- migr:revision c3\n-- migr:down_revision c2\n\n-- migr:upgrade\n-- an index\n"
	  . "CREATE INDEX existing_a ON existing (a);\nALTER TABLE existing RENAME COLUMN a TO b;\n"
	  . "-- migr:downgrade\nDROP INDEX existing_a;\n");

# with a server
($rc, $out, $err) = run_migr($node, [ 'check', '--dir', 'migrations' ], cwd => $tmp);
exit_is($rc, 1, 'check --dir with a server');
like($out, qr/^migrations\/1_typo\.sql:5: error: upgrade script: syntax error at or near "int" \(SQLSTATE 42601\) \[sql\]$/m,
	'ADD COLUM: a syntax error, on the file\'s line');
like($out, qr/^migrations\/2_txn\.sql:4: error: BEGIN controls the transaction.*\[transaction_control\]$/m,
	'BEGIN: an error, on its line');
like($out, qr/^migrations\/2_txn\.sql:6: error: COMMIT controls the transaction/m, 'COMMIT too');
like($out, qr/^migrations\/3_lint\.sql:6: info: CREATE INDEX "existing_a" on existing table "existing" \(empty\).*\[index_not_concurrent\]$/m,
	'a lint finding (an info: the table is empty), on the file\'s line');
like($out, qr/^migrations\/3_lint\.sql:7: warning: .*\[rename\]$/m, 'a lint warning, on the file\'s line');
like($out, qr/^migrations: 3 files, 3 errors, 1 warning, 1 info$/m, 'summary by severity');
is(sql('SELECT count(*) FROM migr.revision'), '0', 'check defined nothing');
is(sql("SELECT count(*) FROM pg_class WHERE relname IN ('y', 'z', 'existing_a')"), '0', 'check ran nothing');

# no server: says what was not checked
($rc, $out, $err) = run_migr(undef, [ 'check', '--dir', 'migrations' ], cwd => $tmp);
exit_is($rc, 0, 'check --dir without a server: what it can check is fine');
like($out, qr/^not checked: the SQL of 6 scripts \(their syntax and lint need the server's parser: no server with migr was reachable: .+\)$/m,
	'offline: says what was not checked, and why');
($rc, $out, $err) = run_migr($node, [ 'check', '--dir', 'migrations', '--offline' ], cwd => $tmp);
like($out, qr/not checked: the SQL of 6 scripts .*--offline was given/, '--offline: not checked either');

# an info alone passes; it is counted as info
unlink "$d/$_" for qw(1_typo.sql 2_txn.sql 3_lint.sql);
write_file("$d/m.sql", "-- migr:revision mk\n-- migr:upgrade\n-- release 1.0\n-- migr:downgrade\n");
($rc, $out, $err) = run_migr($node, [ 'check', '--dir', 'migrations' ], cwd => $tmp);
exit_is($rc, 0, 'an info passes');
like($out, qr/^migrations\/m\.sql: info: .*\[empty_upgrade\]$/m, 'the info is shown');
like($out, qr/^all clear: 1 revision in migrations, head mk$/m, 'all clear');

# the untouched template of "migr new"
($rc, $out, $err) = run_migr(undef, [ 'new', '-m', 'x', '--rev-id', 'n1', '--dir', 'migrations' ], cwd => $tmp);
my $f = read_file("$d/n1_x.sql");
$f =~ s/-- migr:upgrade\n\n/-- migr:upgrade\nCREATE TABLE n1 (a int);\n/;
write_file("$d/n1_x.sql", $f);
($rc, $out, $err) = run_migr(undef, [ 'check', '--dir', 'migrations' ], cwd => $tmp);
exit_is($rc, 1, 'an untouched downgrade template fails the check');
like($out, qr/^migrations\/n1_x\.sql:7: warning: the downgrade script of revision "n1" is still the template "migr new" wrote \[downgrade_template\]$/m,
	'the template is flagged, on its line');
like($out, qr/0 errors, 1 warning, 1 info/, 'summary');
($rc, $out, $err) = run_migr(undef, [ 'check', '--dir', 'migrations', '--errors-only' ], cwd => $tmp);
exit_is($rc, 0, '--errors-only lets the warning pass');

# rows no wider than 100 characters without a terminal or $COLUMNS
($rc, $out, $err) = run_migr($node, [ 'check', '--dir', 'migrations' ], cwd => $tmp, env => { COLUMNS => undef });
my @wide = grep { length($_) > 100 } split /\n/, $out;
is_deeply(\@wide, [], 'every row fits in 100 columns');
like($out, qr/^  hint: /m, 'hints are on their own rows');

# "migr check" of the database: an info is not a warning
sql(q{SELECT migr_define('e1', NULL, 'CREATE TABLE e1 (a int)', 'DROP TABLE e1', '', '{expand}')});
sql(q{SELECT migr_define('k1', NULL, 'CREATE TABLE k1 (a int)', 'DROP TABLE k1', '', '{contract}')});
($rc, $out, $err) = run_migr($node, ['check']);
exit_is($rc, 0, 'check of a database with only an info (labelled heads)');
like($out, qr/^info: .*\[multiple_heads\]$/m, 'the info is shown');
like($out, qr/^all clear: migr_check\(\) found nothing wrong \(1 info\)$/m, 'all clear, info counted apart');
sql(q{SELECT migr_define('e2', NULL, 'CREATE TABLE e2 (a int)', 'DROP TABLE e2')});
($rc, $out, $err) = run_migr($node, [ 'check' ], env => { COLUMNS => undef });
exit_is($rc, 1, 'check with two heads');
like($out, qr/^0 errors, 1 warning, 0 info$/m, 'database check: counts by severity');
@wide = grep { length($_) > 100 } split /\n/, $out;
is_deeply(\@wide, [], 'database check: every row fits in 100 columns');

$node->stop;
done_testing();

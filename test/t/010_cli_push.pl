# "migr push": the client's checksums equal the server's, an unchanged
# folder sends nothing, changes are found, an applied revision whose file
# changed is refused by file name with nothing pushed, and errors from the
# server name the file they are about.
use strict;
use warnings;

use FindBin;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

use lib $FindBin::RealBin;
use MigrCli;

my $node = new_migr_node('push', "log_statement = 'all'");
my $tmp = PostgreSQL::Test::Utils::tempdir;
my $d = "$tmp/migrations";
my ($rc, $out, $err);

sub sql { return $node->safe_psql('postgres', $_[0]); }

# How often the server log shows migr_load since an offset.
sub loads_since
{
	my ($offset) = @_;
	my $log = slurp_file($node->logfile, $offset);
	return scalar(() = $log =~ /migr_load\(/g);
}

# ---------------------------------------------------------------------
# Files of every shape the format allows

write_file("$d/001_root.sql",
	revision_text('r001', parents => 'base', message => 'create users',
		upgrade => "CREATE TABLE users (id bigint PRIMARY KEY, name text);\n",
		downgrade => "DROP TABLE users;\n"));
# CRLF line ends: the directives are read without the CR, the scripts keep it
write_file("$d/002_crlf.sql",
	"-- migr:revision r002\r\n-- migr:down_revision r001\r\n-- migr:message crlf \r\n"
	  . "-- migr:upgrade\r\nALTER TABLE users ADD COLUMN phone text;\r\n"
	  . "-- migr:downgrade\r\nALTER TABLE users DROP COLUMN phone;\r\n");
# no downgrade: irreversible; no final newline
write_file("$d/003_irrev.sql",
	"-- migr:revision r003\n-- migr:down_revision r002\n-- migr:message  spaces around  \n"
	  . "-- migr:upgrade\nALTER TABLE users ADD COLUMN email text;");
# a data revision on its own branch, with a label and a dependency
write_file("$d/004_data.sql",
	"-- migr:revision r004\n-- migr:down_revision base\n-- migr:branch_labels seed extra\n"
	  . "-- migr:depends_on r001\n-- migr:kind data\n-- migr:message seed données ünïcode\n"
	  . "-- a comment before the upgrade\n\n"
	  . "-- migr:upgrade\nINSERT INTO users VALUES (1, 'Zoë');\n"
	  . "-- migr:downgrade\nDELETE FROM users WHERE id = 1;\n");
# directive-like lines inside quotes belong to the script
write_file("$d/005_quotes.sql",
	"-- migr:revision r005\n-- migr:down_revision r003\n-- migr:upgrade\n"
	  . "CREATE FUNCTION users_hello() RETURNS text LANGUAGE sql AS \$body\$\n"
	  . "-- migr:downgrade\nSELECT 'hello'\n\$body\$;\n"
	  . "COMMENT ON FUNCTION users_hello() IS '\n-- migr:message not one\n';\n"
	  . "-- migr:downgrade\nDROP FUNCTION users_hello();\n");
# a merge of the two heads, empty
write_file("$d/006_merge.sql",
	"-- migr:revision r006\n-- migr:down_revision r005 r004\n-- migr:message merge\n"
	  . "-- migr:upgrade\n-- migr:downgrade\n");

($rc, $out, $err) = run_migr(undef, [ 'check', '--dir', $d, '-v' ]);
exit_is($rc, 0, 'the folder checks clean');
my %client;
while ($out =~ /^ \S+\s*\| (r\d+)\s*\|[^|]*\| ([0-9a-f]{64})$/mg)
{
	$client{$1} = $2;
}
is(scalar keys %client, 6, 'check -v lists six checksums');

my $offset = -s $node->logfile;
($rc, $out, $err) = run_migr($node, [ 'push', '--dir', $d ]);
exit_is($rc, 0, 'first push');
like($out, qr/^pushed 6 revisions \(6 new, 0 changed\); 0 unchanged$/m, 'first push: six new');
is(loads_since($offset), 1, 'first push: one statement of migr_load for the six files');

my %server = map { split /\|/ } split /\n/, sql('SELECT id, checksum FROM migr.revision');
is_deeply(\%client, \%server, "the client's checksums equal the server's, file by file");
is(sql("SELECT string_agg(id, ' ' ORDER BY seq) FROM migr.revision"),
	'r001 r002 r003 r004 r005 r006', 'pushed parents first, ties by file name');
is(sql("SELECT message FROM migr.revision WHERE id = 'r003'"), 'spaces around',
	'message as the server parses it');
is(sql("SELECT array_to_string(branch_labels, ',') || ' ' || kind FROM migr.revision WHERE id = 'r004'"),
	'seed,extra data', 'labels and kind pushed');

# idempotence: nothing sent the second time
$offset = -s $node->logfile;
($rc, $out, $err) = run_migr($node, [ 'push', '--dir', $d ]);
exit_is($rc, 0, 'second push: nothing to do');
like($out, qr/^nothing to push: the 6 revisions of \Q$d\E are already defined$/m,
	'second push: says so');
is(loads_since($offset), 0, 'second push: no migr_load sent at all');
my $log = slurp_file($node->logfile, $offset);
is(scalar(() = $log =~ /statement: SELECT r\.id, r\.checksum/g) +
	  scalar(() = $log =~ /execute <unnamed>: SELECT r\.id, r\.checksum/g), 1,
	'second push: one query for the revisions');

($rc, $out, $err) = run_migr($node, [ 'push', '--dir', $d, '--dry-run' ]);
exit_is($rc, 0, 'push --dry-run of an unchanged folder');

# ---------------------------------------------------------------------
# Changes

($rc, $out, $err) = run_migr($node, [ 'upgrade', 'r003' ]);
exit_is($rc, 0, 'upgrade to r003');

# an unapplied revision changed: replaced (the server says so in a NOTICE)
my $q = read_file("$d/005_quotes.sql");
(my $q2 = $q) =~ s/'hello'/'hello again'/;
write_file("$d/005_quotes.sql", $q2);
write_file("$d/007_new.sql", revision_text('r007', parents => 'r006'));
($rc, $out, $err) = run_migr($node, [ 'push', '--dir', $d, '--dry-run' ]);
exit_is($rc, 0, 'push --dry-run with changes');
like($out, qr/^changed +r005 +\Q$d\E\/005_quotes\.sql \(scripts, parents, dependencies or kind\)$/m,
	'dry run: the changed file');
like($out, qr/^new +r007 +\Q$d\E\/007_new\.sql$/m, 'dry run: the new file');
like($out, qr/would push 2 revisions \(1 new, 1 changed\); 5 unchanged/, 'dry run: summary');
is(sql("SELECT count(*) FROM migr.revision WHERE id = 'r007'"), '0', 'dry run pushes nothing');

$offset = -s $node->logfile;
($rc, $out, $err) = run_migr($node, [ 'push', '--dir', $d ]);
exit_is($rc, 0, 'push of one changed and one new file');
like($out, qr/pushed 2 revisions \(1 new, 1 changed\); 5 unchanged/, 'push: summary');
like($err, qr/NOTICE:  replacing revision "r005", which is not applied/, 'push: the server\'s notice shown');
is(loads_since($offset), 1, 'push: still one statement');

# an applied revision changed: refused by file name, nothing pushed
my $orig2 = read_file("$d/002_crlf.sql");
(my $bad2 = $orig2) =~ s/phone text/phone varchar/;
write_file("$d/002_crlf.sql", $bad2);
write_file("$d/008_new.sql", revision_text('r008', parents => 'r007'));
$offset = -s $node->logfile;
($rc, $out, $err) = run_migr($node, [ 'push', '--dir', $d ]);
exit_is($rc, 1, 'push of a changed applied revision');
like($err, qr/\Q$d\E\/002_crlf\.sql: revision "r002" is applied and cannot be changed \(MG002\)/,
	'refusal names the file and MG002');
like($err, qr/differs from the applied definition in: scripts, parents, dependencies or kind/,
	'refusal says what differs');
like($err, qr/hint: .*write the change as a new revision \(migr new\)/, 'refusal: the way out');
like($err, qr/nothing was pushed/, 'refusal: nothing pushed');
is(loads_since($offset), 0, 'refusal: nothing sent');
is(sql("SELECT count(*) FROM migr.revision WHERE id = 'r008'"), '0', 'the new file was not pushed either');

# the message alone, or the labels alone, count as a change too
write_file("$d/002_crlf.sql", $orig2);
my $orig1 = read_file("$d/001_root.sql");
(my $m1 = $orig1) =~ s/create users/create the users/;
write_file("$d/001_root.sql", $m1);
($rc, $out, $err) = run_migr($node, [ 'push', '--dir', $d ]);
exit_is($rc, 1, 'push of an applied revision with a new message');
like($err, qr/001_root\.sql: revision "r001" is applied.*\n.*differs from the applied definition in: message\./,
	'message change named');
write_file("$d/001_root.sql", $orig1);

($rc, $out, $err) = run_migr($node, [ 'upgrade', 'seed@head' ]);
exit_is($rc, 0, 'upgrade the seed branch');
my $orig4 = read_file("$d/004_data.sql");
(my $l4 = $orig4) =~ s/branch_labels seed extra/branch_labels seed/;
write_file("$d/004_data.sql", $l4);
($rc, $out, $err) = run_migr($node, [ 'push', '--dir', $d ]);
exit_is($rc, 1, 'push of an applied revision with other labels');
like($err, qr/004_data\.sql: revision "r004" is applied.*\n.*in: branch_labels\./, 'label change named');
write_file("$d/004_data.sql", $orig4);

($rc, $out, $err) = run_migr($node, [ 'push', '--dir', $d ]);
exit_is($rc, 0, 'push after restoring the files');
like($out, qr/pushed 1 revision \(1 new, 0 changed\); 7 unchanged/, 'only r008 was new');

# ---------------------------------------------------------------------
# Errors

# the server refuses a script: the file is named, nothing is pushed
write_file("$d/009_ok.sql", revision_text('r009', parents => 'r008'));
write_file("$d/010_syntax.sql", revision_text('r010', parents => 'r009',
	upgrade => "CREATE TABLE broken (id int;\n"));
($rc, $out, $err) = run_migr($node, [ 'push', '--dir', $d ]);
exit_is($rc, 1, 'push of a script the server cannot parse');
like($err, qr/^ERROR:  42601: syntax error at or near ";"$/m, 'server error with its SQLSTATE');
like($err, qr/^CONTEXT:  .*revision "r010"/m, 'server error with its context');
like($err, qr/push failed on \Q$d\E\/010_syntax\.sql; nothing was pushed/, 'the file is named');
is(sql("SELECT count(*) FROM migr.revision WHERE id IN ('r009', 'r010')"), '0',
	'one transaction: the good file was not defined either');
unlink "$d/010_syntax.sql";

# a folder with a format error pushes nothing
write_file("$d/011_typo.sql", "-- migr:revision r011\n-- migr:parent r009\n-- migr:upgrade\nSELECT 1;\n");
($rc, $out, $err) = run_migr($node, [ 'push', '--dir', $d ]);
exit_is($rc, 1, 'push of a folder with a bad file');
like($err, qr/011_typo\.sql:2: error: unknown directive "parent"/, 'the bad file and line');
like($err, qr/the folder "\Q$d\E" has 1 problem; nothing was pushed/, 'nothing pushed');
unlink "$d/011_typo.sql";

# a parent that only the database defines is fine; one defined nowhere is a warning
my $d2 = "$tmp/other";
write_file("$d2/a.sql", revision_text('x001', parents => 'r008'));
write_file("$d2/b.sql", revision_text('x002', parents => 'x001 nowhere'));
($rc, $out, $err) = run_migr($node, [ 'push', '--dir', $d2 ]);
exit_is($rc, 0, 'push with parents outside the folder');
unlike($err, qr/"r008"/, 'a parent defined in the database is not reported');
like($err, qr/warning: .*b\.sql: parent "nowhere" of revision "x002" is defined neither by a file nor in the database/,
	'a parent defined nowhere is a warning');

# a dollar-quote tag of any length: the client and the server both read the
# directive inside the body as script text, and a quote character in the
# body opens nothing, so the downgrade stays the downgrade (a tag longer
# than 129 bytes used to hide the "-- migr:downgrade" line from both
# readers, and the downgrade's DROP TABLE became part of the upgrade)
my $tag = 't' . ('x' x 200);
my $d3 = "$tmp/longtag";
write_file("$d3/a.sql",
	"-- migr:revision lt1\n-- migr:upgrade\n"
	  . "CREATE TABLE lt1 (a text DEFAULT \$$tag\$it's\n-- migr:upgrade\n\$$tag\$);\n"
	  . "-- migr:downgrade\nDROP TABLE lt1;\n");
($rc, $out, $err) = run_migr(undef, [ 'check', '--dir', $d3, '-v' ]);
exit_is($rc, 0, 'check: a long dollar tag is read');
my ($lt_sum) = $out =~ /\| lt1\s*\|[^|]*\| ([0-9a-f]{64})$/m;
($rc, $out, $err) = run_migr($node, [ 'push', '--dir', $d3, '--allow-heads' ]);
exit_is($rc, 0, 'push: a long dollar tag');
is(sql("SELECT downgrade FROM migr.revision WHERE id = 'lt1'"), 'DROP TABLE lt1;',
	'long dollar tag: the downgrade section stays the downgrade');
is(sql("SELECT checksum FROM migr.revision WHERE id = 'lt1'"), $lt_sum,
	"long dollar tag: the client's checksum equals the server's");

# a marker revision (an empty upgrade) is pushed, as the server accepts it
write_file("$d3/b.sql",
	"-- migr:revision mk1\n-- migr:down_revision lt1\n-- migr:upgrade\n-- release 1.0\n");
($rc, $out, $err) = run_migr($node, [ 'push', '--dir', $d3, '--allow-heads' ]);
exit_is($rc, 0, 'push: a marker revision');
is(sql("SELECT upgrade FROM migr.revision WHERE id = 'mk1'"), '-- release 1.0',
	'push: the marker is defined');

($rc, $out, $err) = run_migr($node, [ 'push', '--dir', "$tmp/none" ]);
exit_is($rc, 1, 'push of a missing folder');
like($err, qr/could not open directory/, 'missing folder named');

$node->stop;
done_testing();

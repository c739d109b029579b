# migr schema and migr drift: the description printed as JSON, and drift
# against the last move or against a description saved from another
# database (exit 1 when there is drift, 0 when none).
use strict;
use warnings;

use FindBin;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

use lib $FindBin::RealBin;
use MigrCli;

my $node = new_migr_node('cli_schema');
my $tmp = PostgreSQL::Test::Utils::tempdir;
my ($rc, $out, $err);

sub sql { return $node->safe_psql($_[0], $_[1]); }
sub migr { return run_migr($node, [@_], cwd => $tmp); }

$node->safe_psql('postgres', 'CREATE DATABASE staging');
$node->safe_psql('staging', 'CREATE EXTENSION migr');
$node->safe_psql('staging',
	q{CREATE TABLE users (id int PRIMARY KEY, phone varchar(20));
	  CREATE INDEX users_phone ON users (phone);});

# migr schema: JSON, the same as migr_schema()
($rc, $out, $err) = migr('schema', '-d', 'staging');
exit_is($rc, 0, 'schema');
is($err, '', 'schema: nothing on stderr');
write_file("$tmp/staging.json", $out);
like($out, qr/^\{\n/, 'schema: indented JSON');
my $lit = $out;
$lit =~ s/'/''/g;
is(sql('staging', "SELECT '$lit'::jsonb = migr_schema()"),
	't', 'schema: exactly migr_schema()');

# migr drift --against: production differs from staging
$node->safe_psql('postgres',
	q{CREATE TABLE users (id int PRIMARY KEY, phone text)});
($rc, $out, $err) = migr('drift', '--against', "$tmp/staging.json");
exit_is($rc, 1, 'drift --against with differences');
like($out, qr/^ table +\| public\.users +\| changed \| column "phone": type character varying\(20\) -> text$/m,
	'drift --against: the column change');
like($out, qr/^ index +\| public\.users_phone +\| dropped \| *$/m,
	'drift --against: the missing index');
like($out, qr/^2 differences$/m, 'drift --against: a count');

# made the same: no drift, exit 0
$node->safe_psql('postgres',
	q{ALTER TABLE users ALTER COLUMN phone TYPE varchar(20);
	  CREATE INDEX users_phone ON users (phone);});
($rc, $out, $err) = migr('drift', '--against', "$tmp/staging.json");
exit_is($rc, 0, 'drift --against without differences');
is($out, "no drift: the schema is the one the file describes\n",
	'drift --against: no drift');

# the description on stdin
($rc, $out, $err) = run_migr($node, [ 'drift', '--against', '-' ],
	cwd => $tmp, stdin => read_file("$tmp/staging.json"));
exit_is($rc, 0, 'drift --against - reads stdin');

# migr drift: against the last move
($rc, $out, $err) = migr('drift');
exit_is($rc, 1, 'drift before any move');
like($err, qr/no schema has been recorded yet/, 'drift: says why');
like($err, qr/HINT:/, 'drift: with the hint');
$node->safe_psql('postgres', q{
SELECT migr_define('c1', NULL, 'CREATE TABLE orders (id int)', 'DROP TABLE orders');
SELECT count(*) FROM migr_upgrade('head')});
($rc, $out, $err) = migr('drift');
exit_is($rc, 0, 'drift right after a move');
is($out, "no drift: the schema is the one the last move left\n", 'drift: none');
$node->safe_psql('postgres', 'ALTER TABLE orders ADD COLUMN total numeric');
($rc, $out, $err) = migr('drift');
exit_is($rc, 1, 'drift after a change by hand');
like($out, qr/column "total" added: numeric/, 'drift: names the change');

# errors
($rc, $out, $err) = migr('drift', '--against', "$tmp/nope.json");
exit_is($rc, 1, 'drift --against a missing file');
like($err, qr/could not open file ".*nope\.json"/, 'drift: the missing file named');
write_file("$tmp/bad.json", "not json\n");
($rc, $out, $err) = migr('drift', '--against', "$tmp/bad.json");
exit_is($rc, 1, 'drift --against a file that is not JSON');
like($err, qr/invalid input syntax for type json/, 'drift: the server says why');
write_file("$tmp/array.json", "[1]\n");
($rc, $out, $err) = migr('drift', '--against', "$tmp/array.json");
exit_is($rc, 1, 'drift --against a JSON that is not a description');
like($err, qr/a schema description must be a jsonb object/, 'drift: not a description');
($rc, $out, $err) = migr('schema', '--against', "$tmp/staging.json");
exit_is($rc, 2, 'schema does not take --against');
($rc, $out, $err) = migr('schema', 'extra');
exit_is($rc, 2, 'schema takes no argument');

$node->stop;
done_testing();

# "migr verify [TARGET]": migr_verify()'s rows and a summary; exit 0 when
# every step passes, 1 on a failure or an error, 2 on a usage error, 3 when
# every revision up to the target is applied already; nothing persists.
use strict;
use warnings;

use FindBin;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

use lib $FindBin::RealBin;
use MigrCli;

my $node = new_migr_node('verify');
my $tmp = PostgreSQL::Test::Utils::tempdir;
my $d = "$tmp/migrations";
my ($rc, $out, $err);

sub sql { return $node->safe_psql('postgres', $_[0]); }
sub migr { return run_migr($node, [@_], cwd => $tmp); }

write_file("$d/a1.sql", revision_text('a1', message => 'create a',
	upgrade => "CREATE TABLE a (id int, b int);\n",
	downgrade => "DROP TABLE a;\n"));
write_file("$d/a2.sql", revision_text('a2', parents => 'a1',
	message => 'index b',
	upgrade => "CREATE INDEX CONCURRENTLY a_b_idx ON a (b);\n",
	downgrade => "DROP INDEX CONCURRENTLY a_b_idx;\n"));
($rc, $out, $err) = migr('push');
exit_is($rc, 0, 'push');

# a correct history
($rc, $out, $err) = migr('verify');
exit_is($rc, 0, 'verify of a correct history');
like($out,
	qr/^ revision \|\s+step\s+\| result \| detail *\n-+\+-+\+-+\+-+\n a1 +\| upgrade +\| ok +\| *\n a1 +\| downgrade +\| ok +\| *\n a1 +\| upgrade again \| ok +\| *\n a2 +\| upgrade +\| ok/m,
	'verify: one row per step, in order');
like($out, qr/^all clear: 2 revisions verified up to heads$/m, 'verify: summary');
is($err, '', 'verify: nothing on stderr');
is(sql('SELECT count(*) FROM migr.applied'), '0', 'verify: nothing applied');
is(sql(q{SELECT to_regclass('a')}), '', 'verify: no table left');
is(sql('SELECT count(*) FROM migr_jobs()'), '0', 'verify: nothing queued');

($rc, $out, $err) = migr('verify', 'a1');
exit_is($rc, 0, 'verify up to a revision');
like($out, qr/^all clear: 1 revision verified up to a1$/m, 'verify a1: summary');
unlike($out, qr/ a2 /, 'verify a1: a2 is not verified');

# a downgrade that forgets an index
write_file("$d/a3.sql", revision_text('a3', parents => 'a2',
	message => 'index id',
	upgrade => "CREATE INDEX a_id_idx ON a (id);\n",
	downgrade => "SELECT 1;\n"));
($rc, $out, $err) = migr('push');
exit_is($rc, 0, 'push a3');
($rc, $out, $err) = migr('verify');
exit_is($rc, 1, 'verify of a downgrade that forgets an index');
like($out,
	qr/^ a3 +\| downgrade +\| FAILED \| index public\.a_id_idx left behind by the downgrade$/m,
	'verify: the index left behind is named');
like($out, qr/^ a3 +\| upgrade again \| FAILED \| relation "a_id_idx" already exists/m,
	'verify: the second upgrade fails');
like($out, qr/^2 failures in 3 revisions up to heads$/m, 'verify: failure summary');
is(sql('SELECT count(*) FROM migr.applied'), '0', 'verify: still nothing applied');

($rc, $out, $err) = migr('-q', 'verify');
exit_is($rc, 1, 'verify --quiet of a failure');
unlike($out, qr/\| ok /, 'verify --quiet: passing rows left out');
like($out, qr/^ a3 +\| downgrade +\| FAILED \|/m, 'verify --quiet: failing rows shown');
unlike($out, qr/failures in/, 'verify --quiet: no summary');

# every revision applied: nothing to verify
($rc, $out, $err) = migr('upgrade', 'a2');
exit_is($rc, 0, 'upgrade a2');
($rc, $out, $err) = migr('verify', 'a2');
exit_is($rc, 0, 'verify below the current state: nothing to do is success');
like($out, qr/^nothing to verify: every revision up to a2 is applied$/m,
	'verify: nothing to verify');
($rc, $out, $err) = migr('verify', 'a2', '--exit-code');
exit_is($rc, 3, 'verify --exit-code below the current state: 3');

# from the current state: only a3
($rc, $out, $err) = migr('verify');
exit_is($rc, 1, 'verify from a2');
unlike($out, qr/ a1 /, 'verify from a2: a1 is applied, not verified');
is(sql('SELECT string_agg(revision, \',\' ORDER BY revision) FROM migr.applied'),
	'a1,a2', 'verify from a2: the applied set is unchanged');

# errors
($rc, $out, $err) = migr('verify', 'nope');
exit_is($rc, 1, 'verify of an unknown target');
like($err, qr/revision "nope" does not exist/, 'verify nope: the error');
($rc, $out, $err) = migr('verify', 'a1', 'a2');
exit_is($rc, 2, 'verify with two targets');

# a database still at extension version 1.1
$node->safe_psql('postgres', 'CREATE DATABASE old11');
$node->safe_psql('old11', q{CREATE EXTENSION migr VERSION '1.1'});
($rc, $out, $err) = migr('-d', 'old11', 'verify');
exit_is($rc, 1, 'verify before ALTER EXTENSION UPDATE');
like($err, qr/migr_verify\(\) comes with version 1\.2 of the extension: ALTER EXTENSION migr UPDATE/,
	'verify on 1.1: the hint');

done_testing();

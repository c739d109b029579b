# Issue 13, item 4: "migr plan" plans from the folder (what pushing it and
# upgrading would run: fresh after an edit, before any push), and
# "plan --offline" prints, without a server, a script a DBA runs with psql,
# with the bookkeeping statements; running it leaves the database as
# "migr upgrade" would.
use strict;
use warnings;

use FindBin;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

use lib $FindBin::RealBin;
use MigrCli;

my $node = new_migr_node('plan');
my $tmp = PostgreSQL::Test::Utils::tempdir;
my $d = "$tmp/migrations";
my ($rc, $out, $err);

sub sql { return $node->safe_psql($_[1] // 'postgres', $_[0]); }
sub migr { return run_migr($node, [@_], cwd => $tmp); }

write_file("$d/a1.sql", revision_text('a1', message => 'first',
	upgrade => "CREATE TABLE t1 (a int);\n", downgrade => "DROP TABLE t1;\n"));
write_file("$d/a2.sql", revision_text('a2', parents => 'a1', message => "it's second",
	upgrade => "ALTER TABLE t1 ADD COLUMN b text DEFAULT '\$migr\$';\n",
	downgrade => "ALTER TABLE t1 DROP COLUMN b;\n"));

# before any push: the plan comes from the folder
($rc, $out, $err) = migr('plan');
exit_is($rc, 0, 'plan before any push');
is($out, "-- migr plan: upgrade to \"head\", 2 revisions\n\n"
	  . "-- revision a1 (1/2): first\nCREATE TABLE t1 (a int);\n\n"
	  . "-- revision a2 (2/2): it's second\nALTER TABLE t1 ADD COLUMN b text DEFAULT '\$migr\$';\n",
	'plan: both revisions of the folder');
is(sql('SELECT count(*) FROM migr.revision'), '0', 'plan defined nothing');

($rc, $out, $err) = migr('upgrade', '--push', 'a1');
exit_is($rc, 0, 'upgrade to a1');

# an edit of an unpushed file shows at once
write_file("$d/a3.sql", revision_text('a3', parents => 'a2', message => 'third',
	upgrade => "CREATE INDEX t1_a ON t1 (a);\n", downgrade => "DROP INDEX t1_a;\n"));
($rc, $out, $err) = migr('plan', 'head');
like($out, qr/upgrade to "head", 2 revisions.*-- revision a3 \(2\/2\): third\nCREATE INDEX t1_a ON t1 \(a\);/s,
	'plan: a3, never pushed, is in the plan');
write_file("$d/a3.sql", revision_text('a3', parents => 'a2', message => 'third',
	upgrade => "CREATE INDEX t1_ab ON t1 (a, b);\n", downgrade => "DROP INDEX t1_ab;\n"));
($rc, $out, $err) = migr('plan');
like($out, qr/CREATE INDEX t1_ab ON t1 \(a, b\);/, 'plan after an edit: the new text');
is($err, '', 'plan: the folder is defined quietly (no lint warning printed)');
is(sql("SELECT count(*) FROM migr.revision WHERE id = 'a3'"), '0', 'plan: still nothing defined');

($rc, $out, $err) = migr('plan', '--downgrade', 'base');
exit_is($rc, 0, 'plan --downgrade');
like($out, qr/downgrade to "base", 1 revision\n\n-- revision a1 \(1\/1\): first\nDROP TABLE t1;/, 'plan --downgrade base');

($rc, $out, $err) = migr('plan', 'a1:head');
exit_is($rc, 2, 'FROM:TO online');
like($err, qr/FROM:TO is for --offline/, 'FROM:TO online: says why');

# a folder the server would refuse: no plan
write_file("$d/a4.sql", revision_text('a4', parents => 'a3', upgrade => "CREATE TABLE (;\n"));
($rc, $out, $err) = migr('plan');
exit_is($rc, 1, 'plan of a folder that cannot be pushed');
like($err, qr/syntax error.*\n(.*\n)*.*cannot be pushed as it is, so there is no plan/, 'says why');
unlink "$d/a4.sql";

# ---------------------------------------------------------------------
# offline: no server at all

($rc, $out, $err) = run_migr(undef, [ 'plan', '--offline', '--dir', $d ]);
exit_is($rc, 0, 'plan --offline');
my $script = $out;
like($script, qr/^-- migr plan \(offline\): upgrade from base to "head", 3 revisions/, 'offline: header');
like($script, qr/^BEGIN;\nSELECT migr_load\(\$migr1\$-- migr:revision a2\n/m,
	'offline: each revision defined, with a dollar tag its text does not hold');
like($script, qr/^INSERT INTO migr\.applied .*\n +VALUES \('a1', '[0-9a-f]{64}'/m, 'offline: bookkeeping');
is(scalar(() = $script =~ /^COMMIT;$/mg), 3, 'offline: one transaction per revision');

# run by hand in a fresh database, it does what "migr upgrade --push" does
sql('CREATE DATABASE byhand');
sql('CREATE EXTENSION migr', 'byhand');
write_file("$tmp/plan.sql", $script);
my ($ret, $o, $e) = $node->psql('byhand', undef, extra_params => [ '-v', 'ON_ERROR_STOP=1', '-f', "$tmp/plan.sql" ]);
is($ret, 0, 'the offline script runs in psql');
sql('CREATE DATABASE bymigr');
sql('CREATE EXTENSION migr', 'bymigr');
($rc, $out, $err) = run_migr($node, [ 'upgrade', '--push' ], cwd => $tmp, env => { PGDATABASE => 'bymigr' });
my $state = q{SELECT string_agg(a.revision || ':' || a.checksum, ' ' ORDER BY a.revision)
  || ' / ' || (SELECT string_agg(attname, ',' ORDER BY attnum) FROM pg_attribute WHERE attrelid = 't1'::regclass AND attnum > 0)
  || ' / ' || (SELECT string_agg(revision, ' ') FROM migr_current())
  FROM migr.applied a};
is(sql($state, 'byhand'), sql($state, 'bymigr'), 'by hand and by migr: the same applied set, schema and current');
($rc, $out, $err) = run_migr($node, [ 'upgrade', '--push', '--exit-code' ], cwd => $tmp, env => { PGDATABASE => 'byhand' });
exit_is($rc, 3, 'after the script, migr has nothing to do');

# run twice: refused, nothing changes
($ret, $o, $e) = $node->psql('byhand', undef, extra_params => [ '-v', 'ON_ERROR_STOP=1', '-f', "$tmp/plan.sql" ]);
isnt($ret, 0, 'the script run again fails');
like($e, qr/revision a1 is already applied/, 'run again: the guard says why');

# from a revision, and down again
($rc, $out, $err) = run_migr(undef, [ 'plan', '--offline', '--dir', $d, 'a1:a2' ]);
like($out, qr/upgrade from "a1" to "a2", 1 revision/, 'offline FROM:TO');
($rc, $out, $err) = run_migr(undef, [ 'plan', '--offline', '--dir', $d, '--downgrade', 'head:a1' ]);
exit_is($rc, 0, 'offline downgrade');
like($out, qr/-- revision a3 \(1\/2\).*-- revision a2 \(2\/2\)/s, 'offline downgrade: children first');
write_file("$tmp/down.sql", $out);
($ret, $o, $e) = $node->psql('byhand', undef, extra_params => [ '-v', 'ON_ERROR_STOP=1', '-f', "$tmp/down.sql" ]);
is($ret, 0, 'the offline downgrade runs');
is(sql("SELECT string_agg(revision, ' ') FROM migr_current()", 'byhand'), 'a1', 'down to a1');
($rc, $out, $err) = run_migr(undef, [ 'plan', '--offline', '--dir', $d, '--downgrade' ]);
exit_is($rc, 2, 'offline downgrade without FROM:TO');
($rc, $out, $err) = run_migr(undef, [ 'plan', '--offline', '--dir', $d, 'nosuch' ]);
exit_is($rc, 1, 'offline: an unknown target');
like($err, qr/no file of .* defines revision "nosuch"/, 'offline: unknown target named');

$node->stop;
done_testing();

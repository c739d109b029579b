# Issue 13, item 8: a role granted only migr_upgrade (the README's example)
# may upgrade but not push; migr_grant_deploy(role) grants a deploying role
# everything a deploy does, and that role pushes, upgrades, downgrades,
# removes and handles jobs with the client.
use strict;
use warnings;

use FindBin;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

use lib $FindBin::RealBin;
use MigrCli;

my $node = new_migr_node('deploy');
my $tmp = PostgreSQL::Test::Utils::tempdir;
my $d = "$tmp/migrations";
my ($rc, $out, $err);

sub sql { return $node->safe_psql('postgres', $_[0]); }
sub as_role { my $role = shift; return run_migr($node, [@_], cwd => $tmp, env => { PGUSER => $role }); }

sql(q{
CREATE ROLE app LOGIN;
CREATE ROLE deployer LOGIN;
CREATE SCHEMA app_data AUTHORIZATION deployer;
GRANT USAGE ON SCHEMA app_data TO app;
GRANT EXECUTE ON FUNCTION migr_upgrade(text) TO app;
});
write_file("$d/a1.sql", revision_text('a1', upgrade => "CREATE TABLE app_data.t (a int);\n",
	downgrade => "DROP TABLE app_data.t;\n"));

# the README's example: migr_upgrade alone
($rc, $out, $err) = as_role('app', 'upgrade', '--push');
exit_is($rc, 1, 'a role with migr_upgrade alone cannot push');
like($err, qr/42501: permission denied for function migr_load/, 'the refusal says which function');
is(sql('SELECT count(*) FROM migr.revision'), '0', 'nothing pushed');

# the documented way
sql(q{SELECT migr_grant_deploy('deployer')});
($rc, $out, $err) = as_role('deployer', 'upgrade', '--push');
exit_is($rc, 0, 'the deploying role pushes and upgrades');
is(sql("SELECT applied_by FROM migr.applied WHERE revision = 'a1'"), 'deployer', 'applied as deployer');
is(sql("SELECT defined_by FROM migr.revision WHERE id = 'a1'"), 'deployer', 'defined as deployer');

write_file("$d/a2.sql", revision_text('a2', parents => 'a1',
	upgrade => "ALTER TABLE app_data.t ADD COLUMN b int;\n",
	downgrade => "ALTER TABLE app_data.t DROP COLUMN b;\n"));
($rc, $out, $err) = as_role('deployer', 'plan');
exit_is($rc, 0, 'the deploying role plans from the folder');
like($out, qr/-- revision a2 \(1\/1\)/, 'plan: a2 would run');
($rc, $out, $err) = as_role('deployer', 'upgrade', '--push');
exit_is($rc, 0, 'a second deploy');
($rc, $out, $err) = as_role('deployer', 'downgrade', '-1');
exit_is($rc, 0, 'the deploying role downgrades');
($rc, $out, $err) = as_role('deployer', 'rm', 'a2');
exit_is($rc, 0, 'the deploying role removes an unapplied revision');
($rc, $out, $err) = as_role('deployer', 'stamp', 'base');
exit_is($rc, 0, 'the deploying role stamps');
($rc, $out, $err) = as_role('deployer', 'stamp', 'head');
($rc, $out, $err) = as_role('deployer', 'jobs');
exit_is($rc, 0, 'the deploying role lists jobs');

# the app role still only upgrades
($rc, $out, $err) = as_role('app', 'upgrade');
exit_is($rc, 0, 'the app role upgrades (nothing to do)');
($rc, $out, $err) = as_role('app', 'stamp', 'base');
exit_is($rc, 1, 'the app role may not stamp');

$node->stop;
done_testing();

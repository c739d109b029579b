# Issue 13, item 3: a push must not break "head" for everyone.  A push that
# would leave several heads that are not each the head of a labelled branch,
# where the database had one head (or none), is refused unless
# --allow-heads; labelled branches (expand/contract) pass; a database whose
# "head" was already ambiguous only gets a warning.
use strict;
use warnings;

use FindBin;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

use lib $FindBin::RealBin;
use MigrCli;

my $node = new_migr_node('push_heads');
my $tmp = PostgreSQL::Test::Utils::tempdir;
my $d = "$tmp/migrations";
my ($rc, $out, $err);

sub sql { return $node->safe_psql('postgres', $_[0]); }
sub migr { return run_migr($node, [@_], cwd => $tmp); }

# an empty database and a folder with two unlabelled heads
write_file("$d/a1.sql", revision_text('a1'));
write_file("$d/a2.sql", revision_text('a2', parents => 'a1'));
write_file("$d/b2.sql", revision_text('b2', parents => 'a1'));
($rc, $out, $err) = migr('push');
exit_is($rc, 1, 'push of two heads into an empty database');
like($err, qr/error: this push would leave the database with 2 heads: a2 \(migrations\/a2\.sql\), b2 \(migrations\/b2\.sql\)/,
	'refused: the heads named with their files');
like($err, qr/detail: The database has no revision yet; .*MG001/, 'refused: why it matters');
like($err, qr/hint: Merge them first \("migr merge heads --dir migrations", then push\), or push anyway with --allow-heads/,
	'refused: the ways out');
is(sql('SELECT count(*) FROM migr.revision'), '0', 'nothing was pushed');

($rc, $out, $err) = migr('upgrade', '--push');
exit_is($rc, 1, 'upgrade --push refuses too');
is(sql('SELECT count(*) FROM migr.applied'), '0', 'nothing applied');

($rc, $out, $err) = migr('push', '--dry-run');
exit_is($rc, 0, 'push --dry-run');
like($err, qr/warning: after this push the database has 2 heads.*\n.*detail: The push will be refused without --allow-heads/,
	'dry run: warns that the push would be refused');

# merging in the folder makes it pushable
($rc, $out, $err) = migr('merge', 'heads', '--rev-id', 'm1');
($rc, $out, $err) = migr('upgrade', '--push');
exit_is($rc, 0, 'after a merge: pushed and applied');
is(sql("SELECT string_agg(revision, ' ') FROM migr_heads()"), 'm1', 'one head');

# a later file on an old revision: a new unlabelled head beside m1
write_file("$d/c1.sql", revision_text('c1', parents => 'a2'));
($rc, $out, $err) = migr('push');
exit_is($rc, 1, 'push of a new branch from an old revision');
like($err, qr/this push would leave the database with 2 heads: c1 \(migrations\/c1\.sql\), m1 \(migrations\/m1_merge_heads\.sql\)/,
	'refused: both heads named');
# where the other head is only in the database
unlink "$d/m1_merge_heads.sql";
($rc, $out, $err) = migr('push');
exit_is($rc, 1, 'the same with the database\'s head missing from the folder');
like($err, qr/m1 \(only in the database\)/, 'a head only the database has is named as such');
($rc, $out, $err) = migr('push', '--allow-heads');
exit_is($rc, 0, 'push --allow-heads');
like($err, qr/warning: after this push the database has 2 heads/, '--allow-heads: the warning stays');
($rc, $out, $err) = migr('upgrade');
exit_is($rc, 1, 'upgrade head now fails');
like($err, qr/MG001/, 'MG001, as the push said');

# "head" already ambiguous: a further push is not refused, but warned about
write_file("$d/c2.sql", revision_text('c2', parents => 'c1'));
($rc, $out, $err) = migr('push');
exit_is($rc, 0, 'push into a database whose head was already ambiguous');
like($err, qr/warning: after this push the database has 2 heads/, 'warned');

# labelled branches (expand/contract) are not ambiguous as the server sees them
my $node2 = new_migr_node('push_heads_labels');
my $l = "$tmp/labelled";
write_file("$l/0.sql", revision_text('base0'));
write_file("$l/1.sql", revision_text('e1', parents => 'base0', extra => "-- migr:branch_labels expand\n"));
write_file("$l/2.sql", revision_text('k1', parents => 'base0', extra => "-- migr:branch_labels contract\n"));
($rc, $out, $err) = run_migr($node2, [ 'push', '--dir', $l ]);
exit_is($rc, 0, 'push of two labelled branches');
unlike($err, qr/heads/, 'no warning');
$node2->stop;

$node->stop;
done_testing();

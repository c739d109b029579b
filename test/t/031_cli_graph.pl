
# Copyright (c) 2026, migr developers

# "migr check --dir" on an expand/contract folder (issue 8): two heads, each
# the head of its own labelled branch, are information and pass the check;
# an unlabelled extra head is still a warning that fails it; depends_on may
# name a branch label, in the folder as on the server.

use strict;
use warnings;

use FindBin;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

use lib $FindBin::RealBin;
use MigrCli;

my $d = PostgreSQL::Test::Utils::tempdir . '/versions';
my ($rc, $out, $err);

# base0 <- e1 (expand) <- e2;  base0 <- c1 (contract) <- c2 (needs expand) <- c3
write_file("$d/0_base0.sql", revision_text('base0'));
write_file("$d/1_e1.sql",
	revision_text('e1', parents => 'base0', extra => "-- migr:branch_labels expand\n"));
write_file("$d/2_e2.sql", revision_text('e2', parents => 'e1'));
write_file("$d/3_c1.sql",
	revision_text('c1', parents => 'base0', extra => "-- migr:branch_labels contract\n"));
write_file("$d/4_c2.sql",
	revision_text('c2', parents => 'c1', extra => "-- migr:depends_on expand\n"));
write_file("$d/5_c3.sql", revision_text('c3', parents => 'c2'));

($rc, $out, $err) = run_migr(undef, [ 'check', '--dir', $d ]);
exit_is($rc, 0, 'labelled heads pass the check');
like($out, qr/info: there are 2 heads, each the head of its own labelled branch: e2 \(2_e2\.sql\), c3 \(5_c3\.sql\)/,
	'labelled heads: information naming them');
like($out, qr/migr upgrade heads.*LABEL\@head/, 'labelled heads: the hint points to heads and label@head');
unlike($out, qr/missing_dependency|is not defined/, 'a label in depends_on is resolved');
like($out, qr/all clear: 6 revisions in .*, 2 heads/, 'labelled heads: all clear');

($rc, $out, $err) = run_migr(undef, [ 'check', '--dir', $d, '--verbose' ]);
exit_is($rc, 0, 'check --verbose');
like($out, qr/e1.*\n(?:.*\n)*.*c2/, 'push order: e1, which c2 needs through its label, comes first');

# pushed, the graph is the server's, labels resolved the same way
my $node = new_migr_node('graph_cli');
($rc, $out, $err) = run_migr($node, [ 'push', '--dir', $d ]);
exit_is($rc, 0, 'push of the labelled folder');
($rc, $out, $err) = run_migr($node, [ 'upgrade', 'c2' ]);
exit_is($rc, 0, 'upgrade to c2, which needs expand');
is( $node->safe_psql('postgres', 'SELECT string_agg(revision, \' \' ORDER BY revision) FROM migr_current()'),
	'c2', 'current is c2 alone: e1 is needed by c2');

# a later folder whose dependency is a label that only the database has:
# no warning that it is defined nowhere
my $d2 = PostgreSQL::Test::Utils::tempdir . '/later';
write_file("$d2/7_k1.sql",
	revision_text('k1', parents => 'c3', extra => "-- migr:depends_on expand\n"));
($rc, $out, $err) = run_migr($node, [ 'push', '--dir', $d2 ]);
exit_is($rc, 0, 'push of a file that depends on a label of the database');
unlike($err, qr/defined neither by a file nor in the database/,
	'no warning for a label the database has');
write_file("$d2/8_k2.sql",
	revision_text('k2', parents => 'k1', extra => "-- migr:depends_on nowhere\n"));
($rc, $out, $err) = run_migr($node, [ 'push', '--dir', $d2 ]);
like($err, qr/dependency "nowhere" of revision "k2" is defined neither by a file nor in the database/,
	'a dependency that nothing defines is still warned about');
$node->stop;

# an unlabelled head beside them: the warning, which fails the check
write_file("$d/6_x1.sql", revision_text('x1', parents => 'base0'));
($rc, $out, $err) = run_migr(undef, [ 'check', '--dir', $d ]);
exit_is($rc, 1, 'an unlabelled extra head fails the check');
like($out, qr/warning: there are 3 heads: e2 \(2_e2\.sql\), c3 \(5_c3\.sql\), x1 \(6_x1\.sql\)/,
	'unlabelled head: the warning');
like($out, qr/Merge them with "migr merge/, 'unlabelled head: the hint says to merge');
like($out, qr/0 errors, 1 warning/, 'unlabelled head: summary');
unlink "$d/6_x1.sql";

# a label that nothing carries is still a missing dependency
write_file("$d/6_x2.sql",
	revision_text('x2', parents => 'c3', extra => "-- migr:depends_on nolabel\n"));
($rc, $out, $err) = run_migr(undef, [ 'check', '--dir', $d ]);
exit_is($rc, 1, 'an unknown depends_on fails the check');
like($out, qr/dependency "nolabel" is not defined by any file/, 'unknown depends_on named');

done_testing();

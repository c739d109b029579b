# Issue 13, item 11: the README's "Ten-minute tutorial" works as written.
#
# The shell lines of the ```sh blocks between <!-- tutorial:begin --> and
# <!-- tutorial:end --> in README.md are run in order, in one bash, against a
# fresh node.  Only what names the demo's cluster and the Debian install is
# rewritten: the socket directory /tmp/migr-demo, the port 54399, the
# superuser postgres and the bindir /usr/lib/postgresql/15/bin.  Every
# command must exit 0; the database must end at the merge revision with the
# five revisions applied.
use strict;
use warnings;

use File::Basename qw(dirname);
use FindBin;
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

use lib $FindBin::RealBin;
use MigrCli;

my $readme = "$FindBin::RealBin/../../README.md";
my $text = read_file($readme);

# The tutorial block, then its ```sh blocks.
my ($block) = $text =~ /<!-- tutorial:begin -->\n(.*?)<!-- tutorial:end -->/s;
ok(defined $block, 'README.md has a tutorial block') or BAIL_OUT('no tutorial block');
my @lines;
while ($block =~ /^```sh\n(.*?)^```$/msg)
{
	push @lines, split /\n/, $1;
}

# Commands: one per line, a here-document going with its command up to its
# terminator.  Comment-only and empty lines are dropped.
my @cmds;
while (@lines)
{
	my $cmd = shift @lines;
	next if $cmd =~ /^\s*(#.*)?$/;
	if ($cmd =~ /<<\s*'?(\w+)'?/)
	{
		my $end = $1;
		while (@lines)
		{
			my $l = shift @lines;
			$cmd .= "\n$l";
			last if $l eq $end;
		}
	}
	push @cmds, $cmd;
}
cmp_ok(scalar @cmds, '>=', 20, 'the tutorial has its commands (' . scalar(@cmds) . ')');
foreach my $verb (qw(new push upgrade history downgrade heads merge check current))
{
	ok((grep { /^migr $verb\b/ } @cmds), "the tutorial runs migr $verb");
}

my $node = PostgreSQL::Test::Cluster->new('tutorial');
$node->init;
$node->start;

my $migr_dir = dirname(migr_bin());
my $pg_bindir = $node->config_data('--bindir');
my $user = getpwuid($<);
my $tmp = PostgreSQL::Test::Utils::tempdir;

# One bash runs them all (the exports and the cd carry over); after each
# command a marker line gives its number and exit status.
my $script = '';
my $i = 0;
foreach my $cmd (@cmds)
{
	my $run = $cmd;
	$run =~ s{/usr/lib/postgresql/15/bin}{$migr_dir:$pg_bindir}g;
	$run =~ s{/tmp/migr-demo}{$node->host}ge;
	$run =~ s{\b54399\b}{$node->port}ge;
	$run =~ s{\bPGUSER=postgres\b}{PGUSER=$user}g;
	$i++;
	$script .= "$run\necho \"\@\@rc $i \$?\"\n";
}

my ($out, $err);
IPC::Run::run([ 'bash', '-c', $script ], '<', \undef, '>', \$out, '2>', \$err,
	init => sub { $ENV{TMPDIR} = $tmp; delete $ENV{$_} for qw(PGDATABASE PGUSER); });
note("stdout:\n$out");
note("stderr:\n$err");

my %rc = $out =~ /^\@\@rc (\d+) (\d+)$/mg;
is(scalar keys %rc, scalar @cmds, 'every command ran');
for my $n (1 .. @cmds)
{
	(my $first = $cmds[ $n - 1 ]) =~ s/\n.*//s;
	is($rc{$n}, 0, "command $n exits 0: $first");
}

# The state the tutorial ends in.
is($node->safe_psql('tutorial', 'SELECT revision FROM migr_current()'),
	'5e0000000005', 'current is the merge revision');
is($node->safe_psql('tutorial', 'SELECT string_agg(revision, \' \' ORDER BY revision) FROM migr_heads()'),
	'5e0000000005', 'the merge is the one head');
is( $node->safe_psql(
		'tutorial',
		'SELECT count(*) FILTER (WHERE applied), count(*) FROM migr_history()'),
	'5|5',
	'the history has five revisions, all applied');
is( $node->safe_psql(
		'tutorial',
		q{SELECT string_agg(attname, ' ' ORDER BY attnum) FROM pg_attribute
		  WHERE attrelid = 'users'::regclass AND attnum > 0 AND NOT attisdropped}),
	'id email name phone',
	'users has the columns the revisions add');
is($node->safe_psql('tutorial', q{SELECT to_regclass('audit_log') IS NOT NULL}),
	't', 'audit_log exists');
like($out, qr/upgrade to "head": 2 revisions applied/, 'the first upgrade applies two');
like($out, qr/downgrade to "-1": 1 revision reverted/, 'downgrade -1 reverts one');
like($out, qr/upgrade to "head": 3 revisions applied/, 'the merge upgrade applies three');
like($out, qr/nothing to do: the database is already at "head"\n\@\@rc $i 0\n\z/,
	'the last upgrade has nothing to do and exits 0');

$node->stop;
done_testing();

# test/t/MigrCli.pm: helpers shared by the migr client's TAP tests
# (test/t/010_cli_*.pl, 031_cli_graph.pl).  Not run by prove (not *.pl);
# found through "use lib" on the test's own folder.
#
# The client under test is, in order: $ENV{MIGR_BIN}; the tree's own build
# (src/bin/migr, built here with make if it is missing); "migr" on PATH,
# which under "make installcheck" starts with pg_config --bindir, where
# "make install" puts it.
package MigrCli;

use strict;
use warnings;

use Cwd qw(abs_path);
use File::Basename qw(dirname);
use File::Path qw(make_path);
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

use Exporter 'import';
our @EXPORT = qw(migr_bin run_migr write_file read_file revision_text
  new_migr_node exit_is);

my $root = abs_path(dirname(__FILE__) . '/../..');
my $bin;

# The migr executable to test.
sub migr_bin
{
	return $bin if defined $bin;
	if ($ENV{MIGR_BIN})
	{
		$bin = $ENV{MIGR_BIN};
		return $bin;
	}
	my $local = "$root/src/bin/migr";
	if (!-x $local && -f "$root/src/bin/Makefile")
	{
		system('make', '-s', '-C', "$root/src/bin") == 0
		  or diag("could not build the client in $root/src/bin");
	}
	if (-x $local)
	{
		$bin = $local;
		return $bin;
	}
	foreach my $dir (split /:/, ($ENV{PATH} // ''))
	{
		if (-x "$dir/migr")
		{
			$bin = "$dir/migr";
			return $bin;
		}
	}
	BAIL_OUT('the migr client is neither built (src/bin/migr) nor installed; '
		  . 'run "make -C src/bin" or set MIGR_BIN');
}

# run_migr($node, [args], cwd => DIR, env => {...}, stdin => TEXT)
#   Run the client against $node (undef: no server; PGHOST and PGPORT point
#   nowhere useful then).  Returns (exit code, stdout, stderr).
sub run_migr
{
	my ($node, $args, %o) = @_;
	my ($out, $err) = ('', '');
	my $in = $o{stdin} // '';

	local %ENV = %ENV;
	delete $ENV{$_} for qw(PGSERVICE PGOPTIONS MIGR_DIR PG_COLOR);
	# findings on one line each, whatever their length, unless a test
	# looks at the wrapping itself (env => { COLUMNS => undef })
	$ENV{COLUMNS} = 10000;
	if ($node)
	{
		$ENV{PGHOST} = $node->host;
		$ENV{PGPORT} = $node->port;
		$ENV{PGDATABASE} = 'postgres';
	}
	if ($o{env})
	{
		while (my ($k, $v) = each %{ $o{env} })
		{
			if (defined $v) { $ENV{$k} = $v; }
			else { delete $ENV{$k}; }
		}
	}
	my @cmd = (migr_bin(), @$args);
	my $cwd;
	if ($o{cwd})
	{
		require Cwd;
		$cwd = Cwd::getcwd();
		chdir $o{cwd} or die "chdir $o{cwd}: $!";
	}
	IPC::Run::run(\@cmd, '<', \$in, '>', \$out, '2>', \$err,
		IPC::Run::timeout(180));
	my $rc = $? >> 8;
	chdir $cwd if $cwd;
	note(join(' ', 'migr', @$args), " => exit $rc");
	note("stdout:\n$out") if $out ne '';
	note("stderr:\n$err") if $err ne '';
	return ($rc, $out, $err);
}

# exit_is($rc, $want, $name): the exit code, with a readable name.
sub exit_is
{
	my ($rc, $want, $name) = @_;
	local $Test::Builder::Level = $Test::Builder::Level + 1;
	return is($rc, $want, "$name: exit code $want");
}

sub write_file
{
	my ($path, $text) = @_;
	make_path(dirname($path));
	open my $fh, '>', $path or die "could not write $path: $!";
	binmode $fh;
	print $fh $text;
	close $fh;
	return $path;
}

sub read_file
{
	my ($path) = @_;
	open my $fh, '<', $path or die "could not read $path: $!";
	binmode $fh;
	local $/;
	my $text = <$fh>;
	close $fh;
	return $text;
}

# revision_text(id, parents => 'a b', upgrade => SQL, downgrade => SQL|undef,
#               message => TEXT, extra => "-- migr:...\n")
#   The text of a revision file.
sub revision_text
{
	my ($id, %o) = @_;
	my $t = "-- migr:revision $id\n";
	$t .= "-- migr:down_revision $o{parents}\n" if defined $o{parents};
	$t .= "-- migr:message $o{message}\n" if defined $o{message};
	$t .= $o{extra} if defined $o{extra};
	$t .= "-- migr:upgrade\n" . ($o{upgrade} // "CREATE TABLE t_$id (id int);\n");
	if (!exists $o{downgrade})
	{
		$t .= "-- migr:downgrade\nDROP TABLE t_$id;\n";
	}
	elsif (defined $o{downgrade})
	{
		$t .= "-- migr:downgrade\n$o{downgrade}";
	}
	return $t;
}

# A started cluster with the extension created in database "postgres".
# %conf lines are appended to postgresql.conf.
sub new_migr_node
{
	my ($name, @conf) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init;
	$node->append_conf('postgresql.conf', join("\n", @conf) . "\n") if @conf;
	$node->start;
	$node->safe_psql('postgres', 'CREATE EXTENSION migr');
	return $node;
}

1;

# "migr import-alembic": an Alembic project with two labelled branches, a
# merge, a depends_on, an autocommit_block() concurrent index, an
# irreversible revision and a revision that reads from the connection is
# imported revision by revision; the files say what Alembic says; pushed
# and upgraded by migr, they give the schema "alembic upgrade heads" gives;
# a database Alembic migrated half-way (one row in alembic_version, then two
# rows on two branches) is stamped where it stands and finished by migr.
use strict;
use warnings;

use FindBin;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

use lib $FindBin::RealBin;
use MigrCli;

my $python = '/usr/bin/python3';
if (system("$python -c 'import alembic, sqlalchemy, psycopg2' >/dev/null 2>&1") != 0)
{
	plan skip_all => "Alembic is not installed for $python "
	  . '(apt-get install python3-alembic python3-psycopg2; tools/setup.sh does)';
}

my $tmp = PostgreSQL::Test::Utils::tempdir;
my $proj = "$tmp/proj";
my $d = "$tmp/migrations";
my ($rc, $out, $err);

# ---------------------------------------------------------------------
# The Alembic project
#
#   a1 ─┬─ b1 (billing) ── b2 (CREATE INDEX CONCURRENTLY) ──┬─ m1 ── d1 ── e1
#       └─ c1 (audit, depends_on billing) ── c2 (irreversible) ┘
#
# d1's upgrade and e1's downgrade look at the connection (sa.inspect), which
# offline mode cannot.

write_file("$proj/alembic.ini", <<'PY');
[alembic]
script_location = %(here)s
sqlalchemy.url = postgresql:///nowhere
PY

write_file("$proj/env.py", <<'PY');
import os
from alembic import context
from sqlalchemy import create_engine

config = context.config
url = os.environ.get("ALEMBIC_URL") or config.get_main_option("sqlalchemy.url")

if context.is_offline_mode():
    context.configure(url=url, literal_binds=True,
                      dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()
else:
    engine = create_engine(url)
    with engine.connect() as connection:
        context.configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()
PY

write_file("$proj/versions/a1_users.py", <<'PY');
"""create users

Revision ID: a1a1a1a1a1a1
Revises:
"""
from alembic import op
import sqlalchemy as sa

revision = "a1a1a1a1a1a1"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "users",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("note", sa.Text, server_default="it's new"),
    )


def downgrade():
    op.drop_table("users")
PY

write_file("$proj/versions/b1_invoices.py", <<'PY');
"""billing: invoices

Revision ID: b1b1b1b1b1b1
Revises: a1a1a1a1a1a1
"""
from alembic import op
import sqlalchemy as sa

revision = "b1b1b1b1b1b1"
down_revision = "a1a1a1a1a1a1"
branch_labels = ("billing",)
depends_on = None


def upgrade():
    op.create_table(
        "invoices",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("user_id", sa.BigInteger, sa.ForeignKey("users.id"), nullable=False),
        sa.Column("total", sa.Numeric(12, 2), nullable=False, server_default="0"),
    )
    op.bulk_insert(sa.table("users", sa.column("id", sa.BigInteger), sa.column("name", sa.Text)),
                   [{"id": 1, "name": "O'Brien"}])


def downgrade():
    op.execute("DELETE FROM users WHERE id = 1")
    op.drop_table("invoices")
PY

write_file("$proj/versions/b2_index.py", <<'PY');
"""index invoices by user, concurrently

Revision ID: b2b2b2b2b2b2
Revises: b1b1b1b1b1b1
"""
from alembic import op

revision = "b2b2b2b2b2b2"
down_revision = "b1b1b1b1b1b1"
branch_labels = None
depends_on = None


def upgrade():
    with op.get_context().autocommit_block():
        op.create_index("invoices_user_id", "invoices", ["user_id"],
                        postgresql_concurrently=True)


def downgrade():
    with op.get_context().autocommit_block():
        op.drop_index("invoices_user_id", table_name="invoices",
                      postgresql_concurrently=True)
PY

write_file("$proj/versions/c1_audit.py", <<'PY');
"""audit: log

Revision ID: c1c1c1c1c1c1
Revises: a1a1a1a1a1a1
"""
from alembic import op
import sqlalchemy as sa

revision = "c1c1c1c1c1c1"
down_revision = "a1a1a1a1a1a1"
branch_labels = ("audit",)
depends_on = "billing"


def upgrade():
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger, primary_key=True),
        sa.Column("invoice_id", sa.BigInteger, sa.ForeignKey("invoices.id")),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.func.now()),
    )


def downgrade():
    op.drop_table("audit_log")
PY

write_file("$proj/versions/c2_drop_note.py", <<'PY');
"""drop the users note column for good

Revision ID: c2c2c2c2c2c2
Revises: c1c1c1c1c1c1
"""
from alembic import op

revision = "c2c2c2c2c2c2"
down_revision = "c1c1c1c1c1c1"
branch_labels = None
depends_on = None


def upgrade():
    op.drop_column("users", "note")


def downgrade():
    raise NotImplementedError("the notes are gone")
PY

write_file("$proj/versions/d1_settings.py", <<'PY');
"""settings, unless someone made them

Revision ID: d1d1d1d1d1d1
Revises: m1m1m1m1m1m1
"""
from alembic import op
import sqlalchemy as sa

revision = "d1d1d1d1d1d1"
down_revision = "m1m1m1m1m1m1"
branch_labels = None
depends_on = None


def upgrade():
    conn = op.get_bind()
    if not sa.inspect(conn).has_table("settings"):
        op.create_table("settings", sa.Column("key", sa.Text, primary_key=True),
                        sa.Column("value", sa.Text))


def downgrade():
    op.drop_table("settings")
PY

write_file("$proj/versions/e1_phone.py", <<'PY');
"""add phone

Revision ID: e1e1e1e1e1e1
Revises: d1d1d1d1d1d1
"""
from alembic import op
import sqlalchemy as sa

revision = "e1e1e1e1e1e1"
down_revision = "d1d1d1d1d1d1"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("users", sa.Column("phone", sa.Text))
    op.execute("COMMENT ON COLUMN users.phone IS 'E.164; no dashes'")


def downgrade():
    users = sa.inspect(op.get_bind()).get_columns("users")
    if "phone" in [c["name"] for c in users]:
        op.drop_column("users", "phone")
PY

write_file("$proj/versions/m1_merge.py", <<'PY');
"""merge billing and audit

Revision ID: m1m1m1m1m1m1
Revises: b2b2b2b2b2b2, c2c2c2c2c2c2
"""
revision = "m1m1m1m1m1m1"
down_revision = ("b2b2b2b2b2b2", "c2c2c2c2c2c2")
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
PY

my $node = new_migr_node('import');
my $host = $node->host;
my $port = $node->port;
$node->safe_psql('postgres', "CREATE DATABASE $_") foreach qw(alembic half split);
$node->safe_psql($_, 'CREATE EXTENSION migr') foreach qw(half split);

sub sql { my ($db, $q) = @_; return $node->safe_psql($db, $q); }

# Alembic itself, online, on database $db.
sub alembic
{
	my ($db, @args) = @_;
	local $ENV{ALEMBIC_URL} = "postgresql:///$db?host=$host&port=$port";
	my ($o, $e) = ('', '');
	IPC::Run::run([ $python, '-m', 'alembic', '-c', "$proj/alembic.ini", @args ],
		'>', \$o, '2>', \$e);
	is($? >> 8, 0, "alembic @args on $db") or diag($e);
}

sub import_alembic
{
	my (@args) = @_;
	return run_migr($node, [ 'import-alembic', '-c', "$proj/alembic.ini", '--dir', $d, @args ]);
}

# The directives of each file, by revision.
sub read_folder
{
	my %rev;
	opendir my $dh, $d or die "opendir $d: $!";
	foreach my $f (sort grep { /\.sql$/ } readdir $dh)
	{
		my $text = read_file("$d/$f");
		my ($id) = $text =~ /^-- migr:revision (\S+)$/m;
		my %r = (file => $f, text => $text);
		foreach my $k (qw(down_revision depends_on branch_labels message))
		{
			$r{$k} = $1 if $text =~ /^-- migr:$k ?(.*)$/m;
		}
		($r{upgrade}, $r{downgrade}) =
		  $text =~ /^-- migr:upgrade\n(.*?)(?:^-- migr:downgrade\n(.*))?\z/ms;
		$rev{$id} = \%r;
	}
	closedir $dh;
	return \%rev;
}

# The schema of public, as pg_dump prints it, without Alembic's table.
sub schema_of
{
	my ($db) = @_;
	my ($o, $e) = run_command([ 'pg_dump', '-s', '-n', 'public', '-T', 'public.alembic_version',
		'-h', $host, '-p', $port, $db ]);
	$o =~ s/^--.*\n//mg;
	$o =~ s/^\\(?:un)?restrict .*\n//mg;
	$o =~ s/\n{2,}/\n/g;
	return $o;
}

# ---------------------------------------------------------------------
# Import

($rc, $out, $err) = run_migr(undef, [ 'import-alembic', '--help' ]);
exit_is($rc, 0, 'import-alembic --help');
like($out, qr/usage: migr import-alembic .*--stamp \[DSN\]/s, '--help: the usage');
like($out, qr/autocommit_block/, '--help: says what becomes of autocommit_block()');

($rc, $out, $err) = run_migr(undef, [ 'import-alembic', '-c', "$tmp/nothing.ini", '--dir', $d ]);
exit_is($rc, 1, 'import-alembic without an Alembic project');
like($err, qr/no Alembic configuration "\Q$tmp\E\/nothing\.ini"/, 'missing project: says which file');
ok(!-e $d, 'missing project: no folder written');

($rc, $out, $err) = run_migr(undef, [ 'import-alembic', '--no-such-option' ]);
exit_is($rc, 2, 'import-alembic with an unknown option');

# the verb runs the script found beside the binary, and says so when it is not there
{
	require File::Copy;
	mkdir "$tmp/bin" or die;
	File::Copy::copy(migr_bin(), "$tmp/bin/migr") or die "copy: $!";
	chmod 0755, "$tmp/bin/migr";
	my ($o, $e) = ('', '');
	IPC::Run::run([ "$tmp/bin/migr", 'import-alembic', '--help' ], '>', \$o, '2>', \$e);
	is($? >> 8, 1, 'a migr without the script beside it: exit code 1');
	like($e, qr/could not run "\Q$tmp\E\/bin\/migr-import-alembic": No such file.*\n.*hint: The importer is installed beside migr/,
		'a migr without the script beside it: says where it looked and how to install it');
}

# options before the verb go to the script too
($rc, $out, $err) = run_migr(undef, [ '-q', 'import-alembic', '-c', "$proj/alembic.ini", '--dir', "$tmp/quiet" ]);
exit_is($rc, 0, 'migr -q import-alembic');
is($out, '', 'migr -q import-alembic: -q reached the script');
ok(-f "$tmp/quiet/a1a1a1a1a1a1_create_users.sql", 'migr -q import-alembic: the files written');

($rc, $out, $err) = import_alembic();
exit_is($rc, 0, 'import');
like($out, qr/^imported 8 revisions into \Q$d\E \(8 written, 0 unchanged, 0 kept\)$/m,
	'import: eight files');
like($out, qr/^irreversible \(no downgrade section\): c2c2c2c2c2c2$/m, 'import: names the irreversible one');
like($err, qr/2 revision\(s\) could not be rendered offline.*\n  d1d1d1d1d1d1: .*no connection to read from \(d1_settings\.py line \d+\)/,
	'import: lists the stub with the reason and the line');
like($err, qr/^  e1e1e1e1e1e1: downgrade\(\): .*\(e1_phone\.py line \d+\)/m,
	'import: lists the revision whose downgrade needs the connection');

my $rev = read_folder();
is_deeply([ sort keys %$rev ],
	[ map { $_ x 6 } qw(a1 b1 b2 c1 c2 d1 e1 m1) ], 'one file per Alembic revision, same ids');
is($rev->{a1a1a1a1a1a1}{file}, 'a1a1a1a1a1a1_create_users.sql', 'files named <id>_<slug>.sql');
my %want = (
	a1a1a1a1a1a1 => [ 'base', undef, undef, 'create users' ],
	b1b1b1b1b1b1 => [ 'a1a1a1a1a1a1', undef, 'billing', 'billing: invoices' ],
	b2b2b2b2b2b2 => [ 'b1b1b1b1b1b1', undef, undef, 'index invoices by user, concurrently' ],
	c1c1c1c1c1c1 => [ 'a1a1a1a1a1a1', 'b1b1b1b1b1b1', 'audit', 'audit: log' ],
	c2c2c2c2c2c2 => [ 'c1c1c1c1c1c1', undef, undef, 'drop the users note column for good' ],
	m1m1m1m1m1m1 => [ 'b2b2b2b2b2b2 c2c2c2c2c2c2', undef, undef, 'merge billing and audit' ],
	d1d1d1d1d1d1 => [ 'm1m1m1m1m1m1', undef, undef, 'settings, unless someone made them' ],
	e1e1e1e1e1e1 => [ 'd1d1d1d1d1d1', undef, undef, 'add phone' ]);
foreach my $id (sort keys %want)
{
	is_deeply([ @{ $rev->{$id} }{qw(down_revision depends_on branch_labels message)} ],
		$want{$id}, "$id: parents, depends_on (the label resolved), labels, message");
}
like($rev->{b2b2b2b2b2b2}{upgrade}, qr/\ACREATE INDEX CONCURRENTLY invoices_user_id ON invoices \(user_id\);\n\z/,
	'autocommit_block(): a plain CREATE INDEX CONCURRENTLY');
like($rev->{b1b1b1b1b1b1}{upgrade}, qr/INSERT INTO users \(id, name\) VALUES \(1, 'O''Brien'\);/,
	'bulk_insert rendered with literals');
ok(!defined $rev->{c2c2c2c2c2c2}{downgrade}, 'irreversible: no downgrade section');
like($rev->{c2c2c2c2c2c2}{text}, qr/^-- import-alembic: downgrade\(\) raised NotImplementedError: the notes are gone/m,
	'irreversible: a comment says why');
is($rev->{m1m1m1m1m1m1}{upgrade} . '|' . $rev->{m1m1m1m1m1m1}{downgrade}, '|', 'merge: two empty sections');
like($rev->{d1d1d1d1d1d1}{upgrade}, qr/\A-- migr:TODO import-alembic could not render upgrade\(\) offline:\n-- AttributeError/,
	'stub: a TODO line first');
is($rev->{d1d1d1d1d1d1}{downgrade}, "DROP TABLE settings;\n", 'stub: the downgrade that rendered is kept');
like($rev->{e1e1e1e1e1e1}{upgrade}, qr/\AALTER TABLE users ADD COLUMN phone TEXT;\n\nCOMMENT ON COLUMN users\.phone IS 'E\.164; no dashes';\n\z/,
	'e1: the upgrade that rendered');
like($rev->{e1e1e1e1e1e1}{downgrade}, qr/\A-- migr:TODO import-alembic could not render downgrade\(\) offline:/,
	'e1: a downgrade that needs the connection is a stub, not irreversible');
my $all = join '', map { $_->{text} } values %$rev;
unlike($all, qr/alembic_version|^BEGIN;|^COMMIT;|-- Running/m,
	'no Alembic bookkeeping, no BEGIN or COMMIT in any file');

# an unfilled stub is flagged and cannot be pushed
($rc, $out, $err) = run_migr(undef, [ 'check', '--dir', $d ]);
exit_is($rc, 1, 'check --dir with a stub');
like($out . $err, qr/d1d1d1d1d1d1_settings_unless_someone_made_them\.sql:\d+: error: unknown directive "TODO"/,
	'check --dir: the stub flagged at its TODO line');
($rc, $out, $err) = run_migr($node, [ 'push', '--dir', $d ]);
exit_is($rc, 1, 'push with a stub');
is(sql('postgres', 'SELECT count(*) FROM migr.revision'), '0', 'push with a stub: nothing defined');
($rc, $out, $err) = import_alembic('--stamp', '-d', 'half');
exit_is($rc, 1, 'import --stamp with a stub');
like($err, qr/not stamping: 2 stub\(s\) to fill first \(d1d1d1d1d1d1 e1e1e1e1e1e1\)/, 'import --stamp: refused, says why');
is(sql('half', 'SELECT count(*) FROM migr.revision'), '0', 'import --stamp with a stub: nothing pushed');

# fill the stub as a user would; a second import keeps it and changes nothing
my $stub = "$d/$rev->{d1d1d1d1d1d1}{file}";
my $text = read_file($stub);
$text =~ s/^-- migr:TODO.*?^-- TODO lines.*?\n/CREATE TABLE settings (\n    key TEXT NOT NULL, \n    value TEXT, \n    PRIMARY KEY (key)\n);\n/ms
  or die 'stub not found';
write_file($stub, $text);
my $stub2 = "$d/$rev->{e1e1e1e1e1e1}{file}";
my $text2 = read_file($stub2);
$text2 =~ s/^-- migr:TODO.*\z/ALTER TABLE users DROP COLUMN phone;\n/ms or die 'stub not found';
write_file($stub2, $text2);
($rc, $out, $err) = import_alembic();
exit_is($rc, 0, 'second import');
like($out, qr/\(0 written, 6 unchanged, 2 kept\)/, 'second import: the filled stubs kept, the rest unchanged');
like($out, qr/^kept \Q$stub\E: it differs/m, 'second import: says which file it kept');
is($err, '', 'second import: no stub left');
is(read_file($stub), $text, 'second import: the filled stub as it was');
($rc, $out, $err) = run_migr(undef, [ 'check', '--dir', $d ]);
exit_is($rc, 0, 'check --dir once the stub is filled');

# ---------------------------------------------------------------------
# migr and Alembic give the same schema

($rc, $out, $err) = run_migr($node, [ 'upgrade', 'head', '--push', '--dir', $d ]);
exit_is($rc, 0, 'migr upgrade head --push');
($rc, $out, $err) = run_migr($node, [ 'wait', '--timeout', '60s' ]);
exit_is($rc, 0, 'migr wait (the concurrent index)');
is(sql('postgres', "SELECT string_agg(revision, ' ' ORDER BY revision) FROM migr_current()"),
	'e1e1e1e1e1e1', 'migr: at e1');
alembic('alembic', 'upgrade', 'heads');
is(sql('alembic', 'SELECT version_num FROM alembic_version'), 'e1e1e1e1e1e1', 'alembic: at e1');
my $alembic_schema = schema_of('alembic');
like($alembic_schema, qr/CREATE INDEX invoices_user_id ON public\.invoices/, 'the schema has the index');
is(schema_of('postgres'), $alembic_schema, 'migr upgrade head gives the schema alembic upgrade heads gives');
is(sql('postgres', 'SELECT id, name, phone FROM users'), sql('alembic', 'SELECT id, name, phone FROM users'),
	'and the same rows');

# ---------------------------------------------------------------------
# Stamp a database Alembic migrated half-way: one row

alembic('half', 'upgrade', 'm1m1m1m1m1m1');
($rc, $out, $err) = import_alembic('--stamp', '-d', 'half');
exit_is($rc, 0, 'import --stamp -d half');
like($out, qr/^alembic_version holds: m1m1m1m1m1m1$/m, 'stamp: says what alembic_version holds');
is(sql('half', "SELECT string_agg(revision, ' ' ORDER BY revision) FROM migr.applied WHERE ms IS NULL"),
	'a1a1a1a1a1a1 b1b1b1b1b1b1 b2b2b2b2b2b2 c1c1c1c1c1c1 c2c2c2c2c2c2 m1m1m1m1m1m1',
	'stamp: m1 and its ancestors marked applied, nothing run');
is(sql('half', 'SELECT count(*) FROM migr.revision'), '8', 'stamp: every revision pushed');
($rc, $out, $err) = run_migr($node, [ 'upgrade', 'head' ], env => { PGDATABASE => 'half' });
exit_is($rc, 0, 'migr upgrade head on the stamped database');
is(sql('half', "SELECT string_agg(revision, ' ' ORDER BY revision) FROM migr.applied WHERE ms IS NOT NULL"),
	'd1d1d1d1d1d1 e1e1e1e1e1e1', 'upgrade: only what Alembic had not applied ran');
is(schema_of('half'), $alembic_schema, 'the stamped database ends with the same schema');

# again: nothing to push, nothing to stamp, still fine
($rc, $out, $err) = import_alembic('--stamp', "host=$host port=$port dbname=split");
exit_is($rc, 1, 'import --stamp DSN on a database Alembic never touched');
like($err, qr/the database has no table alembic_version/, 'never migrated by Alembic: says so');

# ---------------------------------------------------------------------
# Two rows: the branches migrated to different places

alembic('split', 'upgrade', 'b2b2b2b2b2b2');
alembic('split', 'upgrade', 'c1c1c1c1c1c1');
is(sql('split', "SELECT string_agg(version_num, ' ' ORDER BY version_num) FROM alembic_version"),
	'b2b2b2b2b2b2 c1c1c1c1c1c1', 'alembic: two rows');
($rc, $out, $err) = import_alembic('--stamp', "host=$host port=$port dbname=split");
exit_is($rc, 0, 'import --stamp DSN with two rows');
is(sql('split', "SELECT string_agg(revision, ' ' ORDER BY revision) FROM migr_current()"),
	'b2b2b2b2b2b2 c1c1c1c1c1c1', 'stamp: migr stands where Alembic stood');
is(sql('split', 'SELECT count(*) FROM migr.applied WHERE ms IS NOT NULL'), '0', 'stamp: nothing ran');
is(sql('split', 'SELECT count(*) FROM migr.revision'), '8', 'stamp: every revision pushed');
($rc, $out, $err) = import_alembic('--stamp', "host=$host port=$port dbname=split");
exit_is($rc, 0, 'import --stamp again');
like($out, qr/^already stamped/m, 'import --stamp again: already stamped');
($rc, $out, $err) = run_migr($node, [ 'upgrade', 'head' ], env => { PGDATABASE => 'split' });
exit_is($rc, 0, 'migr upgrade head on the two-row database');
($rc, $out, $err) = run_migr($node, [ 'wait', '--timeout', '60s' ], env => { PGDATABASE => 'split' });
is(schema_of('split'), $alembic_schema, 'the two-row database ends with the same schema');

# ---------------------------------------------------------------------
# Once migr has moved a database, --stamp does not move it back

($rc, $out, $err) = import_alembic('--stamp', '-d', 'half');
exit_is($rc, 1, 'import --stamp on a database migr has moved since');
like($err, qr/migr has already moved this database \(8 revisions applied/, 'moved since: refused, says why');
is(sql('half', "SELECT string_agg(revision, ' ' ORDER BY revision) FROM migr_current()"),
	'e1e1e1e1e1e1', 'moved since: still at e1');

# ---------------------------------------------------------------------
# Downgrades: the imported ones give what Alembic's give; the irreversible
# one stops a downgrade before anything is reverted

($rc, $out, $err) = run_migr($node, [ 'downgrade', 'm1m1m1m1m1m1' ]);
exit_is($rc, 0, 'migr downgrade m1');
alembic('alembic', 'downgrade', 'm1m1m1m1m1m1');
is(schema_of('postgres'), schema_of('alembic'), 'downgrade to m1: the schema alembic downgrade gives');
($rc, $out, $err) = run_migr($node, [ 'downgrade', 'base' ]);
exit_is($rc, 1, 'migr downgrade base through the irreversible revision');
like($err, qr/c2c2c2c2c2c2/, 'downgrade base: names the irreversible revision');
is(sql('postgres', "SELECT string_agg(revision, ' ' ORDER BY revision) FROM migr_current()"),
	'm1m1m1m1m1m1', 'downgrade base: nothing reverted');

done_testing();

# Autogenerate (issue 12) and baseline (issue 13 item 10).
#
# 1. Round trip, property-based: test/autogen_roundtrip.py makes random
#    schemas over the object kinds and random edits between them (seeded);
#    for each pair (A, B), migr_diff(B, A)'s upgrade applied to A gives
#    exactly B's fingerprint and its downgrade gives A's.  100 pairs here;
#    MIGR_AUTOGEN_ROUNDS=5000 (and MIGR_AUTOGEN_SEED) for a long run.
# 2. Against Alembic: test/autogen_alembic.py walks SQLAlchemy model
#    versions; at each step migr finds every change Alembic's
#    compare_metadata() finds, and the steps Alembic does not see (README
#    "What migr finds that Alembic does not") migr finds too.
# 3. The command as a user would run it: the SQLAlchemy workflow
#    (create_all in a model database, migr new --autogenerate --from-db,
#    push, upgrade, migr diff --exit-code in CI), --from FILE.sql, an empty
#    schema file, migr baseline on a database that had tables.
use strict;
use warnings;

use FindBin;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

use lib $FindBin::RealBin;
use MigrCli;

my $python = '/usr/bin/python3';
my $root = "$FindBin::RealBin/../..";

my $node = new_migr_node('autogen');
my $tmp = PostgreSQL::Test::Utils::tempdir;
my ($rc, $out, $err);

sub sql { return $node->safe_psql($_[0], $_[1]); }
sub migr { return run_migr($node, [@_], cwd => $tmp); }

sub run_python
{
	my @cmd = ($python, @_);
	my ($o, $e) = ('', '');
	IPC::Run::run(\@cmd, '>', \$o, '2>', \$e, IPC::Run::timeout(1800));
	return ($? >> 8, $o, $e);
}

# ---------- 1. round trip ----------
my $rounds = $ENV{MIGR_AUTOGEN_ROUNDS} // 100;
my $seed = $ENV{MIGR_AUTOGEN_SEED} // 12;
($rc, $out, $err) = run_python("$root/test/autogen_roundtrip.py",
	$node->host, $node->port, 'postgres', $seed, $rounds);
my @ok = ($out =~ /^ok \d+/mg);
my @bad = ($out =~ /^(not ok .*)$/mg);
is(scalar(@ok), $rounds, "round trip: $rounds pairs (seed $seed) hold")
  or diag(join("\n", @bad[0 .. ($#bad < 4 ? $#bad : 4)]) . "\n$err");
is($rc, 0, 'round trip: the generator exits 0');

# ---------- 2. against Alembic ----------
sql('postgres', 'CREATE DATABASE app');
sql('app', 'CREATE EXTENSION migr');
sql('postgres', 'CREATE DATABASE models');
($rc, $out, $err) = run_python("$root/test/autogen_alembic.py", $node->host, $node->port);
is($rc, 0, 'Alembic comparison: every step passes') or diag("$out\n$err");
like($out, qr/^ok \d+ - step 7 \(enum label added\): Alembic finds nothing/m,
	'Alembic comparison: an enum label Alembic misses');
like($out, qr/^ok \d+ - step 11 \(partial index predicate changed\): Alembic finds nothing/m,
	'Alembic comparison: a partial index predicate Alembic misses');
my @steps = ($out =~ /^ok \d+/mg);
is(scalar(@steps), 18, 'Alembic comparison: 18 steps');

# ---------- 3. the command ----------
sql('postgres', 'CREATE DATABASE shop');
sql('shop', 'CREATE EXTENSION migr');
sql('postgres', 'CREATE DATABASE shop_models');
sql('shop_models', 'CREATE EXTENSION migr');
my $models = <<'EOF';
import sys
import sqlalchemy as sa
md = sa.MetaData()
cols = [sa.Column("id", sa.Integer, primary_key=True), sa.Column("email", sa.String(200), nullable=False)]
if sys.argv[2] == "v2":
    cols.append(sa.Column("phone", sa.String(20)))
sa.Table("customers", md, *cols)
eng = sa.create_engine(sys.argv[1])
with eng.begin() as c:
    c.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public; CREATE EXTENSION migr"))
md.create_all(eng)
EOF
write_file("$tmp/models.py", $models);
my $url = sprintf('postgresql+psycopg2://postgres@/shop_models?host=%s&port=%s',
	$node->host, $node->port);

($rc, $out, $err) = run_python("$tmp/models.py", $url, 'v1');
is($rc, 0, 'models v1 created by create_all') or diag($err);
($rc, $out, $err) = migr('new', '--autogenerate', '-m', 'customers',
	'--from-db', 'dbname=shop_models', '-d', 'shop');
exit_is($rc, 0, 'new --autogenerate --from-db');
like($out, qr/created migrations\/\w+_customers\.sql/, 'new --autogenerate: the file is written');
my ($file) = glob("$tmp/migrations/*_customers.sql");
my $text = read_file($file);
like($text, qr/^CREATE TABLE public\.customers \(/m, 'the file creates the table');
unlike($text, qr/UNSUPPORTED/, 'the model database\'s own schema attributes are not compared');
is(sql('shop', 'SELECT count(*) FROM migr.revision'), '0', 'new --autogenerate defines nothing');

($rc, $out, $err) = migr('diff', '--from-db', 'dbname=shop_models', '-d', 'shop', '--exit-code');
exit_is($rc, 1, 'diff --exit-code before the upgrade: a migration is missing');
like($out, qr/CREATE TABLE public\.customers/, 'diff prints the statements');
($rc, $out, $err) = migr('diff', '--from-db', 'dbname=shop_models', '-d', 'shop');
exit_is($rc, 0, 'diff without --exit-code succeeds');

($rc, $out, $err) = migr('upgrade', '--push', '-d', 'shop');
exit_is($rc, 0, 'upgrade --push');
($rc, $out, $err) = migr('diff', '--from-db', 'dbname=shop_models', '-d', 'shop', '--exit-code');
exit_is($rc, 0, 'diff --exit-code after the upgrade: nothing missing');
like($out, qr/no changes/, 'diff says there is nothing');

($rc, $out, $err) = run_python("$tmp/models.py", $url, 'v2');
($rc, $out, $err) = migr('new', '--autogenerate', '-m', 'phone',
	'--from-db', 'dbname=shop_models', '-d', 'shop');
exit_is($rc, 0, 'second autogenerate');
($file) = glob("$tmp/migrations/*_phone.sql");
$text = read_file($file);
my ($first) = glob("$tmp/migrations/*_customers.sql");
$first =~ m{/(\w{12})_customers};
like($text, qr/^-- migr:down_revision $1$/m, 'its parent is the head');
like($text, qr/^ALTER TABLE public\.customers ADD COLUMN phone character varying\(20\);$/m,
	'it adds the column');
like($text, qr/^ALTER TABLE public\.customers DROP COLUMN phone;$/m, 'its downgrade drops it');
($rc, $out, $err) = migr('upgrade', '--push', '-d', 'shop');
exit_is($rc, 0, 'upgrade to the second revision');
is(sql('shop', q{SELECT count(*) FROM information_schema.columns WHERE table_name = 'customers' AND column_name = 'phone'}),
	'1', 'the column exists');

# --from FILE.sql: a schema file, through migr_schema_of()
write_file("$tmp/schema.sql", <<'EOF');
CREATE TABLE customers (id integer PRIMARY KEY, email varchar(200) NOT NULL,
                        phone varchar(20));
CREATE INDEX customers_email ON customers (email);
EOF
($rc, $out, $err) = migr('diff', '--from', "$tmp/schema.sql", '-d', 'shop');
exit_is($rc, 0, 'diff --from FILE.sql');
like($out, qr/^CREATE INDEX CONCURRENTLY customers_email ON public\.customers USING btree \(email\);$/m,
	'an index on an existing table is built CONCURRENTLY');
write_file("$tmp/bad.sql", "CREATE TABLE a (x int);\nBEGIN;\n");
($rc, $out, $err) = migr('diff', '--from', "$tmp/bad.sql", '-d', 'shop');
exit_is($rc, 1, 'a schema file with BEGIN');
like($err, qr/transaction control is not allowed in a schema script/, 'it is refused');

# an empty schema file: the revision says loudly that it drops everything
write_file("$tmp/empty.sql", "-- nothing\n");
($rc, $out, $err) = migr('new', '--autogenerate', '-m', 'oops', '--from', "$tmp/empty.sql",
	'-d', 'shop');
exit_is($rc, 0, 'new --autogenerate from an empty file');
like($err, qr/the desired schema is empty/, 'a warning on stderr');
($file) = glob("$tmp/migrations/*_oops.sql");
like(read_file($file), qr/WARNING: THE DESIRED SCHEMA IS EMPTY/, 'the header says so');
unlink $file;

# ---------- baseline ----------
sql('postgres', 'CREATE DATABASE legacy');
sql('legacy', q{CREATE EXTENSION migr;
	CREATE TYPE state AS ENUM ('new', 'done');
	CREATE TABLE orders (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	                     state state NOT NULL DEFAULT 'new', note text);
	CREATE INDEX orders_state ON orders (state) WHERE state = 'new';
	CREATE VIEW open_orders AS SELECT id FROM orders WHERE state = 'new';
	INSERT INTO orders (note) VALUES ('kept');});
my $before = sql('legacy', 'SELECT migr_fingerprint()');
my $ldir = "$tmp/legacy";
mkdir $ldir;
($rc, $out, $err) = run_migr($node, ['baseline', '-m', 'baseline', '-d', 'legacy'], cwd => $ldir);
exit_is($rc, 0, 'baseline');
like($out, qr/stamped (\w+)/, 'baseline stamps');
my ($bfile) = glob("$ldir/migrations/*_baseline.sql");
ok(defined $bfile, 'baseline writes the file');
my $btext = read_file($bfile);
unlike($btext, qr/^-- migr:down_revision/m, 'a baseline is a root');
unlike($btext, qr/^-- migr:downgrade/m, 'a baseline has no downgrade');
is(sql('legacy', 'SELECT count(*) FROM migr_current()'), '1', 'the baseline is current');
is(sql('legacy', 'SELECT migr_fingerprint()'), $before, 'nothing changed in the schema');
is(sql('legacy', 'SELECT note FROM orders'), 'kept', 'nor in the rows');
# the baseline builds the same schema in an empty database
sql('postgres', 'CREATE DATABASE legacy_copy');
sql('legacy_copy', 'CREATE EXTENSION migr');
($rc, $out, $err) = run_migr($node, ['upgrade', '--push', '-d', 'legacy_copy'], cwd => $ldir);
exit_is($rc, 0, 'the baseline applied to an empty database');
sql('legacy_copy', 'SELECT migr_wait()');
is(sql('legacy_copy', 'SELECT migr_fingerprint()'), $before,
	'the baseline gives the same schema (fingerprint)');
($rc, $out, $err) = run_migr($node, ['baseline', '-d', 'legacy'], cwd => $ldir);
exit_is($rc, 1, 'a second baseline');
like($err, qr/cannot baseline a database that has revisions/, 'is refused');

done_testing();

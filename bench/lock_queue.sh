#!/usr/bin/env bash
# bench/lock_queue.sh — what a migration blocked by a long transaction costs
# the application (README "Locks and the application").  Not a test.
#
#   bash bench/lock_queue.sh                  about 3 to 4 minutes
#   MIGR_PG_BINDIR=/opt/pg-x/.../bin bash bench/lock_queue.sh
#
# On a throwaway cluster (tools/setup.sh's helpers: Unix socket only, port
# PORT, migr installed from this tree unless SKIP_BUILD=1), a table app of
# 100,000 rows takes a pgbench load (CLIENTS clients, RATE transactions per
# second in all; each transaction reads a random row, or one in five updates
# one).  For each blocker duration in BLOCKERS (1, 5, 30 s), a "blocker"
# session reads the table and keeps its transaction open that long (its
# ACCESS SHARE lock conflicts with ALTER TABLE's ACCESS EXCLUSIVE), and 0.3 s
# after it starts, the same migration — ALTER TABLE app ADD COLUMN — is run by
#
#   (a) migr     SELECT migr_upgrade('head'), every migr.* setting at its default
#   (b) psql     the ALTER TABLE itself, no lock_timeout
#   (c) alembic  alembic upgrade head (op.add_column), Alembic's defaults
#
# and the pgbench transactions started between the migration's start and
# its end (or the blocker's end, if later) give the slowest application
# query and the p99.  pgbench latencies count from each transaction's
# scheduled start (-R), so a query queued behind a lock counts all of its
# wait.  A last run shows migr past its deadline (migr.lock_deadline = 3s, a
# 6 s blocker): the error, naming the blocker.
#
# Targets with migr's defaults: slowest query <= 600 ms in every case; the
# migration done within 3 s of the blocker's end.
#
# The machine may be shared: the report says what else was running (load
# average).  Report in bench/out/lock_queue-<time>.txt, logs in
# bench/out/lock_queue-last/.  Knobs: BLOCKERS ("1 5 30"), CLIENTS (4),
# RATE (200), PORT (54446), SKIP_BUILD, KEEP=1 (leave the cluster).
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
# shellcheck source=../tools/setup.sh
source "$ROOT/tools/setup.sh"
migr_clean_pg_env

BLOCKERS=${BLOCKERS:-"1 5 30"}
CLIENTS=${CLIENTS:-4}
RATE=${RATE:-200}
PORT=${PORT:-54446}
SKIP_BUILD=${SKIP_BUILD:-0}
KEEP=${KEEP:-0}
PY=/usr/bin/python3

OUT=$ROOT/bench/out
LOGDIR=$OUT/lock_queue-last
mkdir -p "$LOGDIR"
rm -rf "${LOGDIR:?}"/*
REPORT=$OUT/lock_queue-$(date +%Y%m%d-%H%M%S).txt
exec > >(tee "$REPORT") 2>&1

say() { printf '%s\n' "$*"; }
die() { say "lock_queue.sh: $*"; exit 1; }
now() { date +%s.%N; }

$PY -c 'import alembic, sqlalchemy, psycopg2' 2>/dev/null ||
	die "needs python3-alembic and python3-psycopg2 for $PY (bash tools/setup.sh)"
[[ -x $PG_BINDIR/pgbench ]] || die "no pgbench in $PG_BINDIR"

if [[ $SKIP_BUILD != 1 ]]; then
	say "building and installing migr into $PG_BINDIR/.."
	(cd "$ROOT" && make -s -j2 PG_CONFIG="$PG_CONFIG" && make -s install PG_CONFIG="$PG_CONFIG") \
		>"$LOGDIR/build.log" 2>&1 || { tail -20 "$LOGDIR/build.log"; die "build failed"; }
fi

WORK=$(mktemp -d /tmp/migr-lockq.XXXXXX)
chmod 755 "$WORK"
mkdir -p "$WORK/sock" "$WORK/pgb" "$WORK/alembic/versions"
chown -R "$(migr_pg_user)" "$WORK"
DATA=$WORK/data
cleanup()
{
	if [[ $KEEP == 1 ]]; then
		say "cluster kept in $DATA (socket $WORK/sock, port $PORT)"
	else
		migr_stop_cluster "$DATA"
		cp "$WORK/server.log" "$LOGDIR/" 2>/dev/null
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT

migr_init_cluster "$DATA" "$WORK/sock" "$PORT" no || die "initdb failed"
echo "max_connections = 50" | migr_as_pg tee -a "$DATA/postgresql.conf" >/dev/null
migr_start_cluster "$DATA" "$WORK/server.log" || die "could not start the cluster"

PSQL=("$PG_BINDIR/psql" -h "$WORK/sock" -p "$PORT" -d postgres -X -q -v ON_ERROR_STOP=1)
psql_pg() { migr_as_pg "${PSQL[@]}" "$@"; }

psql_pg -c "CREATE EXTENSION migr" \
	-c "CREATE TABLE app (id int PRIMARY KEY, v int NOT NULL, pad text)" \
	-c "INSERT INTO app SELECT g, 0, repeat('x', 40) FROM generate_series(1, 100000) g" \
	-c "VACUUM ANALYZE app" || die "could not create the table"

cat >"$WORK/read.sql" <<'EOF'
\set id random(1, 100000)
SELECT v FROM app WHERE id = :id;
EOF
cat >"$WORK/write.sql" <<'EOF'
\set id random(1, 100000)
UPDATE app SET v = v + 1 WHERE id = :id;
EOF

# a tiny Alembic project: its own version table, its defaults otherwise
cat >"$WORK/alembic/alembic.ini" <<EOF
[alembic]
script_location = $WORK/alembic
sqlalchemy.url = postgresql+psycopg2://postgres@/postgres?host=$WORK/sock&port=$PORT
EOF
cat >"$WORK/alembic/env.py" <<'EOF'
from alembic import context
from sqlalchemy import engine_from_config, pool

config = context.config
engine = engine_from_config(config.get_section(config.config_ini_section),
                            prefix="sqlalchemy.", poolclass=pool.NullPool)
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=None)
    with context.begin_transaction():
        context.run_migrations()
EOF
cat >"$WORK/alembic/script.py.mako" <<'EOF'
EOF
chown -R "$(migr_pg_user)" "$WORK"

prev_alembic=None
prev_migr=NULL

# migration TOOL NAME: run the ALTER TABLE adding column NAME; prints the
# epoch at which it ended (server clock for psql and migr) and its outcome
# in $LOGDIR/NAME.out
migration()
{
	local tool=$1 col=$2 log=$LOGDIR/$2.out rc=0
	case $tool in
	migr | migr-deadline)
		psql_pg -At -c "SELECT migr_define('$col', $prev_migr, 'ALTER TABLE app ADD COLUMN $col int', 'ALTER TABLE app DROP COLUMN $col')" >/dev/null
		prev_migr="'{$col}'"
		local opts=""
		[[ $tool == migr-deadline ]] && opts="-c migr.lock_deadline=3s"
		PGOPTIONS=$opts psql_pg -At -c "SELECT revision FROM migr_upgrade('head')" \
			-c "SELECT extract(epoch FROM clock_timestamp())" >"$log" 2>&1 || rc=$?
		;;
	psql)
		psql_pg -At -c "ALTER TABLE app ADD COLUMN $col int" \
			-c "SELECT extract(epoch FROM clock_timestamp())" >"$log" 2>&1 || rc=$?
		;;
	alembic)
		cat >"$WORK/alembic/versions/$col.py" <<EOF
import sqlalchemy as sa
from alembic import op

revision = "$col"
down_revision = $prev_alembic
branch_labels = None
depends_on = None

def upgrade():
    op.add_column("app", sa.Column("$col", sa.Integer()))

def downgrade():
    op.drop_column("app", "$col")
EOF
		chown "$(migr_pg_user)" "$WORK/alembic/versions/$col.py"
		prev_alembic="\"$col\""
		(cd "$WORK/alembic" && migr_as_pg $PY -m alembic -c alembic.ini upgrade head) >"$log" 2>&1 || rc=$?
		now >>"$log"
		;;
	esac
	if ((rc != 0)); then
		echo "FAILED" >>"$log"
	fi
}

# one_run TOOL BLOCKER_SECONDS: load, blocker, migration; one result line
RESULTS=$LOGDIR/results.txt
: >"$RESULTS"
one_run()
{
	local tool=$1 secs=$2 col="${1//-/_}_$2" total pgb_pid blk_pid t_mig
	total=$(awk "BEGIN { print int($secs + 6) }")
	rm -f "$WORK"/pgb/*
	(cd "$WORK/pgb" && migr_as_pg "$PG_BINDIR/pgbench" -h "$WORK/sock" -p "$PORT" -n \
		-c "$CLIENTS" -j 2 -R "$RATE" -T "$total" --log --log-prefix=pgb \
		-f "$WORK/read.sql@4" -f "$WORK/write.sql@1" postgres) >"$LOGDIR/pgbench-$col.log" 2>&1 &
	pgb_pid=$!
	sleep 1.5
	psql_pg -At -c "SET application_name = 'blocker'" -c "BEGIN" \
		-c "SELECT count(*) FROM app" \
		-c "SELECT extract(epoch FROM clock_timestamp())" \
		-c "SELECT pg_sleep($secs)" \
		-c "SELECT extract(epoch FROM clock_timestamp())" \
		-c "COMMIT" >"$LOGDIR/blocker-$col.out" 2>&1 &
	blk_pid=$!
	sleep 0.3
	t_mig=$(now)
	migration "$tool" "$col"
	wait "$blk_pid"
	wait "$pgb_pid"
	cat "$WORK"/pgb/pgb.* >"$LOGDIR/pgb-$col.log"
	$PY - "$tool" "$secs" "$t_mig" "$LOGDIR/blocker-$col.out" "$LOGDIR/$col.out" \
		"$LOGDIR/pgb-$col.log" >>"$RESULTS" <<'EOF'
import sys
tool, secs, t_mig, blk, mig, pgb = sys.argv[1:]
t_mig = float(t_mig)
stamps = [float(l) for l in open(blk).read().split() if l.replace('.', '').isdigit() and '.' in l]
blk_start, blk_end = stamps[0], stamps[-1]
lines = open(mig).read().strip().splitlines()
failed = lines and lines[-1] == 'FAILED'
nums = [float(l) for l in lines if l.replace('.', '', 1).isdigit() and '.' in l]
mig_end = nums[-1] if nums else None
if failed:
    err = next((l for l in lines if 'ERROR' in l), 'failed')
    outcome = err.split('ERROR:', 1)[-1].strip()
    mig_end = None
else:
    outcome = 'ok'
end = max(blk_end, mig_end or blk_end)
lat = []
for l in open(pgb):
    f = l.split()
    # client, xact, latency us, script, end epoch s, end us
    done = int(f[4]) + int(f[5]) / 1e6
    start = done - int(f[2]) / 1e6
    if start >= t_mig - 0.05 and start <= end:
        lat.append(int(f[2]) / 1000.0)
lat.sort()
mx = lat[-1] if lat else float('nan')
p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))] if lat else float('nan')
slow = 100.0 * sum(1 for x in lat if x > 100) / len(lat) if lat else float('nan')
rel = '%+.2f s' % (mig_end - blk_end) if mig_end else 'failed'
print('%-14s %6s %9.0f %9.0f %7d %7.1f %12s   %s' % (tool, secs + ' s', mx, p99, len(lat), slow, rel, outcome))
EOF
}

say "lock_queue.sh: $(date -u '+%Y-%m-%d %H:%M UTC'), PostgreSQL $("$PG_BINDIR/postgres" --version | awk '{print $3}'), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
say "pgbench: $CLIENTS clients, $RATE tx/s (4 reads : 1 update) on 100,000 rows; blockers: $BLOCKERS s"
say "migr defaults: $(psql_pg -At -c "LOAD 'migr'" -c "SELECT string_agg(name || '=' || current_setting(name), ' ' ORDER BY name) FROM pg_settings WHERE name IN ('migr.lock_timeout','migr.lock_deadline','migr.lock_retries','migr.retry_delay','migr.max_retry_delay')")"
say ""

for secs in $BLOCKERS; do
	for tool in migr psql alembic; do
		one_run "$tool" "$secs"
		tail -1 "$RESULTS" | sed 's/^/  done: /'
	done
done
one_run migr-deadline 6

say ""
say "Transactions started while the migration ran (or the blocker held the table);"
say "'%>100ms': the share of them slower than 100 ms; 'finished': the migration's"
say "end relative to the blocker's end."
say ""
printf '%-14s %6s %9s %9s %7s %7s %12s   %s\n' tool blocker "max ms" "p99 ms" xacts "%>100ms" finished outcome
cat "$RESULTS"
say ""
say "migr past its deadline (migr.lock_deadline = 3s, a 6 s blocker):"
sed 's/^/  /' "$LOGDIR/migr_deadline_6.out" | grep -v '^  [0-9.]*$'
say ""
say "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"

#!/usr/bin/env bash
# bench/day.sh — a day of the Alembic workflow against migr's, command by
# command (issue 13).
#
#   bash bench/day.sh            N=50 revisions already applied, ROUNDS=5
#   QUICK=1 bash bench/day.sh    N=20, ROUNDS=3
#
# On one throwaway cluster (tools/setup.sh's helpers, as bench/cli.sh), each
# round starts from the same project twice — an Alembic project and a migr
# folder with the same N revisions (bench/gen_history.py), both applied —
# and runs the same day in both, each command timed as a user runs it (a
# process started from the shell), the two tools interleaved command by
# command:
#
#   current; history; heads                       looking around
#   revision -m (new), then the script written    (the edit is not timed)
#   upgrade head (upgrade --push)                 apply it
#   downgrade -1; upgrade head                    try the downgrade
#   upgrade head                                  nothing to do
#   upgrade --sql (plan --offline)                SQL for the DBA
#   revision --head (new --head), written         a colleague's branch
#   merge heads; upgrade head                     merge and apply both
#
# Alembic is Debian's (/usr/bin/python3 -m alembic); migr is this tree's
# client (src/bin/migr).  Every figure is a median over the rounds with its
# range; the ratio is migr's median over Alembic's (the baseline) of the same
# run, and psql -c 'SELECT 1' (a process and a connection) is given as the
# floor.  The report goes to bench/out/day-<time>.txt.
# Knobs: N, ROUNDS, QUICK, SKIP_BUILD=1, PGBIN, KEEP=1.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
PY=/usr/bin/python3
[[ -n ${PGBIN:-} ]] && MIGR_PG_BINDIR=$PGBIN
# shellcheck source=../tools/setup.sh
source "$ROOT/tools/setup.sh"
set +e
PGBIN=$PG_BINDIR

QUICK=${QUICK:-0}
if [[ $QUICK == 1 ]]; then d_N=20; d_ROUNDS=3; else d_N=50; d_ROUNDS=5; fi
N=${N:-$d_N}
ROUNDS=${ROUNDS:-$d_ROUNDS}
SKIP_BUILD=${SKIP_BUILD:-0}
KEEP=${KEEP:-0}

OUT=$ROOT/bench/out
LOGDIR=$OUT/day-last
mkdir -p "$LOGDIR"
rm -f "$LOGDIR"/*.log
REPORT=$OUT/day-$(date +%Y%m%d-%H%M%S).txt
exec > >(tee "$REPORT") 2>&1

say()  { printf '%s\n' "$*"; }
die()  { say "day.sh: $*"; exit 1; }

migr_setup > "$LOGDIR/setup.log" 2>&1 || die "tools/setup.sh failed (bench/out/day-last/setup.log)"
$PY -c 'import alembic, psycopg2' 2>/dev/null || die "$PY cannot import alembic and psycopg2"
MIGR=$ROOT/src/bin/migr
if [[ $SKIP_BUILD != 1 ]]; then
    (cd "$ROOT" && make && make install && make -C src/bin) > "$LOGDIR/build.log" 2>&1 \
        || die "build failed (bench/out/day-last/build.log)"
fi
[[ -x $MIGR ]] || die "no client at $MIGR"

PORT=""
for p in $(seq 54360 54369); do
    [[ -e /tmp/.s.PGSQL.$p || -e /var/run/postgresql/.s.PGSQL.$p ]] && continue
    if command -v ss >/dev/null && [[ -n $(ss -Hltn "sport = :$p" 2>/dev/null) ]]; then continue; fi
    PORT=$p; break
done
[[ -n $PORT ]] || die "no free port in 54360-54369"
TMP=$(mktemp -d /tmp/migr-daybench.XXXXXX)
chmod 755 "$TMP"
DATA=$TMP/data
SOCK=$TMP/sock
mkdir "$DATA" "$SOCK"
[[ $EUID == 0 ]] && chown postgres:postgres "$DATA" "$SOCK"
STARTED=0
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    [[ $STARTED == 1 ]] && migr_stop_cluster "$DATA"
    if [[ $KEEP == 1 ]]; then say "kept $TMP"; else rm -rf "$TMP"; fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
migr_init_cluster "$DATA" "$SOCK" "$PORT" yes || die "initdb failed"
touch "$TMP/postgres.log"
[[ $EUID == 0 ]] && chown postgres:postgres "$TMP/postgres.log"
STARTED=1
migr_start_cluster "$DATA" "$TMP/postgres.log" || die "the server does not start"

migr_clean_pg_env
unset MIGR_DIR
export PGHOST=$SOCK PGPORT=$PORT PGUSER=$(migr_pg_user)
PSQL=("$PGBIN/psql" -X -q -v ON_ERROR_STOP=1)
ALEMBIC=("$PY" -m alembic)

timed() {      # timed LOG cmd...: T_MS, T_RC
    local log=$1 t0 t1
    shift
    t0=$(date +%s%N)
    "$@" >> "$log" 2>&1
    T_RC=$?
    t1=$(date +%s%N)
    T_MS=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) / 1e6 }')
}
median() {
    printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 }
        END { if (NR % 2) printf "%.1f", a[(NR + 1) / 2]; else printf "%.1f", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}
spread() { printf '%s\n' "$@" | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%.0f-%.0f", lo, hi }'; }

# the day's commands, in order: a key, then what each tool runs
KEYS=(current history heads revision upgrade downgrade upgrade_again noop sql branch merge upgrade_merge)
declare -A LABEL=(
    [current]="current"
    [history]="history"
    [heads]="heads"
    [revision]="revision -m / new -m"
    [upgrade]="upgrade head / upgrade --push"
    [downgrade]="downgrade -1"
    [upgrade_again]="upgrade head / upgrade --push (again)"
    [noop]="upgrade head, nothing to do"
    [sql]="upgrade --sql / plan --offline"
    [branch]="revision --head / new --head"
    [merge]="merge heads"
    [upgrade_merge]="upgrade head / upgrade --push (branch+merge)"
)
declare -A T_ALEMBIC T_MIGR
FAIL=0

# alembic_day DIR DB KEY: one command of the day, Alembic's way
alembic_cmd() {
    local dir=$1 key=$2 log=$LOGDIR/alembic-$2.log
    cd "$dir" || return
    case $key in
        current)  timed "$log" "${ALEMBIC[@]}" current ;;
        history)  timed "$log" "${ALEMBIC[@]}" history ;;
        heads)    timed "$log" "${ALEMBIC[@]}" heads ;;
        revision) timed "$log" "${ALEMBIC[@]}" revision -m "add day column" --rev-id day1
                  perl -0pi -e 's/def upgrade\(\):\n    pass/def upgrade():\n    op.execute("ALTER TABLE t_1 ADD COLUMN day int")/; s/def downgrade\(\):\n    pass/def downgrade():\n    op.execute("ALTER TABLE t_1 DROP COLUMN day")/' versions/day1_*.py ;;
        upgrade|upgrade_again|noop|upgrade_merge)
                  timed "$log" "${ALEMBIC[@]}" upgrade head ;;
        downgrade) timed "$log" "${ALEMBIC[@]}" downgrade -1 ;;
        sql)      timed "$log" "${ALEMBIC[@]}" upgrade base:head --sql ;;
        branch)   timed "$log" "${ALEMBIC[@]}" revision -m "colleague" --rev-id day2 --splice --head "$(printf 'r%08d' "$N")"
                  perl -0pi -e 's/def upgrade\(\):\n    pass/def upgrade():\n    op.execute("CREATE TABLE day2 (a int)")/; s/def downgrade\(\):\n    pass/def downgrade():\n    op.execute("DROP TABLE day2")/' versions/day2_*.py ;;
        merge)    timed "$log" "${ALEMBIC[@]}" merge heads -m "merge" --rev-id day3 ;;
    esac
    cd "$ROOT" || return
}

# migr_cmd DIR DB KEY: the same, migr's way
migr_cmd() {
    local dir=$1 db=$2 key=$3 log=$LOGDIR/migr-$3.log
    local M=("$MIGR" -d "$db")
    cd "$dir" || return
    case $key in
        current)  timed "$log" "${M[@]}" current ;;
        history)  timed "$log" "${M[@]}" history ;;
        heads)    timed "$log" "${M[@]}" heads ;;
        revision) timed "$log" "${M[@]}" new -m "add day column" --rev-id day1
                  sed -i 's/^-- migr:upgrade$/-- migr:upgrade\nALTER TABLE t_1 ADD COLUMN day int;/; s/^-- migr:downgrade$/-- migr:downgrade\nALTER TABLE t_1 DROP COLUMN day;/; /^-- Write the SQL/d; /^-- section if/d' migrations/day1_*.sql ;;
        upgrade|upgrade_again|noop|upgrade_merge)
                  timed "$log" "${M[@]}" upgrade --push ;;
        downgrade) timed "$log" "${M[@]}" downgrade -1 ;;
        sql)      timed "$log" "${M[@]}" plan --offline ;;
        branch)   timed "$log" "${M[@]}" new -m "colleague" --rev-id day2 --head "$(printf 'r%08d' "$N")"
                  sed -i 's/^-- migr:upgrade$/-- migr:upgrade\nCREATE TABLE day2 (a int);/; s/^-- migr:downgrade$/-- migr:downgrade\nDROP TABLE day2;/; /^-- Write the SQL/d; /^-- section if/d' migrations/day2_*.sql ;;
        merge)    timed "$log" "${M[@]}" merge heads -m "merge" --rev-id day3 ;;
    esac
    cd "$ROOT" || return
}

say "a day of Alembic's workflow against migr's — $(date -u '+%Y-%m-%d %H:%M UTC'), PostgreSQL $("${PSQL[@]}" -d postgres -Atc 'SHOW server_version'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
say "N=$N revisions already applied, ROUNDS=$ROUNDS; alembic $($PY -c 'import alembic; print(alembic.__version__)'); $("$MIGR" --version)"

FLOOR=()
for r in $(seq "$ROUNDS"); do
    gen=$TMP/gen$r
    "$PY" "$HERE/gen_history.py" "$gen" "$N" > /dev/null || die "gen_history.py failed"
    # env.py with offline mode too (upgrade --sql)
    cat > "$gen/alembic/env.py" <<'EOF'
import os
from alembic import context
from sqlalchemy import create_engine, pool
if context.is_offline_mode():
    context.configure(url=os.environ["MIGR_BENCH_URL"], literal_binds=True,
                      target_metadata=None)
    with context.begin_transaction():
        context.run_migrations()
else:
    engine = create_engine(os.environ["MIGR_BENCH_URL"], poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=None)
        with context.begin_transaction():
            context.run_migrations()
EOF
    mkdir -p "$gen/proj"
    mv "$gen/revs" "$gen/proj/migrations"
    "$PGBIN/createdb" -T template0 "alembic_$r" && "$PGBIN/createdb" -T template0 "migr_$r" || die "createdb failed"
    "${PSQL[@]}" -d "migr_$r" -c 'CREATE EXTENSION migr' || die "CREATE EXTENSION failed"
    export MIGR_BENCH_URL="postgresql+psycopg2://$PGUSER@/alembic_$r?host=$SOCK&port=$PORT"
    (cd "$gen/alembic" && "${ALEMBIC[@]}" upgrade head) > "$LOGDIR/setup-alembic.log" 2>&1 || die "alembic setup failed"
    (cd "$gen/proj" && "$MIGR" -d "migr_$r" upgrade --push -q) > "$LOGDIR/setup-migr.log" 2>&1 || die "migr setup failed"
    timed "$LOGDIR/floor.log" "${PSQL[@]}" -d "migr_$r" -c 'SELECT 1'
    FLOOR+=("$T_MS")
    for k in "${KEYS[@]}"; do
        alembic_cmd "$gen/alembic" "$k"
        [[ $T_RC == 0 ]] || { say "alembic $k failed (bench/out/day-last/alembic-$k.log)"; FAIL=1; }
        T_ALEMBIC[$k]+="$T_MS "
        migr_cmd "$gen/proj" "migr_$r" "$k"
        [[ $T_RC == 0 ]] || { say "migr $k failed (bench/out/day-last/migr-$k.log)"; FAIL=1; }
        T_MIGR[$k]+="$T_MS "
    done
    # both ended in the same place
    a=$("${PSQL[@]}" -d "alembic_$r" -Atc "SELECT count(*) FROM pg_class WHERE relname IN ('day2') OR (relname = 't_1' AND EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = 't_1'::regclass AND attname = 'day'))")
    m=$("${PSQL[@]}" -d "migr_$r" -Atc "SELECT count(*) FROM pg_class WHERE relname IN ('day2') OR (relname = 't_1' AND EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = 't_1'::regclass AND attname = 'day'))")
    [[ $a == 2 && $m == 2 ]] || { say "round $r: the two days did not end alike (alembic $a, migr $m)"; FAIL=1; }
done

say ""
printf '  %-46s %16s %16s %7s\n' "command (alembic / migr)" "alembic ms" "migr ms" "ratio"
total_a=0; total_m=0
for k in "${KEYS[@]}"; do
    # shellcheck disable=SC2086
    ma=$(median ${T_ALEMBIC[$k]}); mm=$(median ${T_MIGR[$k]})
    # shellcheck disable=SC2086
    printf '  %-46s %7s [%6s] %7s [%6s] %7s\n' "${LABEL[$k]}" "$ma" "$(spread ${T_ALEMBIC[$k]})" \
        "$mm" "$(spread ${T_MIGR[$k]})" "$(awk -v a="$mm" -v b="$ma" 'BEGIN { printf "%.3f", a / b }')"
    total_a=$(awk -v a="$total_a" -v b="$ma" 'BEGIN { print a + b }')
    total_m=$(awk -v a="$total_m" -v b="$mm" 'BEGIN { print a + b }')
done
printf '  %-46s %16s %16s %7s\n' "the whole day (sum of medians)" "$total_a" "$total_m" \
    "$(awk -v a="$total_m" -v b="$total_a" 'BEGIN { printf "%.3f", a / b }')"
printf '  %-46s %16s\n' "floor: psql -c 'SELECT 1'" "$(median "${FLOOR[@]}") [$(spread "${FLOOR[@]}")]"
say "report: $REPORT"
exit $FAIL

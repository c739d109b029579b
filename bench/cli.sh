#!/usr/bin/env bash
# bench/cli.sh [N] — the migr command-line client against Alembic and psql.
#
#   bash bench/cli.sh            N=1000 revision files, RUNS=5 full applies each
#   QUICK=1 bash bench/cli.sh    N=200, RUNS=3 (about a minute)
#
# On one throwaway cluster (tools/setup.sh's helpers; Unix socket only, first free
# port of 54350-54359, migr preloaded, durability at its defaults), for a
# linear history of N revisions made by bench/gen_history.py (each creates a
# table, adds a column and an index; the same history as revision files, as
# one floor.sql of raw DDL, and as an Alembic project):
#
#   Full apply, each run on fresh databases, contenders interleaved:
#     baseline  psql -1 -q -f floor.sql              (the raw DDL, one transaction)
#     migr      migr upgrade --push --dir revs        target: <= 1.10 x baseline
#     alembic   python3 -m alembic upgrade head       information
#     and, for information, the same migr work split in two commands:
#     "migr push" (define the N files) then "migr upgrade" (apply them).
#   No-op, on the upgraded databases, NOOP_RUNS runs each:
#     baseline  psql -X -c 'SELECT 1'                 (a process and a connection)
#     migr      migr upgrade --push --dir revs        target: < 50 ms (--exit-code: exit 3)
#     migr      migr upgrade                          information
#     alembic   python3 -m alembic upgrade head       information
#
# Every figure is a median; ratios are against the baseline of the same run.
# The report goes to bench/out/cli-<time>.txt, logs to bench/out/cli-last/.
# Knobs: N (or $1), RUNS, NOOP_RUNS, QUICK, SKIP_BUILD=1 (use the extension
# already installed and the client already built), PGBIN (the bin directory
# of the PostgreSQL installation to run, default Debian's 15), KEEP=1,
# STRICT=1 (exit 2 when a target is missed).  Exit status: 0, 1 on an error, 2 (STRICT) on a
# missed target.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
PY=/usr/bin/python3            # Debian's python, where python3-alembic lives
# the cluster helpers shared with tools/test.sh; another installation:
# PGBIN=.../bin (wins over MIGR_PG_BINDIR)
[[ -n ${PGBIN:-} ]] && MIGR_PG_BINDIR=$PGBIN
# shellcheck source=../tools/setup.sh
source "$ROOT/tools/setup.sh"
set +e						# setup.sh sets -e; this script checks each step
PGBIN=$PG_BINDIR

QUICK=${QUICK:-0}
if [[ $QUICK == 1 ]]; then d_N=200; d_RUNS=3; d_NOOP=9; else d_N=1000; d_RUNS=5; d_NOOP=15; fi
N=${1:-${N:-$d_N}}
RUNS=${RUNS:-$d_RUNS}
NOOP_RUNS=${NOOP_RUNS:-$d_NOOP}
SKIP_BUILD=${SKIP_BUILD:-0}
KEEP=${KEEP:-0}
STRICT=${STRICT:-0}
for v in N RUNS NOOP_RUNS; do
    [[ ${!v} =~ ^[1-9][0-9]*$ ]] || { echo "cli.sh: $v must be a positive integer, not '${!v}'" >&2; exit 64; }
done

OUT=$ROOT/bench/out
LOGDIR=$OUT/cli-last
mkdir -p "$LOGDIR"
rm -f "$LOGDIR"/*.log
REPORT=$OUT/cli-$(date +%Y%m%d-%H%M%S).txt
exec > >(tee "$REPORT") 2>&1

ERRORS=0
MISSES=0
declare -a PROBLEMS=()
say()  { printf '%s\n' "$*"; }
die()  { say "cli.sh: $*"; exit 1; }
as_pg() { migr_as_pg "$@"; }

# ---------------------------------------------------------------- what we need
migr_setup > "$LOGDIR/setup.log" 2>&1 || { tail -20 "$LOGDIR/setup.log"; die "tools/setup.sh failed"; }
$PY -c 'import alembic, psycopg2' 2>/dev/null || die "$PY cannot import alembic and psycopg2"

MIGR=$ROOT/src/bin/migr
if [[ $SKIP_BUILD != 1 ]]; then
    say "building: make && make install (extension), make -C src/bin (client); log: bench/out/cli-last/build.log"
    (cd "$ROOT" && make && make install && make -C src/bin) > "$LOGDIR/build.log" 2>&1 \
        || { tail -15 "$LOGDIR/build.log" | sed 's/^/  | /'; die "build failed"; }
fi
[[ -x $MIGR ]] || die "no client at $MIGR (make -C src/bin)"

# ---------------------------------------------------------------- a throwaway cluster
PORT=""
for p in $(seq 54350 54359); do
    [[ -e /tmp/.s.PGSQL.$p || -e /var/run/postgresql/.s.PGSQL.$p ]] && continue
    if command -v ss >/dev/null && [[ -n $(ss -Hltn "sport = :$p" 2>/dev/null) ]]; then continue; fi
    PORT=$p; break
done
[[ -n $PORT ]] || die "no free port in 54350-54359"

TMP=$(mktemp -d /tmp/migr-clibench.XXXXXX)
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
    [[ -f $TMP/postgres.log ]] && cp "$TMP/postgres.log" "$LOGDIR/postgres.log"
    if [[ $KEEP == 1 ]]; then say "kept $TMP"; else rm -rf "$TMP"; fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

migr_init_cluster "$DATA" "$SOCK" "$PORT" yes || die "initdb failed"
as_pg tee -a "$DATA/postgresql.conf" > /dev/null <<EOF

# bench/cli.sh: durability settings (fsync, synchronous_commit,
# full_page_writes) at their defaults, whatever tools/setup.sh chose for
# tests.
fsync = on
full_page_writes = on
shared_buffers = 512MB
max_wal_size = 4GB
# one transaction creating thousands of tables holds thousands of locks
max_locks_per_transaction = 1024
EOF
touch "$TMP/postgres.log"
[[ $EUID == 0 ]] && chown postgres:postgres "$TMP/postgres.log"
STARTED=1
migr_start_cluster "$DATA" "$TMP/postgres.log" || die "the server does not start"

# Every client talks to this cluster only.
migr_clean_pg_env
unset MIGR_DIR
export PGHOST=$SOCK PGPORT=$PORT PGUSER=$(migr_pg_user)
PSQL=("$PGBIN/psql" -X -v ON_ERROR_STOP=1)
sql()        { local db=$1; shift; "${PSQL[@]}" -d "$db" -At "$@"; }
mkdb()       { "$PGBIN/createdb" -T template0 "$1"; }
checkpoint() { sql postgres -qc 'CHECKPOINT' > /dev/null; }
alembic_url() { echo "postgresql+psycopg2://$PGUSER@/$1?host=$SOCK&port=$PORT"; }

# timed LOG cmd...: stdout and stderr to LOG; T_MS = wall-clock ms; T_RC = status.
timed() {
    local log=$1 t0 t1
    shift
    t0=$(date +%s%N)
    "$@" >> "$log" 2>&1
    T_RC=$?
    t1=$(date +%s%N)
    T_MS=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) / 1e6 }')
}
median() {
    (( $# )) || { echo ""; return; }
    printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 }
        END { if (NR % 2) printf "%.1f", a[(NR + 1) / 2]; else printf "%.1f", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}
spread() { (( $# )) || return 0; printf '%s\n' "$@" | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "[%.0f-%.0f]", lo, hi }'; }
ratio()  { [[ -n $1 && -n $2 ]] && awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }' || echo "-"; }
le()     { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }'; }
lt()     { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'; }
problem() { PROBLEMS+=("$1"); ERRORS=$((ERRORS + 1)); }
hdr() {
    say ""
    say "== $*"
    printf '  %-52s %12s %8s %10s  %s\n' "what" "median" "ratio" "target" "result"
}
row() {    # row WHAT VALUE RATIO TARGET RESULT
    printf '  %-52s %12s %8s %10s  %s\n' "$1" "${2:+$2 ms}" "${3:--}" "${4:--}" "${5:-}"
}
# expect_rc WHAT WANT: check T_RC after a timed run
expect_rc() { [[ $T_RC == "$2" ]] || problem "$1: exit status $T_RC, expected $2 (bench/out/cli-last/)"; }
# check_tables DB WHAT: the N tables and N indexes exist
check_tables() {
    local n
    n=$(sql "$1" -c "SELECT count(*) FROM pg_class WHERE relname ~ '^t_[0-9]+(_note)?\$'")
    [[ $n == $((2 * N)) ]] || problem "$2: $n of $((2 * N)) tables and indexes in $1"
}

say "migr client bench — $(date -u '+%Y-%m-%d %H:%M UTC'), PostgreSQL $(sql postgres -c 'SHOW server_version'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
say "N=$N RUNS=$RUNS NOOP_RUNS=$NOOP_RUNS; cluster on port $PORT in $TMP; fsync=$(sql postgres -c 'SHOW fsync') synchronous_commit=$(sql postgres -c 'SHOW synchronous_commit')"
say "client: $MIGR ($("$MIGR" --version))"

GEN=$TMP/gen
say "generating a linear history of $N revisions (bench/gen_history.py)"
$PY "$HERE/gen_history.py" "$GEN" "$N" || die "gen_history.py failed"
REVS=$GEN/revs
ALEMBIC=($PY -m alembic -c "$GEN/alembic/alembic.ini")
MIGR_BENCH_URL=$(alembic_url postgres) "${ALEMBIC[@]}" heads > "$LOGDIR/alembic-heads.log" 2>&1 \
    || problem "alembic heads failed (bench/out/cli-last/alembic-heads.log)"

# ---------------------------------------------------------------- full apply
floor=(); full=(); alem=(); push=(); upg=(); rfull=(); ralem=()
for r in $(seq "$RUNS"); do
    say "  round $r/$RUNS"
    mkdb floor_$r; checkpoint
    timed "$LOGDIR/floor.log" "${PSQL[@]}" -d floor_$r -1 -q -f "$GEN/floor.sql"
    expect_rc "psql -1 -f floor.sql" 0; floor+=("$T_MS"); check_tables floor_$r "floor"

    mkdb migr_$r; sql migr_$r -qc 'CREATE EXTENSION migr'; checkpoint
    timed "$LOGDIR/migr-full.log" "$MIGR" -d migr_$r upgrade --push --dir "$REVS"
    expect_rc "migr upgrade --push" 0; full+=("$T_MS"); check_tables migr_$r "migr upgrade --push"

    mkdb alembic_$r; checkpoint
    MIGR_BENCH_URL=$(alembic_url alembic_$r) timed "$LOGDIR/alembic.log" "${ALEMBIC[@]}" upgrade head
    expect_rc "alembic upgrade head" 0; alem+=("$T_MS"); check_tables alembic_$r "alembic upgrade head"
    # the ratios of each round: steadier than a ratio of medians on a busy machine
    rfull+=("$(ratio "${full[-1]}" "${floor[-1]}")"); ralem+=("$(ratio "${alem[-1]}" "${floor[-1]}")")

    mkdb split_$r; sql split_$r -qc 'CREATE EXTENSION migr'; checkpoint
    timed "$LOGDIR/migr-push.log" "$MIGR" -d split_$r push --dir "$REVS"
    expect_rc "migr push" 0; push+=("$T_MS"); checkpoint
    timed "$LOGDIR/migr-upgrade.log" "$MIGR" -d split_$r upgrade
    expect_rc "migr upgrade" 0; upg+=("$T_MS"); check_tables split_$r "migr push; migr upgrade"
done

F=$(median "${floor[@]}")
M=$(median "${full[@]}")
A=$(median "${alem[@]}")
P=$(median "${push[@]}")
U=$(median "${upg[@]}")
RM=$(median "${rfull[@]}")
RA=$(median "${ralem[@]}")
hdr "Full apply of $N revisions on a fresh database (median of $RUNS; ratio: median of the rounds' ratios)"
row "baseline: psql -1 -q -f floor.sql (raw DDL)" "$F" "1.00" "" "$(spread "${floor[@]}")"
if le "$RM" 1.10; then v=PASS; else v=MISS; MISSES=$((MISSES + 1)); fi
row "migr upgrade --push --dir revs" "$M" "$RM" "<= 1.10" "$v $(spread "${full[@]}")"
row "alembic upgrade head" "$A" "$RA" "" "info $(spread "${alem[@]}")"
say "  . ratios by round, migr: ${rfull[*]}; alembic: ${ralem[*]}"
row "  split: migr push (define the $N files)" "$P" "$(ratio "$P" "$F")" "" "info"
row "  split: migr upgrade (one migr_upgrade('head'))" "$U" "$(ratio "$U" "$F")" "" "info"

# ---------------------------------------------------------------- no-op
sel=(); nop=(); nup=(); nal=()
for i in $(seq "$NOOP_RUNS"); do
    r=$(( (i - 1) % RUNS + 1 ))
    timed "$LOGDIR/noop-psql.log" "${PSQL[@]}" -d migr_$r -Atc 'SELECT 1'
    sel+=("$T_MS")
    timed "$LOGDIR/noop-migr-push.log" "$MIGR" -d migr_$r upgrade --push --exit-code --dir "$REVS"
    expect_rc "migr upgrade --push (no-op)" 3; nop+=("$T_MS")
    timed "$LOGDIR/noop-migr.log" "$MIGR" -d migr_$r upgrade --exit-code
    expect_rc "migr upgrade (no-op)" 3; nup+=("$T_MS")
    MIGR_BENCH_URL=$(alembic_url alembic_$r) timed "$LOGDIR/noop-alembic.log" "${ALEMBIC[@]}" upgrade head
    expect_rc "alembic upgrade head (no-op)" 0; nal+=("$T_MS")
done
S=$(median "${sel[@]}")
NP=$(median "${nop[@]}")
NU=$(median "${nup[@]}")
NA=$(median "${nal[@]}")
hdr "No-op: everything applied, $N revision files (median of $NOOP_RUNS, one process each)"
row "baseline: psql -X -c 'SELECT 1'" "$S" "1.00" "" "$(spread "${sel[@]}")"
if lt "$NP" 50; then v=PASS; else v=MISS; MISSES=$((MISSES + 1)); fi
row "migr upgrade --push --dir revs (--exit-code: exit 3)" "$NP" "$(ratio "$NP" "$S")" "< 50 ms" "$v $(spread "${nop[@]}")"
row "migr upgrade (--exit-code: exit 3)" "$NU" "$(ratio "$NU" "$S")" "" "info $(spread "${nup[@]}")"
row "alembic upgrade head" "$NA" "$(ratio "$NA" "$S")" "" "info $(spread "${nal[@]}")"
if [[ -n $NP && -n $NA ]]; then
    say "  . alembic's no-op takes $(ratio "$NA" "$NP") times as long as migr's (with --push)"
fi

say ""
if (( ${#PROBLEMS[@]} )); then
    say "problems:"
    for p in "${PROBLEMS[@]}"; do say "  - $p"; done
fi
say "summary: $ERRORS error(s), $MISSES target(s) missed; report ${REPORT#$ROOT/}"
(( ERRORS > 0 )) && exit 1
(( MISSES > 0 && STRICT == 1 )) && exit 2
exit 0

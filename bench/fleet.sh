#!/usr/bin/env bash
# bench/fleet.sh — a fleet of databases upgraded by one "migr upgrade
# --dsn-file FILE --jobs N" against a shell loop of one "migr upgrade" per
# database.
#
#   bash bench/fleet.sh            NDB=20 databases, JOBS=4, ROUNDS=3
#   QUICK=1 bash bench/fleet.sh    NDB=8, ROUNDS=2 (well under a minute)
#
# On one throwaway cluster (tools/setup.sh's helpers; Unix socket only, first
# free port of 54360-54369, migr preloaded), every round makes fresh copies of
# a template database that has the extension and some data (ROWS rows in
# table "item"), then times, interleaved:
#
#   loop      for db in ...; do migr -d $db upgrade --push --dir revs; done
#   fleet     migr upgrade --push --dir revs --dsn-file FILE --jobs $JOBS
#   fleet -j1 the same with --jobs 1 (information: the event loop, no overlap)
#   and, on the upgraded databases, the no-op re-run of loop and fleet.
#
# The history is REVS revisions that do real work on each database (add a
# column with a volatile default, which rewrites the table; build an index;
# an UPDATE), so that the databases' servers have something to overlap.
# Every figure is a median over the rounds with its spread [min-max]; ratios
# are loop / fleet of the same run; the contenders take turns going first.
# The report goes to bench/out/fleet-<time>.txt, logs to bench/out/fleet-last/.
# Knobs: NDB, JOBS, ROUNDS, ROWS, REVS, QUICK, SKIP_BUILD=1, PGBIN, KEEP=1.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
[[ -n ${PGBIN:-} ]] && MIGR_PG_BINDIR=$PGBIN
# shellcheck source=../tools/setup.sh
source "$ROOT/tools/setup.sh"
set +e
PGBIN=$PG_BINDIR

QUICK=${QUICK:-0}
if [[ $QUICK == 1 ]]; then d_NDB=8; d_ROUNDS=2; d_ROWS=20000; else d_NDB=20; d_ROUNDS=3; d_ROWS=50000; fi
NDB=${NDB:-$d_NDB}
JOBS=${JOBS:-4}
ROUNDS=${ROUNDS:-$d_ROUNDS}
ROWS=${ROWS:-$d_ROWS}
REVS=${REVS:-4}
SKIP_BUILD=${SKIP_BUILD:-0}
KEEP=${KEEP:-0}
for v in NDB JOBS ROUNDS ROWS REVS; do
    [[ ${!v} =~ ^[1-9][0-9]*$ ]] || { echo "fleet.sh: $v must be a positive integer, not '${!v}'" >&2; exit 64; }
done

OUT=$ROOT/bench/out
LOGDIR=$OUT/fleet-last
mkdir -p "$LOGDIR"
rm -f "$LOGDIR"/*.log
REPORT=$OUT/fleet-$(date +%Y%m%d-%H%M%S).txt
exec > >(tee "$REPORT") 2>&1

ERRORS=0
say() { printf '%s\n' "$*"; }
die() { say "fleet.sh: $*"; exit 1; }
problem() { say "  PROBLEM: $*"; ERRORS=$((ERRORS + 1)); }

migr_setup > "$LOGDIR/setup.log" 2>&1 || { tail -20 "$LOGDIR/setup.log"; die "tools/setup.sh failed"; }
MIGR=$ROOT/src/bin/migr
if [[ $SKIP_BUILD != 1 ]]; then
    say "building: make && make install (extension), make -C src/bin (client); log: bench/out/fleet-last/build.log"
    (cd "$ROOT" && make && make install && make -C src/bin) > "$LOGDIR/build.log" 2>&1 \
        || { tail -15 "$LOGDIR/build.log" | sed 's/^/  | /'; die "build failed"; }
fi
[[ -x $MIGR ]] || die "no client at $MIGR (make -C src/bin)"

# ---------------------------------------------------------------- a throwaway cluster
PORT=""
for p in $(seq 54360 54369); do
    [[ -e /tmp/.s.PGSQL.$p || -e /var/run/postgresql/.s.PGSQL.$p ]] && continue
    if command -v ss >/dev/null && [[ -n $(ss -Hltn "sport = :$p" 2>/dev/null) ]]; then continue; fi
    PORT=$p; break
done
[[ -n $PORT ]] || die "no free port in 54360-54369"

TMP=$(mktemp -d /tmp/migr-fleetbench.XXXXXX)
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
echo "max_connections = 200" | migr_as_pg tee -a "$DATA/postgresql.conf" > /dev/null
touch "$TMP/postgres.log"
[[ $EUID == 0 ]] && chown postgres:postgres "$TMP/postgres.log"
STARTED=1
migr_start_cluster "$DATA" "$TMP/postgres.log" || die "the server does not start"

migr_clean_pg_env
unset MIGR_DIR
export PGHOST=$SOCK PGPORT=$PORT PGUSER=$(migr_pg_user)
PSQL=("$PGBIN/psql" -X -v ON_ERROR_STOP=1)
sql() { local db=$1; shift; "${PSQL[@]}" -d "$db" -At "$@"; }

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
    printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 }
        END { if (NR % 2) printf "%.1f", a[(NR + 1) / 2]; else printf "%.1f", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}
spread() { printf '%s\n' "$@" | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "[%.0f-%.0f]", lo, hi }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }

say "migr fleet bench — $(date -u '+%Y-%m-%d %H:%M UTC'), PostgreSQL $(sql postgres -c 'SHOW server_version'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
say "NDB=$NDB JOBS=$JOBS ROUNDS=$ROUNDS ROWS=$ROWS REVS=$REVS; cluster on port $PORT in $TMP"

# ---------------------------------------------------------------- the history and the template
REVDIR=$TMP/revs
mkdir "$REVDIR"
parent=""
for i in $(seq "$REVS"); do
    {
        echo "-- migr:revision f$i"
        [[ -n $parent ]] && echo "-- migr:down_revision $parent"
        echo "-- migr:message step $i"
        echo "-- migr:upgrade"
        echo "ALTER TABLE item ADD COLUMN c$i double precision DEFAULT random();"
        echo "CREATE INDEX item_c$i ON item (c$i);"
        echo "UPDATE item SET v = v + 1 WHERE id % 10 = $((i % 10));"
        echo "-- migr:downgrade"
        echo "ALTER TABLE item DROP COLUMN c$i;"
        echo "UPDATE item SET v = v - 1 WHERE id % 10 = $((i % 10));"
    } > "$REVDIR/f$i.sql"
    parent=f$i
done
sql postgres -qc "CREATE DATABASE fleet_tpl" || die "createdb failed"
sql fleet_tpl -qc "CREATE EXTENSION migr" \
    -c "CREATE TABLE item (id int PRIMARY KEY, v int)" \
    -c "INSERT INTO item SELECT g, g FROM generate_series(1, $ROWS) g" \
    -c "VACUUM ANALYZE item" || die "template failed"

# make_set NAME: NDB fresh copies of the template, and their DSN file
make_set() {
    local name=$1 k
    : > "$TMP/$name.dsn"
    for k in $(seq "$NDB"); do
        sql postgres -qc "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS ${name}_$k" -c "CREATE DATABASE ${name}_$k TEMPLATE fleet_tpl" \
            || die "createdb ${name}_$k failed"
        echo "dbname=${name}_$k" >> "$TMP/$name.dsn"
    done
    sql postgres -qc CHECKPOINT
}
# check_set NAME: every database of the set at the head
check_set() {
    local name=$1 k n
    for k in $(seq "$NDB"); do
        n=$(sql "${name}_$k" -c "SELECT count(*) FROM migr.applied")
        [[ $n == "$REVS" ]] || problem "$name: ${name}_$k has $n of $REVS revisions applied"
    done
}
loop_upgrade() {
    local name=$1 k rc=0
    for k in $(seq "$NDB"); do
        "$MIGR" -d "${name}_$k" upgrade --push --dir "$REVDIR" || rc=1
    done
    return $rc
}
loop_noop() {
    local name=$1 k rc
    for k in $(seq "$NDB"); do
        "$MIGR" -d "${name}_$k" upgrade --push --dir "$REVDIR"
        rc=$?
        [[ $rc == 0 || $rc == 3 ]] || return 1
    done
    return 0
}

loop=(); fleet=(); fleet1=(); lnoop=(); fnoop=()
run_loop() {
    make_set loop
    timed "$LOGDIR/loop.log" loop_upgrade loop
    [[ $T_RC == 0 ]] || problem "loop: exit status $T_RC"
    loop+=("$T_MS"); check_set loop
    timed "$LOGDIR/loop-noop.log" loop_noop loop
    [[ $T_RC == 0 ]] || problem "loop no-op: exit status $T_RC"
    lnoop+=("$T_MS")
}
run_fleet() {
    make_set fleet
    timed "$LOGDIR/fleet.log" "$MIGR" upgrade --push --dir "$REVDIR" --dsn-file "$TMP/fleet.dsn" --jobs "$JOBS"
    [[ $T_RC == 0 ]] || problem "fleet: exit status $T_RC"
    fleet+=("$T_MS"); check_set fleet
    timed "$LOGDIR/fleet-noop.log" "$MIGR" upgrade --push --dir "$REVDIR" --dsn-file "$TMP/fleet.dsn" --jobs "$JOBS"
    [[ $T_RC == 0 ]] || problem "fleet no-op: exit status $T_RC"
    fnoop+=("$T_MS")
}
run_fleet1() {
    make_set fleet
    timed "$LOGDIR/fleet-j1.log" "$MIGR" upgrade --push --dir "$REVDIR" --dsn-file "$TMP/fleet.dsn" --jobs 1
    [[ $T_RC == 0 ]] || problem "fleet --jobs 1: exit status $T_RC"
    fleet1+=("$T_MS"); check_set fleet
}
# the contenders take turns going first, so that a change in the machine's
# load does not always fall on the same one
CONTENDERS=(run_loop run_fleet run_fleet1)
for r in $(seq "$ROUNDS"); do
    say "  round $r/$ROUNDS"
    for k in 0 1 2; do
        "${CONTENDERS[$(( (r - 1 + k) % 3 ))]}"
    done
done

L=$(median "${loop[@]}"); F=$(median "${fleet[@]}"); F1=$(median "${fleet1[@]}")
LN=$(median "${lnoop[@]}"); FN=$(median "${fnoop[@]}")
say ""
say "== $NDB databases, $REVS revisions each ($ROWS rows per database), medians of $ROUNDS rounds"
printf '  %-58s %10s %14s %8s\n' "what" "median" "spread" "loop/x"
printf '  %-58s %10s %14s %8s\n' "loop: one migr upgrade --push per database" "$L ms" "$(spread "${loop[@]}")" "1.00"
printf '  %-58s %10s %14s %8s\n' "fleet: migr upgrade --push --dsn-file --jobs $JOBS" "$F ms" "$(spread "${fleet[@]}")" "$(ratio "$L" "$F")"
printf '  %-58s %10s %14s %8s\n' "fleet: --jobs 1" "$F1 ms" "$(spread "${fleet1[@]}")" "$(ratio "$L" "$F1")"
printf '  %-58s %10s %14s %8s\n' "no-op loop (all at head)" "$LN ms" "$(spread "${lnoop[@]}")" "1.00"
printf '  %-58s %10s %14s %8s\n' "no-op fleet --jobs $JOBS (all at head)" "$FN ms" "$(spread "${fnoop[@]}")" "$(ratio "$LN" "$FN")"
say ""
say "ratio loop / fleet --jobs $JOBS: $(ratio "$L" "$F") (upgrade), $(ratio "$LN" "$FN") (no-op); $(nproc) cores"
say "load at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
if (( ERRORS > 0 )); then say "$ERRORS problem(s); logs in bench/out/fleet-last/"; exit 1; fi
exit 0

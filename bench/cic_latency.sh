#!/usr/bin/env bash
# bench/cic_latency.sh — write latency while an index is built (README, "Concurrent index builds").
#
#   bash bench/cic_latency.sh             5,000,000 rows, ROUNDS=5 (about 10 minutes)
#   QUICK=1 bash bench/cic_latency.sh     500,000 rows, ROUNDS=3 (about 3 minutes)
#
# On one throwaway cluster (tools/setup.sh's helpers; Unix socket only, first free
# port of 54330-54339, migr preloaded, durability at its defaults), a table
# bench_t of ROWS rows takes a pgbench write load (CLIENTS clients, JOBS
# threads, RATE transactions per second in all; each transaction updates a
# random row and inserts one) while an index on bench_t(a) is built, three
# ways, each with its own pgbench run:
#
#   (c) hand   psql -c 'CREATE INDEX CONCURRENTLY ...'              the floor
#   (a) migr   SELECT migr_upgrade(<revision with CREATE INDEX CONCURRENTLY>)
#              returns at once; migr's background worker builds it
#   (b) plain  SELECT migr_upgrade(<revision with a plain CREATE INDEX>),
#              migr.lock_timeout = 10min: writes wait for the whole build
#
# (a) and (c) alternate which runs first in a round; (b) runs last.
#
# Latency is pgbench's, from each transaction's scheduled start (pgbench -R),
# so a write queued behind a lock counts all of its wait.  For each scenario
# the transactions that overlap the build (from the call to the end of the
# build: for (a) the job's finished_at) give the longest latency and the p99;
# a baseline run with no build gives the noise floor.  Reported per round and
# as the median over the rounds, with the ratios a/c (target <= 1.2) and b/c.
#
# The report goes to bench/out/cic-<time>.txt, logs to bench/out/cic-last/.
# Knobs: ROWS, ROUNDS, QUICK, CLIENTS (4), JOBS (2), RATE (400), SKIP_BUILD=1
# (use the extension already installed), PGBIN (default Debian's 15), KEEP=1,
# STRICT=1 (exit 2 when the a/c target is missed).
# Exit status: 0, 1 on an error, 2 (STRICT) on a missed target.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
# the cluster helpers shared with tools/test.sh (PGBIN wins over MIGR_PG_BINDIR)
[[ -n ${PGBIN:-} ]] && MIGR_PG_BINDIR=$PGBIN
# shellcheck source=../tools/setup.sh
source "$ROOT/tools/setup.sh"
set +e						# setup.sh sets -e; this script checks each step
PGBIN=$PG_BINDIR

QUICK=${QUICK:-0}
if [[ $QUICK == 1 ]]; then d_ROWS=500000; d_ROUNDS=3; else d_ROWS=5000000; d_ROUNDS=5; fi
ROWS=${ROWS:-$d_ROWS}
ROUNDS=${ROUNDS:-$d_ROUNDS}
CLIENTS=${CLIENTS:-4}
JOBS=${JOBS:-2}
RATE=${RATE:-400}
SKIP_BUILD=${SKIP_BUILD:-0}
KEEP=${KEEP:-0}
STRICT=${STRICT:-0}
TARGET=1.2
for v in ROWS ROUNDS CLIENTS JOBS RATE; do
    [[ ${!v} =~ ^[1-9][0-9]*$ ]] || { echo "cic_latency.sh: $v must be a positive integer, not '${!v}'" >&2; exit 64; }
done

OUT=$ROOT/bench/out
LOGDIR=$OUT/cic-last
mkdir -p "$LOGDIR"
rm -f "$LOGDIR"/*.log "$LOGDIR"/pgb_* "$LOGDIR"/windows.txt
REPORT=$OUT/cic-$(date +%Y%m%d-%H%M%S).txt
exec > >(tee "$REPORT") 2>&1

say()  { printf '%s\n' "$*"; }
die()  { say "cic_latency.sh: $*"; exit 1; }
as_pg() { migr_as_pg "$@"; }
now()  { date +%s.%N; }
calc() { awk "BEGIN { printf \"%.6f\\n\", $* }"; }

# ---------------------------------------------------------------- what we need
migr_setup > "$LOGDIR/setup.log" 2>&1 || { tail -20 "$LOGDIR/setup.log"; die "tools/setup.sh failed"; }
[[ -x $PGBIN/pgbench ]] || die "no pgbench in $PGBIN"

if [[ $SKIP_BUILD != 1 ]]; then
    say "building: make && make install; log: bench/out/cic-last/build.log"
    (cd "$ROOT" && make && make install) > "$LOGDIR/build.log" 2>&1 \
        || { tail -15 "$LOGDIR/build.log" | sed 's/^/  | /'; die "build failed"; }
fi

# ---------------------------------------------------------------- a throwaway cluster
PORT=""
for p in $(seq 54330 54339); do
    [[ -e /tmp/.s.PGSQL.$p || -e /var/run/postgresql/.s.PGSQL.$p ]] && continue
    if command -v ss >/dev/null && [[ -n $(ss -Hltn "sport = :$p" 2>/dev/null) ]]; then continue; fi
    PORT=$p; break
done
[[ -n $PORT ]] || die "no free port in 54330-54339"

TMP=$(mktemp -d /tmp/migr-cic.XXXXXX)
chmod 755 "$TMP"
DATA=$TMP/data
SOCK=$TMP/sock
mkdir "$DATA" "$SOCK"
[[ $EUID == 0 ]] && chown postgres:postgres "$DATA" "$SOCK"
STARTED=0
PGB_PID=""
POLLER_PID=""
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    [[ -n $PGB_PID ]] && kill "$PGB_PID" 2>/dev/null
    if [[ -n $POLLER_PID ]]; then touch "$TMP/poll_stop"; wait "$POLLER_PID" 2>/dev/null; fi
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

# bench/cic_latency.sh: durability settings (fsync, synchronous_commit,
# full_page_writes) at their defaults, whatever tools/setup.sh chose for
# tests.  Server-wide settings apply to the three builds alike (migr's
# worker takes only migr.* and search_path from its caller).
fsync = on
full_page_writes = on
shared_buffers = 512MB
maintenance_work_mem = 256MB
max_wal_size = 8GB
checkpoint_timeout = 30min
# no autovacuum in the middle of a measurement (VACUUM runs between them)
autovacuum = off
log_line_prefix = '%m [%p] %b '
EOF
touch "$TMP/postgres.log"
[[ $EUID == 0 ]] && chown postgres:postgres "$TMP/postgres.log"
STARTED=1
migr_start_cluster "$DATA" "$TMP/postgres.log" || die "the server does not start"

migr_clean_pg_env
export PGHOST=$SOCK PGPORT=$PORT PGUSER=$(migr_pg_user) PGDATABASE=postgres
PSQL=("$PGBIN/psql" -X -v ON_ERROR_STOP=1)
sql() { "${PSQL[@]}" -At "$@"; }

# ---------------------------------------------------------------- the table
say "cic_latency: ROWS=$ROWS ROUNDS=$ROUNDS pgbench -c $CLIENTS -j $JOBS -R $RATE; cluster on port $PORT in $TMP; $(nproc) CPUs"
t0=$(now)
sql -q > "$LOGDIR/load.log" 2>&1 <<EOF || { tail "$LOGDIR/load.log"; die "loading the table failed"; }
CREATE EXTENSION migr;
CREATE TABLE bench_t (id bigint NOT NULL, a int NOT NULL, b int NOT NULL, payload text NOT NULL);
INSERT INTO bench_t SELECT g, (g::bigint * 7919) % 100000, 0, repeat('x', 40)
  FROM generate_series(1, $ROWS) g;
ALTER TABLE bench_t ADD PRIMARY KEY (id);
CREATE SEQUENCE bench_ins START $((ROWS + 1));
VACUUM ANALYZE bench_t;
CHECKPOINT;
EOF
say "loaded $ROWS rows ($(sql -c "SELECT pg_size_pretty(pg_table_size('bench_t'))")) in $(printf '%.1f' "$(calc "$(now) - $t0")") s"

cat > "$TMP/write.sql" <<'EOF'
\set id random(1, :nrows)
BEGIN;
UPDATE bench_t SET b = b + 1 WHERE id = :id;
INSERT INTO bench_t (id, a, b, payload) VALUES (nextval('bench_ins'), :id % 100000, 0, 'y');
END;
EOF

# Calibrate: one unloaded build (it also warms the cache).
t0=$(now)
sql -c 'CREATE INDEX CONCURRENTLY bench_cal_idx ON bench_t (a)' > /dev/null || die "calibration build failed"
CAL=$(calc "$(now) - $t0")
sql -c 'DROP INDEX bench_cal_idx' > /dev/null
PRE=3
POST=2
LOAD_SECS=$(echo "$CAL" | awk -v pre=$PRE -v post=$POST '{ t = 3 * $1; if (t < 10) t = 10; printf "%d", pre + t + post + 0.999 }')
say "unloaded CREATE INDEX CONCURRENTLY: $(printf '%.2f' "$CAL") s; each pgbench run lasts $LOAD_SECS s, the build starts after $PRE s"
say ""

# ---------------------------------------------------------------- helpers
# start_load NAME: pgbench in the background, per-transaction log to
# $LOGDIR/pgb_NAME.*
start_load() {
    local name=$1
    sql -qc 'CHECKPOINT' > /dev/null
    rm -f "$LOGDIR/pgb_$name".*
    "$PGBIN/pgbench" -n -c "$CLIENTS" -j "$JOBS" -R "$RATE" -T "$LOAD_SECS" \
        -D nrows="$ROWS" -f "$TMP/write.sql" -l --log-prefix="$LOGDIR/pgb_$name" \
        > "$LOGDIR/pgbench_$name.log" 2>&1 &
    PGB_PID=$!
    LOAD_START=$(now)
}

# end_load: wait for pgbench; LOAD_END = when it ended.
end_load() {
    wait "$PGB_PID"
    local rc=$?
    PGB_PID=""
    LOAD_END=$(now)
    (( rc == 0 )) || say "  pgbench exited with status $rc (see bench/out/cic-last/pgbench_*.log)"
}

# start_poller REV: in the background, one psql session reads the state of
# revision REV's job in migr.job every 100 ms (a short query of its own
# each time, no snapshot kept) into $TMP/poll_state.  It runs during every
# scenario, not only (a) which needs it, so that the three see the same
# extra load.
start_poller() {
    local rev=$1
    rm -f "$TMP/poll_state" "$TMP/poll_stop"
    (
        coproc POLLQ { "${PSQL[@]}" -At -q 2>&1; }
        while [[ ! -e $TMP/poll_stop ]]; do
            printf '%s\n%s\n' "SELECT state FROM migr.job WHERE revision = '$rev';" '\echo __END__' >&"${POLLQ[1]}"
            out=""
            while IFS= read -r line <&"${POLLQ[0]}"; do [[ $line == __END__ ]] && break; out+=$line; done
            printf '%s\n' "$out" > "$TMP/poll_state.new" && mv -f "$TMP/poll_state.new" "$TMP/poll_state"
            sleep 0.1
        done
        printf '\\q\n' >&"${POLLQ[1]}"
        wait
    ) &
    POLLER_PID=$!
}
stop_poller() {
    touch "$TMP/poll_stop"
    wait "$POLLER_PID" 2>/dev/null
    POLLER_PID=""
}

# window NAME FROM TO: "max_ms p99_ms n" of the transactions of pgb_NAME.*
# that overlap [FROM, TO] (epoch seconds).
window() {
    local name=$1 from=$2 to=$3
    cat "$LOGDIR/pgb_$name".* 2>/dev/null | awk -v from="$from" -v to="$to" '
        { lat = $3 / 1e6; end = $5 + $6 / 1e6; start = end - lat;
          if (end >= from && start <= to) print $3 / 1000 }' | sort -n | awk '
        { v[NR] = $1 }
        END { if (NR == 0) { print "nan nan 0"; exit }
              i = int(NR * 0.99 + 0.999); if (i < 1) i = 1; if (i > NR) i = NR;
              printf "%.1f %.1f %d\n", v[NR], v[i], NR }'
}

# sleep_until EPOCH
sleep_until() { local d; d=$(calc "$1 - $(now)"); [[ $d == -* ]] || sleep "$d"; }

declare -A MAX P99 N BUILD
record() {   # record SCEN ROUND NAME FROM TO
    local scen=$1 r=$2 name=$3 from=$4 to=$5 w
    w=$(window "$name" "$from" "$to")
    printf '%s %s %s %s\n' "$scen" "$r" "$from" "$to" >> "$LOGDIR/windows.txt"
    read -r MAX[$scen,$r] P99[$scen,$r] N[$scen,$r] <<< "$w"
    BUILD[$scen,$r]=$(calc "$to - $from")
    if [[ -n ${LOAD_END:-} ]] && awk -v a="$to" -v b="$LOAD_END" 'BEGIN { exit !(a > b) }'; then
        say "  warning: the build of $scen ended after the load; raise the load time"
    fi
    printf '  %-6s round %d: build %6.2f s   writes during it: %6d   max %9.1f ms   p99 %8.1f ms\n' \
        "$scen" "$r" "${BUILD[$scen,$r]}" "${N[$scen,$r]}" "${MAX[$scen,$r]}" "${P99[$scen,$r]}"
}

# ---------------------------------------------------------------- baseline
start_poller none
start_load base
sleep_until "$(calc "$LOAD_START + $PRE")"
from=$(now)
sleep "$(awk -v c="$CAL" 'BEGIN { t = 2 * c; if (t < 5) t = 5; if (t > 20) t = 20; printf "%.1f", t }')"
to=$(now)
end_load
stop_poller
say "baseline (no build), $(printf '%.1f' "$(calc "$to - $from")") s window:"
record base 0 base "$from" "$to"
say ""

# (c) the floor: CREATE INDEX CONCURRENTLY by hand
run_hand() {
    local r=$1 from to
    start_poller none
    start_load "c$r"
    sleep_until "$(calc "$LOAD_START + $PRE")"
    from=$(now)
    sql -c "CREATE INDEX CONCURRENTLY bench_c${r}_idx ON bench_t (a)" > "$LOGDIR/c$r.log" 2>&1 \
        || { cat "$LOGDIR/c$r.log"; die "hand CREATE INDEX CONCURRENTLY failed"; }
    to=$(now)
    end_load
    stop_poller
    record hand "$r" "c$r" "$from" "$to"
    sql -c "DROP INDEX bench_c${r}_idx" > /dev/null
}

# (a) migr: migr_upgrade() returns at once, the worker builds the index.
# The window runs from the call to the job's finished_at.
prev=""
run_migr() {
    local r=$1 from to out call st parent=NULL work
    [[ -n $prev ]] && parent="ARRAY['$prev']"
    sql -c "SELECT migr_define('bench_a$r', $parent,
              'CREATE INDEX CONCURRENTLY bench_a${r}_idx ON bench_t (a)')" > /dev/null \
        || die "migr_define failed"
    prev=bench_a$r
    start_poller "bench_a$r"
    start_load "a$r"
    sleep_until "$(calc "$LOAD_START + $PRE")"
    from=$(now)
    out=$(sql -c "SELECT count(*) FILTER (WHERE ms IS NULL) FROM migr_upgrade('bench_a$r')" 2> "$LOGDIR/a$r.log") \
        || { cat "$LOGDIR/a$r.log"; die "migr_upgrade (a) failed"; }
    call=$(calc "$(now) - $from")
    [[ $out == 1 ]] || die "migr_upgrade (a) did not queue the build (got '$out')"
    # wait for the worker through the poller's reads of migr.job: nothing
    # waits inside the server
    while :; do
        st=""
        [[ -e $TMP/poll_state ]] && read -r st < "$TMP/poll_state"
        [[ $st == done ]] && break
        [[ $st == failed || $st == cancelled ]] && die "the migr job failed: $(sql -c "SELECT error FROM migr.job WHERE revision = 'bench_a$r'")"
        sleep 0.1
    done
    to=$(sql -c "SELECT extract(epoch FROM finished_at) FROM migr.job WHERE revision = 'bench_a$r'")
    work=$(sql -c "SELECT extract(epoch FROM finished_at - started_at) FROM migr.job WHERE revision = 'bench_a$r'")
    end_load
    stop_poller
    record migr "$r" "a$r" "$from" "$to"
    printf '         (migr_upgrade returned in %.0f ms; the worker worked %.2f s)\n' "$(calc "$call * 1000")" "$work"
    [[ $(sql -c "SELECT indisvalid FROM pg_index WHERE indexrelid = 'bench_a${r}_idx'::regclass") == t ]] \
        || die "the index built by the worker is not valid"
    sql -c "DROP INDEX bench_a${r}_idx" > /dev/null
}

# (b) a plain CREATE INDEX inside a migration; the lint comment acknowledges
# the blocking build (no WARNING)
run_plain() {
    local r=$1 from to
    sql -c "SELECT migr_define('bench_b$r', ARRAY['$prev'], \$\$-- migr:allow index_not_concurrent the benchmark measures the blocking build
CREATE INDEX bench_b${r}_idx ON bench_t (a)\$\$)" > /dev/null || die "migr_define failed"
    prev=bench_b$r
    start_poller none
    start_load "b$r"
    sleep_until "$(calc "$LOAD_START + $PRE")"
    from=$(now)
    sql -c "SET migr.lock_timeout = '10min'" -c "SELECT count(*) FROM migr_upgrade('bench_b$r')" \
        > "$LOGDIR/b$r.log" 2>&1 || { cat "$LOGDIR/b$r.log"; die "migr_upgrade (b) failed"; }
    to=$(now)
    end_load
    stop_poller
    record plain "$r" "b$r" "$from" "$to"
    sql -c "DROP INDEX bench_b${r}_idx" > /dev/null
}

# (a) and (c) alternate which goes first; (b) comes last, then a VACUUM.
for r in $(seq 1 "$ROUNDS"); do
    say "round $r:"
    if (( r % 2 )); then run_hand "$r"; run_migr "$r"; else run_migr "$r"; run_hand "$r"; fi
    run_plain "$r"
    sql -qc 'VACUUM bench_t' > /dev/null
    say ""
done

# ---------------------------------------------------------------- summary
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
declare -A MMAX MP99 MBUILD
for s in hand migr plain; do
    l1=""; l2=""; l3=""
    for r in $(seq 1 "$ROUNDS"); do l1+="${MAX[$s,$r]} "; l2+="${P99[$s,$r]} "; l3+="${BUILD[$s,$r]} "; done
    MMAX[$s]=$(echo "$l1" | median); MP99[$s]=$(echo "$l2" | median); MBUILD[$s]=$(echo "$l3" | median)
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "nan" }'; }
say "summary (median of $ROUNDS round(s)), $ROWS rows, pgbench -c $CLIENTS -j $JOBS -R $RATE:"
printf '  %-44s %9s %9s %9s\n' "" "max ms" "p99 ms" "build s"
printf '  %-44s %9.1f %9.1f %9s\n' "baseline (no build)" "${MAX[base,0]}" "${P99[base,0]}" "-"
printf '  %-44s %9.1f %9.1f %9.2f\n' "(c) hand CREATE INDEX CONCURRENTLY" "${MMAX[hand]}" "${MP99[hand]}" "${MBUILD[hand]}"
printf '  %-44s %9.1f %9.1f %9.2f\n' "(a) migr_upgrade, built by the worker" "${MMAX[migr]}" "${MP99[migr]}" "${MBUILD[migr]}"
printf '  %-44s %9.1f %9.1f %9.2f\n' "(b) plain CREATE INDEX in a migration" "${MMAX[plain]}" "${MP99[plain]}" "${MBUILD[plain]}"
ac=$(ratio "${MMAX[migr]}" "${MMAX[hand]}")
bc_=$(ratio "${MMAX[plain]}" "${MMAX[hand]}")
say "  a/c max latency: $ac (target <= $TARGET); p99: $(ratio "${MP99[migr]}" "${MP99[hand]}")"
say "  b/c max latency: $bc_; p99: $(ratio "${MP99[plain]}" "${MP99[hand]}")"
say "report: ${REPORT#$ROOT/}; logs: bench/out/cic-last/"
if awk -v r="$ac" -v t="$TARGET" 'BEGIN { exit !(r == "nan" || r > t) }'; then
    say "target missed: a/c = $ac > $TARGET"
    [[ $STRICT == 1 ]] && exit 2
fi
exit 0

#!/usr/bin/env bash
# bench/history.sh [N] — how fast migr is against plain psql and against Alembic.
#
#   bash bench/history.sh [N]        (make bench runs it with the defaults)
#   QUICK=1 bash bench/history.sh    (a fast check: N=200, fewer runs, 20k revisions in part 5)
#
# See bench/README.md for what each part measures. Every number printed is a
# median of several runs, and every ratio is against a baseline measured in the
# same run, on the same throwaway cluster.
#
# Knobs (environment): QUICK RUNS PGBENCH_RUNS PGBENCH_T PGBENCH_CLIENTS PGBENCH_JOBS
# NOOP_REVS SCALE_N SCALE_BATCH SCALE_BUDGET_S LOOK_RUNS PARTS SKIP_MIGR SKIP_BUILD
# BENCH_PORT KEEP STRICT — described in bench/README.md.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
PY=/usr/bin/python3            # Debian's python, where python3-alembic lives

QUICK=${QUICK:-0}
if [[ $QUICK == 1 ]]; then
    d_N=200; d_RUNS=3; d_PGB_T=3; d_SCALE_N=20000; d_LOOK=5
else
    d_N=1000; d_RUNS=5; d_PGB_T=10; d_SCALE_N=100000; d_LOOK=7
fi
N=${1:-${N:-$d_N}}
RUNS=${RUNS:-$d_RUNS}
PGBENCH_RUNS=${PGBENCH_RUNS:-3}
PGBENCH_T=${PGBENCH_T:-$d_PGB_T}
PGBENCH_CLIENTS=${PGBENCH_CLIENTS:-8}
PGBENCH_JOBS=${PGBENCH_JOBS:-2}
NOOP_REVS=${NOOP_REVS:-10000}
SCALE_N=${SCALE_N:-$d_SCALE_N}
SCALE_BATCH=${SCALE_BATCH:-10000}
SCALE_BUDGET_S=${SCALE_BUDGET_S:-420}
LOOK_RUNS=${LOOK_RUNS:-$d_LOOK}
PARTS=${PARTS:-"load apply noop scale"}
SKIP_MIGR=${SKIP_MIGR:-0}
SKIP_BUILD=${SKIP_BUILD:-0}
KEEP=${KEEP:-0}
STRICT=${STRICT:-0}

for v in N RUNS PGBENCH_RUNS PGBENCH_T PGBENCH_CLIENTS PGBENCH_JOBS NOOP_REVS SCALE_N \
         SCALE_BATCH SCALE_BUDGET_S LOOK_RUNS; do
    [[ ${!v} =~ ^[1-9][0-9]*$ ]] || { echo "history.sh: $v must be a positive integer, not '${!v}'" >&2; exit 64; }
done
(( RUNS >= 3 )) || echo "history.sh: warning: RUNS=$RUNS; medians want at least 3 runs" >&2
(( LOOK_RUNS >= 5 )) || echo "history.sh: warning: LOOK_RUNS=$LOOK_RUNS; part 5 wants at least 5" >&2
want() { [[ " $PARTS " == *" $1 "* ]]; }

OUT=$ROOT/bench/out
LOGDIR=$OUT/last
mkdir -p "$LOGDIR"
rm -f "$LOGDIR"/*.log
STAMP=$(date +%Y%m%d-%H%M%S)
REPORT=$OUT/history-$STAMP.txt
exec > >(tee "$REPORT") 2>&1
TEE_PID=$!

ERRORS=0
MISSES=0
declare -a PROBLEMS=()

say()  { printf '%s\n' "$*"; }
note() { printf '  . %s\n' "$*"; }
die()  { say "history.sh: $*"; exit 1; }

# ---------------------------------------------------------------- 0. what we need
as_pg() { if [[ $EUID == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }

need=()
for p in postgresql-15 postgresql-server-dev-15 python3-alembic python3-psycopg2 make gcc; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need+=("$p")
done
if (( ${#need[@]} )); then
    say "installing with apt-get: ${need[*]}"
    [[ $EUID == 0 ]] || die "need root to apt-get install ${need[*]}"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"; } \
        > "$LOGDIR/apt.log" 2>&1 || { tail -20 "$LOGDIR/apt.log"; die "apt-get install failed"; }
fi

# Another copy of PostgreSQL 15 when asked (as tools/test.sh does): MIGR_PG_BINDIR
# or PG_CONFIG; else Debian's. migr, the floor function and the cluster all use it.
if [[ -n ${MIGR_PG_BINDIR:-} ]]; then
    PG_CONFIG=$MIGR_PG_BINDIR/pg_config
elif [[ -z ${PG_CONFIG:-} ]]; then
    PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config
fi
[[ -x $PG_CONFIG ]] || die "no pg_config at $PG_CONFIG"
export PG_CONFIG
PGBIN=$($PG_CONFIG --bindir)
[[ -x $PGBIN/pgbench ]] || die "no pgbench in $PGBIN"
$PY -c 'import alembic, psycopg2' 2>/dev/null || die "$PY cannot import alembic and psycopg2"

MIGR_OK=1
MIGR_WHY=""
if [[ $SKIP_MIGR == 1 ]]; then
    MIGR_OK=0; MIGR_WHY="SKIP_MIGR=1"
elif [[ $SKIP_BUILD != 1 ]]; then
    say "building migr: make && make install (log: bench/out/last/build.log)"
    if ! (cd "$ROOT" && make && make install) > "$LOGDIR/build.log" 2>&1; then
        tail -15 "$LOGDIR/build.log" | sed 's/^/  | /'
        MIGR_OK=0; MIGR_WHY="the extension does not build (bench/out/last/build.log)"
        PROBLEMS+=("build: make && make install failed")
        ERRORS=$((ERRORS + 1))
    fi
fi
[[ $MIGR_OK == 1 ]] || say "migr parts will be skipped: $MIGR_WHY"

# ---------------------------------------------------------------- 1. a throwaway cluster
port_free() {
    local p=$1
    [[ -e /tmp/.s.PGSQL.$p || -e /var/run/postgresql/.s.PGSQL.$p ]] && return 1
    if command -v ss >/dev/null; then
        [[ -z $(ss -Hltn "sport = :$p" 2>/dev/null) ]] || return 1
    fi
    return 0
}
if [[ -n ${BENCH_PORT:-} ]]; then
    PORT=$BENCH_PORT
    (( PORT >= 54380 && PORT <= 54389 )) || die "BENCH_PORT must be in 54380-54389"
else
    PORT=""
    for p in $(seq 54380 54389); do port_free "$p" && { PORT=$p; break; }; done
    [[ -n $PORT ]] || die "no free port in 54380-54389"
fi

TMP=$(mktemp -d /tmp/migr-bench.XXXXXX)
chmod 755 "$TMP"
DATA=$TMP/data
SOCK=$TMP/sock
mkdir "$DATA" "$SOCK"
[[ $EUID == 0 ]] && chown postgres:postgres "$DATA" "$SOCK"
STARTED=0

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [[ $STARTED == 1 ]]; then
        as_pg "$PGBIN/pg_ctl" -D "$DATA" -m fast -w -t 60 stop > /dev/null 2>&1 \
            || say "history.sh: could not stop the bench cluster in $DATA"
    fi
    [[ -f $TMP/postgres.log ]] && cp "$TMP/postgres.log" "$LOGDIR/postgres.log"
    if [[ $KEEP == 1 ]]; then say "kept $TMP"; else rm -rf "$TMP"; fi
    exec >&- 2>&-
    wait "$TEE_PID" 2>/dev/null
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The floor of the no-op (part 4): an empty C set-returning function with
# migr_upgrade()'s signature, built with PGXS in the temp dir and installed
# into this PostgreSQL (bench/floor/).
FLOOR_OK=0
if want noop && [[ $MIGR_OK == 1 ]]; then
    cp -r "$HERE/floor" "$TMP/floor"
    if (cd "$TMP/floor" && make && make install) > "$LOGDIR/build-floor.log" 2>&1; then
        FLOOR_OK=1
    else
        tail -10 "$LOGDIR/build-floor.log" | sed 's/^/  | /'
        PROBLEMS+=("build: the floor function (bench/floor) does not build (bench/out/last/build-floor.log)")
        ERRORS=$((ERRORS + 1))
    fi
fi

as_pg "$PGBIN/initdb" -D "$DATA" -A trust -U postgres -E UTF8 --locale=C > "$LOGDIR/initdb.log" 2>&1 \
    || { tail "$LOGDIR/initdb.log"; die "initdb failed"; }
preload="''"
[[ $MIGR_OK == 1 ]] && preload="'migr'"
cat >> "$DATA/postgresql.conf" <<EOF

# bench/history.sh: durability settings (fsync, synchronous_commit,
# full_page_writes, wal_level) stay at their defaults.
port = $PORT
listen_addresses = ''
unix_socket_directories = '$SOCK'
shared_preload_libraries = $preload
shared_buffers = 512MB
max_wal_size = 4GB
# one transaction creating thousands of tables holds thousands of locks
max_locks_per_transaction = 1024
EOF
touch "$TMP/postgres.log"
[[ $EUID == 0 ]] && chown postgres:postgres "$TMP/postgres.log"
STARTED=1
if ! as_pg "$PGBIN/pg_ctl" -D "$DATA" -l "$TMP/postgres.log" -w -t 60 start > "$LOGDIR/pg_ctl.log" 2>&1; then
    tail -20 "$TMP/postgres.log" | sed 's/^/  | /'
    if [[ $MIGR_OK == 1 ]]; then
        # Perhaps the library will not preload: run what we can without it.
        PROBLEMS+=("server does not start with shared_preload_libraries='migr' (bench/out/last/postgres.log)")
        ERRORS=$((ERRORS + 1))
        MIGR_OK=0; MIGR_WHY="the server does not start with migr preloaded"
        sed -i "s/^shared_preload_libraries = 'migr'/shared_preload_libraries = ''/" "$DATA/postgresql.conf"
        as_pg "$PGBIN/pg_ctl" -D "$DATA" -l "$TMP/postgres.log" -w -t 60 start > "$LOGDIR/pg_ctl.log" 2>&1 \
            || die "the server does not start even without migr"
    else
        die "the server does not start"
    fi
fi

PSQL=("$PGBIN/psql" -X -h "$SOCK" -p "$PORT" -U postgres -v ON_ERROR_STOP=1)
sql()      { local db=$1; shift; "${PSQL[@]}" -d "$db" -At "$@"; }
mkdb()     { "$PGBIN/createdb" -h "$SOCK" -p "$PORT" -U postgres -T template0 "$1"; }
rmdb()     { "$PGBIN/dropdb" -h "$SOCK" -p "$PORT" -U postgres --if-exists "$1"; }
checkpoint() { sql postgres -qc 'CHECKPOINT' > /dev/null; }
alembic_url() { echo "postgresql+psycopg2://postgres@/$1?host=$SOCK&port=$PORT"; }

# timed OUTFILE LOG cmd...: runs cmd, stdout to OUTFILE, stderr appended to LOG;
# sets T_MS to the wall-clock milliseconds; returns cmd's status.
timed() {
    local out=$1 log=$2 t0 t1 rc
    shift 2
    t0=$(date +%s%N)
    "$@" > "$out" 2>> "$log"
    rc=$?
    t1=$(date +%s%N)
    T_MS=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) / 1e6 }')
    return $rc
}

median() {
    (( $# )) || { echo ""; return; }
    printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 }
        END { if (NR % 2) printf "%.4f", a[(NR + 1) / 2]; else printf "%.4f", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}
rounds() {  # rounds NUM_ARRAY DEN_ARRAY -> each round's NUM[r] / DEN[r], for the record
    local -n _n=$1 _d=$2
    local r out=""
    for r in "${!_n[@]}"; do
        [[ -n ${_d[r]:-} ]] && out+=" $(awk -v a="${_n[r]}" -v b="${_d[r]}" 'BEGIN { if (b > 0) printf "%.2f", a / b }')"
    done
    echo "${out# }"
}
paired() {  # paired NUM_ARRAY DEN_ARRAY -> median over rounds r of NUM[r] / DEN[r]
    local -n _num=$1 _den=$2
    local r
    local -a q=()
    for r in "${!_num[@]}"; do
        [[ -n ${_den[r]:-} ]] && q+=("$(awk -v a="${_num[r]}" -v b="${_den[r]}" 'BEGIN { if (b > 0) printf "%.4f", a / b; else print 0 }')")
    done
    (( ${#q[@]} )) || { echo "-"; return; }
    printf '%.2f' "$(median "${q[@]}")"
}
rspread() { # rspread NUM_ARRAY DEN_ARRAY -> "[min-max]" of the per-round ratios
    local -a q
    read -r -a q <<< "$(rounds "$1" "$2")"
    (( ${#q[@]} )) || { echo "-"; return; }
    printf '%s\n' "${q[@]}" | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "[%.2f-%.2f]", lo, hi }'
}
fmtnum() { awk -v v="$1" 'BEGIN { if (v >= 100) printf "%.0f", v; else if (v >= 10) printf "%.1f", v; else printf "%.3f", v }'; }
spread() {  # spread V... -> "[min-max]" of the runs
    (( $# )) || return 0
    printf '%s\n' "$@" | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "[%.0f-%.0f]", lo, hi }'
}
ratio() { [[ -n $1 && -n $2 ]] && awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }' || echo "-"; }
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }'; }
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }'; }
lt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'; }

# First error line of a log, for the table.
first_error() { grep -m1 -E 'ERROR|FATAL|error|Error|aborted' "$1" 2>/dev/null | cut -c1-160; }
fail() {   # fail WHAT LOG
    local what=$1 log=$2 msg
    msg=$(first_error "$log")
    [[ -n $msg ]] || msg="failed (see bench/out/last/$(basename "$log"))"
    PROBLEMS+=("$what: $msg")
    ERRORS=$((ERRORS + 1))
}
wrong() {  # wrong WHAT MESSAGE
    PROBLEMS+=("$1: $2")
    ERRORS=$((ERRORS + 1))
}

hdr() {
    say ""
    say "== $*"
    printf '  %-58s %12s %8s %10s  %s\n' "what" "median" "ratio" "target" "result"
}
row() {    # row WHAT VALUE UNIT RATIO TARGET RESULT
    local v=$2
    [[ -n $v ]] && v="$(fmtnum "$v") $3"
    printf '  %-58s %12s %8s %10s  %s\n' "$1" "${v:--}" "${4:--}" "${5:--}" "${6:-}"
}
verdict() { # verdict OK? -> sets VERDICT to PASS / MISS (and counts misses)
    if [[ $1 == 1 ]]; then VERDICT=PASS; else MISSES=$((MISSES + 1)); VERDICT=MISS; fi
}

PGVER=$(sql postgres -c 'SHOW server_version')
say "migr history bench — $(date -u '+%Y-%m-%d %H:%M UTC'), PostgreSQL $PGVER, $(nproc) cores"
say "N=$N RUNS=$RUNS PGBENCH_RUNS=$PGBENCH_RUNS PGBENCH_T=${PGBENCH_T}s clients=$PGBENCH_CLIENTS jobs=$PGBENCH_JOBS NOOP_REVS=$NOOP_REVS SCALE_N=$SCALE_N PARTS='$PARTS'"
say "cluster: port $PORT (unix socket only) in $TMP; synchronous_commit=$(sql postgres -c 'SHOW synchronous_commit') fsync=$(sql postgres -c 'SHOW fsync')"
say "report: ${REPORT#$ROOT/}; logs: bench/out/last/"

if [[ $MIGR_OK == 1 ]]; then
    mkdb migr_probe && sql migr_probe -qc 'CREATE EXTENSION migr' > /dev/null 2> "$LOGDIR/probe.log" || {
        tail -5 "$LOGDIR/probe.log" | sed 's/^/  | /'
        fail "CREATE EXTENSION migr" "$LOGDIR/probe.log"
        MIGR_OK=0; MIGR_WHY="CREATE EXTENSION migr fails"
        say "migr parts will be skipped: $MIGR_WHY"
    }
    rmdb migr_probe
fi
migr_skip_row() { row "$1" "" "" "" "${2:-}" "SKIP: $MIGR_WHY"; }

# ---------------------------------------------------------------- 2+3. load and full apply
GEN=$TMP/gen
if want load || want apply; then
    say ""
    say "generating a linear history of $N revisions (revision files, load scripts, floor script, Alembic project)"
    $PY "$HERE/gen_history.py" "$GEN" "$N" || die "gen_history.py failed"
    # Alembic compiles every version file on its first run; do that once, untimed,
    # as a project that has run Alembic before would have.
    MIGR_BENCH_URL=$(alembic_url postgres) $PY -m alembic -c "$GEN/alembic/alembic.ini" heads \
        > "$LOGDIR/alembic-heads.log" 2>&1 || fail "alembic heads" "$LOGDIR/alembic-heads.log"

    tcount="SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relname ~ '^t_[0-9]+\$'"
    icount="SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relkind = 'i' AND c.relname ~ '^t_[0-9]+_note\$'"
    check_schema() {   # check_schema DB WHAT
        local t i
        t=$(sql "$1" -c "$tcount" 2>/dev/null); i=$(sql "$1" -c "$icount" 2>/dev/null)
        [[ $t == "$N" && $i == "$N" ]] || wrong "$2" "expected $N tables and $N note indexes, found ${t:-?} and ${i:-?}"
    }

    # Arrays indexed by round, so that a round's contenders can be paired.
    declare -a floor=() sel1=() mload=() mdef=() mapply=() mfresh=() mnoop=() alem=() alemnoop=()
    run_floor() {   # the same DDL through psql, one transaction
        local r=$1 db=floor_$1
        mkdb "$db"; checkpoint
        if timed "$TMP/o" "$LOGDIR/floor.log" "${PSQL[@]}" -d "$db" -1 -q -f "$GEN/floor.sql"; then
            floor[r]=$T_MS; check_schema "$db" "psql floor round $r"
        else fail "psql -1 -f floor.sql" "$LOGDIR/floor.log"; fi
        # a connection that does nothing, the floor of a no-op
        timed "$TMP/o" "$LOGDIR/select1.log" "${PSQL[@]}" -d "$db" -Atc 'SELECT 1' && sel1[r]=$T_MS
        rmdb "$db"
    }
    run_migr() {
        local r=$1 db=migr_$1
        [[ $MIGR_OK == 1 ]] || return 0
        mkdb "$db"
        sql "$db" -qc 'CREATE EXTENSION migr' > /dev/null 2>> "$LOGDIR/migr-load.log"
        checkpoint
        if timed "$TMP/o" "$LOGDIR/migr-load.log" "${PSQL[@]}" -d "$db" -1 -q -f "$GEN/load_migr_load.sql"; then
            mload[r]=$T_MS
            checkpoint
            if timed "$TMP/o" "$LOGDIR/migr-apply.log" "${PSQL[@]}" -d "$db" -Atc "SELECT count(*) FROM migr_upgrade('head')"; then
                mapply[r]=$T_MS
                mfresh[r]=$(awk -v a="${mload[r]}" -v b="$T_MS" 'BEGIN { printf "%.1f", a + b }')
                [[ $(cat "$TMP/o") == "$N" ]] || wrong "migr_upgrade('head') round $r" "returned $(head -c 80 "$TMP/o") rows, expected $N"
                check_schema "$db" "migr_upgrade round $r"
                if timed "$TMP/o" "$LOGDIR/migr-noop.log" "${PSQL[@]}" -d "$db" -Atc "SELECT count(*) FROM migr_upgrade('head')"; then
                    mnoop[r]=$T_MS
                    [[ $(cat "$TMP/o") == 0 ]] || wrong "second migr_upgrade('head') round $r" "returned $(head -c 80 "$TMP/o") rows, expected 0"
                else fail "migr_upgrade('head') again (no-op)" "$LOGDIR/migr-noop.log"; fi
            else fail "migr_upgrade('head')" "$LOGDIR/migr-apply.log"; fi
        else fail "load: migr_load of $N files" "$LOGDIR/migr-load.log"; fi
        rmdb "$db"

        db=migrdef_$r; mkdb "$db"
        sql "$db" -qc 'CREATE EXTENSION migr' > /dev/null 2>> "$LOGDIR/migr-define.log"
        checkpoint
        if timed "$TMP/o" "$LOGDIR/migr-define.log" "${PSQL[@]}" -d "$db" -1 -q -f "$GEN/load_migr_define.sql"; then
            mdef[r]=$T_MS
        else fail "load: migr_define x $N" "$LOGDIR/migr-define.log"; fi
        rmdb "$db"
    }
    run_alembic() {
        local r=$1 db=alembic_$1
        mkdb "$db"; checkpoint
        export MIGR_BENCH_URL; MIGR_BENCH_URL=$(alembic_url "$db")
        if timed "$TMP/o" "$LOGDIR/alembic.log" $PY -m alembic -c "$GEN/alembic/alembic.ini" upgrade head; then
            alem[r]=$T_MS; check_schema "$db" "alembic upgrade head round $r"
            if timed "$TMP/o" "$LOGDIR/alembic-noop.log" $PY -m alembic -c "$GEN/alembic/alembic.ini" upgrade head; then
                alemnoop[r]=$T_MS
            else fail "alembic upgrade head (no-op)" "$LOGDIR/alembic-noop.log"; fi
        else fail "alembic upgrade head" "$LOGDIR/alembic.log"; fi
        rmdb "$db"
    }
    # The order of the contenders rotates from round to round, so that none of
    # them always runs first (or always right after another one's checkpoint).
    contenders=(run_floor run_migr run_alembic)
    for r in $(seq 1 "$RUNS"); do
        say "  round $r/$RUNS"
        for k in 0 1 2; do "${contenders[(r + k) % 3]}" "$r"; done
    done
    F=$(median "${floor[@]}")
    S1=$(median "${sel1[@]}")
    warn_load=$(grep -c 'WARNING' "$LOGDIR/migr-load.log" 2>/dev/null)
    notice_apply=$(grep -cE 'WARNING|NOTICE' "$LOGDIR/migr-apply.log" 2>/dev/null)

    if want load; then
        hdr "Load: define all $N revisions in one psql -1 -q -f (no process per file)"
        row "baseline: psql -1 -f floor.sql (applying the DDL)" "$F" ms "1.00" "" ""
        if [[ $MIGR_OK == 1 ]]; then
            for what in mload mdef; do
                declare -n arr=$what
                if [[ $what == mload ]]; then label="migr_load(file text) x $N"; else label="migr_define(id, parents, up, down) x $N"; fi
                m=$(median "${arr[@]}")
                if [[ -n $m ]]; then
                    row "$label" "$m" ms "$(paired "$what" floor)" "" "info: $(awk -v a="$m" -v n="$N" 'BEGIN { printf "%.3f ms/rev", a / n }')"
                else row "$label" "" "" "" "" "ERROR"; fi
                unset -n arr
            done
            [[ ${warn_load:-0} -gt 0 ]] && note "migr_load printed $warn_load WARNING lines over $RUNS loads (lint; bench/out/last/migr-load.log)"
        else
            migr_skip_row "migr_load(file text) x $N"
            migr_skip_row "migr_define(...) x $N"
        fi
    fi

    if want apply; then
        hdr "Full apply of $N revisions on a fresh database"
        row "baseline: psql -1 -q -f floor.sql" "$F" ms "1.00" "" "$(spread "${floor[@]}")"
        if [[ $MIGR_OK == 1 ]]; then
            m=$(median "${mapply[@]}")
            if [[ -n $m && -n $F ]]; then
                rt=$(paired mapply floor)
                ok=0; le "$rt" 1.10 && ok=1; verdict $ok
                row "migr: psql -c \"SELECT count(*) FROM migr_upgrade('head')\"" "$m" ms "$rt" "<= 1.10" "$VERDICT $(spread "${mapply[@]}")"
            else row "migr_upgrade('head')" "" "" "" "<= 1.10" "ERROR"; fi
        else migr_skip_row "migr_upgrade('head')" "<= 1.10"; fi
        if [[ $MIGR_OK == 1 ]]; then
            m=$(median "${mfresh[@]}")
            if [[ -n $m && -n $F ]]; then
                rt=$(paired mfresh floor)
                ok=0; le "$rt" 1.15 && ok=1; verdict $ok
                row "migr: migr_load x $N files, then migr_upgrade('head')" "$m" ms "$rt" "<= 1.15" "$VERDICT $(spread "${mfresh[@]}")"
            else row "migr: migr_load x $N files, then migr_upgrade('head')" "" "" "" "<= 1.15" "ERROR"; fi
        else migr_skip_row "migr: migr_load x $N files, then migr_upgrade('head')" "<= 1.15"; fi
        a=$(median "${alem[@]}")
        if [[ -n $a ]]; then row "alembic upgrade head" "$a" ms "$(paired alem floor)" "" "info $(spread "${alem[@]}")"
        else row "alembic upgrade head" "" "" "" "" "ERROR"; fi
        [[ $MIGR_OK == 1 ]] && note "migr / floor in each round: $(rounds mapply floor)"
        [[ $MIGR_OK == 1 ]] && note "migr load + apply / floor in each round: $(rounds mfresh floor) (ratio spread $(rspread mfresh floor))"
        note "alembic / floor in each round: $(rounds alem floor)"
        [[ ${notice_apply:-0} -gt 0 ]] && note "migr_upgrade printed $notice_apply WARNING/NOTICE lines over $RUNS applies (bench/out/last/migr-apply.log)"

        hdr "No-op upgrade from a shell, everything already applied (one process each)"
        row "baseline: psql -c 'SELECT 1'" "$S1" ms "1.00" "" ""
        if [[ $MIGR_OK == 1 ]]; then
            m=$(median "${mnoop[@]}")
            row "migr: psql -c \"SELECT count(*) FROM migr_upgrade('head')\"" "$m" ms "$(paired mnoop sel1)" "" "${m:+info}"
        else migr_skip_row "migr_upgrade('head'), nothing to do"; fi
        a=$(median "${alemnoop[@]}")
        row "alembic upgrade head, nothing to do" "$a" ms "$(paired alemnoop sel1)" "" "${a:+info}"
    fi
fi

# ---------------------------------------------------------------- 4. no-op throughput
look_times() {   # look_times DB QUERY RUNS -> "count median" (first run is a warm-up)
    local db=$1 q=$2 n=$3 f=$TMP/look.sql log=$LOGDIR/look.log
    { echo "SET statement_timeout = '120s';"; echo '\timing on'
      for _ in $(seq 0 "$n"); do echo "$q;"; done; } > "$f"
    echo "--- $q" >> "$log"
    "${PSQL[@]}" -d "$db" -At -f "$f" > "$TMP/look.out" 2>> "$log" || return 1
    cat "$TMP/look.out" >> "$log"
    local cnt times
    cnt=$(grep -v -E '^(Time:|SET|Timing)' "$TMP/look.out" | tail -1)
    mapfile -t times < <(awk '/^Time: / { print $2 }' "$TMP/look.out" | tail -n +2)   # skip the warm-up
    echo "$cnt $(median "${times[@]}")"
}

tiny_define_sql() {   # tiny_define_sql PREFIX FROM TO: one statement defining a linear chain
    local p=$1 from=$2 to=$3
    cat <<EOF
SELECT count(migr_define(format('${p}%s', lpad(i::text, 8, '0')),
                         CASE WHEN i = 1 THEN '{}'::text[]
                              ELSE ARRAY[format('${p}%s', lpad((i - 1)::text, 8, '0'))] END,
                         format('CREATE TABLE ${p}_%s ()', i),
                         format('DROP TABLE ${p}_%s', i)))
FROM (SELECT i FROM generate_series($from, $to) AS g(i) ORDER BY i) AS o
EOF
}

pgb_tps() {   # pgb_tps DB FILE [extra pgbench args] -> prints tps or nothing
    local db=$1 f=$2 log=$LOGDIR/pgbench.log
    shift 2
    echo "--- pgbench $* -f $(basename "$f")" >> "$log"
    "$PGBIN/pgbench" -h "$SOCK" -p "$PORT" -U postgres -n -c "$PGBENCH_CLIENTS" -j "$PGBENCH_JOBS" \
        -T "$PGBENCH_T" "$@" -f "$f" "$db" > "$TMP/pgb.out" 2>> "$log"
    local rc=$?
    cat "$TMP/pgb.out" >> "$log"
    if [[ $rc != 0 ]] || grep -qE '^number of failed transactions: [1-9]' "$TMP/pgb.out"; then return 1; fi
    awk '/^tps = / { print $3; exit }' "$TMP/pgb.out"
}

if want noop; then
    db=noop
    mkdb "$db"
    echo 'SELECT 1;' > "$TMP/select1.sql"
    echo "SELECT count(*) FROM migr_upgrade('head');" > "$TMP/migr_noop.sql"
    echo "SELECT count(*) FROM floor_upgrade('head');" > "$TMP/floor_noop.sql"
    NOOPQ="SELECT count(*) FROM migr_upgrade('head')"
    setup_ok=0; lcold=""; tfloor=""; app_ms=""; def_ms=""
    # the floor of the setup: the same tiny DDL through psql, one transaction
    seq 1 "$NOOP_REVS" | awk '{ print "CREATE TABLE n_" $1 " ();" }' > "$TMP/tiny_floor.sql"
    mkdb noop_floor; checkpoint
    if timed "$TMP/o" "$LOGDIR/noop-setup.log" "${PSQL[@]}" -d noop_floor -1 -q -f "$TMP/tiny_floor.sql"; then
        tfloor=$T_MS
    else fail "psql -1 -f of $NOOP_REVS CREATE TABLE" "$LOGDIR/noop-setup.log"; fi
    rmdb noop_floor
    if [[ $MIGR_OK == 1 ]]; then
        say ""
        say "no-op setup: defining and applying $NOOP_REVS tiny revisions"
        sql "$db" -qc 'CREATE EXTENSION migr' > /dev/null 2>> "$LOGDIR/noop-setup.log"
        if timed "$TMP/o" "$LOGDIR/noop-setup.log" "${PSQL[@]}" -d "$db" -Atc "$(tiny_define_sql n 1 "$NOOP_REVS")"; then
            def_ms=$T_MS
            checkpoint
            if timed "$TMP/o" "$LOGDIR/noop-setup.log" "${PSQL[@]}" -d "$db" -Atc "$NOOPQ"; then
                app_ms=$T_MS
                if [[ $(cat "$TMP/o") == "$NOOP_REVS" ]]; then setup_ok=1
                else wrong "no-op setup: migr_upgrade('head')" "applied $(head -c 80 "$TMP/o") revisions, expected $NOOP_REVS"; fi
            else fail "no-op setup: migr_upgrade('head') of $NOOP_REVS revisions" "$LOGDIR/noop-setup.log"; fi
        else fail "no-op setup: migr_define x $NOOP_REVS" "$LOGDIR/noop-setup.log"; fi
    fi
    if [[ $setup_ok == 1 ]]; then
        # Right after a big migration nothing has vacuumed or analyzed migr's
        # tables yet: what does a no-op cost then? Then VACUUM ANALYZE them, as
        # autovacuum soon would (every migr_define() replaced a migr.head row),
        # and measure the steady state.
        read -r _ lcold < <(look_times "$db" "$NOOPQ" 20)
        mtabs=$(sql "$db" -c "SELECT string_agg(c.oid::regclass::text, ', ') FROM pg_class c
                              WHERE c.relnamespace = 'migr'::regnamespace AND c.relkind = 'r'")
        [[ -n $mtabs ]] && sql "$db" -qc "VACUUM ANALYZE $mtabs" >> "$LOGDIR/noop-setup.log" 2>&1
    fi
    floor_ok=0
    if [[ $setup_ok == 1 && $FLOOR_OK == 1 ]]; then
        if sql "$db" -q -f "$HERE/floor/floor.sql" >> "$LOGDIR/noop-setup.log" 2>&1 &&
           [[ $(sql "$db" -c "SELECT count(*) FROM floor_upgrade('head')" 2>> "$LOGDIR/noop-setup.log") == 0 ]]; then
            floor_ok=1
        else fail "CREATE FUNCTION floor_upgrade" "$LOGDIR/noop-setup.log"; fi
    fi
    pgb_migr() {
        t=$(pgb_tps "$db" "$TMP/migr_noop.sql") && [[ -n $t ]] && m[r]=$t || fail "pgbench migr_upgrade('head')" "$LOGDIR/pgbench.log"
    }
    pgb_floor() {
        t=$(pgb_tps "$db" "$TMP/floor_noop.sql") && [[ -n $t ]] && f[r]=$t || fail "pgbench floor_upgrade('head')" "$LOGDIR/pgbench.log"
    }
    declare -a s=() m=() f=() sc=() mc=()
    for r in $(seq 1 "$PGBENCH_RUNS"); do
        say "  pgbench round $r/$PGBENCH_RUNS"
        t=$(pgb_tps "$db" "$TMP/select1.sql") && [[ -n $t ]] && s[r]=$t || fail "pgbench SELECT 1" "$LOGDIR/pgbench.log"
        # migr and its floor run back to back, the first of the two alternating
        if [[ $setup_ok == 1 && $floor_ok == 1 ]]; then
            if (( r % 2 )); then pgb_floor; pgb_migr; else pgb_migr; pgb_floor; fi
        elif [[ $setup_ok == 1 ]]; then
            pgb_migr
        fi
        t=$(pgb_tps "$db" "$TMP/select1.sql" -C) && [[ -n $t ]] && sc[r]=$t || fail "pgbench -C SELECT 1" "$LOGDIR/pgbench.log"
        if [[ $setup_ok == 1 ]]; then
            t=$(pgb_tps "$db" "$TMP/migr_noop.sql" -C) && [[ -n $t ]] && mc[r]=$t || fail "pgbench -C migr_upgrade('head')" "$LOGDIR/pgbench.log"
        fi
    done
    if [[ $setup_ok == 1 ]]; then
        left=$(sql "$db" -c "$NOOPQ" 2>> "$LOGDIR/noop-setup.log")
        [[ $left == 0 ]] || wrong "no-op throughput" "a final migr_upgrade('head') returned ${left:-an error}, expected 0"
    fi
    hdr "Setup of part 4: $NOOP_REVS tiny revisions (CREATE TABLE n_<i> ()), one run"
    row "baseline: psql -1 -q -f of the $NOOP_REVS statements" "$tfloor" ms "1.00" "" ""
    if [[ $MIGR_OK == 1 ]]; then
        row "migr_define x $NOOP_REVS (one SELECT ... generate_series)" "${def_ms:-}" ms "$(ratio "${def_ms:-}" "$tfloor")" "" "${def_ms:+info}"
        row "migr_upgrade('head') applying them (one call)" "$app_ms" ms "$(ratio "$app_ms" "$tfloor")" "" "${app_ms:+info}"
    else migr_skip_row "migr_upgrade('head') applying them"; fi

    hdr "No-op upgrade throughput, $NOOP_REVS revisions applied (pgbench -c $PGBENCH_CLIENTS -j $PGBENCH_JOBS -T $PGBENCH_T)"
    S=$(median "${s[@]}"); SC=$(median "${sc[@]}")
    row "baseline: SELECT 1;" "$S" tps "1.00" "" "$(spread "${s[@]}")"
    if [[ $setup_ok == 1 ]]; then
        M=$(median "${m[@]}")
        if [[ -n $M && -n $S ]]; then
            rt=$(paired m s); ok=0; ge "$rt" 0.50 && ok=1; verdict $ok
            row "SELECT count(*) FROM migr_upgrade('head');" "$M" tps "$rt" ">= 0.50" "$VERDICT $(spread "${m[@]}")"
            note "migr / SELECT 1 in each round: $(rounds m s)"
        else row "SELECT count(*) FROM migr_upgrade('head');" "" "" "" ">= 0.50" "ERROR"; fi
        FL=$(median "${f[@]}")
        if [[ $floor_ok == 1 && -n $FL && -n $M ]]; then
            row "floor: SELECT count(*) FROM floor_upgrade('head');" "$FL" tps "$(paired f s)" "" "info $(spread "${f[@]}")"
            rt=$(paired m f); ok=0; ge "$rt" 0.90 && ok=1; verdict $ok
            row "migr_upgrade('head') / floor_upgrade('head'), paired" "" "" "$rt" ">= 0.90" "$VERDICT $(rspread m f)"
            note "migr / floor (empty C SRF, same signature) in each round: $(rounds m f)"
        elif [[ $FLOOR_OK == 1 ]]; then
            row "migr_upgrade('head') / floor_upgrade('head'), paired" "" "" "" ">= 0.90" "ERROR"
        else
            row "migr_upgrade('head') / floor_upgrade('head'), paired" "" "" "" ">= 0.90" "SKIP: no floor function"
        fi
    else
        [[ $MIGR_OK == 1 ]] && row "SELECT count(*) FROM migr_upgrade('head');" "" "" "" ">= 0.50" "ERROR (setup)" \
            || migr_skip_row "SELECT count(*) FROM migr_upgrade('head');" ">= 0.50"
    fi
    row "baseline: SELECT 1; with -C (connection per transaction)" "$SC" tps "1.00" "" "$(spread "${sc[@]}")"
    if [[ $setup_ok == 1 ]]; then
        MC=$(median "${mc[@]}")
        row "migr_upgrade('head') with -C" "$MC" tps "$(paired mc sc)" "" "${MC:+info $(spread "${mc[@]}")}"
    else
        [[ $MIGR_OK == 1 ]] && row "migr_upgrade('head') with -C" "" "" "" "" "ERROR (setup)" \
            || migr_skip_row "migr_upgrade('head') with -C"
    fi
    if [[ $setup_ok == 1 ]]; then
        read -r _ l1 < <(look_times "$db" "SELECT 1" 50)
        row "one session, per call: SELECT 1 (median of 50)" "$l1" ms "1.00" "" ""
        if read -r _ lm < <(look_times "$db" "$NOOPQ" 50) && [[ -n ${lm:-} ]]; then
            row "one session, per call: migr_upgrade('head'), nothing to do" "$lm" ms "$(ratio "$lm" "$l1")" "" "info"
        fi
        [[ -n $lcold ]] && row "  the same right after the apply, before ANALYZE (of 20)" "$lcold" ms "$(ratio "$lcold" "$l1")" "" "info"
    fi
    rmdb "$db"
fi

# ---------------------------------------------------------------- 5. scale of the looking functions

if want scale; then
    if [[ $MIGR_OK == 1 ]]; then
        say ""
        db=scale
        mkdb "$db"
        sql "$db" -qc 'CREATE EXTENSION migr' > /dev/null 2>> "$LOGDIR/scale-define.log"
        say "scale setup: defining $SCALE_N revisions, $SCALE_BATCH per statement (budget ${SCALE_BUDGET_S}s)"
        defined=0; total_ms=0; first_rate=""; last_rate=""; prev_rate=""; stopped=""
        while (( defined < SCALE_N )); do
            from=$((defined + 1)); to=$((defined + SCALE_BATCH)); (( to > SCALE_N )) && to=$SCALE_N
            n=$((to - from + 1))
            left_ms=$(awk -v t="$total_ms" -v b="$SCALE_BUDGET_S" 'BEGIN { printf "%d", b * 1000 - t }')
            if [[ -n $last_rate ]]; then
                # The next batch will cost at least what the last one did per revision,
                # more if the cost per revision grows (it should not).
                predicted=$(awk -v l="$last_rate" -v p="$prev_rate" -v n="$n" \
                    'BEGIN { g = (p > 0 && l > p) ? l / p : 1; printf "%d", l * g * n / 1000 }')
                if (( predicted > left_ms )); then
                    stopped="budget"; say "  stopping: the next batch would take about $((predicted / 1000)) s, ${left_ms} ms of the budget left"; break
                fi
            fi
            (( left_ms < 10000 )) && left_ms=10000
            if ! PGOPTIONS="-c statement_timeout=$left_ms" timed "$TMP/o" "$LOGDIR/scale-define.log" \
                    "${PSQL[@]}" -d "$db" -Atc "$(tiny_define_sql s "$from" "$to")"; then
                if tail -3 "$LOGDIR/scale-define.log" | grep -q 'statement timeout'; then
                    stopped="budget"; say "  stopping: revisions $from..$to did not get defined within the budget"; break
                fi
                fail "scale: migr_define of revisions $from..$to" "$LOGDIR/scale-define.log"; stopped="error"; break
            fi
            rate=$(awk -v a="$T_MS" -v n="$n" 'BEGIN { printf "%.1f", a * 1000 / n }')   # us per revision
            [[ -z $first_rate ]] && first_rate=$rate
            prev_rate=$last_rate
            last_rate=$rate
            total_ms=$(awk -v a="$total_ms" -v b="$T_MS" 'BEGIN { printf "%.1f", a + b }')
            defined=$to
            say "  defined $defined ($rate us/revision in this batch)"
        done
        hdr "Scale: $defined revisions defined (linear chain), looking functions, median of $LOOK_RUNS"
        if [[ $stopped == budget ]]; then
            wrong "scale" "defining $SCALE_N revisions would take longer than ${SCALE_BUDGET_S}s; stopped at $defined (first batch $first_rate us/revision, last $last_rate)"
        fi
        per=$(awk -v a="$total_ms" -v n="$defined" 'BEGIN { if (n) printf "%.1f", a * 1000 / n }')
        row "define: migr_define x $defined (total)" "$total_ms" ms "" "" "info: $per us/rev (first batch $first_rate, last $last_rate)"
        if (( defined > 0 )); then
            read -r bc bm < <(look_times "$db" "SELECT count(*) FROM generate_series(1, $defined)" "$LOOK_RUNS")
            row "baseline: SELECT count(*) FROM generate_series(1,$defined)" "$bm" ms "1.00" "" ""
            for q in "migr_heads()" "migr_history()"; do
                if read -r c mt < <(look_times "$db" "SELECT count(*) FROM $q" "$LOOK_RUNS") && [[ -n ${mt:-} ]]; then
                    ok=0; lt "$mt" 100 && ok=1; verdict $ok
                    row "SELECT count(*) FROM $q" "$mt" ms "$(ratio "$mt" "$bm")" "< 100 ms" "$VERDICT"
                    want_c=1; [[ $q == "migr_history()" ]] && want_c=$defined
                    [[ $c == "$want_c" ]] || wrong "$q" "returned $c rows over $defined revisions, expected $want_c"
                else
                    row "SELECT count(*) FROM $q" "" "" "" "< 100 ms" "ERROR"
                    fail "$q at $defined revisions" "$LOGDIR/look.log"
                fi
            done
            for q in "migr_current()" "migr_branches()" "migr_check()" "migr_plan('head')"; do
                if read -r c mt < <(look_times "$db" "SELECT count(*) FROM $q" 1) && [[ -n ${mt:-} ]]; then
                    row "SELECT count(*) FROM $q  (1 run)" "$mt" ms "$(ratio "$mt" "$bm")" "" "info: $c rows"
                else
                    row "SELECT count(*) FROM $q" "" "" "" "" "ERROR"
                    fail "$q at $defined revisions" "$LOGDIR/look.log"
                fi
            done
        fi
        rmdb "$db"
    else
        hdr "Scale: looking functions over $SCALE_N revisions"
        migr_skip_row "SELECT count(*) FROM migr_heads()" "< 100 ms"
        migr_skip_row "SELECT count(*) FROM migr_history()" "< 100 ms"
    fi
fi

# ---------------------------------------------------------------- summary
say ""
if (( ${#PROBLEMS[@]} )); then
    say "problems (${#PROBLEMS[@]}):"
    for p in "${PROBLEMS[@]}"; do say "  - $p"; done
fi
say "done: $MISSES target(s) missed, $ERRORS error(s)."
(( ERRORS )) && exit 1
(( MISSES && STRICT == 1 )) && exit 2
exit 0

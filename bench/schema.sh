#!/usr/bin/env bash
# bench/schema.sh — what the schema model costs (README, "Schema, drift and the guard").
#
#   bash bench/schema.sh              (RUNS=5 rounds; N=1000 tables; H=1000 revisions)
#   QUICK=1 bash bench/schema.sh      (RUNS=3)
#
# On a throwaway cluster (ports 54380-54389, unix socket only), every ratio
# against a baseline measured in the same run:
#   1. migr_schema() of N tables (10 columns, 2 indexes: the primary key's
#      and one more, 1 foreign key, a comment and a grant each): server time
#      (target < 200 ms), and end to end through psql against
#      pg_dump --schema-only of the same database (target: faster);
#   2. migr_drift() against a reference: its time beyond migr_schema()
#      (target < 50 ms), with no difference and with one;
#   3. recording the schema at the end of a move: the full apply of an
#      H-revision history (bench/gen_history.py, one migr_upgrade('head'))
#      at extension version 1.2 (records) against 1.1 (does not), paired by
#      round (target <= 1.05).
# Knobs: QUICK RUNS N H BENCH_PORT SKIP_BUILD KEEP.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
PY=/usr/bin/python3
QUICK=${QUICK:-0}
RUNS=${RUNS:-$([[ $QUICK == 1 ]] && echo 3 || echo 5)}
N=${N:-1000}
H=${H:-1000}
SKIP_BUILD=${SKIP_BUILD:-0}
KEEP=${KEEP:-0}
for v in RUNS N H; do
    [[ ${!v} =~ ^[1-9][0-9]*$ ]] || { echo "schema.sh: $v must be a positive integer" >&2; exit 64; }
done

OUT=$ROOT/bench/out
LOGDIR=$OUT/last-schema
mkdir -p "$LOGDIR"
rm -f "$LOGDIR"/*.log
REPORT=$OUT/schema-$(date +%Y%m%d-%H%M%S).txt
exec > >(tee "$REPORT") 2>&1
TEE_PID=$!
say()  { printf '%s\n' "$*"; }
note() { printf '  . %s\n' "$*"; }
die()  { say "schema.sh: $*"; exit 1; }
as_pg() { if [[ $EUID == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }

if [[ -n ${MIGR_PG_BINDIR:-} ]]; then PG_CONFIG=$MIGR_PG_BINDIR/pg_config
elif [[ -z ${PG_CONFIG:-} ]]; then PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config; fi
[[ -x $PG_CONFIG ]] || die "no pg_config at $PG_CONFIG"
export PG_CONFIG
PGBIN=$($PG_CONFIG --bindir)
if [[ $SKIP_BUILD != 1 ]]; then
    (cd "$ROOT" && make && make install) > "$LOGDIR/build.log" 2>&1 \
        || { tail -15 "$LOGDIR/build.log"; die "make && make install failed"; }
fi

# ---------------------------------------------------------------- a throwaway cluster
PORT=${BENCH_PORT:-}
if [[ -z $PORT ]]; then
    for p in $(seq 54380 54389); do
        [[ -e /tmp/.s.PGSQL.$p ]] && continue
        command -v ss > /dev/null && [[ -n $(ss -Hltn "sport = :$p" 2>/dev/null) ]] && continue
        PORT=$p; break
    done
    [[ -n $PORT ]] || die "no free port in 54380-54389"
fi
TMP=$(mktemp -d /tmp/migr-bench.XXXXXX)
chmod 755 "$TMP"
DATA=$TMP/data
SOCK=$TMP/sock
mkdir "$DATA" "$SOCK"
[[ $EUID == 0 ]] && chown postgres:postgres "$DATA" "$SOCK" "$TMP"
STARTED=0
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    [[ $STARTED == 1 ]] && as_pg "$PGBIN/pg_ctl" -D "$DATA" -m fast -w -t 60 stop > /dev/null 2>&1
    [[ -f $TMP/postgres.log ]] && cp "$TMP/postgres.log" "$LOGDIR/postgres.log"
    if [[ $KEEP == 1 ]]; then say "kept $TMP"; else rm -rf "$TMP"; fi
    exec >&- 2>&-
    wait "$TEE_PID" 2>/dev/null
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

as_pg "$PGBIN/initdb" -D "$DATA" -A trust -U postgres -E UTF8 --locale=C > "$LOGDIR/initdb.log" 2>&1 \
    || { tail "$LOGDIR/initdb.log"; die "initdb failed"; }
cat >> "$DATA/postgresql.conf" <<CONF
port = $PORT
listen_addresses = ''
unix_socket_directories = '$SOCK'
shared_preload_libraries = 'migr'
shared_buffers = 512MB
max_wal_size = 4GB
max_locks_per_transaction = 1024
CONF
touch "$TMP/postgres.log"
[[ $EUID == 0 ]] && chown postgres:postgres "$TMP/postgres.log"
as_pg "$PGBIN/pg_ctl" -D "$DATA" -l "$TMP/postgres.log" -w -t 60 start > "$LOGDIR/pg_ctl.log" 2>&1 \
    || { tail -20 "$TMP/postgres.log"; die "the server does not start"; }
STARTED=1

PSQL=("$PGBIN/psql" -X -h "$SOCK" -p "$PORT" -U postgres -v ON_ERROR_STOP=1)
sql()  { local db=$1; shift; "${PSQL[@]}" -d "$db" -At "$@"; }
mkdb() { "$PGBIN/createdb" -h "$SOCK" -p "$PORT" -U postgres -T template0 "$1"; }
rmdb() { "$PGBIN/dropdb" -h "$SOCK" -p "$PORT" -U postgres --if-exists "$1"; }
checkpoint() { sql postgres -qc 'CHECKPOINT' > /dev/null; }
timed() {   # timed OUTFILE cmd...: sets T_MS (wall clock)
    local out=$1 t0 t1 rc
    shift
    t0=$(date +%s%N); "$@" > "$out" 2>> "$LOGDIR/errors.log"; rc=$?; t1=$(date +%s%N)
    T_MS=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) / 1e6 }')
    return $rc
}
median() {
    printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 }
        END { if (NR % 2) printf "%.2f", a[(NR + 1) / 2]; else printf "%.2f", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}
spread() { printf '%s\n' "$@" | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "[%s-%s]", lo, hi }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
paired() {  # paired NUM_ARRAY DEN_ARRAY -> "median [min-max]" of per-round ratios
    local -n _n=$1 _d=$2
    local r; local -a q=()
    for r in "${!_n[@]}"; do q+=("$(ratio "${_n[r]}" "${_d[r]}")"); done
    echo "$(median "${q[@]}") $(spread "${q[@]}")"
}
row() { printf '  %-60s %14s %16s %10s\n' "$1" "$2" "$3" "$4"; }
hdr() { say ""; say "== $*"; row "what" "median" "ratio [spread]" "target"; }

say "migr schema bench — $(date -u '+%Y-%m-%d %H:%M UTC'), PostgreSQL $(sql postgres -c 'SHOW server_version'), $(nproc) cores"
say "N=$N tables, H=$H revisions, RUNS=$RUNS; cluster on port $PORT in $TMP; report ${REPORT#$ROOT/}"

# ---------------------------------------------------------------- 1+2. the N-table schema
mkdb s
sql s -qc 'CREATE EXTENSION migr; CREATE ROLE bench_reader;' 2>/dev/null \
    || sql s -qc 'CREATE EXTENSION migr'
sql s -q > /dev/null <<SQL
DO \$\$
BEGIN
    FOR i IN 1..$N LOOP
        EXECUTE format('CREATE TABLE t%s (id bigint PRIMARY KEY, parent bigint %s,
            c1 text NOT NULL DEFAULT '''', c2 integer, c3 numeric(12,2), c4 timestamptz DEFAULT now(),
            c5 boolean, c6 varchar(40), c7 jsonb, c8 date)',
            i, CASE WHEN i > 1 THEN format('REFERENCES t%s', i - 1) ELSE '' END);
        IF i = 1 THEN EXECUTE 'ALTER TABLE t1 ADD FOREIGN KEY (parent) REFERENCES t1'; END IF;
        EXECUTE format('CREATE INDEX t%s_c1 ON t%s (c1)', i, i);
        EXECUTE format('COMMENT ON TABLE t%s IS %L', i, 'table number ' || i);
        EXECUTE format('GRANT SELECT ON t%s TO bench_reader', i);
    END LOOP;
END
\$\$;
-- server time of a statement, in ms
CREATE FUNCTION bench_ms(q text) RETURNS float8 LANGUAGE plpgsql AS \$f\$
DECLARE t0 timestamptz := clock_timestamp();
BEGIN
    EXECUTE q;
    RETURN extract(epoch FROM clock_timestamp() - t0) * 1000;
END \$f\$;
CREATE TABLE ref (s jsonb);
INSERT INTO ref SELECT migr_schema();
ANALYZE;
SQL
[[ $(sql s -c "SELECT count(*) FROM pg_class WHERE relkind = 'r' AND relname ~ '^t[0-9]+$'") == "$N" ]] \
    || die "the $N tables were not created (bench/out/last-schema/errors.log)"
note "schema: $N tables, $(sql s -c "SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid WHERE c.relname ~ '^t[0-9]+$'") indexes, description $(sql s -c "SELECT pg_size_pretty(length(migr_schema()::text)::bigint)")"

# CPU time the backend spends in migr_schema(), from /proc (the server runs
# here): what the call costs on a machine shared with other work.
cpu_ms() {
    "${PSQL[@]}" -d s -Aqt > "$TMP/cpu" 2>> "$LOGDIR/errors.log" <<CPU
SELECT count(*) FROM (SELECT migr_schema()) x \\g /dev/null
SELECT pg_backend_pid() AS pid \\gset
\\setenv BPID :pid
\\! awk '{ print \$14 + \$15 }' /proc/\$BPID/stat
SELECT count(*) FROM (SELECT migr_schema()) x \\g /dev/null
\\! awk '{ print \$14 + \$15 }' /proc/\$BPID/stat
CPU
    awk -v hz="$(getconf CLK_TCK)" 'NR == 1 { a = $1 } NR == 2 { printf "%.0f", ($1 - a) * 1000 / hz }' "$TMP/cpu"
}
declare -a srv=() cli=() dump=() drift0=() drift1=() dsrv=() cpu=()
for r in $(seq 1 "$RUNS"); do
    cpu[r]=$(cpu_ms)
    srv[r]=$(sql s -c "SELECT round(bench_ms('SELECT migr_schema()')::numeric, 1)")
    timed "$TMP/o" "${PSQL[@]}" -d s -Atc 'SELECT migr_schema()' && cli[r]=$T_MS
    timed "$TMP/o" "$PGBIN/pg_dump" -h "$SOCK" -p "$PORT" -U postgres --schema-only -d s && dump[r]=$T_MS
    dsrv[r]=$(sql s -c "SELECT round(bench_ms('SELECT migr_schema()')::numeric, 1)")
    drift0[r]=$(sql s -c "SELECT round(bench_ms('SELECT count(*) FROM migr_drift((SELECT s FROM ref))')::numeric, 1)")
done
sql s -qc "ALTER TABLE t500 ADD COLUMN phone text; CREATE INDEX t7_c6 ON t7 (c6)" 2>/dev/null \
    || sql s -qc "ALTER TABLE t1 ADD COLUMN phone text"
for r in $(seq 1 "$RUNS"); do
    drift1[r]=$(sql s -c "SELECT round(bench_ms('SELECT count(*) FROM migr_drift((SELECT s FROM ref))')::numeric, 1)")
done
note "drift rows after the change: $(sql s -c "SELECT string_agg(kind || ' ' || object || ' ' || change, '; ') FROM migr_drift((SELECT s FROM ref))")"

hdr "migr_schema() of $N tables"
row "migr_schema(), server time" "$(median "${srv[@]}") ms" "$(spread "${srv[@]}")" "< 200 ms"
row "migr_schema(), CPU time of the backend" "$(median "${cpu[@]}") ms" "$(spread "${cpu[@]}")" "< 200 ms"
row "pg_dump --schema-only (baseline), wall clock" "$(median "${dump[@]}") ms" "1.00 $(spread "${dump[@]}")" ""
row "psql -c 'SELECT migr_schema()', wall clock" "$(median "${cli[@]}") ms" "$(paired cli dump)" "< 1.00"
hdr "migr_drift() against a reference of $N tables"
row "migr_schema() (baseline), server time" "$(median "${dsrv[@]}") ms" "1.00" ""
row "migr_drift(reference), no difference" "$(median "${drift0[@]}") ms" "$(paired drift0 dsrv)" ""
row "migr_drift(reference), two differences" "$(median "${drift1[@]}") ms" "$(paired drift1 dsrv)" ""
declare -a beyond0=() beyond1=()
for r in $(seq 1 "$RUNS"); do
    beyond0[r]=$(awk -v a="${drift0[r]}" -v b="${dsrv[r]}" 'BEGIN { printf "%.1f", a - b }')
    beyond1[r]=$(awk -v a="${drift1[r]}" -v b="${dsrv[r]}" 'BEGIN { printf "%.1f", a - b }')
done
row "  beyond migr_schema(), no difference" "$(median "${beyond0[@]}") ms" "$(spread "${beyond0[@]}")" "< 50 ms"
row "  beyond migr_schema(), two differences" "$(median "${beyond1[@]}") ms" "$(spread "${beyond1[@]}")" "< 50 ms"
rmdb s

# ---------------------------------------------------------------- 3. recording on the full apply
GEN=$TMP/gen
$PY "$HERE/gen_history.py" "$GEN" "$H" > /dev/null || die "gen_history.py failed"
declare -a a11=() a12=()
apply() {   # apply DB VERSION -> T_MS of migr_upgrade('head')
    mkdb "$1"
    sql "$1" -qc "CREATE EXTENSION migr VERSION '$2'" > /dev/null
    sql "$1" -q -1 -f "$GEN/load_migr_load.sql" > /dev/null 2>> "$LOGDIR/errors.log"
    checkpoint
    timed "$TMP/o" "${PSQL[@]}" -d "$1" -Atc "SELECT count(*) FROM migr_upgrade('head')"
    local rc=$?
    [[ $rc == 0 && $(cat "$TMP/o") == "$H" ]] || die "migr_upgrade at $2 applied $(cat "$TMP/o") of $H"
}
for r in $(seq 1 "$RUNS"); do
    if (( r % 2 )); then
        apply a11 1.1; a11[r]=$T_MS; apply a12 1.2; a12[r]=$T_MS
    else
        apply a12 1.2; a12[r]=$T_MS; apply a11 1.1; a11[r]=$T_MS
    fi
    [[ $(sql a12 -c "SELECT count(*) FROM migr.log WHERE schema_fingerprint IS NOT NULL") == 1 ]] \
        || die "the 1.2 apply did not record the schema once"
    rmdb a11; rmdb a12
done
hdr "Recording the schema: full apply of $H revisions (one migr_upgrade('head'))"
row "extension at 1.1, records nothing (baseline)" "$(median "${a11[@]}") ms" "1.00 $(spread "${a11[@]}")" ""
row "extension at 1.2, records the schema once" "$(median "${a12[@]}") ms" "$(paired a12 a11)" "<= 1.05"
say ""
say "done."

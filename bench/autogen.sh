#!/usr/bin/env bash
# bench/autogen.sh — what autogenerate costs against Alembic's (README, "Autogenerate").
#
#   bash bench/autogen.sh             (RUNS=5 rounds; N=1000 tables)
#   QUICK=1 bash bench/autogen.sh     (RUNS=3)
#
# On a throwaway cluster (ports 54380-54389, unix socket only): database
# "cur" holds N tables (6 columns, a primary key, an index, a foreign key to
# one of the first ten tables, a comment); database "want" the same with every tenth
# table changed (a column added, a type changed, an index added, a comment
# changed) and every hundredth dropped.  Every ratio is against a baseline
# measured in the same run, paired by round:
#   1. migr_diff(want, cur) of the two saved descriptions: the diff alone
#      (server time, target < 200 ms);
#   2. migr_diff(want) against the live "cur" (describing it, then the diff),
#      end to end through psql;
#   3. Alembic 1.8's autogenerate of the same: reflection of "cur" plus
#      compare_metadata() against the models of "want" (reflected beforehand,
#      not timed), as `alembic revision --autogenerate` does; ratio = Alembic
#      / migr (2.).
# Knobs: QUICK RUNS N BENCH_PORT SKIP_BUILD KEEP.
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
    [[ ${!v} =~ ^[1-9][0-9]*$ ]] || { echo "autogen.sh: $v must be a positive integer" >&2; exit 64; }
done

OUT=$ROOT/bench/out
LOGDIR=$OUT/last-autogen
mkdir -p "$LOGDIR"
rm -f "$LOGDIR"/*.log
REPORT=$OUT/autogen-$(date +%Y%m%d-%H%M%S).txt
exec > >(tee "$REPORT") 2>&1
TEE_PID=$!
say()  { printf '%s\n' "$*"; }
note() { printf '  . %s\n' "$*"; }
die()  { say "autogen.sh: $*"; exit 1; }
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


say "migr autogenerate bench — $(date -u '+%Y-%m-%d %H:%M UTC'), PostgreSQL $(sql postgres -c 'SHOW server_version'), $(nproc) cores"
say "N=$N tables, RUNS=$RUNS; cluster on port $PORT in $TMP; report ${REPORT#$ROOT/}"

build() {   # build DB CHANGED: N tables; CHANGED=1 makes the edits
    mkdb "$1"
    sql "$1" -qc 'CREATE EXTENSION migr'
    sql "$1" -q > /dev/null <<SQL
DO \$\$
BEGIN
  FOR i IN 1..$N LOOP
    IF $2 = 1 AND i % 100 = 0 THEN CONTINUE; END IF;
    EXECUTE format('CREATE TABLE t%s (id int PRIMARY KEY, a text NOT NULL, b %s, c timestamptz DEFAULT now(), d numeric(10,2), parent int%s)',
                   i, CASE WHEN $2 = 1 AND i % 10 = 1 THEN 'bigint' ELSE 'int' END,
                   CASE WHEN $2 = 1 AND i % 10 = 2 THEN ', extra text' ELSE '' END);
    EXECUTE format('CREATE INDEX t%s_a ON t%s (a)', i, i);
    IF $2 = 1 AND i % 10 = 3 THEN EXECUTE format('CREATE INDEX t%s_b ON t%s (b)', i, i); END IF;
    -- shallow references (a chain of 1000 foreign keys overflows SQLAlchemy's recursion)
    IF i > 10 THEN
      EXECUTE format('ALTER TABLE t%s ADD CONSTRAINT t%s_parent FOREIGN KEY (parent) REFERENCES t%s (id)', i, i, (i - 1) % 10 + 1);
    END IF;
    EXECUTE format('COMMENT ON TABLE t%s IS %L', i, CASE WHEN $2 = 1 AND i % 10 = 4 THEN 'changed' ELSE 'table' END);
  END LOOP;
END
\$\$;
ANALYZE;
SQL
}
build cur 0
build want 1
# the two descriptions, kept in cur's schema "bench" (not described)
sql cur -qc "CREATE SCHEMA bench; CREATE TABLE bench.descs (k text PRIMARY KEY, d jsonb)"
sql want -c "COPY (SELECT 'want', migr_schema(ARRAY['public'])) TO STDOUT" | sql cur -c "COPY bench.descs FROM STDIN" > /dev/null
sql cur -c "COPY (SELECT 'cur', migr_schema(ARRAY['public'])) TO STDOUT" | sql cur -c "COPY bench.descs FROM STDIN" > /dev/null
W="(SELECT d FROM bench.descs WHERE k = 'want')"
C="(SELECT d FROM bench.descs WHERE k = 'cur')"
NSTMT=$(sql cur -c "SELECT count(*) FROM migr_diff($W, $C) WHERE direction = 'upgrade'")
note "migr_diff: $NSTMT upgrade statements for the changes"

declare -a DIFF=() LIVE=() ALE=()
cat > "$TMP/bench_alembic.py" <<PYEOF
import sys, time
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
url = "postgresql+psycopg2://postgres@/%s?host=$SOCK&port=$PORT"
want = sa.MetaData()
want.reflect(sa.create_engine(url % "want"))
eng = sa.create_engine(url % "cur")
runs = int(sys.argv[1])
for r in range(runs):
    t0 = time.perf_counter()
    with eng.connect() as c:
        ctx = MigrationContext.configure(c, opts={"compare_type": True})
        diffs = compare_metadata(ctx, want)
    print("%.1f %d" % ((time.perf_counter() - t0) * 1000, len(diffs)))
PYEOF
$PY "$TMP/bench_alembic.py" "$RUNS" > "$TMP/alembic.out" 2>> "$LOGDIR/errors.log" || die "alembic run failed (see $LOGDIR/errors.log)"
mapfile -t ALE < <(awk '{ print $1 }' "$TMP/alembic.out")
note "Alembic: $(awk 'NR == 1 { print $2 }' "$TMP/alembic.out") differences found by compare_metadata()"
for r in $(seq 1 "$RUNS"); do
    # 1. the diff alone, server time (EXPLAIN ANALYZE of the call)
    t=$(sql cur -c "EXPLAIN (ANALYZE, FORMAT JSON) SELECT count(*) FROM migr_diff($W, $C)" \
        | $PY -c 'import json,sys; print(json.load(sys.stdin)[0]["Execution Time"])')
    DIFF+=("$t")
    # 2. against the live schema, end to end
    timed /dev/null sql cur -c "SELECT count(*) FROM migr_diff($W)"
    LIVE+=("$T_MS")
done
hdr "autogenerate of $N tables (ms)"
row "migr_diff(want, cur), saved descriptions (server)" "$(median "${DIFF[@]}") $(spread "${DIFF[@]}")" "" "< 200"
row "migr_diff(want) against live cur, through psql" "$(median "${LIVE[@]}") $(spread "${LIVE[@]}")" "" ""
row "Alembic reflection + compare_metadata()" "$(median "${ALE[@]}") $(spread "${ALE[@]}")" "$(paired ALE LIVE)" "> 1"
say ""
say "ratio = Alembic / migr (live), per round; > 1: migr is faster"

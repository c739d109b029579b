#!/usr/bin/env bash
# bench/verify.sh — migr_verify() against the same stairway driven from a client
# (README, "Schema, drift and the guard", "Verify").
#
#   bash bench/verify.sh              (RUNS=3 rounds; H=100 revisions; BASE=50 tables)
#   QUICK=1 bash bench/verify.sh      (H=30, RUNS=3)
#
# On a throwaway cluster (ports 54380-54389, unix socket only), a history of H
# correct revisions (tables, concurrent indexes, enum types, sequences, grants,
# comments, views, functions, columns, constraints) on top of BASE tables that
# were there before, nothing applied.  Each round times, on the same database:
#   1. SELECT ... FROM migr_verify(): one psql call, the whole stairway in the
#      server (upgrade, downgrade, upgrade again per revision, each step's
#      schema described and compared), rolled back;
#   2. the stairway from a client, as the Python stairway tests do it: a psql
#      call per step (migr_upgrade('+1'), migr_downgrade('-1'),
#      migr_upgrade('+1'), each followed by migr_wait() for the concurrent
#      index builds a worker runs), and after each step the schema dumped with
#      pg_dump --schema-only and compared with the one it should equal
#      (baseline A, the pytest-alembic way);
#   3. the same, each psql call also returning migr_fingerprint() of the
#      schema after its step instead of a pg_dump (baseline B, the cheapest
#      client stairway migr allows); the client then goes back to base.
# Target: migr_verify() at least 10x faster than each baseline; ratios are
# per round, medians with [min-max] over the rounds.  Both baselines must
# find no difference, as migr_verify() must.
# Knobs: QUICK RUNS H BASE BENCH_PORT SKIP_BUILD KEEP.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
QUICK=${QUICK:-0}
RUNS=${RUNS:-3}
H=${H:-$([[ $QUICK == 1 ]] && echo 30 || echo 100)}
BASE=${BASE:-50}
SKIP_BUILD=${SKIP_BUILD:-0}
KEEP=${KEEP:-0}
for v in RUNS H BASE; do
    [[ ${!v} =~ ^[1-9][0-9]*$ ]] || { echo "verify.sh: $v must be a positive integer" >&2; exit 64; }
done

OUT=$ROOT/bench/out
LOGDIR=$OUT/last-verify
mkdir -p "$LOGDIR"
rm -f "$LOGDIR"/*.log
REPORT=$OUT/verify-$(date +%Y%m%d-%H%M%S).txt
exec > >(tee "$REPORT") 2>&1
TEE_PID=$!
say()  { printf '%s\n' "$*"; }
die()  { say "verify.sh: $*"; exit 1; }
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
        command -v ss > /dev/null && [[ -n $(ss -Hlx 2>/dev/null | grep "\.s\.PGSQL\.$p ") ]] && continue
        PORT=$p; break
    done
    [[ -n $PORT ]] || die "no free port in 54380-54389"
fi
TMP=$(mktemp -d /tmp/migr-bench-verify.XXXXXX)
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
fsync = off
max_locks_per_transaction = 1024
CONF
touch "$TMP/postgres.log"
[[ $EUID == 0 ]] && chown postgres:postgres "$TMP/postgres.log"
as_pg "$PGBIN/pg_ctl" -D "$DATA" -l "$TMP/postgres.log" -w -t 60 start > "$LOGDIR/pg_ctl.log" 2>&1 \
    || { tail -20 "$TMP/postgres.log"; die "the server does not start"; }
STARTED=1

DB=bench
PSQL=("$PGBIN/psql" -X -h "$SOCK" -p "$PORT" -U postgres -d "$DB" -v ON_ERROR_STOP=1 -At)
DUMP=("$PGBIN/pg_dump" -h "$SOCK" -p "$PORT" -U postgres -d "$DB" --schema-only -n app)
sql() { "${PSQL[@]}" "$@"; }
# pg_dump's \restrict lines carry a random key (PostgreSQL 15.14 and later)
dump() { "${DUMP[@]}" | grep -v '^\\\(un\)\{0,1\}restrict '; }
now_ns() { date +%s%N; }
ms_since() { awk -v a="$1" -v b="$(now_ns)" 'BEGIN { printf "%.1f", (b - a) / 1e6 }'; }
median() {
    printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 }
        END { if (NR % 2) printf "%.1f", a[(NR + 1) / 2]; else printf "%.1f", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}
spread() { printf '%s\n' "$@" | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "[%s-%s]", lo, hi }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1f", a / b; else print "-" }'; }
paired() {  # paired NUM_ARRAY DEN_ARRAY -> "median [min-max]" of per-round ratios
    local -n _n=$1 _d=$2
    local r; local -a q=()
    for r in "${!_n[@]}"; do q+=("$(ratio "${_n[r]}" "${_d[r]}")"); done
    echo "$(median "${q[@]}") $(spread "${q[@]}")"
}
row() { printf '  %-58s %12s %16s %8s\n' "$1" "$2" "$3" "$4"; }

say "migr verify bench — $(date -u '+%Y-%m-%d %H:%M UTC'), PostgreSQL $("${PSQL[@]}" -d postgres -c 'SHOW server_version'), $(nproc) cores"
say "H=$H revisions on BASE=$BASE tables, RUNS=$RUNS; cluster on port $PORT in $TMP; report ${REPORT#$ROOT/}"

# ---------------------------------------------------------------- the database and its history
"$PGBIN/createdb" -h "$SOCK" -p "$PORT" -U postgres "$DB" || die "createdb failed"
sql -q > "$LOGDIR/setup.log" 2>&1 <<SQL || { tail "$LOGDIR/setup.log"; die "setup failed"; }
CREATE EXTENSION migr;
CREATE ROLE bench_reader;
CREATE SCHEMA app;
SET migr.lint = 'off';
SELECT format('CREATE TABLE app.base%s (id int PRIMARY KEY, v text, n int); CREATE INDEX ON app.base%s (v); COMMENT ON TABLE app.base%s IS %L',
              i, i, i, 'base ' || i)
  FROM generate_series(1, $BASE) AS i \gexec
SELECT count(migr_define('h' || i, CASE WHEN i > 1 THEN ARRAY['h' || (i - 1)] END,
    CASE i % 10
    WHEN 1 THEN format('CREATE TABLE app.h%s (id int PRIMARY KEY, v text)', i)
    WHEN 2 THEN format('CREATE INDEX CONCURRENTLY h%s_v_idx ON app.h%s (v)', i, i - 1)
    WHEN 3 THEN format('CREATE TYPE app.e%s AS ENUM (''a'', ''b'')', i)
    WHEN 4 THEN format('CREATE SEQUENCE app.s%s', i)
    WHEN 5 THEN format('GRANT SELECT ON app.h%s TO bench_reader', i - 4)
    WHEN 6 THEN format('COMMENT ON TABLE app.h%s IS ''table %s''', i - 5, i)
    WHEN 7 THEN format('CREATE VIEW app.w%s AS SELECT id FROM app.h%s', i, i - 6)
    WHEN 8 THEN format('CREATE FUNCTION app.f%s() RETURNS int LANGUAGE sql AS ''SELECT %s''', i, i)
    WHEN 9 THEN format('ALTER TABLE app.h%s ADD COLUMN c%s int NOT NULL DEFAULT 0', i - 8, i)
    ELSE format('ALTER TABLE app.h%s ADD CONSTRAINT h%s_check CHECK (id > 0)', i - 9, i)
    END,
    CASE i % 10
    WHEN 1 THEN format('DROP TABLE app.h%s', i)
    WHEN 2 THEN format('DROP INDEX CONCURRENTLY app.h%s_v_idx', i)
    WHEN 3 THEN format('DROP TYPE app.e%s', i)
    WHEN 4 THEN format('DROP SEQUENCE app.s%s', i)
    WHEN 5 THEN format('REVOKE SELECT ON app.h%s FROM bench_reader', i - 4)
    WHEN 6 THEN format('COMMENT ON TABLE app.h%s IS NULL', i - 5)
    WHEN 7 THEN format('DROP VIEW app.w%s', i)
    WHEN 8 THEN format('DROP FUNCTION app.f%s()', i)
    WHEN 9 THEN format('ALTER TABLE app.h%s DROP COLUMN c%s', i - 8, i)
    ELSE format('ALTER TABLE app.h%s DROP CONSTRAINT h%s_check', i - 9, i)
    END))
  FROM generate_series(1, $H) AS i;
SQL
ALTER_OPTS="ALTER DATABASE $DB SET migr.lint = 'off'"
sql -qc "$ALTER_OPTS" || die "ALTER DATABASE failed"

# ---------------------------------------------------------------- the three stairways
VERIFY_SQL="SELECT count(*) || ' ' || count(*) FILTER (WHERE NOT ok) FROM migr_verify('heads')"
server_stairway() {   # prints "steps failures"
    sql -c "$VERIFY_SQL"
}

# client_stairway dump|fingerprint: prints the number of differences found
client_stairway() {
    local how=$1 i before after down again diffs=0 step
    local d=$TMP/dump
    mkdir -p "$d"
    # snap NAME SQL: run SQL (a move) in one psql call, and migr_wait() after
    # it (a concurrent index build goes to a background worker), keep the schema
    snap() {
        if [[ $how == dump ]]; then
            sql -c "$2" -c 'SELECT migr_wait()' > /dev/null || return 1
            dump > "$d/$1" || return 1
        else
            sql -c "$2" -c 'SELECT migr_wait()' -c 'SELECT migr_fingerprint()' | tail -1 > "$d/$1" \
                || return 1
        fi
    }
    if [[ $how == dump ]]; then dump > "$d/before" || return 1
    else sql -c 'SELECT migr_fingerprint()' > "$d/before" || return 1; fi
    for ((i = 1; i <= H; i++)); do
        snap after "SELECT count(*) FROM migr_upgrade('+1')" || return 1
        snap down "SELECT count(*) FROM migr_downgrade('-1')" || return 1
        cmp -s "$d/before" "$d/down" || diffs=$((diffs + 1))
        snap again "SELECT count(*) FROM migr_upgrade('+1')" || return 1
        cmp -s "$d/after" "$d/again" || diffs=$((diffs + 1))
        mv "$d/again" "$d/before"
    done
    echo "$diffs"
}
back_to_base() { sql -c "SELECT count(*) FROM migr_downgrade('base')" > /dev/null; }

declare -a t_srv t_dump t_fp
for ((r = 0; r < RUNS; r++)); do
    t0=$(now_ns)
    res=$(server_stairway) || die "migr_verify() failed (round $((r + 1)))"
    t_srv[r]=$(ms_since "$t0")
    [[ $res == "$((3 * H)) 0" ]] || die "migr_verify(): expected $((3 * H)) passing steps, got \"$res\""

    t0=$(now_ns)
    res=$(client_stairway dump 2>> "$LOGDIR/errors.log") || die "client stairway (pg_dump) failed, see $LOGDIR/errors.log"
    t_dump[r]=$(ms_since "$t0")
    [[ $res == 0 ]] || die "client stairway (pg_dump): $res differences"
    back_to_base || die "downgrade to base failed"

    t0=$(now_ns)
    res=$(client_stairway fingerprint 2>> "$LOGDIR/errors.log") || die "client stairway (fingerprint) failed, see $LOGDIR/errors.log"
    t_fp[r]=$(ms_since "$t0")
    [[ $res == 0 ]] || die "client stairway (fingerprint): $res differences"
    back_to_base || die "downgrade to base failed"
    say "  round $((r + 1)): migr_verify ${t_srv[r]} ms, client+pg_dump ${t_dump[r]} ms, client+fingerprint ${t_fp[r]} ms"
done

say ""
say "== the stairway of $H revisions (3 steps each, schema compared after each step)"
row "what" "median" "x faster [spread]" "target"
row "migr_verify(), one call" "$(median "${t_srv[@]}") ms" "$(spread "${t_srv[@]}")" ""
row "client, psql per step + pg_dump --schema-only (baseline A)" "$(median "${t_dump[@]}") ms" "$(paired t_dump t_srv)" ">= 10"
row "client, psql per step + migr_fingerprint() (baseline B)" "$(median "${t_fp[@]}") ms" "$(paired t_fp t_srv)" ">= 10"
say ""
say "per revision: migr_verify $(awk -v t="$(median "${t_srv[@]}")" -v h="$H" 'BEGIN { printf "%.1f", t / h }') ms," \
    "client+pg_dump $(awk -v t="$(median "${t_dump[@]}")" -v h="$H" 'BEGIN { printf "%.1f", t / h }') ms," \
    "client+fingerprint $(awk -v t="$(median "${t_fp[@]}")" -v h="$H" 'BEGIN { printf "%.1f", t / h }') ms"

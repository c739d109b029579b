#!/usr/bin/env bash
# bench/hostile.sh — what hostile input costs: time and peak memory of one
# call per input size, at x1, x10 and x100, for each input an attacker (or a
# careless generator) controls.  Linear growth shows as a ratio near 10
# between one size and the next; quadratic growth as a ratio near 100.
#
#   bash bench/hostile.sh            (the defaults: 3 runs per size)
#   RUNS=1 bash bench/hostile.sh     (one run per size: faster, noisier)
#   VECTORS="allow parents" bash bench/hostile.sh    (some vectors only)
#   SKIP_BUILD=1 bash bench/hostile.sh               (use the installed migr)
#   BENCH_PORT=54415 KEEP=1 ...       (port of the throwaway cluster; keep it)
#
# The vectors (base size N; x10 and x100 multiply N):
#   target      migr_plan('ab12' || repeat('-0', N))                 N = 240
#   allow       migr_lint() of N "-- migr:allow" lines, one statement N = 600
#   parents     migr_define() with N parents                         N = 1000
#   depends_on  migr_define() with N dependencies                    N = 1000
#   labels      migr_define() with N branch labels                   N = 1000
#   statements  migr_lint() of 2N statements (ALTER TABLE ... ADD
#               COLUMN and CREATE TABLE, one of each per k)           N = 100
#   dollar_tag  migr_load() of a file whose upgrade has a dollar quote
#               with an N-byte tag around a body of N "$"            N = 10000
#   load        migr_load() of a file of N statements, each after a
#               "-- migr:allow" line, and an N-statement downgrade   N = 500
#
# How it measures: each input is built in the database once (untimed) and
# kept in a table; then each run is a fresh connection that reads the
# backend's VmHWM (peak resident set) from /proc, runs the call in a
# transaction that is rolled back, and reads VmHWM again.  Time is psql's
# \timing of that one statement (median of the runs); memory is the growth
# of the backend's peak resident set during the call (the largest of the
# runs), which counts everything the call touched: its memory contexts, and
# shared buffers it read for the first time.  Errors (a target that names no
# revision, say) are part of the measurement: the row says so.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
# shellcheck source=../tools/setup.sh
source "$ROOT/tools/setup.sh"

RUNS=${RUNS:-3}
VECTORS=${VECTORS:-"target allow parents depends_on labels statements dollar_tag load"}
SKIP_BUILD=${SKIP_BUILD:-0}
KEEP=${KEEP:-0}
PORT=${BENCH_PORT:-54415}
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || { echo "hostile.sh: RUNS must be a positive integer" >&2; exit 64; }

migr_setup || exit 1
if [[ $SKIP_BUILD != 1 ]]; then
	(cd "$ROOT" && make -s PG_CONFIG="$PG_CONFIG" >/dev/null && make -s PG_CONFIG="$PG_CONFIG" install >/dev/null) ||
		{ echo "hostile.sh: make install failed" >&2; exit 1; }
fi

TMP=$(mktemp -d /tmp/migr-hostile.XXXXXX)
chmod 755 "$TMP"
mkdir "$TMP/sock"
[[ $EUID == 0 ]] && chown "$(migr_pg_user)" "$TMP" "$TMP/sock"
DATA=$TMP/data

cleanup()
{
	migr_stop_cluster "$DATA"
	if [[ $KEEP == 1 ]]; then echo "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

migr_as_pg mkdir "$DATA" || exit 1
migr_init_cluster "$DATA" "$TMP/sock" "$PORT" no || exit 1
migr_start_cluster "$DATA" "$TMP/postgres.log" || exit 1

PSQL=("$PG_BINDIR/psql" -X -q -h "$TMP/sock" -p "$PORT" -U "$(migr_pg_user)" -d postgres)
sql() { migr_as_pg "${PSQL[@]}" -At -v ON_ERROR_STOP=1 "$@"; }

sql -c "CREATE EXTENSION migr" \
	-c "SELECT migr_define('ab12', NULL, 'CREATE TABLE hb_t (a int)')" \
	-c "SELECT count(*) FROM migr_upgrade('ab12')" >/dev/null || exit 1

# base N and the input's generator, as SQL over N, per vector
declare -A BASE GEN CALL
BASE[target]=240
GEN[target]="'ab12' || repeat('-0', :n)"
CALL[target]="SELECT count(*) FROM hin, LATERAL migr_plan(hin.v)"
BASE[allow]=600
GEN[allow]="repeat(E'-- migr:allow rename reviewed by the on-call DBA, ticket 1234\n', :n) || 'ALTER TABLE hb_t RENAME COLUMN a TO b;'"
CALL[allow]="SELECT count(*) FROM hin, LATERAL migr_lint(hin.v)"
BASE[parents]=1000
GEN[parents]="(SELECT array_agg('p' || g) FROM generate_series(1, :n) g)"
CALL[parents]="SELECT migr_define('hp', v, 'SELECT 1') FROM hin"
BASE[depends_on]=1000
GEN[depends_on]="(SELECT array_agg('d' || g) FROM generate_series(1, :n) g)"
CALL[depends_on]="SELECT migr_define('hd', NULL, 'SELECT 1', depends_on => v) FROM hin"
BASE[labels]=1000
GEN[labels]="(SELECT array_agg('l' || g) FROM generate_series(1, :n) g)"
CALL[labels]="SELECT migr_define('hl', NULL, 'SELECT 1', branch_labels => v) FROM hin"
BASE[statements]=100
GEN[statements]="(SELECT string_agg(format(E'ALTER TABLE hb_t ADD COLUMN c%s int;\nCREATE TABLE hb_n%s (a int);', g, g), E'\n') FROM generate_series(1, :n) g)"
CALL[statements]="SELECT count(*) FROM hin, LATERAL migr_lint(hin.v)"
BASE[dollar_tag]=10000
GEN[dollar_tag]="format(E'-- migr:revision hq\n-- migr:upgrade\nSELECT \$%1\$s\$%2\$s\$%1\$s\$;\n-- migr:downgrade\nSELECT 1;\n', 't' || repeat('x', :n), repeat('a\$', :n))"
CALL[dollar_tag]="SELECT migr_load(v) FROM hin"
BASE[load]=500
GEN[load]="(SELECT E'-- migr:revision hf\n-- migr:upgrade\n' || string_agg(format(E'-- migr:allow table_rewrite reviewed\nSELECT %s;', g), E'\n') || E'\n-- migr:downgrade\n' || string_agg(format('SELECT %s;', g), E'\n') FROM generate_series(1, :n) g)"
CALL[load]="SELECT migr_load(v) FROM hin"

# one_run TABLE CALL: prints "<ms> <peak growth in kB> <error or ->"
one_run()
{
	local table=$1 call=$2 out
	out=$(migr_as_pg "${PSQL[@]}" -v ON_ERROR_STOP=0 2>&1 <<EOF
SET client_min_messages = warning;
SELECT pg_backend_pid() AS pid \gset
\setenv BPID :pid
\! awk '/^VmHWM/ { print "hwm0", \$2 }' /proc/\$BPID/status
BEGIN;
CREATE TEMP VIEW hin AS SELECT v FROM $table;
\o /dev/null
\timing on
$call;
\timing off
\o
ROLLBACK;
\! awk '/^VmHWM/ { print "hwm1", \$2 }' /proc/\$BPID/status
EOF
	)
	awk '
		/^hwm0/ { h0 = $2 }
		/^hwm1/ { h1 = $2 }
		/^Time: / { t = $2 }
		/ERROR:/ && err == "" { sub(/.*ERROR: +/, ""); err = substr($0, 1, 60) }
		END { printf "%s %d %s\n", (t == "" ? "NaN" : t), h1 - h0, (err == "" ? "-" : err) }
	' <<<"$out"
}

median()
{
	sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

printf '%-11s %5s %9s %9s %10s %8s %10s %9s  %s\n' vector scale n input_kB time_ms peak_MB time_ratio mem_ratio note
for vec in $VECTORS; do
	[[ -n ${BASE[$vec]:-} ]] || { echo "hostile.sh: unknown vector $vec" >&2; exit 64; }
	prev_t=""
	prev_m=""
	for mult in 1 10 100; do
		n=$((BASE[$vec] * mult))
		table="hin_${vec}_$mult"
		sql -v n="$n" <<<"CREATE UNLOGGED TABLE $table AS SELECT ${GEN[$vec]} AS v" >/dev/null || exit 1
		kb=$(sql -c "SELECT octet_length(v::text) / 1024 FROM $table")
		times=()
		peak=0
		note=-
		for ((r = 0; r < RUNS; r++)); do
			read -r t m e < <(one_run "$table" "${CALL[$vec]}")
			times+=("$t")
			((m > peak)) && peak=$m
			[[ $e != - ]] && note=$e
		done
		t=$(printf '%s\n' "${times[@]}" | median)
		mb=$(awk -v k="$peak" 'BEGIN { printf "%.1f", k / 1024 }')
		tr=$(awk -v a="$t" -v b="$prev_t" 'BEGIN { if (b == "" || b <= 0) print "-"; else printf "%.1f", a / b }')
		mr=$(awk -v a="$mb" -v b="$prev_m" 'BEGIN { if (b == "" || b <= 0.5) print "-"; else printf "%.1f", a / b }')
		printf '%-11s %5s %9d %9s %10.1f %8s %10s %9s  %s\n' "$vec" "x$mult" "$n" "$kb" "$t" "$mb" "$tr" "$mr" "$note"
		prev_t=$t
		prev_m=$mb
		sql -c "DROP TABLE $table" >/dev/null
	done
done

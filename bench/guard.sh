#!/usr/bin/env bash
# bench/guard.sh [N] — what migr.guard costs a migration (target: <= 3%).
#
#   bash bench/guard.sh [N]          (N revisions, default 1000, as bench/history.sh)
#   RUNS=7 bash bench/guard.sh       (rounds; the median of each is reported)
#
# The full apply of bench/history.sh (gen_history.py: N revisions, each a
# CREATE TABLE, an ALTER TABLE and a CREATE INDEX, 3N DDL statements) timed
# as "SELECT count(*) FROM migr_upgrade('head')" from psql, on a fresh
# database each time, in four settings measured in the same run, in an order
# that rotates from round to round:
#
#   none   the guard's event triggers disabled (ALTER EVENT TRIGGER ... DISABLE):
#          the baseline, migr as it was before the guard
#   off    migr.guard = off   (the triggers fire, and return at once)
#   log    migr.guard = log   (the default)
#   block  migr.guard = block
#
# Each of off, log and block is printed as a ratio to none: the median of the
# per-round ratios, with their spread (min..max).
#
# Knobs (environment): RUNS (default 5), BENCH_PORT (default 54388),
# MIGR_PG_BINDIR (another copy of PostgreSQL 15, as tools/test.sh), KEEP=1
# (keep the temporary directory), SKIP_BUILD=1 (migr is installed already).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
PY=/usr/bin/python3
N=${1:-${N:-1000}}
RUNS=${RUNS:-5}
PORT=${BENCH_PORT:-54388}
[[ $N =~ ^[1-9][0-9]*$ ]] || { echo "guard.sh: N must be a positive integer" >&2; exit 64; }
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || { echo "guard.sh: RUNS must be a positive integer" >&2; exit 64; }

source "$ROOT/tools/setup.sh"
migr_setup

TMP=$(mktemp -d /tmp/migr-bench-guard.XXXXXX)
chmod 755 "$TMP"
mkdir "$TMP/sock"
[[ $EUID == 0 ]] && chown "$(migr_pg_user)" "$TMP" "$TMP/sock"
cleanup()
{
	migr_stop_cluster "$TMP/data"
	if [[ ${KEEP:-0} == 1 ]]; then echo "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
trap 'exit 130' INT

if [[ ${SKIP_BUILD:-0} != 1 ]]; then
	echo "building migr (log: $TMP/build.log)"
	(cd "$ROOT" && make PG_CONFIG="$PG_CONFIG" && make install PG_CONFIG="$PG_CONFIG") \
		>"$TMP/build.log" 2>&1 || { tail -20 "$TMP/build.log"; exit 1; }
fi

$PY "$HERE/gen_history.py" "$TMP/gen" "$N" >/dev/null
chmod -R a+rX "$TMP/gen"
migr_init_cluster "$TMP/data" "$TMP/sock" "$PORT" no
migr_start_cluster "$TMP/data" "$TMP/server.log"

PSQL=(migr_as_pg "$PG_BINDIR/psql" -X -q -v ON_ERROR_STOP=1 -h "$TMP/sock" -p "$PORT")

# setup_db DB MODE: a fresh database with migr, the N revisions defined, and
# the guard in MODE.
setup_db()
{
	local db=$1 mode=$2
	"${PSQL[@]}" -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
	"${PSQL[@]}" -d "$db" -c "CREATE EXTENSION migr"
	"${PSQL[@]}" -d "$db" -1 -f "$TMP/gen/load_migr_define.sql" >/dev/null
	if [[ $mode == none ]]; then
		"${PSQL[@]}" -d "$db" -c "ALTER EVENT TRIGGER migr_guard_ddl_start DISABLE" \
			-c "ALTER EVENT TRIGGER migr_guard_ddl_end DISABLE" \
			-c "ALTER EVENT TRIGGER migr_guard_sql_drop DISABLE"
	else
		"${PSQL[@]}" -d postgres -c "ALTER DATABASE $db SET migr.guard = '$mode'"
	fi
	"${PSQL[@]}" -d "$db" -c "VACUUM ANALYZE" -c "CHECKPOINT"
}

# apply_ms DB: "wall_us cpu_ticks" of the full apply: the wall time as psql's
# caller sees it, and the CPU time (user + system, clock ticks) of the backend
# that ran it, read from /proc before and after.  On a shared machine the CPU
# time is the steadier of the two: other jobs stretch the wall time, not it.
apply_ms()
{
	local db=$1 t0 t1 n c0 c1
	cat >"$TMP/apply.sql" <<-SQL
	SELECT pg_backend_pid() AS pid \gset
	\setenv BACKEND_PID :pid
	\! cat /proc/\$BACKEND_PID/stat > $TMP/stat0
	SELECT count(*) FROM migr_upgrade('head');
	\! cat /proc/\$BACKEND_PID/stat > $TMP/stat1
	SQL
	chmod a+r "$TMP/apply.sql"
	t0=$(date +%s%N)
	n=$("${PSQL[@]}" -d "$db" -At -f "$TMP/apply.sql")
	t1=$(date +%s%N)
	[[ $n == "$N" ]] || { echo "guard.sh: migr_upgrade applied '$n' revisions, expected $N" >&2; exit 1; }
	c0=$(awk '{ print $14 + $15 }' "$TMP/stat0")
	c1=$(awk '{ print $14 + $15 }' "$TMP/stat1")
	echo "$(((t1 - t0) / 1000)) $((c1 - c0))"
}

MODES=(none off log block)
declare -A ms cpu
for ((r = 1; r <= RUNS; r++)); do
	line="round $r:"
	for ((k = 0; k < 4; k++)); do
		mode=${MODES[$(((k + r - 1) % 4))]}
		setup_db "bench_guard" "$mode"
		read -r us ticks < <(apply_ms bench_guard)
		ms[$mode,$r]=$us
		cpu[$mode,$r]=$ticks
		logged=$("${PSQL[@]}" -d bench_guard -Atc "SELECT count(*) FROM migr.log WHERE action = 'ddl'")
		[[ $logged == 0 ]] || { echo "guard.sh: the apply logged $logged DDL rows under $mode" >&2; exit 1; }
		line+=$(printf '  %s %.0f ms (cpu %d ticks)' "$mode" "$(echo "$us / 1000" | bc -l)" "$ticks")
	done
	echo "$line"
done

# median of the arguments (numbers, one per argument)
median()
{
	printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else printf "%.6f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

# report NAME ARRAY UNIT DIVISOR: medians and per-round ratios to none
report()
{
	local name=$1 unit=$3 div=$4 mode r base m rm_ lo hi
	local -n arr=$2
	local ratios
	echo
	echo "$name, ratio to the guard's triggers disabled (median of $RUNS per-round ratios, spread):"
	printf '  %-6s %12s %8s %18s\n' setting "median $unit" ratio "spread"
	base=$(median $(for ((r = 1; r <= RUNS; r++)); do echo "${arr[none,$r]}"; done))
	printf '  %-6s %12.1f %8s\n' none "$(echo "$base / $div" | bc -l)" 1.000
	for mode in off log block; do
		ratios=()
		for ((r = 1; r <= RUNS; r++)); do
			ratios+=("$(echo "${arr[$mode,$r]} / ${arr[none,$r]}" | bc -l)")
		done
		m=$(median $(for ((r = 1; r <= RUNS; r++)); do echo "${arr[$mode,$r]}"; done))
		rm_=$(median "${ratios[@]}")
		lo=$(printf '%s\n' "${ratios[@]}" | sort -g | head -1)
		hi=$(printf '%s\n' "${ratios[@]}" | sort -g | tail -1)
		printf '  %-6s %12.1f %8.3f %8.3f..%-8.3f\n' "$mode" "$(echo "$m / $div" | bc -l)" "$rm_" "$lo" "$hi"
	done
}

echo
echo "Full apply of $N revisions ($((3 * N)) DDL statements), $RUNS rounds"
report "Wall time of the apply" ms ms 1000
report "CPU time of the backend that applied" cpu ticks 1

# The share of the backend's CPU samples spent in the event-trigger machinery
# during one more apply under log (perf record, software cpu-clock event): a
# measure that other jobs on the machine do not move, unlike the ratios.
if [[ ${PROFILE:-1} == 1 ]] && command -v perf >/dev/null 2>&1; then
	setup_db "bench_guard" log
	cat >"$TMP/profile.sql" <<-SQL
	SELECT pg_backend_pid() AS pid \gset
	\setenv BACKEND_PID :pid
	\! perf record -e cpu-clock -F 999 -g -p \$BACKEND_PID -o $TMP/perf.data >$TMP/perf.log 2>&1 & echo \$! > $TMP/perf.pid; sleep 1
	SELECT count(*) FROM migr_upgrade('head');
	\! kill -INT \$(cat $TMP/perf.pid); sleep 2
	SQL
	chmod a+r "$TMP/profile.sql"
	"${PSQL[@]}" -d bench_guard -At -f "$TMP/profile.sql" >/dev/null
	# entry points of the machinery, none inside another
	share=$(perf report -f -i "$TMP/perf.data" --children --sort symbol --stdio -g none 2>/dev/null |
		awk '/\[\.\] (EventTriggerDDLCommandStart|EventTriggerDDLCommandEnd|EventTriggerSQLDrop|EventTriggerBeginCompleteQuery|EventTriggerEndCompleteQuery|EventTriggerCollect[A-Za-z]*|EventTriggerAlterTable[A-Za-z]*|EventTriggerSQLDropAddObject|EventTriggerInhibitCommandCollection|EventTriggerUndoInhibitCommandCollection) / {
				gsub("%", "", $1); sum += $1 }
			END { printf "%.2f", sum }')
	echo
	echo "Profile of one apply under log: ${share}% of the backend's CPU samples in the event triggers"
	echo "(EventTriggerDDLCommandStart/End, SQLDrop, command collection; migr's guard functions within them)"
fi

echo
echo "target: log and block <= 1.03"

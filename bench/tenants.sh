#!/usr/bin/env bash
# bench/tenants.sh — tenants at scale (README, "Tenants and fleets").
#
#   bash bench/tenants.sh             10,000 tenants; a rollout over 1,000
#   QUICK=1 bash bench/tenants.sh     2,000 tenants; a rollout over 200
#
# On a throwaway cluster (migr preloaded), every ratio against a baseline
# measured in the same run:
#   1. looking: migr_tenants() and "are all tenants at head?" over TENANTS
#      tenants, RUNS times each (median, min, max), against the floor of
#      reading migr.tenant alone (SELECT count(*) FROM migr.tenant);
#   2. a rollout of one revision (a column with a default, an index built
#      concurrently) over ROLL tenants by migr_upgrade_tenants(..., 4)
#      against a psql loop of one migr_upgrade(..., tenant => ...) call per
#      tenant (each followed by migr_wait(), as a deploy script must before
#      the next tenant's build), over another ROLL tenants;
#   3. a rollout worker's memory: peak RSS (VmHWM) and the largest private
#      RSS sampled (RssAnon) of one worker upgrading 100 and then 1,000
#      tenants (10x the tenants should not mean 10x the memory).
#
# Knobs: QUICK TENANTS ROLL RUNS BENCH_PORT SKIP_BUILD KEEP.
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
QUICK=${QUICK:-0}
if [[ $QUICK == 1 ]]; then d_T=2000; d_R=200; else d_T=10000; d_R=1000; fi
TENANTS=${TENANTS:-$d_T}
ROLL=${ROLL:-$d_R}
RUNS=${RUNS:-7}
PORT=${BENCH_PORT:-54470}
SKIP_BUILD=${SKIP_BUILD:-0}
KEEP=${KEEP:-0}
for v in TENANTS ROLL RUNS PORT; do
	[[ ${!v} =~ ^[1-9][0-9]*$ ]] || { echo "tenants.sh: $v must be a positive integer" >&2; exit 64; }
done
(( TENANTS >= 2 * ROLL + 1100 )) || { echo "tenants.sh: TENANTS must be at least 2*ROLL+1100" >&2; exit 64; }

source "$ROOT/tools/setup.sh"
migr_setup
if [[ $SKIP_BUILD != 1 ]]; then
	make -C "$ROOT" -s -j2 PG_CONFIG="$PG_CONFIG" >/dev/null &&
		migr_as_root make -C "$ROOT" -s install PG_CONFIG="$PG_CONFIG" >/dev/null ||
		{ echo "tenants.sh: build failed" >&2; exit 1; }
fi

WORK=$(mktemp -d /tmp/migr-bench-tenants.XXXXXX)
chmod 755 "$WORK"
migr_as_root chown "$(migr_pg_user)" "$WORK"
cleanup() { migr_stop_cluster "$WORK/data"; [[ $KEEP == 1 ]] && echo "kept $WORK" || migr_as_root rm -rf "$WORK"; }
trap cleanup EXIT
migr_init_cluster "$WORK/data" "$WORK" "$PORT" yes
printf 'max_locks_per_transaction = 1024\nautovacuum = off\nshared_buffers = 256MB\n' |
	migr_as_pg tee -a "$WORK/data/postgresql.conf" >/dev/null
migr_start_cluster "$WORK/data" "$WORK/server.log" || exit 1

psqlq() { migr_as_pg env PGOPTIONS="-c client_min_messages=warning" "$PG_BINDIR/psql" -X -q -A -t -v ON_ERROR_STOP=1 -h "$WORK" -p "$PORT" -d postgres "$@"; }
say() { printf '%s\n' "$*"; }
# median, min and max of the numbers on stdin
stats() { sort -g | awk '{a[NR]=$1} END {printf "%.2f %.2f %.2f\n", a[int((NR+1)/2)], a[1], a[NR]}'; }
# times (ms) of RUNS runs of a query, one psql session, after one warm-up
timings()
{
	local q=$1
	{ echo '\timing on'; for ((i = 0; i <= RUNS; i++)); do echo "$q"; done; } |
		psqlq 2>&1 | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | tail -n "$RUNS" | stats
}
now_ms() { date +%s%3N; }
tname() { printf 'c%05d' "$1"; }

say "== bench/tenants.sh: $TENANTS tenants, rollouts over $ROLL, $RUNS runs ($(date -u +%FT%TZ))"
psqlq -c 'CREATE EXTENSION migr' || exit 1
psqlq >/dev/null <<'SQL' || exit 1
SELECT migr_define('t1', NULL, 'CREATE TABLE ev (id int NOT NULL, v int)', 'DROP TABLE ev',
                   branch_labels => '{tenant}');
SQL
# the schemas, their tables (t1 by stamp: the table made here) and rows
t0=$(now_ms)
for ((b = 1; b <= TENANTS; b += 1000)); do
	e=$((b + 999 < TENANTS ? b + 999 : TENANTS))
	psqlq <<SQL || exit 1
DO \$\$ DECLARE s text; BEGIN
  FOR i IN $b..$e LOOP
    s := pg_catalog.format('c%s', lpad(i::text, 5, '0'));
    EXECUTE pg_catalog.format('CREATE SCHEMA %I; CREATE TABLE %I.ev (id int NOT NULL, v int);
      INSERT INTO %I.ev SELECT g, g %% 10 FROM generate_series(1, 50) g', s, s, s);
    PERFORM count(*) FROM migr_stamp('t1', tenant => s);
  END LOOP;
END \$\$;
SQL
done
psqlq -c 'VACUUM ANALYZE migr.tenant' -c 'CHECKPOINT' >/dev/null
say "setup: $TENANTS tenants made and stamped at t1 in $(( ($(now_ms) - t0) / 1000 )) s"

# ---------------------------------------------------------------- 1. looking
say
say "-- 1. looking over $TENANTS tenants (ms: median min max of $RUNS)"
read -r f_med f_min f_max < <(timings 'SELECT count(*) FROM migr.tenant;')
read -r t_med t_min t_max < <(timings 'SELECT count(*) FROM migr_tenants();')
read -r h_med h_min h_max < <(timings "SELECT bool_and(pending = 0 AND state = 'done') FROM migr_tenants();")
say "floor   SELECT count(*) FROM migr.tenant            $f_med ($f_min..$f_max)"
say "migr_tenants()                                      $t_med ($t_min..$t_max)   ratio to floor $(awk -v a="$t_med" -v b="$f_med" 'BEGIN{printf "%.1f", a/b}')"
say "all at head? bool_and(pending = 0 ...) migr_tenants() $h_med ($h_min..$h_max)   ratio to floor $(awk -v a="$h_med" -v b="$f_med" 'BEGIN{printf "%.1f", a/b}')"
say "target: under 50 ms each -> $(awk -v a="$t_med" -v b="$h_med" 'BEGIN{print (a < 50 && b < 50) ? "met" : "MISSED"}')"

# ---------------------------------------------------------------- 2. rollout
say
say "-- 2. one revision (a column with a default, an index built concurrently) over $ROLL tenants"
psqlq >/dev/null <<'SQL' || exit 1
SET migr.lint = 'off';
SELECT migr_define('r1', ARRAY['t1'],
  $$ALTER TABLE ev ADD COLUMN flag int NOT NULL DEFAULT 7;
    CREATE INDEX CONCURRENTLY ev_v_idx ON ev (v)$$,
  $$DROP INDEX ev_v_idx; ALTER TABLE ev DROP COLUMN flag$$);
SQL
# baseline: a psql loop, one call per tenant (tenants ROLL+1 .. 2*ROLL)
t0=$(now_ms)
for ((i = ROLL + 1; i <= 2 * ROLL; i++)); do
	printf "SELECT count(*) FROM migr_upgrade('r1', tenant => '%s');\nSELECT migr_wait();\n" "$(tname "$i")"
done | psqlq >/dev/null || exit 1
loop_ms=$(( $(now_ms) - t0 ))
# the rollout (tenants 1 .. ROLL), timed from the call to its end
t0=$(now_ms)
id=$(psqlq -c "SELECT migr_upgrade_tenants('r1', (SELECT array_agg(pg_catalog.format('c%s', lpad(g::text, 5, '0'))) FROM generate_series(1, $ROLL) g), 4)")
until [[ $(psqlq -c "SELECT state FROM migr.rollout WHERE id = $id") == done ]]; do sleep 0.05; done
roll_ms=$(( $(now_ms) - t0 ))
bad=$(psqlq -c "SELECT count(*) FROM migr_tenants() WHERE tenant <= '$(tname $((2 * ROLL)))' AND (state <> 'done' OR current <> '{r1}')")
say "psql loop, one migr_upgrade(..., tenant) + migr_wait() per tenant   $loop_ms ms"
say "migr_upgrade_tenants('r1', ..., 4)                                  $roll_ms ms   loop/rollout $(awk -v a="$loop_ms" -v b="$roll_ms" 'BEGIN{printf "%.2f", a/b}')x"
say "tenants not at r1 afterwards: $bad"

# ---------------------------------------------------------------- 3. memory
say
say "-- 3. one rollout worker's memory"
psqlq -c "SELECT migr_define('r2', ARRAY['r1'], 'ALTER TABLE ev ADD COLUMN note text', 'ALTER TABLE ev DROP COLUMN note')" >/dev/null
from=$((2 * ROLL + 1))
for k in 100 1000; do
	id=$(psqlq -c "SELECT migr_upgrade_tenants('r2', (SELECT array_agg(pg_catalog.format('c%s', lpad(g::text, 5, '0'))) FROM generate_series($from, $((from + k - 1))) g), 1)")
	hwm=0; anon=0
	while :; do
		pid=$(psqlq -c "SELECT pid FROM pg_stat_activity WHERE backend_type = 'migr rollout worker' LIMIT 1")
		if [[ -n $pid && -r /proc/$pid/status ]]; then
			h=$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status" 2>/dev/null); a=$(awk '/^RssAnon/ {print $2}' "/proc/$pid/status" 2>/dev/null)
			[[ -n $h ]] && (( h > hwm )) && hwm=$h
			[[ -n $a ]] && (( a > anon )) && anon=$a
		fi
		[[ $(psqlq -c "SELECT state FROM migr.rollout WHERE id = $id") == done ]] && break
		sleep 0.02
	done
	say "$k tenants: peak RSS (VmHWM, shared buffers included) $((hwm / 1024)) MB, largest private RSS (RssAnon) sampled $((anon / 1024)).$(( (anon % 1024) * 10 / 1024 )) MB"
	from=$((from + k))
done
say
say "server log: $(grep -c ERROR "$WORK/server.log") ERROR lines (the failing builds of no tenant expected: 0)"

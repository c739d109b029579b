#!/usr/bin/env bash
# tools/test.sh ("make test", and CI through .ci/run): build migr warning-free,
# install it, and run every test layer against throwaway clusters.
#
#   1. setup (packages), then a clean build and "make install" of a copy of the
#      tree, so the working tree is left alone and the build is always complete;
#   2. cluster A, migr in shared_preload_libraries (port 54390):
#        pg_regress (sql/), then pg_isolation_regress (test/specs/);
#   3. the TAP tests (test/t/), which make their own clusters;
#   4. cluster B, migr NOT preloaded (port 54391): pg_regress again, because
#      migr must work both ways;
#   5. on failure, the diffs and log tails that say why; last, one line
#      "N passed, N failed", and a non-zero exit status if anything failed.
#
# A layer with no tests yet is skipped.  The clusters are stopped on exit,
# whatever happens.  The temporary directory is removed after a clean run and
# kept (its path printed) after a failure.
#
# Environment: MIGR_TEST_PORT (default 54390; B uses the next port),
# MIGR_TEST_TIMEOUT (seconds per layer, default 1800), MIGR_TEST_KEEP=1 (keep
# the temporary directory even after a clean run), MIGR_TEST_ONLY (see below),
# MIGR_PG_BINDIR (another copy of PostgreSQL 15, see tools/setup.sh).

set -euo pipefail
cd "$(dirname "$0")/.."
SRC_ROOT=$PWD
source tools/setup.sh
migr_setup

PORT_A=${MIGR_TEST_PORT:-54390}
PORT_B=$((PORT_A + 1))
LAYER_TIMEOUT=${MIGR_TEST_TIMEOUT:-1800}

PASSED=0
FAILED=0
FAILED_LAYERS=()

# Everything lives in one temporary directory the cluster user owns:
#   tree/  a copy of the repository, where we build and run the tests
#   a/ b/  the two clusters (data/, sock/, server.log)
# fd 3 is the original stdout: cleanup writes there, even when an interrupt
# arrives while some command's output is redirected to a log file.
exec 3>&1
WORK=$(mktemp -d /tmp/migr-test.XXXXXX)
TREE=$WORK/tree
CLEANED=no

# Stop every cluster under $WORK: ours (a/, b/) and any that a TAP test left
# running (tree/tmp_check/...).  Nothing outside $WORK is ever stopped.
cleanup()
{
	[[ $CLEANED == yes ]] && return 0
	CLEANED=yes
	local pidfile
	while IFS= read -r pidfile; do
		migr_stop_cluster "$(dirname "$pidfile")"
	done < <(find "$WORK" -name postmaster.pid -print 2>/dev/null)
	if ((FAILED == 0)) && [[ ${MIGR_TEST_KEEP:-} != 1 && ${1:-0} == 0 ]]; then
		rm -rf "$WORK"
	else
		echo "test files kept in $WORK" >&3
	fi
}
trap 'cleanup $?' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Print a banner line so CI logs are easy to scan.
banner()
{
	echo
	echo "==== $* ===="
}

# Print the first lines of a file (a diff's start shows the first divergence).
show_head()
{
	local file=$1 lines=${2:-300}
	[[ -s $file ]] || return 0
	echo "---- $file (first $lines lines) ----"
	head -n "$lines" "$file"
}

# Print the last lines of a file (a log's end shows what went wrong last).
show_tail()
{
	local file=$1 lines=${2:-60}
	[[ -s $file ]] || return 0
	echo "---- $file (last $lines lines) ----"
	tail -n "$lines" "$file"
}

# Record a layer's counts.  A layer whose command failed without any test
# reported as failed (it could not even start, say) counts as one failure.
record()
{
	local layer=$1 status=$2 passed=$3 failed=$4

	if ((status != 0 && failed == 0)); then
		failed=1
		echo "$layer: exited with status $status before reporting a failed test"
	fi
	PASSED=$((PASSED + passed))
	FAILED=$((FAILED + failed))
	echo "$layer: $passed passed, $failed failed"
	if ((failed > 0)); then
		FAILED_LAYERS+=("$layer")
	fi
}

# run_installcheck LOG SOCKDIR PORT [MAKE ARGS...]
#   Run "make installcheck" in the tree copy as the cluster user, against the
#   server at SOCKDIR/PORT, limited to the layer the make arguments select
#   (e.g. "ISOLATION= TAP_TESTS=" leaves pg_regress alone), under a timeout.
#   Output is shown as it comes and saved to LOG.  Returns make's status.
run_installcheck()
{
	local log=$1 sockdir=$2 port=$3
	shift 3
	local status=0

	migr_as_pg env PGHOST="$sockdir" PGPORT="$port" \
		timeout --kill-after=30 "$LAYER_TIMEOUT" \
		make -C "$TREE" --no-print-directory installcheck "$@" 2>&1 |
		tee "$log" || status=$?
	migr_exit_if_interrupted "$status"
	return "$status"
}

# Count pg_regress / pg_isolation_regress results in LOG: lines such as
# "test foo ... ok 12 ms", "     foo ... FAILED", "foo ... failed (ignored)".
# Prints "PASSED FAILED"; an ignored failure counts as passed, as for pg_regress.
count_regress()
{
	local log=$1 ok bad
	ok=$(grep -cE '\.\.\. (ok|failed \(ignored\))( |$)' "$log" || true)
	bad=$(grep -cE '\.\.\. FAILED( |$)' "$log" || true)
	echo "$ok $bad"
}

# Count TAP test files from prove's output in LOG: "Files=N" is the total, and
# each failed file has a "t/x.pl (Wstat: ...)" line in the summary report.
count_tap()
{
	local log=$1 total bad
	total=$(sed -nE 's/^Files=([0-9]+),.*/\1/p' "$log" | tail -n 1)
	bad=$(grep -cE '^[^ ]+\.pl +\(Wstat: ' "$log" || true)
	echo "$(( ${total:-0} - bad )) $bad"
}

# ---------------------------------------------------------------------------
# Build and install.

# A step before the tests failed: count it, clean up, print the summary, stop.
fail_early()
{
	record "$1" 1 0 1
	cleanup 1
	echo "$PASSED passed, $FAILED failed"
	exit 1
}

banner "build"
cp -a "$SRC_ROOT/." "$TREE"
rm -rf "$TREE/.git"
make -C "$TREE" --no-print-directory clean >/dev/null
build_status=0
make -C "$TREE" --no-print-directory -j"$(nproc)" >"$WORK/build.log" 2>&1 || build_status=$?
cat "$WORK/build.log"
if ((build_status != 0)); then
	echo "build failed (status $build_status)"
	fail_early build
fi
if grep -qiE '(^|[^a-z])warning:' "$WORK/build.log"; then
	echo "build printed warnings; migr must build warning-free:"
	grep -iE '(^|[^a-z])warning:' "$WORK/build.log"
	fail_early build
fi
banner "install"
migr_as_root make -C "$TREE" --no-print-directory install || fail_early install

# From here on the cluster user runs everything in $WORK.
if [[ $EUID -eq 0 ]]; then
	chown -R postgres: "$WORK"
fi

# MIGR_TEST_ONLY="06_targets lock_timeout_retry 020_worker_role" runs only the
# named pg_regress files, isolation specs and TAP files (by base name): the
# others are removed from the copy before anything looks for them.
if [[ -n ${MIGR_TEST_ONLY:-} ]]; then
	for f in "$TREE"/sql/*.sql "$TREE"/test/specs/*.spec "$TREE"/test/t/*.pl; do
		base=$(basename "$f"); base=${base%.*}
		[[ " $MIGR_TEST_ONLY " == *" $base "* ]] || rm -f "$f"
	done
fi

# Which layers have tests.
shopt -s nullglob
sql_tests=("$TREE"/sql/*.sql)
spec_tests=("$TREE"/test/specs/*.spec)
tap_tests=("$TREE"/test/t/*.pl)
shopt -u nullglob

# pg_regress stops the whole suite at the first test that has no expected
# file.  In the copy (never in the checkout) give each such test an empty one,
# so that every test still runs and the missing ones fail with a diff that is
# their whole output.
placeholder_expected()
{
	local testdir=$1 ext=$2 expdir=$3 test name
	for test in "$testdir"/*."$ext"; do
		[[ -e $test ]] || continue
		name=$(basename "$test" ."$ext")
		if [[ ! -e $expdir/$name.out ]]; then
			echo "note: ${expdir#"$TREE"/}/$name.out is missing: $name will fail, its diff is its whole output"
			mkdir -p "$expdir"
			: >"$expdir/$name.out"
		fi
	done
}
placeholder_expected "$TREE/sql" sql "$TREE/expected"
placeholder_expected "$TREE/test/specs" spec "$TREE/test/expected"

# start_cluster NAME PORT PRELOAD: initdb and start cluster NAME (a or b).
#   A cluster that cannot start (say, because migr fails to preload) is a
#   failure of its own, and the layers that needed it are not run.
start_cluster()
{
	local name=$1 port=$2 preload=$3

	banner "cluster $name: port $port, migr $([[ $preload == yes ]] && echo preloaded || echo "not preloaded")"
	if migr_as_pg mkdir -p "$WORK/$name/sock" &&
		migr_init_cluster "$WORK/$name/data" "$WORK/$name/sock" "$port" "$preload" &&
		migr_start_cluster "$WORK/$name/data" "$WORK/$name/server.log"; then
		echo "running, socket $WORK/$name/sock"
		return 0
	fi
	record "cluster $name start" 1 0 1
	return 1
}

# regress_layer NAME CLUSTER PORT [OUTPUTDIR]: the pg_regress suite (sql/)
#   against a running cluster; results in OUTPUTDIR (default: the tree).
regress_layer()
{
	local name=$1 cluster=$2 port=$3 outdir=${4:-}
	local log="$WORK/regress-$cluster.log" status=0 p f

	banner "pg_regress, $name"
	run_installcheck "$log" "$WORK/$cluster/sock" "$port" ISOLATION= TAP_TESTS= \
		${outdir:+EXTRA_REGRESS_OPTS=--outputdir=$outdir} || status=$?
	read -r p f < <(count_regress "$log")
	record "regress ($name)" "$status" "$p" "$f"
	if ((status != 0)); then
		show_head "$TREE/${outdir:+$outdir/}regression.diffs"
		show_tail "$WORK/$cluster/server.log"
	fi
}

# isolation_layer: the pg_isolation_regress suite (test/specs/) on cluster A.
isolation_layer()
{
	local log="$WORK/isolation.log" status=0 p f

	banner "pg_isolation_regress, migr preloaded"
	run_installcheck "$log" "$WORK/a/sock" "$PORT_A" REGRESS= TAP_TESTS= || status=$?
	read -r p f < <(count_regress "$log")
	record "isolation" "$status" "$p" "$f"
	if ((status != 0)); then
		show_head "$TREE/output_iso/regression.diffs"
		show_tail "$WORK/a/server.log"
	fi
}

# tap_layer: prove test/t/*.pl.  Each file makes its own clusters
#   (PostgreSQL::Test::Cluster: Unix sockets in private directories, no TCP
#   listener), so it needs neither A nor B.  On failure, for each failed file
#   its regress_log and the server logs of its nodes.
tap_layer()
{
	local log="$WORK/tap.log" status=0 p f file base nodelog

	banner "TAP (prove)"
	run_installcheck "$log" "$WORK/a/sock" "$PORT_A" REGRESS= ISOLATION= || status=$?
	read -r p f < <(count_tap "$log")
	record "TAP" "$status" "$p" "$f"
	((status != 0)) || return 0
	while read -r file; do
		base=$(basename "$file" .pl)
		show_tail "$TREE/tmp_check/log/regress_log_$base" 80
		for nodelog in "$TREE/tmp_check/log/${base}"_*.log; do
			[[ -e $nodelog ]] && show_tail "$nodelog" 40
		done
	done < <(sed -nE 's/^([^ ]+\.pl) +\(Wstat: .*/\1/p' "$log")
	# prove died before its summary: show every test log there is.
	if ! grep -qE '^Files=' "$log"; then
		for nodelog in "$TREE"/tmp_check/log/*; do
			[[ -f $nodelog ]] && show_tail "$nodelog" 60
		done
	fi
	return 0
}

# ---------------------------------------------------------------------------
# Cluster A, migr preloaded: pg_regress, then pg_isolation_regress.

if ((${#sql_tests[@]} + ${#spec_tests[@]} > 0)); then
	if start_cluster a "$PORT_A" yes; then
		if ((${#sql_tests[@]} > 0)); then
			regress_layer "migr preloaded" a "$PORT_A"
		fi
		if ((${#spec_tests[@]} > 0)); then
			isolation_layer
		fi
	fi
	migr_stop_cluster "$WORK/a/data"
fi
((${#sql_tests[@]} > 0)) || banner "pg_regress: no sql/*.sql yet, skipped"
((${#spec_tests[@]} > 0)) || banner "isolation: no test/specs/*.spec yet, skipped"

# ---------------------------------------------------------------------------
# TAP.

if ((${#tap_tests[@]} > 0)); then
	tap_layer
else
	banner "TAP: no test/t/*.pl yet, skipped"
fi

# ---------------------------------------------------------------------------
# Cluster B, migr loaded on demand only: pg_regress again, into its own
# output directory so that both runs' results can be read.

if ((${#sql_tests[@]} > 0)); then
	if start_cluster b "$PORT_B" no; then
		regress_layer "migr not preloaded" b "$PORT_B" output_nopreload
	fi
	migr_stop_cluster "$WORK/b/data"
fi

# ---------------------------------------------------------------------------

banner "summary"
if ((${#FAILED_LAYERS[@]} > 0)); then
	echo "failed: ${FAILED_LAYERS[*]}"
fi
if ((FAILED > 0)); then
	cleanup 1
else
	cleanup 0
fi
echo "$PASSED passed, $FAILED failed"
if ((FAILED > 0)); then
	exit 1
fi

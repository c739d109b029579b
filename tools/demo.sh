#!/usr/bin/env bash
# tools/demo.sh ("make demo"): build and install migr, start a throwaway
# cluster with migr preloaded, load the revision files of examples/ and walk
# through upgrade, history, heads, downgrade and a refused downgrade.
#
# The cluster stays up afterwards so you can play with it; the last lines
# printed say how to connect and how to stop it.  Running the demo again
# stops and recreates it.
#
#   directory  /tmp/migr-demo          (also the Unix socket directory)
#   data       /tmp/migr-demo/data
#   port       54399 (Unix socket only, no TCP)
#   database   demo
#
# Environment: MIGR_DEMO_PORT (default 54399), MIGR_DEMO_DIR (default
# /tmp/migr-demo; the README's tutorial assumes the defaults).

set -euo pipefail
cd "$(dirname "$0")/.."
SRC_ROOT=$PWD
source tools/setup.sh
migr_setup

DEMO_DIR=${MIGR_DEMO_DIR:-/tmp/migr-demo}
DEMO_DATA=$DEMO_DIR/data
DEMO_PORT=${MIGR_DEMO_PORT:-54399}
DEMO_DB=demo
MARKER=$DEMO_DIR/.migr-demo

# The example revision whose downgrade section is missing: a downgrade may go
# down to it, never through it.
IRREVERSIBLE=9c41e7f08a3d

# ---------------------------------------------------------------------------
# Build and install.

echo "==== build and install migr ===="
make --no-print-directory -j"$(nproc)"
migr_as_root make --no-print-directory install >/dev/null

# ---------------------------------------------------------------------------
# A fresh demo cluster.  Only a directory this script made (it holds our
# marker file) is ever stopped and removed.

if [[ -e $DEMO_DIR ]]; then
	if [[ ! -e $MARKER ]]; then
		echo "$DEMO_DIR exists but was not made by this demo; move it away first" >&2
		exit 1
	fi
	echo "==== removing the demo cluster of a previous run ===="
	if [[ -f $DEMO_DATA/postmaster.pid ]]; then
		if [[ $EUID -eq 0 ]]; then
			runuser -u "$(stat -c %U "$DEMO_DATA")" -- \
				"$PG_BINDIR/pg_ctl" --pgdata="$DEMO_DATA" --mode=fast --wait --silent stop || true
		else
			"$PG_BINDIR/pg_ctl" --pgdata="$DEMO_DATA" --mode=fast --wait --silent stop || true
		fi
	fi
	migr_as_root rm -rf "$DEMO_DIR"
fi

echo "==== starting a demo cluster in $DEMO_DIR (port $DEMO_PORT, migr preloaded) ===="
mkdir -m 0750 "$DEMO_DIR"
touch "$MARKER"
# The examples are copied next to the cluster: the cluster user may not be
# able to read the checkout, and psql runs as that user.
mkdir "$DEMO_DIR/examples"
shopt -s nullglob
examples=("$SRC_ROOT"/examples/*.sql)
shopt -u nullglob
if ((${#examples[@]} == 0)); then
	echo "no examples/*.sql to load" >&2
	exit 1
fi
cp "${examples[@]}" "$DEMO_DIR/examples/"
if [[ $EUID -eq 0 ]]; then
	chown -R postgres: "$DEMO_DIR"
fi
migr_init_cluster "$DEMO_DATA" "$DEMO_DIR" "$DEMO_PORT" yes
migr_start_cluster "$DEMO_DATA" "$DEMO_DIR/server.log"
migr_as_pg "$PG_BINDIR/createdb" -h "$DEMO_DIR" -p "$DEMO_PORT" "$DEMO_DB"

# ---------------------------------------------------------------------------
# The psql script: one session does it all.  Loading runs one migr_load() per
# file (the file read with psql's \set and a backquoted cat); the walk-through
# that follows runs with ECHO=queries, so every statement is printed before
# its result.

script=$DEMO_DIR/demo.sql
{
	cat <<'EOF'
\set ON_ERROR_STOP on
\set QUIET on
\pset pager off
\echo
\echo '==== CREATE EXTENSION migr ===='
CREATE EXTENSION migr;
\echo
\echo '==== load the revision files of examples/, in name order: SELECT migr_load(<file text>) ===='
\pset tuples_only on
\pset format unaligned
EOF
	for file in "$DEMO_DIR"/examples/*.sql; do
		name=$(basename "$file")
		printf "\\\\set rev \`cat '%s'\`\n" "$file"
		printf "SELECT format('%%-32s -> revision %%s', '%s', migr_load(:'rev'));\n" "$name"
	done
	cat <<EOF
\\pset tuples_only off
\\pset format aligned
\\set ECHO queries

\\echo '==== upgrade to the head: every revision, parents before children ===='
SELECT * FROM migr_upgrade('head');

\\echo '==== the history, roots first ===='
SELECT * FROM migr_history();

\\echo '==== the heads: one, since 006 merges the two branches ===='
SELECT * FROM migr_heads();

\\echo '==== downgrade to $IRREVERSIBLE, the irreversible revision: reverts everything above it, children first ===='
SELECT * FROM migr_downgrade('$IRREVERSIBLE');

\\echo '==== what is applied now ===='
SELECT * FROM migr_current();

\\echo '==== upgrade again ===='
SELECT * FROM migr_upgrade('head');

\\echo '==== downgrade to base: expected to be REFUSED (SQLSTATE MG004),'
\\echo '==== because $IRREVERSIBLE has no downgrade; nothing is reverted'
\\set ON_ERROR_STOP off
\\set VERBOSITY verbose
SELECT * FROM migr_downgrade('base');
\\set VERBOSITY default
\\set ON_ERROR_STOP on
\\set ECHO none
SELECT :'LAST_ERROR_SQLSTATE' = 'MG004' AS refused_with_mg004 \\gset
\\if :refused_with_mg004
\\echo '(refused with MG004, as expected)'
\\else
\\echo 'migr_downgrade(''base'') was not refused with MG004; last error: ' :'LAST_ERROR_SQLSTATE' :'LAST_ERROR_MESSAGE'
DO \$\$ BEGIN RAISE EXCEPTION 'demo: expected SQLSTATE MG004'; END \$\$;
\\endif
\\echo
\\set ECHO queries

\\echo '==== still at the head ===='
SELECT * FROM migr_current();
EOF
} >"$script"
if [[ $EUID -eq 0 ]]; then
	chown postgres: "$script"
fi

migr_as_pg "$PG_BINDIR/psql" -X -h "$DEMO_DIR" -p "$DEMO_PORT" -d "$DEMO_DB" -f "$script"

# ---------------------------------------------------------------------------
# The same project through the migr command: check the files without a
# database, write a new revision on the folder's head, push and upgrade.

MIGR=$PG_BINDIR/migr
PROJECT=$DEMO_DIR/project
migr_as_pg cp -r "$DEMO_DIR/examples" "$PROJECT"
demo_cli()
{
	echo "\$ migr $*"
	migr_as_pg env PGHOST="$DEMO_DIR" PGPORT="$DEMO_PORT" PGDATABASE="$DEMO_DB" \
		"$MIGR" "$@"
}

echo
echo "==== the migr command: check the revision files, no database needed ===="
demo_cli check --dir "$PROJECT"
echo
echo "==== write a new revision on the folder's head, like alembic revision -m ===="
demo_cli new -m "add nickname to users" --dir "$PROJECT"
newfile=$(ls -t "$PROJECT"/*.sql | head -1)
migr_as_pg sed -i 's/^-- migr:upgrade$/-- migr:upgrade\nALTER TABLE users ADD COLUMN nickname text;/' "$newfile"
migr_as_pg sed -i 's/^-- migr:downgrade$/-- migr:downgrade\nALTER TABLE users DROP COLUMN nickname;/' "$newfile"
echo "--- $newfile"
cat "$newfile"
echo
echo "==== push the folder (only what is new or changed) and upgrade ===="
demo_cli upgrade --push --dir "$PROJECT"
echo
demo_cli history
echo
demo_cli current

# ---------------------------------------------------------------------------

echo
echo "==== the demo cluster is still running ===="
echo "migr:     $PG_BINDIR/migr (installed beside psql, not on PATH;"
echo "          export PATH=$PG_BINDIR:\$PATH to type just \"migr\")"
if [[ $EUID -eq 0 ]]; then
	echo "connect:  $PG_BINDIR/psql -h $DEMO_DIR -p $DEMO_PORT -U postgres $DEMO_DB"
	echo "          $PG_BINDIR/migr -H $DEMO_DIR -p $DEMO_PORT -U postgres -d $DEMO_DB history"
	echo "stop:     runuser -u postgres -- $PG_BINDIR/pg_ctl -D $DEMO_DATA stop"
else
	echo "connect:  $PG_BINDIR/psql -h $DEMO_DIR -p $DEMO_PORT $DEMO_DB"
	echo "          $PG_BINDIR/migr -H $DEMO_DIR -p $DEMO_PORT -d $DEMO_DB history"
	echo "stop:     $PG_BINDIR/pg_ctl -D $DEMO_DATA stop"
fi
echo "next:     the README's \"Ten-minute tutorial\" goes on from here"

#!/usr/bin/env bash
# tools/setup.sh: make sure this machine can build, run and test migr, and
# define the helpers that tools/test.sh and tools/demo.sh share.
#
# Run it ("bash tools/setup.sh") or source it ("source tools/setup.sh; migr_setup").
#
# What it installs, on Debian 12, only when something is missing (without
# the recommended extras, such as a mail server):
#   postgresql-15 postgresql-server-dev-15 libipc-run-perl make gcc libc6-dev
# Quiet when everything is already there.  Works as root (CI) or as a normal
# user with sudo.
#
# PostgreSQL refuses to run as root, so when we are root every server, initdb
# and test run goes through "runuser -u postgres"; as a normal user they run
# as that user.  The Debian default cluster (15/main on port 5432), if the
# package created one, is never used or touched: our clusters have their own
# data directories, ports (54390-54399) and Unix socket directories, and every
# client gets PGHOST/PGPORT explicitly.

set -euo pipefail

MIGR_PG_MAJOR=15
# MIGR_PG_BINDIR may point at another (relocated) copy of the same major.
PG_BINDIR=${MIGR_PG_BINDIR:-/usr/lib/postgresql/$MIGR_PG_MAJOR/bin}
PG_CONFIG=$PG_BINDIR/pg_config
export PG_CONFIG

# Debian packages migr needs to build and to run all three test layers.
MIGR_PACKAGES=(
	"postgresql-$MIGR_PG_MAJOR"
	"postgresql-server-dev-$MIGR_PG_MAJOR"
	libipc-run-perl
	make
	gcc
	libc6-dev
	libpq-dev
	libssl-dev
	python3-alembic
	python3-psycopg2
)

# Run a command as root: directly when we are root, else through sudo.
migr_as_root()
{
	if [[ $EUID -eq 0 ]]; then
		"$@"
	else
		sudo "$@"
	fi
}

# The operating-system user that owns our clusters and runs the tests.
migr_pg_user()
{
	if [[ $EUID -eq 0 ]]; then
		echo postgres
	else
		id -un
	fi
}

# Exit (running the caller's EXIT trap) when STATUS says the command was
# interrupted: 130 = SIGINT, 143 = SIGTERM.  Needed because runuser forwards
# Ctrl-C to its child and then exits normally with 130, and bash ignores a
# SIGINT that the foreground command seems to have handled.
migr_exit_if_interrupted()
{
	if [[ $1 == 130 || $1 == 143 ]]; then
		echo "interrupted" >&2
		exit "$1"
	fi
}

# Run a command as the cluster owner.  Under runuser the environment is kept
# (no -l), and we pin the locale so that initdb and test output do not depend
# on whatever LANG the caller has (CI images often have none).
migr_as_pg()
{
	local status=0
	if [[ $EUID -eq 0 ]]; then
		runuser -u postgres -- env LANG=C.UTF-8 LC_ALL=C.UTF-8 "$@" || status=$?
	else
		env LANG=C.UTF-8 LC_ALL=C.UTF-8 "$@" || status=$?
	fi
	migr_exit_if_interrupted "$status"
	return "$status"
}

# Forget libpq settings from the caller's environment, so that no client of
# ours silently talks to the Debian default cluster or another server.
migr_clean_pg_env()
{
	unset PGHOST PGHOSTADDR PGPORT PGDATABASE PGUSER PGPASSWORD PGPASSFILE \
		PGSERVICE PGSERVICEFILE PGOPTIONS PGCLUSTER PGDATA PGSSLMODE \
		PGAPPNAME PGTZ PGDATESTYLE
}

# True when a Debian package is installed.
migr_pkg_installed()
{
	[[ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" == installed ]]
}

# Install whatever is missing from MIGR_PACKAGES (one apt-get update, one
# apt-get install), then check the tools we rely on are really there.
migr_setup()
{
	local missing=() pkg

	if command -v dpkg-query >/dev/null 2>&1; then
		for pkg in "${MIGR_PACKAGES[@]}"; do
			migr_pkg_installed "$pkg" || missing+=("$pkg")
		done
	fi
	if ((${#missing[@]} > 0)); then
		if ! command -v apt-get >/dev/null 2>&1; then
			echo "setup: missing ${missing[*]} and no apt-get to install them" >&2
			return 1
		fi
		echo "setup: installing ${missing[*]}"
		export DEBIAN_FRONTEND=noninteractive
		migr_as_root apt-get update -qq
		migr_as_root env DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -qq --no-install-recommends -o Dpkg::Use-Pty=0 \
			"${missing[@]}" >/dev/null
	fi

	# Whatever the way it got here, this is what the scripts use.
	local tool
	for tool in "$PG_CONFIG" "$PG_BINDIR/initdb" "$PG_BINDIR/pg_ctl" \
		"$PG_BINDIR/psql"; do
		if [[ ! -x $tool ]]; then
			echo "setup: $tool is missing (PostgreSQL $MIGR_PG_MAJOR server and dev packages)" >&2
			return 1
		fi
	done
	if [[ ! -f "$("$PG_CONFIG" --pgxs)" ]]; then
		echo "setup: PGXS is missing (postgresql-server-dev-$MIGR_PG_MAJOR)" >&2
		return 1
	fi
	for tool in make gcc prove; do
		if ! command -v "$tool" >/dev/null 2>&1; then
			echo "setup: $tool is missing" >&2
			return 1
		fi
	done
	if ! perl -MIPC::Run -e 1 2>/dev/null; then
		echo "setup: perl module IPC::Run is missing (libipc-run-perl)" >&2
		return 1
	fi
	if [[ $EUID -eq 0 ]] && ! id postgres >/dev/null 2>&1; then
		echo "setup: there is no postgres user (it comes with postgresql-common)" >&2
		return 1
	fi
	migr_clean_pg_env
}

# migr_init_cluster DATADIR SOCKDIR PORT PRELOAD
#   initdb a throwaway cluster owned by the cluster user.  It listens on the
#   Unix socket in SOCKDIR only (no TCP, so the port number can never clash
#   with anybody's TCP listener), trusts local connections, and preloads migr
#   when PRELOAD is "yes".  SOCKDIR and DATADIR's parent must already exist and
#   belong to the cluster user.
migr_init_cluster()
{
	local datadir=$1 sockdir=$2 port=$3 preload=$4

	migr_as_pg "$PG_BINDIR/initdb" --pgdata="$datadir" --auth=trust \
		--encoding=UTF8 --locale=C.UTF-8 --no-sync >"$datadir.initdb.log" 2>&1 || {
		echo "initdb of $datadir failed:" >&2
		cat "$datadir.initdb.log" >&2
		return 1
	}
	{
		echo
		echo "# --- added by migr tools ---"
		echo "port = $port"
		echo "listen_addresses = ''"
		echo "unix_socket_directories = '$sockdir'"
		echo "max_worker_processes = 16"
		echo "fsync = off"
		echo "full_page_writes = off"
		echo "log_line_prefix = '%m [%p] %q%a '"
		if [[ $preload == yes ]]; then
			echo "shared_preload_libraries = 'migr'"
		fi
	} | migr_as_pg tee -a "$datadir/postgresql.conf" >/dev/null
}

# migr_start_cluster DATADIR LOGFILE: start and wait until it accepts connections.
migr_start_cluster()
{
	local datadir=$1 logfile=$2

	if ! migr_as_pg "$PG_BINDIR/pg_ctl" --pgdata="$datadir" --log="$logfile" \
		--wait --timeout=60 --silent start; then
		echo "could not start the cluster in $datadir; its log:" >&2
		tail -n 40 "$logfile" >&2 || true
		return 1
	fi
}

# migr_stop_cluster DATADIR: stop a cluster we started, if it is running.
#   Only ever called on data directories that our scripts created.
migr_stop_cluster()
{
	local datadir=$1

	[[ -f $datadir/postmaster.pid ]] || return 0
	migr_as_pg "$PG_BINDIR/pg_ctl" --pgdata="$datadir" --mode=fast --wait \
		--timeout=60 --silent stop >/dev/null 2>&1 ||
		migr_as_pg "$PG_BINDIR/pg_ctl" --pgdata="$datadir" --mode=immediate \
			--wait --timeout=30 --silent stop >/dev/null 2>&1 || true
}

# Run as a script: just do the setup.
if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
	migr_setup
fi

#!/usr/bin/env bash
# bench/lint_vs_squawk.sh — migr_lint() against squawk, the migration linter
# of reference, on the same corpus of migrations.
#
#   bash bench/lint_vs_squawk.sh
#
# The corpus is bench/lint_corpus/*.sql: one migration per file, each with a
# header "-- truth: hazard" or "-- truth: safe" and a "-- why:" line.  Hazards
# block readers or writers of a big table for a long time, fail on a table
# with rows, lose data, or break the running application; safe files do none
# of that, although many look alike to a linter that reads text alone (an
# index on a five-row table, a varchar widened, SET NOT NULL proven by a valid
# CHECK, a drop after migr_archive_table()).
#
# Both linters see every file.  squawk reads the text; migr_lint() runs in a
# throwaway database where the tables the migrations touch exist with
# realistic sizes (accounts 200k rows, events 300k, invoices 100k,
# legacy_imports 50k, settings 5, drafts 0).  A file counts as flagged by
# squawk when any of its rules fires except the style rules (prefer-*,
# ban-char-field) and the timeout rules (migr sets lock_timeout and
# statement_timeout on every statement itself: migr.lock_timeout,
# migr.statement_timeout); by migr when a finding of severity warning or
# error comes back (info findings are shown, not counted).
#
# Prints, per file, what each flagged; per rule, the files it flagged; and
# the hazards caught and false alarms of each.  Exit status 0; 1 on an error.
#
# Knobs: PGBIN (default /usr/lib/postgresql/15/bin), SQUAWK (a squawk binary;
# default: installed once with npm into bench/out/squawk, version
# SQUAWK_VERSION, default 2.66.0), SKIP_BUILD=1 (use the migr already
# installed), BENCH_PORT (default 54349; Unix socket only, in a private
# directory), KEEP=1 (keep the cluster's directory).
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
SQUAWK_VERSION=${SQUAWK_VERSION:-2.66.0}
BENCH_PORT=${BENCH_PORT:-54349}
SKIP_BUILD=${SKIP_BUILD:-0}
KEEP=${KEEP:-0}
CORPUS=$HERE/lint_corpus
OUT=$ROOT/bench/out
mkdir -p "$OUT"

say() { printf '%s\n' "$*"; }
die() { say "lint_vs_squawk.sh: $*" >&2; exit 1; }
as_pg() { if [[ $EUID == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }

# ---------------------------------------------------------------- squawk
if [[ -z ${SQUAWK:-} ]]; then
    SQUAWK=$OUT/squawk/node_modules/.bin/squawk
    if [[ ! -x $SQUAWK ]]; then
        command -v npm >/dev/null || die "npm is needed to install squawk-cli (apt-get install npm), or set SQUAWK"
        say "installing squawk-cli@$SQUAWK_VERSION with npm into $OUT/squawk"
        npm install --prefix "$OUT/squawk" --no-audit --no-fund "squawk-cli@$SQUAWK_VERSION" \
            > "$OUT/squawk-npm.log" 2>&1 || { tail -20 "$OUT/squawk-npm.log"; die "npm install failed"; }
    fi
fi
"$SQUAWK" --version >/dev/null 2>&1 || die "cannot run squawk at $SQUAWK"

# ---------------------------------------------------------------- migr
if [[ $SKIP_BUILD != 1 ]]; then
    (cd "$ROOT" && make -s PG_CONFIG="$PGBIN/pg_config" && make -s PG_CONFIG="$PGBIN/pg_config" install) \
        > "$OUT/lint-build.log" 2>&1 || { tail -20 "$OUT/lint-build.log"; die "build failed"; }
fi

# ---------------------------------------------------------------- cluster
WORK=$(mktemp -d /tmp/migr-lint-bench.XXXXXX)
chmod 755 "$WORK"
[[ $EUID == 0 ]] && chown postgres "$WORK"
cleanup() {
    as_pg "$PGBIN/pg_ctl" -D "$WORK/data" -m immediate stop >/dev/null 2>&1
    if [[ $KEEP == 1 ]]; then say "cluster kept in $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
export LC_ALL=C.UTF-8
as_pg "$PGBIN/initdb" -D "$WORK/data" -A trust -U postgres -E UTF8 > "$WORK/initdb.log" 2>&1 \
    || { tail "$WORK/initdb.log"; die "initdb failed"; }
mkdir -p "$WORK/sock" && [[ $EUID == 0 ]] && chown postgres "$WORK/sock"
as_pg "$PGBIN/pg_ctl" -D "$WORK/data" -l "$WORK/server.log" -w \
    -o "-p $BENCH_PORT -k $WORK/sock -c listen_addresses= -c fsync=off" start > /dev/null \
    || { tail "$WORK/server.log"; die "server did not start"; }
PSQL=("$PGBIN/psql" -X -q -h "$WORK/sock" -p "$BENCH_PORT" -U postgres -v ON_ERROR_STOP=1)

as_pg "${PSQL[@]}" -d postgres > "$WORK/setup.log" 2>&1 <<'EOF' || { tail "$WORK/setup.log"; die "setup failed"; }
CREATE EXTENSION migr;
CREATE DOMAIN email_text AS text;
CREATE TABLE accounts (id bigint PRIMARY KEY, email email_text, name varchar(100),
                       code text, legacy_code text);
INSERT INTO accounts SELECT g, 'user' || g || '@example.com', 'name ' || g, 'c' || g, 'l' || g
  FROM generate_series(1, 200000) g;
CREATE UNIQUE INDEX accounts_code_idx ON accounts (code);
CREATE TABLE events (id bigint PRIMARY KEY, account_id bigint, kind text, amount int);
INSERT INTO events SELECT g, 1 + g % 200000, 'k', g % 1000 FROM generate_series(1, 300000) g;
ALTER TABLE events ADD CONSTRAINT events_kind_check CHECK (kind <> '') NOT VALID;
CREATE TABLE invoices (id bigint PRIMARY KEY, customer_id bigint, total numeric(12,2),
                       CONSTRAINT invoices_customer_nn CHECK (customer_id IS NOT NULL));
INSERT INTO invoices SELECT g, g, g FROM generate_series(1, 100000) g;
CREATE TABLE legacy_imports (id bigint, payload text);
INSERT INTO legacy_imports SELECT g, 'p' FROM generate_series(1, 50000) g;
CREATE TABLE settings (key text PRIMARY KEY, value text);
INSERT INTO settings SELECT 'k' || g, 'v' FROM generate_series(1, 5) g;
CREATE TABLE drafts (id bigint PRIMARY KEY, title text);
VACUUM ANALYZE;
EOF

# ---------------------------------------------------------------- both linters
RAW=$WORK/raw.tsv
: > "$RAW"
for f in "$CORPUS"/*.sql; do
    name=$(basename "$f" .sql)
    truth=$(sed -n 's/^-- truth: *//p' "$f" | head -1)
    "$SQUAWK" --reporter json --pg-version 15 "$f" > "$WORK/$name.squawk.json" 2> "$WORK/$name.squawk.err"
    rc=$?
    (( rc <= 1 )) || { cat "$WORK/$name.squawk.err"; die "squawk failed on $f"; }
    echo "SELECT severity, code FROM migr_lint(:'script')" |
        as_pg "${PSQL[@]}" -d postgres -At -F $'\t' -v script="$(cat "$f")" > "$WORK/$name.migr.tsv" 2>&1 \
        || { cat "$WORK/$name.migr.tsv"; die "migr_lint failed on $f"; }
    printf '%s\t%s\n' "$name" "$truth" >> "$RAW"
done

/usr/bin/python3 - "$WORK" "$RAW" "$("$SQUAWK" --version)" <<'EOF'
import json, sys, collections
work, raw, squawk_version = sys.argv[1], sys.argv[2], sys.argv[3]
STYLE = ('prefer-', 'ban-char-field')
TIMEOUTS = ('require-timeout-settings', 'require-lock-timeout', 'require-statement-timeout')

cases = [line.rstrip('\n').split('\t') for line in open(raw)]
rows = []
for name, truth in cases:
    sq = json.load(open(f'{work}/{name}.squawk.json'))
    sq_rules = sorted({v['rule_name'] for v in sq})
    sq_flag = sorted(r for r in sq_rules if not r.startswith(STYLE) and r not in TIMEOUTS)
    migr = [l.split('\t') for l in open(f'{work}/{name}.migr.tsv').read().splitlines() if l]
    mg_flag = sorted({c for s, c in migr if s in ('warning', 'error')})
    mg_info = sorted({c for s, c in migr if s in ('info', 'allowed')} - set(mg_flag))
    rows.append((name, truth, sq_flag, sq_rules, mg_flag, mg_info))

def verdict(truth, flagged):
    if truth == 'hazard':
        return 'caught' if flagged else 'MISSED'
    return 'FALSE ALARM' if flagged else 'quiet'

print(f'migr_lint() against {squawk_version}, {len(rows)} migrations '
      f'({sum(r[1] == "hazard" for r in rows)} hazards, {sum(r[1] == "safe" for r in rows)} safe)')
print()
print('| file | truth | squawk | migr | squawk flags | migr flags (info) |')
print('|---|---|---|---|---|---|')
for name, truth, sqf, sqr, mgf, mgi in rows:
    print(f'| {name} | {truth} | {verdict(truth, sqf)} | {verdict(truth, mgf)} | '
          f'{", ".join(sqf) or "-"} | {", ".join(mgf) or "-"}'
          f'{" (" + ", ".join(mgi) + ")" if mgi else ""} |')
print()

def per_rule(index):
    d = collections.defaultdict(lambda: [[], []])
    for r in rows:
        for rule in r[index]:
            d[rule][0 if r[1] == 'hazard' else 1].append(r[0])
    return d
for title, index in (('squawk rules (style and timeout rules left out)', 2), ('migr codes (warning and above)', 4)):
    print(f'{title}:')
    print('| rule | hazards flagged | safe files flagged |')
    print('|---|---|---|')
    for rule, (tp, fp) in sorted(per_rule(index).items()):
        print(f'| {rule} | {len(tp)} | {len(fp)}{": " + ", ".join(fp) if fp else ""} |')
    print()
ignored = collections.Counter(r for row in rows for r in row[3] if r not in row[2])
print('squawk rules not counted: ' + ', '.join(f'{r} ({n})' for r, n in sorted(ignored.items())))
print()
print('| | hazards caught | false alarms |')
print('|---|---|---|')
nh = sum(r[1] == 'hazard' for r in rows)
ns = len(rows) - nh
for tool, i in (('squawk', 2), ('migr', 4)):
    caught = sum(1 for r in rows if r[1] == 'hazard' and r[i])
    fa = sum(1 for r in rows if r[1] == 'safe' and r[i])
    print(f'| {tool} | {caught} of {nh} | {fa} of {ns} |')
missed = [r[0] for r in rows if r[1] == 'hazard' and r[2] and not r[4]]
print()
print('hazards squawk catches and migr misses: ' + (', '.join(missed) or 'none'))
EOF

#!/usr/bin/python3
#
# Copyright (c) 2026, migr developers
#
# Differential test of migr's revision graph against Alembic's RevisionMap
# (Debian's python3-alembic is the reference, README, "Targets").
#
# Random graphs, from a fixed seed: several roots, merges, branch labels,
# depends_on across branches, across separate roots and onto branch labels,
# several heads.  Each graph is defined in migr inside one transaction
# (rolled back at the end, so nothing is left behind) and built in memory
# on Alembic's side, and both are asked the same questions:
#
#   heads; label and label@head targets; the upgrade and downgrade sets for
#   every target from many states (ids, labels, heads, +N/-N, id+N, id-N,
#   base), and that migr's order is topological; current (alembic_version)
#   after each upgrade and downgrade, run for real in migr and replayed
#   through Alembic's HeadMaintainer; history ranges X:Y.
#
# Where migr deliberately refuses what Alembic allows, or answers where
# Alembic refuses, the disagreement is counted under the name of that
# difference (DELIBERATE below) and not as a failure.  The last line is
#   "questions N, disagreements N, deliberate name=N ..."
# and the exit status is 1 when there is any disagreement.
#
# Usage: graph_alembic.py --host H --port P [--dbname D] [--user U]
#            [--seed S] [--rounds N] [--round K] [--size R] [--verbose]
#        MIGR_GRAPH_ROUNDS=N overrides --rounds; --round K runs round K alone.

import argparse
import collections
import os
import random
import sys
import warnings

import psycopg2

from alembic.runtime.migration import HeadMaintainer, MigrationStep
from alembic.script.revision import Revision, RevisionMap

# Where migr and Alembic differ on purpose (README, "Coming from Alembic").
DELIBERATE = {
    "minus_n_from_several_current":
        "-N with several current revisions: Alembic warns and counts from "
        "the first row of alembic_version; migr refuses (ambiguous)",
    "downgrade_nothing_to_drop":
        "downgrade to an applied revision that is not current and has "
        "nothing applied above it: Alembic raises 'Nothing to drop'; migr "
        "plans nothing",
    "downgrade_several_targets":
        "downgrade to a target naming several revisions (heads): Alembic "
        "refuses; migr keeps them all and reverts what lies above them",
    "upgrade_minus_n":
        "upgrade to -N: Alembic refuses; migr counts down from current and "
        "plans nothing, as everything below current is applied",
    "upgrade_to_base":
        "upgrade to base: Alembic does nothing; migr refuses, base is a "
        "downgrade and stamp target only",
    "downgrade_to_label_head":
        "downgrade to label@head: Alembic ignores the label and takes "
        "'head', which fails with several heads; migr takes the branch's "
        "head",
    "alembic_version_redundant_row":
        "current after a move: Alembic's HeadMaintainer leaves a row in "
        "alembic_version that another row needs (through depends_on); "
        "migr's current is the same set without it",
    "alembic_internal_error":
        "Alembic fails inside HeadMaintainer or its topological sort "
        "(KeyError, AssertionError) on merges whose parents are related "
        "through depends_on; migr answers",
    "history_not_ancestor":
        "history X:Y where X is not below Y: Alembic raises; migr lists "
        "nothing",
}


class Rev(Revision):
    """A revision with the no-op module RevisionStep expects."""

    class module:
        @staticmethod
        def upgrade():
            pass

        @staticmethod
        def downgrade():
            pass


class Versions(HeadMaintainer):
    """alembic_version kept in memory: the rows HeadMaintainer writes."""

    def __init__(self, heads):
        self.heads = set(heads)

    def _insert_version(self, version):
        assert version not in self.heads
        self.heads.add(version)

    def _delete_version(self, version):
        self.heads.remove(version)

    def _update_version(self, from_, to_):
        assert to_ not in self.heads
        self.heads.remove(from_)
        self.heads.add(to_)


class AlembicError(Exception):
    pass


def alembic_call(fn):
    """Alembic's answer, or AlembicError with its message."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fn()
    except Exception as e:  # RevisionError, AssertionError, KeyError...
        raise AlembicError("%s: %s" % (type(e).__name__, e))


def alembic_upgrade(rmap, target, heads):
    """The revisions Script._upgrade_revs runs."""
    revs, _ = rmap._collect_upgrade_revisions(
        target, tuple(heads), inclusive=False, implicit_base=True,
        assert_relative_length=True)
    return {r.revision for r in revs}


def alembic_downgrade(rmap, target, heads):
    """The revisions Script._downgrade_revs runs."""
    revs, _ = rmap._collect_downgrade_revisions(
        tuple(heads), target, inclusive=False, implicit_base=False,
        assert_relative_length=True)
    return {r.revision for r in revs}


def alembic_versions(rmap, target, heads, direction):
    """alembic_version after the steps Script._upgrade_revs or
    _downgrade_revs gives, in its order, through HeadMaintainer."""
    versions = Versions(heads)
    if direction == "upgrade":
        revs = list(rmap.iterate_revisions(target, tuple(heads),
                                           implicit_base=True))
        for r in reversed(revs):
            versions.update_to_step(MigrationStep.upgrade_from_script(rmap, r))
    else:
        revs = rmap.iterate_revisions(tuple(heads), target,
                                      select_for_downgrade=True)
        for r in revs:
            versions.update_to_step(
                MigrationStep.downgrade_from_script(rmap, r))
    return versions.heads


def alembic_history(rmap, lower, upper):
    """The revisions ScriptDirectory.walk_revisions gives, as alembic
    history -r lower:upper (the set, without its topological sort, which
    fails on some graphs)."""
    revs, _ = rmap._collect_upgrade_revisions(
        upper or "heads", lower or "base", inclusive=True,
        implicit_base=False, assert_relative_length=False)
    return {r.revision for r in revs}


def generate(rng, rnd, size):
    """A random graph of 4 to size revisions: list of (id, parents,
    depends_on, labels)."""
    n = rng.randint(4, size)
    graph = []
    label_of = {}
    for i in range(n):
        rid = "r%03dx%02d" % (rnd, i)
        if i == 0 or rng.random() < 0.15:
            parents = []
        elif i >= 2 and rng.random() < 0.2:
            parents = rng.sample(range(i), 2)
        else:
            parents = [rng.randrange(max(0, i - 4), i)]
        deps = []
        if i >= 1 and rng.random() < 0.35:
            for d in rng.sample(range(i), min(i, rng.randint(1, 2))):
                if d in parents:
                    continue
                # onto the label, as Alembic allows, half of the time
                if d in label_of and rng.random() < 0.5:
                    deps.append(label_of[d])
                else:
                    deps.append(graph[d][0])
        labels = []
        if rng.random() < 0.25:
            labels = ["b%03dl%02d" % (rnd, i)]
            label_of[i] = labels[0]
        graph.append((rid, [graph[p][0] for p in parents], deps, labels))
    return graph


class Differ:
    def __init__(self, conn, verbose):
        self.conn = conn
        self.cur = conn.cursor()
        self.verbose = verbose
        self.questions = 0
        self.failures = []
        self.deliberate = collections.Counter()

    # migr's side, inside the round's transaction

    def q(self, sql, args=()):
        """Rows of a query, or the error message (rolled back to a
        savepoint, so the transaction goes on)."""
        self.cur.execute("SAVEPOINT q")
        try:
            self.cur.execute(sql, args)
            rows = self.cur.fetchall() if self.cur.description else []
            self.cur.execute("RELEASE SAVEPOINT q")
            return rows, None
        except psycopg2.Error as e:
            self.cur.execute("ROLLBACK TO SAVEPOINT q")
            return None, (e.pgerror or str(e)).strip().splitlines()[0]

    def plan(self, target, direction):
        rows, err = self.q("SELECT revision FROM migr_plan(%s, %s) "
                           "ORDER BY step", (target, direction))
        if err:
            return None, err
        order = []
        for (r,) in rows:
            if r not in order:
                order.append(r)
        return order, None

    def current(self):
        rows, err = self.q("SELECT revision FROM migr_current()")
        assert err is None, err
        return {r for (r,) in rows}

    # comparing

    def record(self, what, mine, theirs, deliberate=None):
        self.questions += 1
        if mine == theirs:
            return
        if deliberate:
            self.deliberate[deliberate] += 1
            if self.verbose:
                print("deliberate %s: %s: migr %s, alembic %s"
                      % (deliberate, what, mine, theirs))
            return
        self.failures.append("%s: migr %s, alembic %s" % (what, mine, theirs))

    # one graph

    def run_graph(self, graph, rng, rnd):
        revs = [Rev(rid, tuple(p) if len(p) > 1 else (p[0] if p else None),
                    dependencies=tuple(d) if d else None,
                    branch_labels=tuple(lab) if lab else None)
                for rid, p, d, lab in graph]
        rmap = RevisionMap(lambda: revs)
        # build the map now: a graph Alembic refuses is skipped
        alembic_call(lambda: rmap.heads)
        ids = [g[0] for g in graph]
        labels = [lab for g in graph for lab in g[3]]
        byid = {r.revision: r for r in revs}

        self.cur.execute("BEGIN")
        try:
            for rid, parents, deps, lab in graph:
                self.cur.execute(
                    "SELECT migr_define(%s, %s, %s, %s, %s, %s, %s)",
                    (rid, parents, "CREATE TABLE t_%s (i int)" % rid,
                     "DROP TABLE t_%s" % rid, "round %d" % rnd, lab, deps))
            self.ask_graph(rmap, ids, labels, byid, rng, rnd)
        finally:
            self.cur.execute("ROLLBACK")

    def needs(self, byid, rid):
        """Parents and resolved dependencies of a revision."""
        r = byid[rid]
        return set(r._versioned_down_revisions) | set(r._resolved_dependencies)

    def check_topological(self, what, order, byid, downgrade):
        seq = list(reversed(order)) if downgrade else order
        pos = {r: i for i, r in enumerate(seq)}
        for r in seq:
            for n in self.needs(byid, r):
                if n in pos and pos[n] > pos[r]:
                    self.failures.append("%s: order %s is not topological "
                                         "(%s before %s)" % (what, order, r, n))
                    return

    def ask_graph(self, rmap, ids, labels, byid, rng, rnd):
        tag = "round %d" % rnd
        rows, _ = self.q("SELECT revision FROM migr_heads()")
        self.record("%s heads" % tag, sorted(r for (r,) in rows),
                    sorted(rmap.heads))

        for lab in labels:
            for t in (lab, lab + "@head"):
                mine = self.resolve(t)
                try:
                    theirs = sorted(r.revision for r in alembic_call(
                        lambda: rmap.get_revisions(t)))
                except AlembicError as e:
                    theirs = "error"
                self.record("%s target %s" % (tag, t), mine, theirs)

        # states: base, upgraded to each revision, and some upgrades in a row
        states = [set()]
        for rid in ids:
            states.append(self.alembic_state(rmap, set(), [rid]))
        for _ in range(len(ids)):
            states.append(self.alembic_state(
                rmap, set(), rng.sample(ids, min(len(ids), 2))))
        seen = []
        for s in states:
            if s is not None and s not in seen:
                seen.append(s)

        targets = ids + labels + [lab + "@head" for lab in labels] + \
            ["heads", "+1", "+2", "-1", "-2"] + \
            ["%s%s" % (rid, step) for rid in ids for step in ("+1", "-1", "-2")]
        for heads in seen:
            self.ask_state(rmap, heads, targets, byid, tag)

        ends = [""] + ids + labels[:2]
        for lower in ends:
            for upper in [""] + ids:
                self.ask_history(rmap, lower, upper, tag)

    def resolve(self, target):
        rows, err = self.q("SELECT revision FROM migr_show(%s)", (target,))
        return "error" if err else sorted(r for (r,) in rows)

    def alembic_state(self, rmap, heads, targets):
        """alembic_version after upgrading to each target in turn."""
        try:
            for t in targets:
                heads = alembic_call(
                    lambda: alembic_versions(rmap, t, heads, "upgrade"))
            return heads
        except AlembicError:
            return None

    def reach(self, heads):
        """Make migr's applied set what Alembic's heads imply."""
        for sql, arg in [("SELECT count(*) FROM migr_downgrade(%s)", "base")] + \
                [("SELECT count(*) FROM migr_upgrade(%s)", h)
                 for h in sorted(heads)]:
            _, err = self.q(sql, (arg,))
            if err:
                self.failures.append("cannot reach %s: %s" % (heads, err))

    def ask_state(self, rmap, heads, targets, byid, tag):
        self.reach(heads)
        state = "%s from %s" % (tag, sorted(heads) or "base")
        self.record("%s: current" % state, self.current(), heads)

        for t in targets + ["base"]:
            for direction in ("upgrade", "downgrade"):
                self.ask_move(rmap, heads, t, direction, byid, state)

    def ask_move(self, rmap, heads, t, direction, byid, state):
        what = "%s: %s to %s" % (state, direction, t)
        order, err = self.plan(t, direction)
        fn = alembic_upgrade if direction == "upgrade" else alembic_downgrade
        try:
            theirs = alembic_call(lambda: fn(rmap, t, heads))
            alembic_err = None
        except AlembicError as e:
            theirs, alembic_err = None, str(e)

        if err and alembic_err:
            self.questions += 1
            return
        mine = "error (%s)" % err if err else sorted(order)
        them = "error (%s)" % alembic_err if alembic_err else sorted(theirs)
        self.record(what, mine, them,
                    self.classify(rmap, heads, t, direction, order, err,
                                  alembic_err))
        if err or alembic_err:
            return
        self.check_topological(what, order, byid, direction == "downgrade")

        # run it for real, then compare current with alembic_version
        self.cur.execute("SAVEPOINT move")
        rows, err = self.q("SELECT revision FROM migr_%s(%%s)" % direction,
                           (t,))
        if err:
            self.failures.append("%s: planned %s, but failed: %s"
                                 % (what, order, err))
        else:
            done = []
            for (r,) in rows:
                if r not in done:
                    done.append(r)
            if done != order:
                self.failures.append("%s: planned %s, ran %s"
                                     % (what, order, done))
            self.ask_current(rmap, heads, t, direction, byid, what)
        self.cur.execute("ROLLBACK TO SAVEPOINT move")

    def ask_current(self, rmap, heads, t, direction, byid, what):
        mine = self.current()
        try:
            theirs = alembic_call(
                lambda: alembic_versions(rmap, t, heads, direction))
        except AlembicError as e:
            self.record("%s: current after" % what, mine,
                        "error (%s)" % e, "alembic_internal_error")
            return
        deliberate = None
        if mine == self.minimal(rmap, theirs):
            deliberate = "alembic_version_redundant_row"
        self.record("%s: current after" % what, mine, theirs, deliberate)

    def minimal(self, rmap, heads):
        """heads without those another one needs (parents or depends_on)."""
        below = set()
        for r in rmap._get_ancestor_nodes(rmap.get_revisions(tuple(heads))):
            if r.revision not in heads or any(
                    r.revision in self.ancestors(rmap, h)
                    for h in heads if h != r.revision):
                below.add(r.revision)
        return set(heads) - below

    def ancestors(self, rmap, rid):
        return {r.revision for r in rmap._get_ancestor_nodes(
            [rmap.get_revision(rid)])} - {rid}

    def classify(self, rmap, heads, t, direction, order, err, alembic_err):
        """The name of a deliberate difference that explains a disagreement
        on this question, if any."""
        relative = t[0] in "+-"
        if relative and t[0] == "-" and len(heads) > 1 and err:
            return "minus_n_from_several_current"
        if direction == "upgrade":
            if relative and t[0] == "-" and alembic_err and order == []:
                return "upgrade_minus_n"
            if t == "base" and err and not alembic_err:
                return "upgrade_to_base"
        if direction == "downgrade" and alembic_err and not err:
            if "Nothing to drop" in alembic_err and order == []:
                return "downgrade_nothing_to_drop"
            if t == "heads" and len(rmap.heads) > 1:
                return "downgrade_several_targets"
            if t.endswith("@head") and "MultipleHeads" in alembic_err:
                return "downgrade_to_label_head"
        return None

    def ask_history(self, rmap, lower, upper, tag):
        rng_text = "%s:%s" % (lower, upper)
        rows, err = self.q("SELECT revision FROM migr_history(%s)",
                           (rng_text,))
        mine = "error (%s)" % err if err else sorted(r for (r,) in rows)
        try:
            theirs = sorted(alembic_call(
                lambda: alembic_history(rmap, lower, upper)))
            alembic_err = None
        except AlembicError as e:
            theirs, alembic_err = "error (%s)" % e, str(e)
        deliberate = None
        if alembic_err and "RangeNotAncestorError" in alembic_err and \
                mine == []:
            deliberate = "history_not_ancestor"
        if err and alembic_err:
            self.questions += 1
            return
        self.record("%s: history %s" % (tag, rng_text), mine, theirs,
                    deliberate)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default=os.environ.get("PGHOST"))
    ap.add_argument("--port", default=os.environ.get("PGPORT", "5432"))
    ap.add_argument("--dbname", default="postgres")
    ap.add_argument("--user", default=os.environ.get("PGUSER"))
    ap.add_argument("--seed", type=int, default=20261201)
    ap.add_argument("--rounds", type=int, default=12)
    ap.add_argument("--round", type=int, help="run only this round")
    ap.add_argument("--size", type=int, default=13,
                    help="largest graph, in revisions")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    rounds = int(os.environ.get("MIGR_GRAPH_ROUNDS", args.rounds))

    conn = psycopg2.connect(host=args.host, port=args.port,
                            dbname=args.dbname, user=args.user)
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute("SET client_min_messages = warning")
    # the rounds define and roll back their own graphs: any other revision
    # would show in every answer
    cur.execute("SELECT count(*) FROM migr.revision")
    if cur.fetchone()[0] != 0:
        print("the database already has revisions; run on an empty migr")
        return 2
    differ = Differ(conn, args.verbose)
    skipped = 0
    for rnd in range(rounds):
        if args.round is not None and rnd != args.round:
            continue
        # one generator per round, so that a round can be run alone
        rng = random.Random("%d-%d" % (args.seed, rnd))
        graph = generate(rng, rnd, args.size)
        before = len(differ.failures)
        try:
            differ.run_graph(graph, rng, rnd)
        except AlembicError:
            skipped += 1
        if len(differ.failures) > before or args.verbose:
            print("graph of round %d (id, down_revision, depends_on, "
                  "branch_labels):" % rnd)
            for g in graph:
                print("    %s %s %s %s" % g)

    for f in differ.failures:
        print("DISAGREE " + f)
    for name, count in sorted(differ.deliberate.items()):
        print("deliberate %s (%d): %s" % (name, count, DELIBERATE[name]))
    print("graphs %d (skipped %d), questions %d, disagreements %d, "
          "deliberate %s" % (rounds, skipped, differ.questions,
                             len(differ.failures),
                             " ".join("%s=%d" % kv for kv in
                                      sorted(differ.deliberate.items()))
                             or "none"))
    return 1 if differ.failures else 0


if __name__ == "__main__":
    sys.exit(main())

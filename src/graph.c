/*-------------------------------------------------------------------------
 *
 * graph.c
 *	  The revision graph: linking, ancestors and descendants, the order in
 *	  which revisions are applied and reverted, heads and cycles.
 *
 * Revisions are kept in definition order, so a revision's index is its
 * rank in that order.  Orders are computed with Kahn's algorithm over the
 * revisions concerned, taking the earliest-defined ready revision first:
 * parents and dependencies always come before their children, and ties are
 * broken the same way on every run.  Downgrades use the exact reverse of
 * the order an upgrade over the same revisions would use.  Which revisions
 * an upgrade or a downgrade takes is what Alembic's RevisionMap takes on
 * the same graph (test/graph_alembic.py compares the two).
 *
 * The applied set is always closed under ancestors (upgrade applies
 * parents first, downgrade reverts children first, stamp marks a target
 * with all its ancestors), which lets the walks stop early: nothing above
 * an applied revision is pending, nothing below an unapplied one is
 * applied.
 *
 * Copyright (c) 2026, migr developers
 *
 * IDENTIFICATION
 *	  src/graph.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/hashfn.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"

#include "migr.h"

/* id -> index, in a simplehash table (open addressing, no per-entry palloc) */
typedef struct GraphEntry
{
	const char *id;
	uint32		hash;
	int			idx;
	char		status;
} GraphEntry;

#define SH_PREFIX		graphhash
#define SH_ELEMENT_TYPE	GraphEntry
#define SH_KEY_TYPE		const char *
#define SH_KEY			id
#define SH_HASH_KEY(tb, key)	hash_bytes((const unsigned char *) (key), strlen(key))
#define SH_EQUAL(tb, a, b)		(strcmp(a, b) == 0)
#define SH_STORE_HASH
#define SH_GET_HASH(tb, a)		((a)->hash)
#define SH_SCOPE		static inline
#define SH_DECLARE
#define SH_DEFINE
#include "lib/simplehash.h"

typedef enum GraphWalk
{
	WALK_UP,					/* towards parents (and dependencies) */
	WALK_DOWN					/* towards children (and dependents) */
} GraphWalk;

static int *graph_kahn(MigrGraph *g, bool *in, int count, int *n);
static bool *graph_walk(MigrGraph *g, MigrTarget *t, GraphWalk dir,
						bool with_deps, bool inclusive, int stop_state);
static void graph_report_cycle(MigrGraph *g, bool *in, int *order, int n);

/*
 * graph_link
 *		Index revisions by id and resolve parents, dependencies, children
 *		and dependents to indexes.
 */
void
graph_link(MigrGraph *g)
{
	graphhash_hash *hash;
	graphhash_hash *labels;
	int		   *nkids = palloc0(sizeof(int) * Max(g->nrevs, 1));
	int		   *ndeps = palloc0(sizeof(int) * Max(g->nrevs, 1));
	int		   *pool;
	int			nedges = 0;
	int			i,
				j;

	hash = graphhash_create(CurrentMemoryContext, Max(g->nrevs, 16), NULL);
	g->byid = hash;
	labels = graphhash_create(CurrentMemoryContext, 16, NULL);
	g->bylabel = labels;
	for (i = 0; i < g->nrevs; i++)
	{
		GraphEntry *e;
		bool		found;

		CHECK_FOR_INTERRUPTS();
		e = graphhash_insert(hash, g->revs[i].id, &found);
		e->idx = i;
		for (j = 0; j < g->revs[i].nlabels; j++)
		{
			e = graphhash_insert(labels, g->revs[i].labels[j], &found);
			if (!found)			/* labels are unique; keep the first */
				e->idx = i;
		}
		nedges += 2 * (g->revs[i].nparents + g->revs[i].ndeps);
	}

	/* every index array comes out of one pool */
	pool = palloc(sizeof(int) * Max(nedges, 1));
	for (i = 0; i < g->nrevs; i++)
	{
		MigrRev    *r = &g->revs[i];

		r->parent_idx = pool;
		pool += r->nparents;
		for (j = 0; j < r->nparents; j++)
		{
			r->parent_idx[j] = graph_find(g, r->parents[j]);
			if (r->parent_idx[j] >= 0)
				nkids[r->parent_idx[j]]++;
		}
		r->dep_idx = pool;
		pool += r->ndeps;
		for (j = 0; j < r->ndeps; j++)
		{
			/* as in Alembic, depends_on may name a branch label */
			r->dep_idx[j] = graph_find(g, r->deps[j]);
			if (r->dep_idx[j] < 0)
				r->dep_idx[j] = graph_find_label(g, r->deps[j]);
			if (r->dep_idx[j] >= 0)
				ndeps[r->dep_idx[j]]++;
		}
	}
	for (i = 0; i < g->nrevs; i++)
	{
		g->revs[i].children = pool;
		pool += nkids[i];
		g->revs[i].dependents = pool;
		pool += ndeps[i];
	}
	for (i = 0; i < g->nrevs; i++)
	{
		MigrRev    *r = &g->revs[i];

		for (j = 0; j < r->nparents; j++)
			if (r->parent_idx[j] >= 0)
			{
				MigrRev    *p = &g->revs[r->parent_idx[j]];

				p->children[p->nchildren++] = i;
			}
		for (j = 0; j < r->ndeps; j++)
			if (r->dep_idx[j] >= 0)
			{
				MigrRev    *p = &g->revs[r->dep_idx[j]];

				p->dependents[p->ndependents++] = i;
			}
	}
	pfree(nkids);
	pfree(ndeps);
}

/*
 * graph_find
 *		Index of the revision with exactly this id, or -1.
 */
int
graph_find(MigrGraph *g, const char *id)
{
	GraphEntry *e = graphhash_lookup((graphhash_hash *) g->byid, id);

	return e ? e->idx : -1;
}

/*
 * graph_find_label
 *		Index of the revision carrying this branch label, or -1.
 */
int
graph_find_label(MigrGraph *g, const char *label)
{
	GraphEntry *e = graphhash_lookup((graphhash_hash *) g->bylabel, label);

	return e ? e->idx : -1;
}

/*
 * graph_current
 *		The applied revisions that no other applied revision needs, through
 *		parents or depends_on, in definition order: what Alembic keeps in
 *		alembic_version.  A revision applied only because an applied
 *		revision depends on it is not current.
 */
List *
graph_current(MigrGraph *g)
{
	List	   *cur = NIL;
	int			i,
				j;

	for (i = 0; i < g->nrevs; i++)
	{
		MigrRev    *r = &g->revs[i];
		bool		needed = false;

		if (!r->applied)
			continue;
		for (j = 0; j < r->nchildren && !needed; j++)
			needed = g->revs[r->children[j]].applied;
		for (j = 0; j < r->ndependents && !needed; j++)
			needed = g->revs[r->dependents[j]].applied;
		if (!needed)
			cur = lappend_int(cur, i);
	}
	return cur;
}

/*
 * graph_roots
 *		Revisions without parents, in definition order: where "+1" from
 *		base goes.  Kept, since a target may step up from base many times.
 */
List *
graph_roots(MigrGraph *g)
{
	int			i;

	if (g->roots == NIL)
		for (i = 0; i < g->nrevs; i++)
			if (g->revs[i].nparents == 0)
				g->roots = lappend_int(g->roots, i);
	return g->roots;
}

/*
 * graph_kahn
 *		Topological order of the revisions marked in "in" (count of them),
 *		considering only edges between marked revisions, the earliest
 *		defined first among those ready (revtopo.c, shared with the client).
 *		Returns the order; *n is less than count when the marked revisions
 *		contain a cycle.
 */
static int *
graph_kahn(MigrGraph *g, bool *in, int count, int *n)
{
	int		   *start = palloc(sizeof(int) * (g->nrevs + 1));
	int		   *need;
	int		   *order = palloc(sizeof(int) * Max(count, 1));
	int			nneed = 0;
	int			i,
				j;

	for (i = 0; i < g->nrevs; i++)
		nneed += g->revs[i].nparents + g->revs[i].ndeps;
	need = palloc(sizeof(int) * Max(nneed, 1));
	nneed = 0;
	for (i = 0; i < g->nrevs; i++)
	{
		MigrRev    *r = &g->revs[i];

		start[i] = nneed;
		for (j = 0; j < r->nparents; j++)
			need[nneed++] = r->parent_idx[j];
		for (j = 0; j < r->ndeps; j++)
			need[nneed++] = r->dep_idx[j];
	}
	start[g->nrevs] = nneed;

	*n = revtopo_order(g->nrevs, in, start, need, order);
	pfree(start);
	pfree(need);
	return order;
}

/*
 * graph_walk
 *		Mark what is reachable from the target's revisions going up or down.
 *		The target's own revisions are marked when "inclusive".  A revision
 *		whose applied state equals stop_state (0 = unapplied, 1 = applied,
 *		-1 = never stop) is neither marked nor walked through.
 */
static bool *
graph_walk(MigrGraph *g, MigrTarget *t, GraphWalk dir, bool with_deps,
		   bool inclusive, int stop_state)
{
	bool	   *seen = palloc0(sizeof(bool) * Max(g->nrevs, 1));
	bool	   *mark = palloc0(sizeof(bool) * Max(g->nrevs, 1));
	int		   *stack = palloc(sizeof(int) * Max(g->nrevs, 1));
	int			top = 0;
	int			i,
				j;

	for (i = 0; i < t->n; i++)
	{
		int			k = t->idx[i];

		if (seen[k])
			continue;
		seen[k] = true;
		stack[top++] = k;
		if (inclusive && stop_state != (int) g->revs[k].applied)
			mark[k] = true;
	}

	while (top > 0)
	{
		MigrRev    *r = &g->revs[stack[--top]];
		int			nedges[2];
		int		   *edges[2];
		int			e;

		if (dir == WALK_UP)
		{
			nedges[0] = r->nparents;
			edges[0] = r->parent_idx;
			nedges[1] = with_deps ? r->ndeps : 0;
			edges[1] = r->dep_idx;
		}
		else
		{
			nedges[0] = r->nchildren;
			edges[0] = r->children;
			nedges[1] = with_deps ? r->ndependents : 0;
			edges[1] = r->dependents;
		}
		for (e = 0; e < 2; e++)
			for (j = 0; j < nedges[e]; j++)
			{
				int			k = edges[e][j];

				if (k < 0 || seen[k])
					continue;
				seen[k] = true;
				if (stop_state == (int) g->revs[k].applied)
					continue;
				mark[k] = true;
				stack[top++] = k;
			}
	}
	pfree(seen);
	pfree(stack);
	return mark;
}

/*
 * graph_ancestors / graph_descendants
 *		Every ancestor (descendant) of the target's revisions, through
 *		parents (children) and, if asked, dependencies (dependents).
 */
bool *
graph_ancestors(MigrGraph *g, MigrTarget *t, bool with_deps, bool inclusive)
{
	return graph_walk(g, t, WALK_UP, with_deps, inclusive, -1);
}

bool *
graph_descendants(MigrGraph *g, MigrTarget *t, bool with_deps, bool inclusive)
{
	return graph_walk(g, t, WALK_DOWN, with_deps, inclusive, -1);
}

/*
 * graph_check_defined
 *		Refuse to go through a parent or dependency that is not defined.
 */
void
graph_check_defined(MigrGraph *g, bool *in)
{
	int			i,
				j;

	for (i = 0; i < g->nrevs; i++)
	{
		MigrRev    *r = &g->revs[i];

		if (!in[i])
			continue;
		for (j = 0; j < r->nparents; j++)
			if (r->parent_idx[j] < 0)
				ereport(ERROR,
						(errcode(ERRCODE_MIGR_MISSING_REVISION),
						 errmsg("revision \"%s\" has parent \"%s\", which is not defined",
								r->id, r->parents[j]),
						 errhint("Define revision \"%s\" first, or correct the down_revision of \"%s\".",
								 r->parents[j], r->id)));
		for (j = 0; j < r->ndeps; j++)
			if (r->dep_idx[j] < 0)
				ereport(ERROR,
						(errcode(ERRCODE_MIGR_MISSING_REVISION),
						 errmsg("revision \"%s\" depends on revision \"%s\", which is not defined",
								r->id, r->deps[j]),
						 errhint("Define revision \"%s\" first, or correct the depends_on of \"%s\".",
								 r->deps[j], r->id)));
	}
}

/*
 * graph_report_cycle
 *		Raise the cycle error for revisions Kahn's algorithm could not order.
 */
static void
graph_report_cycle(MigrGraph *g, bool *in, int *order, int n)
{
	bool	   *done = palloc0(sizeof(bool) * Max(g->nrevs, 1));
	List	   *members = NIL;
	int			i;

	for (i = 0; i < n; i++)
		done[order[i]] = true;
	for (i = 0; i < g->nrevs; i++)
		if (in[i] && !done[i])
		{
			members = graph_find_cycle(g, i);
			if (members != NIL)
				break;
		}
	ereport(ERROR,
			(errcode(ERRCODE_MIGR_CYCLE),
			 errmsg("the revision graph has a cycle"),
			 errdetail("These revisions are their own ancestors: %s.",
					   graph_id_list(g, members)),
			 errhint("Correct the down_revision or depends_on of one of them; migr_check() lists every cycle.")));
}

/*
 * graph_upgrade_order
 *		What an upgrade to the target applies, in order: every unapplied
 *		ancestor of the target's revisions, and those revisions themselves.
 */
int *
graph_upgrade_order(MigrGraph *g, MigrTarget *t, int *n)
{
	bool	   *in;
	int		   *order;
	int			count = 0;
	int			i;

	*n = 0;
	if (t->base)
		return NULL;
	in = graph_walk(g, t, WALK_UP, true, true, 1);
	for (i = 0; i < g->nrevs; i++)
		count += in[i];
	graph_check_defined(g, in);
	order = graph_kahn(g, in, count, n);
	if (*n < count)
		graph_report_cycle(g, in, order, *n);
	pfree(in);
	return order;
}

/*
 * graph_downgrade_set
 *		What a downgrade to the target reverts, as Alembic's
 *		_collect_downgrade_revisions: the applied revisions among the
 *		target's children (through parents only) and everything below them
 *		through children and dependents.  A revision that depends on the
 *		target itself is not reached, so it stays applied with the target.
 *		For "-N" from current only the child on the line walked is taken
 *		(for base, the root the walk left from).
 */
static bool *
graph_downgrade_set(MigrGraph *g, MigrTarget *t)
{
	MigrTarget	roots;
	bool	   *in;
	int			nroots = 0;
	int			i,
				j;

	for (i = 0; i < t->n; i++)
		nroots += g->revs[t->idx[i]].nchildren;
	memset(&roots, 0, sizeof(roots));
	roots.idx = palloc(sizeof(int) * Max(nroots, 1));
	if (t->down_line)
		roots.idx[roots.n++] = t->line_child;	/* only the line walked */
	else
		for (i = 0; i < t->n; i++)
		{
			MigrRev    *r = &g->revs[t->idx[i]];

			for (j = 0; j < r->nchildren; j++)
				roots.idx[roots.n++] = r->children[j];
		}

	/* nothing below an unapplied revision is applied: stop there */
	in = graph_walk(g, &roots, WALK_DOWN, true, true, 0);
	pfree(roots.idx);

	for (i = 0; i < t->n; i++)
		if (in[t->idx[i]])
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("cannot downgrade to revision \"%s\" and keep it applied",
							g->revs[t->idx[i]].id),
					 errdetail("It lies above another revision of the target, so reaching that one reverts it."),
					 errhint("Give a single revision as the target.")));
	return in;
}

/*
 * graph_downgrade_order
 *		What a downgrade to the target reverts, in order (see
 *		graph_downgrade_set), or every applied revision for base; the
 *		reverse of the upgrade order.
 */
int *
graph_downgrade_order(MigrGraph *g, MigrTarget *t, int *n)
{
	bool	   *in;
	int		   *order;
	int			count = 0;
	int			i;

	if (t->base && !t->down_line)
	{
		in = palloc0(sizeof(bool) * Max(g->nrevs, 1));
		for (i = 0; i < g->nrevs; i++)
			in[i] = g->revs[i].applied;
	}
	else
		in = graph_downgrade_set(g, t);
	for (i = 0; i < g->nrevs; i++)
		count += in[i];
	order = graph_kahn(g, in, count, n);
	if (*n < count)
		graph_report_cycle(g, in, order, *n);
	pfree(in);

	/* reverse */
	for (i = 0; i < *n / 2; i++)
	{
		int			tmp = order[i];

		order[i] = order[*n - 1 - i];
		order[*n - 1 - i] = tmp;
	}
	return order;
}

/*
 * graph_topo_all
 *		Every revision in topological order, roots first.  Revisions caught
 *		in a cycle cannot be ordered; they follow in definition order and
 *		*cyclic is set.
 */
int *
graph_topo_all(MigrGraph *g, int *n, bool *cyclic)
{
	bool	   *in = palloc(sizeof(bool) * Max(g->nrevs, 1));
	bool	   *done;
	int		   *order;
	int			i;

	memset(in, true, sizeof(bool) * Max(g->nrevs, 1));
	order = graph_kahn(g, in, g->nrevs, n);
	*cyclic = (*n < g->nrevs);
	if (*cyclic)
	{
		done = palloc0(sizeof(bool) * g->nrevs);
		for (i = 0; i < *n; i++)
			done[order[i]] = true;
		for (i = 0; i < g->nrevs; i++)
			if (!done[i])
				order[(*n)++] = i;
		pfree(done);
	}
	pfree(in);
	return order;
}

/*
 * graph_heads
 *		Revisions that are no other revision's parent, in definition order.
 */
List *
graph_heads(MigrGraph *g)
{
	List	   *heads = NIL;
	int			i;

	for (i = 0; i < g->nrevs; i++)
		if (g->revs[i].nchildren == 0)
			heads = lappend_int(heads, i);
	return heads;
}

/*
 * graph_find_cycle
 *		A cycle through parents and dependencies reachable from start, as a
 *		list of indexes in order, or NIL.  Iterative depth-first search, so
 *		that a long history cannot exhaust the stack.
 */
List *
graph_find_cycle(MigrGraph *g, int start)
{
	char	   *color = palloc0(Max(g->nrevs, 1));	/* 0 new, 1 open, 2 done */
	int		   *stack = palloc(sizeof(int) * Max(g->nrevs, 1));
	int		   *edge = palloc0(sizeof(int) * Max(g->nrevs, 1));
	List	   *cycle = NIL;
	int			top = 0;

	stack[top++] = start;
	color[start] = 1;
	while (top > 0 && cycle == NIL)
	{
		int			v = stack[top - 1];
		MigrRev    *r = &g->revs[v];
		int			e = edge[v]++;
		int			w;

		if (e >= r->nparents + r->ndeps)
		{
			color[v] = 2;
			top--;
			continue;
		}
		w = (e < r->nparents) ? r->parent_idx[e] : r->dep_idx[e - r->nparents];
		if (w < 0 || color[w] == 2)
			continue;
		if (color[w] == 1)
		{
			int			k = top - 1;

			/* the cycle is the part of the stack from w up to v */
			while (k >= 0 && stack[k] != w)
				k--;
			for (; k < top; k++)
				cycle = lappend_int(cycle, stack[k]);
			break;
		}
		color[w] = 1;
		stack[top++] = w;
	}
	pfree(color);
	pfree(stack);
	pfree(edge);
	return cycle;
}

/*
 * graph_id_list
 *		"a", "b", "c" — for messages.
 */
char *
graph_id_list(MigrGraph *g, List *idxs)
{
	StringInfoData buf;
	ListCell   *lc;

	initStringInfo(&buf);
	foreach(lc, idxs)
		appendStringInfo(&buf, "%s\"%s\"", buf.len > 0 ? ", " : "",
						 g->revs[lfirst_int(lc)].id);
	return buf.data;
}

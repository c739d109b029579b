/*-------------------------------------------------------------------------
 *
 * target.c
 *	  Revision ids, branch labels and the targets that name revisions:
 *	  head, heads, base, current, ids and unique prefixes, labels,
 *	  label@head, and steps (+N, -N, target+N, target-N).
 *
 * Resolution tries, in this order: the reserved words, an exact id,
 * label@head, an exact label, a relative step, a unique id prefix.  So an
 * id that happens to look like "abc-1" is always that revision.
 *
 * Copyright (c) 2026, migr developers
 *
 * IDENTIFICATION
 *	  src/target.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>

#include "lib/stringinfo.h"
#include "miscadmin.h"

#include "migr.h"

static MigrTarget *target_make(int n);
static MigrTarget *target_make_base(void);
static MigrTarget *target_try(MigrGraph *g, const char *target);
static MigrTarget *target_name(MigrGraph *g, const char *target, int len);
static int	target_step_start(const char *target, int len);
static MigrTarget *target_label_head(MigrGraph *g, const char *label,
									 const char *target);
static MigrTarget *target_current(MigrGraph *g, const char *target);
static char *target_from_name(const char *target, int fromlen);
static MigrTarget *target_step(MigrGraph *g, MigrTarget *from,
							   const char *target, int fromlen, int steps);
static MigrTarget *target_prefix(MigrGraph *g, const char *target, int len);

/*
 * target_check_name
 *		Enforce the id and label syntax (src/common/revname.c, shared with
 *		the client): 1-64 characters of [A-Za-z0-9_.-], not starting with
 *		"+" or "-", not a reserved word.
 */
void
target_check_name(const char *name, const char *what)
{
	RevNameProblem problem = revname_check(name);

	if (problem == REVNAME_OK)
		return;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid %s \"%s\"", what, name),
			 problem == REVNAME_LENGTH ?
			 errdetail("A %s must be 1 to %d characters long.", what,
					   MIGR_ID_MAXLEN) :
			 problem == REVNAME_CHARS ?
			 errdetail("A %s may only contain letters, digits, \"_\", \".\" and \"-\".",
					   what) :
			 problem == REVNAME_SIGN ?
			 errdetail("A %s cannot start with \"+\" or \"-\", which denote relative steps.",
					   what) :
			 errdetail("\"%s\" is a reserved word of migr's targets.",
					   name)));
}

static MigrTarget *
target_make(int n)
{
	MigrTarget *t = palloc0(sizeof(MigrTarget));

	t->n = n;
	t->idx = palloc(sizeof(int) * Max(n, 1));
	return t;
}

static MigrTarget *
target_make_base(void)
{
	MigrTarget *t = target_make(0);

	t->base = true;
	return t;
}

/*
 * target_resolve
 *		The revisions a target names.  Errors name what is wrong and how to
 *		fix it; nothing here changes any state.
 */
MigrTarget *
target_resolve(MigrGraph *g, const char *target)
{
	MigrTarget *t;

	if (target[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("target must not be empty"),
				 errhint("Give \"head\", \"heads\", \"base\", a revision id, a branch label or a relative step such as \"-1\".")));

	t = target_try(g, target);
	if (t != NULL)
		return t;

	ereport(ERROR,
			(errcode(ERRCODE_UNDEFINED_OBJECT),
			 errmsg("revision \"%s\" does not exist", target),
			 errhint("A target is \"head\", \"heads\", \"base\", \"current\", a revision id or a unique prefix of one, a branch label, \"label@head\", or one of these followed by +N or -N. migr_history() lists the revisions.")));
	return NULL;				/* keep compiler quiet */
}

/*
 * target_try
 *		Resolve, or return NULL if the text names nothing.
 *
 * A target is a base followed by any number of steps, as in "x-1+2".
 * Since an id may itself end in "-1", the whole text is tried as a name
 * first, then the text without its last step, and so on; the first base
 * that names something is the start, and the steps after it are walked
 * in order.  Each try looks at no more than an id's length, and the steps
 * are found in one pass from the right, so the cost is linear in the
 * length of the text, however many steps it has.
 */
static MigrTarget *
target_try(MigrGraph *g, const char *target)
{
	int			len = strlen(target);
	int		   *cuts = NULL;	/* where each step starts, right to left */
	int			ncuts = 0;
	int			p = len;
	MigrTarget *t;
	int			i;

	for (;;)
	{
		int			sign;

		CHECK_FOR_INTERRUPTS();
		t = target_name(g, target, p);
		if (t != NULL)
			break;
		sign = target_step_start(target, p);
		if (sign < 0)
		{
			t = target_prefix(g, target, p);
			if (t != NULL)
				break;
			if (ncuts == 0)
				return NULL;
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("revision \"%.*s\" does not exist", p, target),
					 errdetail("Target \"%s\" counts steps from \"%.*s\".",
							   target, p, target)));
		}
		if (cuts == NULL)
			cuts = palloc(sizeof(int) * (len / 2 + 1));
		cuts[ncuts++] = sign;
		p = sign;
		if (p == 0)
		{
			/* "-1", "+2": from the current revision */
			t = target_current(g, target);
			break;
		}
	}

	for (i = ncuts - 1; i >= 0; i--)
	{
		/* at most 9 digits, checked by target_step_start */
		int			steps = atoi(target + cuts[i] + 1);

		if (target[cuts[i]] == '-')
			steps = -steps;
		t = target_step(g, t, target, cuts[i], steps);
	}

	/*
	 * A single "-N" from current names a point on the current line, and
	 * downgrading to it reverts that line only, as Alembic restricts a
	 * relative downgrade to the branch of the current revision: another
	 * branch from the same point, or another root, stays.  Any other
	 * target reverts everything above it.
	 */
	if (!(ncuts == 1 && cuts[0] == 0 && target[0] == '-'))
		t->down_line = false;
	return t;
}

/*
 * target_name
 *		The first len bytes of target as a reserved word, an exact id,
 *		label@head or a label; NULL if they are none of these.
 */
static MigrTarget *
target_name(MigrGraph *g, const char *target, int len)
{
	char		name[MIGR_ID_MAXLEN + sizeof("@head")];
	MigrTarget *t;
	char	   *at;
	int			k;

	/* longer than any id or label@head: skip the lookups */
	if (len == 0 || len >= (int) sizeof(name))
		return NULL;
	memcpy(name, target, len);
	name[len] = '\0';

	if (strcmp(name, "base") == 0)
		return target_make_base();
	if (strcmp(name, "heads") == 0)
	{
		List	   *heads = graph_heads(g);
		ListCell   *lc;

		t = target_make(list_length(heads));
		t->n = 0;
		foreach(lc, heads)
			t->idx[t->n++] = lfirst_int(lc);
		return t;
	}
	if (strcmp(name, "head") == 0)
	{
		List	   *heads = graph_heads(g);

		if (list_length(heads) > 1)
			ereport(ERROR,
					(errcode(ERRCODE_MIGR_MULTIPLE_HEADS),
					 errmsg("target \"head\" is ambiguous: there are %d heads",
							list_length(heads)),
					 errhint("Merge the heads %s with SELECT migr_merge(), or give one of them as the target, or use \"heads\".",
							 graph_id_list(g, heads))));
		t = target_make(list_length(heads));
		if (heads != NIL)
			t->idx[0] = linitial_int(heads);
		return t;
	}
	if (strcmp(name, "current") == 0)
		return target_current(g, name);

	k = graph_find(g, name);
	if (k < 0)
	{
		at = strchr(name, '@');
		if (at != NULL && strcmp(at, "@head") == 0)
		{
			*at = '\0';
			return target_label_head(g, name, target);
		}
		k = graph_find_label(g, name);
	}
	if (k < 0)
		return NULL;
	t = target_make(1);
	t->idx[0] = k;
	return t;
}

/*
 * target_step_start
 *		Where the last step ("+3", "-12") of the first len bytes of target
 *		starts, or -1 if they do not end in one.
 */
static int
target_step_start(const char *target, int len)
{
	int			p = len;

	while (p > 0 && isdigit((unsigned char) target[p - 1]))
		p--;
	if (p == len || p == 0 || (target[p - 1] != '+' && target[p - 1] != '-'))
		return -1;
	if (len - p > 9)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("step count in target \"%s\" is too large", target)));
	return p - 1;
}

/*
 * target_label_head
 *		label@head: the single head among the labelled revision's
 *		descendants (or the labelled revision itself, if it is a head).
 */
static MigrTarget *
target_label_head(MigrGraph *g, const char *label, const char *target)
{
	MigrTarget	from;
	bool	   *desc;
	List	   *heads = NIL;
	MigrTarget *t;
	int			k = graph_find_label(g, label);
	int			i;

	if (k < 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("branch label \"%s\" does not exist", label),
				 errhint("migr_heads() shows the branch labels in use.")));
	from.base = false;
	from.n = 1;
	from.idx = &k;
	desc = graph_descendants(g, &from, false, true);
	for (i = 0; i < g->nrevs; i++)
		if (desc[i] && g->revs[i].nchildren == 0)
			heads = lappend_int(heads, i);
	if (list_length(heads) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_MIGR_MULTIPLE_HEADS),
				 errmsg("target \"%s\" is ambiguous: branch \"%s\" has %d heads",
						target, label, list_length(heads)),
				 errhint("Merge the heads %s with migr_merge(), or give one of them as the target.",
						 graph_id_list(g, heads))));
	t = target_make(1);
	t->idx[0] = heads ? linitial_int(heads) : k;
	return t;
}

/*
 * target_current
 *		The single current revision, or base when nothing is applied.
 */
static MigrTarget *
target_current(MigrGraph *g, const char *target)
{
	List	   *cur = graph_current(g);
	MigrTarget *t;

	if (list_length(cur) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_MIGR_MULTIPLE_HEADS),
				 errmsg("target \"%s\" is ambiguous: %d revisions are current",
						target, list_length(cur)),
				 errdetail("The current revisions are %s.",
						   graph_id_list(g, cur)),
				 errhint("Count the steps from one of them, as in \"<revision>-1\".")));
	t = target_make(list_length(cur));
	if (cur == NIL)
		t->base = true;
	else
		t->idx[0] = linitial_int(cur);
	return t;
}

/*
 * target_from_name
 *		For messages: what the steps at target[fromlen] count from.
 */
static char *
target_from_name(const char *target, int fromlen)
{
	return fromlen > 0 ? pnstrdup(target, fromlen) : pstrdup("current");
}

/*
 * target_step
 *		Walk |steps| parents (steps < 0) or children (steps > 0) along a
 *		single line, from the revision that target[0..fromlen) names.
 *		Stepping down from a root reaches base; stepping up from base
 *		starts at the single root.  The walk is bounded by the height of
 *		the graph: it fails at base or at a head.
 */
static MigrTarget *
target_step(MigrGraph *g, MigrTarget *from, const char *target, int fromlen,
			int steps)
{
	int			cur;
	int			below;			/* the revision of the last step down */
	int			i;

	if (!from->base && from->n != 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot count steps from \"%s\" in target \"%s\"",
						target_from_name(target, fromlen), target),
				 errdetail("\"%s\" names %d revisions.",
						   target_from_name(target, fromlen), from->n),
				 errhint("Count from a single revision.")));
	cur = from->base ? -1 : from->idx[0];
	below = cur;

	for (i = 0; i < Abs(steps); i++)
	{
		List	   *next = NIL;
		int			j;

		CHECK_FOR_INTERRUPTS();
		if (steps > 0)
		{
			if (cur < 0)
				next = list_copy(graph_roots(g));
			else
				for (j = 0; j < g->revs[cur].nchildren; j++)
					next = lappend_int(next, g->revs[cur].children[j]);
		}
		else
		{
			if (cur < 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("target \"%s\" goes below base", target),
						 errdetail_plural("There is only %d step below \"%s\".",
										  "There are only %d steps below \"%s\".",
										  i, i,
										  target_from_name(target, fromlen))));
			for (j = 0; j < g->revs[cur].nparents; j++)
				if (g->revs[cur].parent_idx[j] >= 0)
					next = lappend_int(next, g->revs[cur].parent_idx[j]);
			below = cur;
			if (g->revs[cur].nparents == 0)
			{
				cur = -1;		/* a root's parent is base */
				continue;
			}
		}

		if (next == NIL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("target \"%s\" goes beyond the heads", target),
					 errdetail("\"%s\" has no revision above it.",
							   cur < 0 ? "base" : g->revs[cur].id)));
		if (list_length(next) > 1)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("target \"%s\" is ambiguous", target),
					 errdetail("At \"%s\" the way %s splits between %s.",
							   cur < 0 ? "base" : g->revs[cur].id,
							   steps > 0 ? "up" : "down",
							   graph_id_list(g, next)),
					 errhint("Name the revision you mean, or count from one of them.")));
		cur = linitial_int(next);
		list_free(next);
	}

	/* reuse from (made for this target, idx has room for one) */
	from->base = (cur < 0);
	from->n = (cur < 0) ? 0 : 1;
	if (cur >= 0)
		from->idx[0] = cur;
	from->down_line = (steps < 0 && below >= 0);
	from->line_child = below;
	return from;
}

/*
 * target_prefix
 *		A unique id prefix; an ambiguous one lists its candidates.
 */
static MigrTarget *
target_prefix(MigrGraph *g, const char *target, int len)
{
	List	   *hits = NIL;
	MigrTarget *t;
	int			i;

	for (i = 0; i < g->nrevs; i++)
		if (strncmp(g->revs[i].id, target, len) == 0)
			hits = lappend_int(hits, i);
	if (hits == NIL)
		return NULL;
	if (list_length(hits) > 1)
	{
		List	   *shown = list_truncate(list_copy(hits), 10);

		ereport(ERROR,
				(errcode(ERRCODE_AMBIGUOUS_PARAMETER),
				 errmsg("revision prefix \"%.*s\" is ambiguous", len, target),
				 errdetail("It matches %d revisions: %s%s", list_length(hits),
						   graph_id_list(g, shown),
						   list_length(hits) > 10 ? ", ..." : "."),
				 errhint("Give more characters of the revision id.")));
	}
	t = target_make(1);
	t->idx[0] = linitial_int(hits);
	return t;
}

/*
 * target_single
 *		A target that must name exactly one revision.
 */
int
target_single(MigrGraph *g, const char *target)
{
	MigrTarget *t = target_resolve(g, target);

	if (t->base)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("target \"%s\" names no revision", target),
				 errdetail("It resolves to base, below every revision.")));
	if (t->n != 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("target \"%s\" does not name a single revision",
						target),
				 errhint("Give a revision id, a unique prefix or a branch label.")));
	return t->idx[0];
}

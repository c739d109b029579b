/*-------------------------------------------------------------------------
 *
 * look.c
 *	  Looking at the revision graph without changing it: migr_heads(),
 *	  migr_current(), migr_branches(), migr_history(), migr_show() and
 *	  migr_check().  None of them takes the migr lock; anyone may call them.
 *
 * Copyright (c) 2026, migr developers
 *
 * IDENTIFICATION
 *	  src/look.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "migr.h"
#include "schema/schema.h"
#include "tenant/tenant.h"

PG_FUNCTION_INFO_V1(migr_heads);
PG_FUNCTION_INFO_V1(migr_current);
PG_FUNCTION_INFO_V1(migr_branches);
PG_FUNCTION_INFO_V1(migr_history);
PG_FUNCTION_INFO_V1(migr_show);
PG_FUNCTION_INFO_V1(migr_check);

static bool *look_range(MigrGraph *g, const char *range);
static List *look_labels(MigrGraph *g, int head);
static void look_finding(ReturnSetInfo *rsinfo, const char *revision,
						 const char *severity, const char *code,
						 const char *message, const char *hint);
static void look_check_graph(MigrGraph *g, ReturnSetInfo *rsinfo);
static bool look_heads_labelled(MigrGraph *g, List *heads);
static void look_check_applied(MigrGraph *g, ReturnSetInfo *rsinfo);
static void look_check_lint(MigrGraph *g, ReturnSetInfo *rsinfo);
static void look_check_archives(ReturnSetInfo *rsinfo);
static void look_check_jobs(ReturnSetInfo *rsinfo);
static void look_check_partial(ReturnSetInfo *rsinfo);
static void look_check_drift(ReturnSetInfo *rsinfo);
static int *look_partial_next(MigrGraph *g);
static Datum look_partial_message(MigrRev *r, int next);
static Datum look_current(PG_FUNCTION_ARGS);
static Datum look_history(PG_FUNCTION_ARGS);

/* the 1.2 overloads with a tenant (src/tenant/): the tenant's applied set */
Datum
migr_current(PG_FUNCTION_ARGS)
{
	return tenant_call(fcinfo, 0, TENANT_LOOK, look_current);
}

Datum
migr_history(PG_FUNCTION_ARGS)
{
	return tenant_call(fcinfo, 1, TENANT_LOOK, look_history);
}

/*
 * look_partial_next
 *		For each revision, the first statement that has not run if it is
 *		partially applied, else 0.
 */
static int *
look_partial_next(MigrGraph *g)
{
	int		   *next = palloc0(sizeof(int) * Max(g->nrevs, 1));
	ListCell   *lc;

	foreach(lc, catalog_partials())
	{
		MigrPartial *part = (MigrPartial *) lfirst(lc);
		int			k = graph_find(g, part->revision);

		if (k >= 0)
			next[k] = part->next_statement;
	}
	return next;
}

/*
 * look_partial_message
 *		The message of a partially applied revision, as migr_current() and
 *		migr_history() show it.
 */
static Datum
look_partial_message(MigrRev *r, int next)
{
	return CStringGetTextDatum(psprintf("(partially applied: resumes at statement %d) %s",
										next, text_to_cstring(r->message)));
}

/*
 * look_labels
 *		The branch labels of a head: those of the head and its ancestors.
 */
static List *
look_labels(MigrGraph *g, int head)
{
	MigrTarget	t = {false, 1, &head};
	bool	   *anc = graph_ancestors(g, &t, false, true);
	List	   *labels = NIL;
	int			i,
				j;

	for (i = 0; i < g->nrevs; i++)
		if (anc[i])
			for (j = 0; j < g->revs[i].nlabels; j++)
				labels = lappend(labels, g->revs[i].labels[j]);
	pfree(anc);
	return labels;
}

/*
 * migr_heads() returns table (revision, branch_labels, message)
 */
Datum
migr_heads(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MigrGraph  *g;
	ListCell   *lc;
	ListCell   *lc2;
	List	   *ids;
	List	   *messages;
	bool		any_labels = false;
	int			i;

	InitMaterializedSRF(fcinfo, 0);
	catalog_connect();

	/* without branch labels, the heads table says it all */
	if (catalog_heads(&ids, &messages))
	{
		forboth(lc, ids, lc2, messages)
		{
			Datum		values[3];
			bool		nulls[3] = {false, false, false};

			values[0] = CStringGetTextDatum(lfirst(lc));
			values[1] = PointerGetDatum(migr_text_array(NIL));
			values[2] = CStringGetTextDatum(lfirst(lc2));
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values,
								 nulls);
		}
		catalog_finish();
		return (Datum) 0;
	}

	g = catalog_load_graph();
	for (i = 0; i < g->nrevs && !any_labels; i++)
		any_labels = (g->revs[i].nlabels > 0);
	foreach(lc, graph_heads(g))
	{
		MigrRev    *r = &g->revs[lfirst_int(lc)];
		Datum		values[3];
		bool		nulls[3] = {false, false, false};

		values[0] = CStringGetTextDatum(r->id);
		values[1] = PointerGetDatum(migr_text_array(any_labels ?
													look_labels(g, lfirst_int(lc)) :
													NIL));
		values[2] = PointerGetDatum(r->message);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	catalog_finish();
	return (Datum) 0;
}

/*
 * migr_current() returns table (revision, message, applied_at)
 *		Applied revisions that no other applied revision needs, through
 *		parents or depends_on: what Alembic keeps in alembic_version; then
 *		the partially applied ones, applied_at NULL.
 */
static Datum
look_current(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MigrGraph  *g;
	ListCell   *lc;
	int		   *partial;
	int			i;

	InitMaterializedSRF(fcinfo, 0);
	catalog_connect();
	g = catalog_load_graph();
	foreach(lc, graph_current(g))
	{
		MigrRev    *r = &g->revs[lfirst_int(lc)];
		Datum		values[3];
		bool		nulls[3] = {false, false, false};

		values[0] = CStringGetTextDatum(r->id);
		values[1] = PointerGetDatum(r->message);
		values[2] = TimestampTzGetDatum(r->applied_at);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}

	/* then the partially applied revisions, which are where the schema is */
	partial = look_partial_next(g);
	for (i = 0; i < g->nrevs; i++)
	{
		Datum		values[3];
		bool		nulls[3] = {false, false, true};

		if (partial[i] == 0)
			continue;
		values[0] = CStringGetTextDatum(g->revs[i].id);
		values[1] = look_partial_message(&g->revs[i], partial[i]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	catalog_finish();
	return (Datum) 0;
}

/*
 * migr_branches() returns table (revision, children)
 *		Branch points: revisions with more than one child.
 */
Datum
migr_branches(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MigrGraph  *g;
	int			i;

	InitMaterializedSRF(fcinfo, 0);
	catalog_connect();
	g = catalog_load_graph();
	for (i = 0; i < g->nrevs; i++)
	{
		MigrRev    *r = &g->revs[i];
		Datum		values[2];
		bool		nulls[2] = {false, false};

		if (r->nchildren < 2)
			continue;
		values[0] = CStringGetTextDatum(r->id);
		values[1] = PointerGetDatum(migr_id_array(g, r->nchildren,
												  r->children));
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	catalog_finish();
	return (Datum) 0;
}

/*
 * look_range
 *		The revisions in "from:to", as Alembic's history -r: descendants of
 *		from through parents only (inclusive; empty or base = from the
 *		roots) that are ancestors of to through parents and depends_on
 *		(inclusive; empty = the heads).  NULL range = everything.
 */
static bool *
look_range(MigrGraph *g, const char *range)
{
	bool	   *in = palloc(sizeof(bool) * Max(g->nrevs, 1));
	const char *colon;
	char	   *from;
	const char *to;
	int			i;

	memset(in, true, sizeof(bool) * Max(g->nrevs, 1));
	if (range == NULL)
		return in;
	colon = strchr(range, ':');
	if (colon == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid history range \"%s\"", range),
				 errhint("A range is \"from:to\", either end a target or empty, as in \"base:head\", \"abc123:\" or \":current\".")));
	from = pnstrdup(range, colon - range);
	to = colon + 1;

	if (from[0] != '\0')
	{
		MigrTarget *t = target_resolve(g, from);

		if (!t->base)
		{
			bool	   *d = graph_descendants(g, t, false, true);

			for (i = 0; i < g->nrevs; i++)
				in[i] = in[i] && d[i];
		}
	}
	if (to[0] != '\0')
	{
		MigrTarget *t = target_resolve(g, to);
		bool	   *a = graph_ancestors(g, t, true, true);

		for (i = 0; i < g->nrevs; i++)
			in[i] = in[i] && a[i] && !t->base;
	}
	return in;
}

/*
 * migr_history(range text) returns table (revision, down_revision, message,
 *		applied, applied_at, is_head) in topological order, roots first.
 *		applied is NULL for a partially applied revision.
 */
static Datum
look_history(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *range = PG_ARGISNULL(0) ? NULL :
		text_to_cstring(PG_GETARG_TEXT_PP(0));
	MigrGraph  *g;
	bool	   *in;
	int		   *order;
	int			n;
	bool		cyclic;
	int			i;
	int		   *partial;
	ArrayType  *empty = migr_text_array(NIL);

	InitMaterializedSRF(fcinfo, 0);
	catalog_connect();
	g = catalog_load_graph();
	in = look_range(g, range);
	partial = look_partial_next(g);
	order = graph_topo_all(g, &n, &cyclic);
	for (i = 0; i < n; i++)
	{
		MigrRev    *r = &g->revs[order[i]];
		Datum		values[6];
		bool		nulls[6] = {false, false, false, false, false, false};

		if (!in[order[i]])
			continue;
		values[0] = CStringGetTextDatum(r->id);
		values[1] = r->parents_array ? PointerGetDatum(r->parents_array) :
			PointerGetDatum(empty);
		values[2] = PointerGetDatum(r->message);
		values[3] = BoolGetDatum(r->applied);
		values[4] = TimestampTzGetDatum(r->applied_at);
		nulls[4] = !r->has_applied_at;
		values[5] = BoolGetDatum(r->nchildren == 0);
		if (partial[order[i]] > 0)
		{
			/* neither applied nor unapplied */
			values[2] = look_partial_message(r, partial[order[i]]);
			nulls[3] = true;
		}
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	catalog_finish();
	return (Datum) 0;
}

/*
 * migr_show(target text) returns table (...)
 *		Revisions whole, scripts included.
 */
Datum
migr_show(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *target = migr_arg_text(fcinfo, 0, "target");
	MigrGraph  *g;
	MigrTarget *t;
	int			i;

	InitMaterializedSRF(fcinfo, 0);
	catalog_connect();
	g = catalog_load_graph();
	t = target_resolve(g, target);
	if (t->base)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("target \"%s\" names no revision", target),
				 errdetail("It resolves to base, below every revision.")));
	for (i = 0; i < t->n; i++)
	{
		MigrRev    *r = &g->revs[t->idx[i]];
		MigrRevDef	def;
		bool		applied;
		Datum		values[13];
		bool		nulls[13];

		memset(nulls, false, sizeof(nulls));
		if (!catalog_get_def(r->id, &def, &applied))
			continue;
		values[0] = CStringGetTextDatum(r->id);
		values[1] = PointerGetDatum(migr_text_array(def.parents));
		values[2] = PointerGetDatum(migr_text_array(def.deps));
		values[3] = PointerGetDatum(migr_text_array(def.labels));
		values[4] = CStringGetTextDatum(def.message);
		values[5] = CStringGetTextDatum(def.kind);
		values[6] = CStringGetTextDatum(def.upgrade);
		if (def.downgrade)
			values[7] = CStringGetTextDatum(def.downgrade);
		else
			nulls[7] = true;
		values[8] = CStringGetTextDatum(def.checksum);
		values[9] = BoolGetDatum(applied);
		values[10] = TimestampTzGetDatum(r->applied_at);
		nulls[10] = !r->has_applied_at;
		values[11] = BoolGetDatum(r->nchildren == 0);
		values[12] = PointerGetDatum(migr_id_array(g, r->nchildren,
												   r->children));
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	catalog_finish();
	return (Datum) 0;
}

/*
 * look_finding
 *		One row of migr_check().
 */
static void
look_finding(ReturnSetInfo *rsinfo, const char *revision,
			 const char *severity, const char *code, const char *message,
			 const char *hint)
{
	Datum		values[5];
	bool		nulls[5] = {false, false, false, false, false};

	if (revision)
		values[0] = CStringGetTextDatum(revision);
	else
		nulls[0] = true;
	values[1] = CStringGetTextDatum(severity);
	values[2] = CStringGetTextDatum(code);
	values[3] = CStringGetTextDatum(message);
	if (hint)
		values[4] = CStringGetTextDatum(hint);
	else
		nulls[4] = true;
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

/*
 * look_check_graph
 *		Cycles, undefined parents and dependencies, several heads, and
 *		applied revisions with an unapplied ancestor.
 */
static void
look_check_graph(MigrGraph *g, ReturnSetInfo *rsinfo)
{
	int		   *order;
	int			n;
	bool		cyclic;
	List	   *heads;
	int			i,
				j;

	order = graph_topo_all(g, &n, &cyclic);
	pfree(order);
	if (cyclic)
	{
		bool	   *reported = palloc0(sizeof(bool) * g->nrevs);

		for (i = 0; i < g->nrevs; i++)
		{
			List	   *cycle;
			ListCell   *lc;
			bool		seen = false;

			if (reported[i])
				continue;
			cycle = graph_find_cycle(g, i);
			foreach(lc, cycle)
			{
				seen = seen || reported[lfirst_int(lc)];
				reported[lfirst_int(lc)] = true;
			}
			if (cycle == NIL || seen)
				continue;
			look_finding(rsinfo, g->revs[linitial_int(cycle)].id, "error",
						 "cycle",
						 psprintf("revisions %s form a cycle",
								  graph_id_list(g, cycle)),
						 "Correct the down_revision or depends_on of one of them.");
		}
		pfree(reported);
	}

	for (i = 0; i < g->nrevs; i++)
	{
		MigrRev    *r = &g->revs[i];

		for (j = 0; j < r->nparents; j++)
			if (r->parent_idx[j] < 0)
				look_finding(rsinfo, r->id, "error", "missing_parent",
							 psprintf("parent \"%s\" is not defined",
									  r->parents[j]),
							 psprintf("Define revision \"%s\", or correct the down_revision of \"%s\".",
									  r->parents[j], r->id));
		for (j = 0; j < r->ndeps; j++)
			if (r->dep_idx[j] < 0)
				look_finding(rsinfo, r->id, "error", "missing_dependency",
							 psprintf("dependency \"%s\" is not defined",
									  r->deps[j]),
							 psprintf("Define revision \"%s\", or correct the depends_on of \"%s\".",
									  r->deps[j], r->id));
		if (r->applied)
		{
			for (j = 0; j < r->nparents; j++)
				if (r->parent_idx[j] >= 0 && !g->revs[r->parent_idx[j]].applied)
					look_finding(rsinfo, r->id, "error", "unapplied_ancestor",
								 psprintf("revision is applied but its parent \"%s\" is not",
										  r->parents[j]),
								 "Use migr_stamp() to make the applied set consistent.");
			for (j = 0; j < r->ndeps; j++)
				if (r->dep_idx[j] >= 0 && !g->revs[r->dep_idx[j]].applied)
					look_finding(rsinfo, r->id, "error", "unapplied_ancestor",
								 psprintf("revision is applied but its dependency \"%s\" is not",
										  r->deps[j]),
								 "Use migr_stamp() to make the applied set consistent.");
		}
	}

	heads = graph_heads(g);
	if (list_length(heads) <= 1)
		return;
	if (look_heads_labelled(g, heads))
		look_finding(rsinfo, NULL, "info", "multiple_heads",
					 psprintf("there are %d heads, each the head of its own labelled branch: %s",
							  list_length(heads), graph_id_list(g, heads)),
					 "Upgrade with migr_upgrade('heads'), or one branch with migr_upgrade('<label>@head').");
	else
		look_finding(rsinfo, NULL, "warning", "multiple_heads",
					 psprintf("there are %d heads: %s", list_length(heads),
							  graph_id_list(g, heads)),
					 "Merge them with SELECT migr_merge(); until then migr_upgrade('head') fails and only migr_upgrade('heads') works.");
}

/*
 * look_heads_labelled
 *		Whether every head is the head of its own labelled branch, as the
 *		expand/contract heads of a history built that way are by design:
 *		some branch label has exactly that head among its descendants, so
 *		"label@head" names it.
 */
static bool
look_heads_labelled(MigrGraph *g, List *heads)
{
	bool	   *owned = palloc0(sizeof(bool) * Max(g->nrevs, 1));
	bool		all = true;
	ListCell   *lc;
	int			i;

	for (i = 0; i < g->nrevs; i++)
	{
		MigrTarget	t = {false, 1, &i};
		bool	   *desc;
		int			nheads = 0;
		int			head = -1;

		CHECK_FOR_INTERRUPTS();
		if (g->revs[i].nlabels == 0)
			continue;
		desc = graph_descendants(g, &t, false, true);
		foreach(lc, heads)
			if (desc[lfirst_int(lc)])
			{
				nheads++;
				head = lfirst_int(lc);
			}
		if (nheads == 1)
			owned[head] = true;
		pfree(desc);
	}
	foreach(lc, heads)
		all = all && owned[lfirst_int(lc)];
	pfree(owned);
	return all;
}

/*
 * look_check_applied
 *		Applied revisions whose definition no longer matches what was
 *		applied, and definitions edited behind migr_define()'s back.
 */
static void
look_check_applied(MigrGraph *g, ReturnSetInfo *rsinfo)
{
	int			i;

	for (i = 0; i < g->nrevs; i++)
	{
		MigrRevDef	def;
		bool		applied;
		char	   *actual;

		if (!catalog_get_def(g->revs[i].id, &def, &applied))
			continue;
		actual = checksum_revision(&def);
		if (strcmp(actual, def.checksum) != 0)
			look_finding(rsinfo, def.id, "error", "definition_changed",
						 "revision's row was changed without migr_define(): its content no longer matches its checksum",
						 "Restore the original definition from your revision files.");
		else if (applied && def.applied_checksum &&
				 strcmp(def.applied_checksum, def.checksum) != 0)
			look_finding(rsinfo, def.id, "error", "applied_changed",
						 "revision was changed after it was applied",
						 "Restore the definition that was applied, and write a new revision for the change.");
	}
}

/*
 * look_check_lint
 *		The lint findings (warning and above) of every revision that is not
 *		applied, against the catalog as it is now.  Applied revisions were
 *		linted when they were defined; their tables have changed since.
 */
static void
look_check_lint(MigrGraph *g, ReturnSetInfo *rsinfo)
{
	int			i;

	for (i = 0; i < g->nrevs; i++)
	{
		MigrRevDef	def;
		bool		applied;
		ListCell   *lc;

		if (g->revs[i].applied ||
			!catalog_get_def(g->revs[i].id, &def, &applied) || applied)
			continue;
		foreach(lc, lint_script(def.upgrade, def.kind, def.id))
		{
			MigrFinding *f = (MigrFinding *) lfirst(lc);

			if (f->severity < MIGR_SEV_WARNING)
				continue;
			look_finding(rsinfo, def.id, lint_severity_name(f->severity),
						 f->code,
						 f->statement > 0 ?
						 psprintf("statement %d at line %d: %s", f->statement,
								  f->line, f->message) :
						 psprintf("line %d: %s", f->line, f->message),
						 f->hint);
		}
	}
}

/*
 * look_check_drift
 *		Differences between the live schema and the one the last move
 *		recorded (src/schema/drift.c).
 */
static void
look_check_drift(ReturnSetInfo *rsinfo)
{
	ListCell   *lc;

	foreach(lc, schema_drift_findings())
	{
		MigrFinding *f = (MigrFinding *) lfirst(lc);

		look_finding(rsinfo, f->revision, lint_severity_name(f->severity),
					 f->code, f->message, f->hint);
	}
}

/*
 * look_check_archives
 *		Archives that still exist, and how old they are.
 */
static void
look_check_archives(ReturnSetInfo *rsinfo)
{
	ListCell   *lc;

	foreach(lc, archive_check_findings())
	{
		MigrFinding *f = (MigrFinding *) lfirst(lc);

		look_finding(rsinfo, f->revision, lint_severity_name(f->severity),
					 f->code, f->message, f->hint);
	}
}

/*
 * look_check_jobs
 *		Failed jobs, and jobs that no worker runs.
 */
static void
look_check_jobs(ReturnSetInfo *rsinfo)
{
	ListCell   *lc;

	foreach(lc, job_check_findings())
	{
		MigrFinding *f = (MigrFinding *) lfirst(lc);

		look_finding(rsinfo, f->revision, lint_severity_name(f->severity),
					 f->code, f->message, f->hint);
	}
}

/*
 * look_check_partial
 *		Partially applied revisions, and the way to finish each.
 */
static void
look_check_partial(ReturnSetInfo *rsinfo)
{
	ListCell   *lc;

	foreach(lc, catalog_partials())
	{
		MigrPartial *part = (MigrPartial *) lfirst(lc);
		const char *state = part->job_state ? part->job_state : "";
		char	   *hint;

		if (strcmp(state, "queued") == 0 || strcmp(state, "running") == 0)
			hint = psprintf("Job %s finishes it; SELECT migr_wait() waits for it.",
							part->job);
		else if (strcmp(state, "failed") == 0)
			hint = psprintf("Fix the cause and SELECT migr_retry(%s); or SELECT migr_cancel(%s), fix the cause and resume it with migr_upgrade().",
							part->job, part->job);
		else
			hint = pstrdup("Resume it with migr_upgrade(); or undo its committed statements by hand and SELECT migr_stamp() to a revision below it.");
		look_finding(rsinfo, part->revision, "warning", "partially_applied",
					 psprintf("revision is partially applied: its statements before statement %d committed, the rest did not run",
							  part->next_statement),
					 hint);
	}
}

/*
 * migr_check() returns table (revision, severity, code, message, hint)
 *		Everything wrong or risky; no rows when all is clear.
 */
Datum
migr_check(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MigrGraph  *g;

	InitMaterializedSRF(fcinfo, 0);
	catalog_connect();
	g = catalog_load_graph();
	look_check_graph(g, rsinfo);
	look_check_applied(g, rsinfo);
	look_check_lint(g, rsinfo);
	look_check_archives(rsinfo);
	look_check_jobs(rsinfo);
	look_check_partial(rsinfo);
	look_check_drift(rsinfo);
	catalog_finish();
	return (Datum) 0;
}

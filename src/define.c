/*-------------------------------------------------------------------------
 *
 * define.c
 *	  Defining revisions: migr_define(), migr_load() and migr_merge().
 *
 * A definition is checked whole before anything is written: id, parents,
 * dependencies and labels by syntax, both scripts by the server's parser,
 * the kind.  Then, under the definition lock (never the migr lock, which a
 * background worker holds during a build: catalog.c): an identical
 * definition is a no-op; a different one is refused if the revision is
 * applied or partially applied (what ran is what is recorded) or has work
 * queued for a background worker, and replaces it, with a NOTICE, if not.
 * Labels must be unique, and a definition that would close a cycle is
 * refused.
 *
 * Copyright (c) 2026, migr developers
 *
 * IDENTIFICATION
 *	  src/define.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"

#include "migr.h"

PG_FUNCTION_INFO_V1(migr_define);
PG_FUNCTION_INFO_V1(migr_load);
PG_FUNCTION_INFO_V1(migr_merge);

static char *define_new_id(void);
static int	define_name_cmp(const void *a, const void *b);
static void define_check_names(List *names, const char *what,
							   const char *id);
static void define_check_labels(MigrRevDef *def);
static bool define_same_list(List *a, List *b);
static char *define_differences(MigrRevDef *old, MigrRevDef *def);
static void define_check_cycle(MigrRevDef *def);
static void define_validate(MigrRevDef *def);
static void define_check_changeable(MigrRevDef *old, bool applied,
									const char *diff);

/*
 * define_new_id
 *		12 random lowercase hex digits, as Alembic makes them (and the
 *		client's "migr new", through src/common/revname.c).
 */
static char *
define_new_id(void)
{
	char	   *id = palloc(MIGR_RANDOM_ID_LEN + 1);

	if (!revname_random(id))
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not generate a random revision id")));
	return id;
}

/*
 * define_name_cmp
 *		qsort comparator for an array of C strings.
 */
static int
define_name_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *) a, *(const char *const *) b);
}

/*
 * define_check_names
 *		Syntax of each parent, dependency or label; no duplicates; not the
 *		revision itself.  Duplicates are found by sorting a copy, so that a
 *		list of any length costs n log n, not n squared.
 */
static void
define_check_names(List *names, const char *what, const char *id)
{
	int			n = list_length(names);
	const char **sorted;
	ListCell   *lc;
	int			i = 0;

	if (n == 0)
		return;
	sorted = palloc(sizeof(char *) * n);
	foreach(lc, names)
	{
		const char *name = lfirst(lc);

		CHECK_FOR_INTERRUPTS();
		target_check_name(name, what);
		if (strcmp(name, id) == 0 && strcmp(what, "branch label") == 0)
			ereport(ERROR,
					(errcode(ERRCODE_DUPLICATE_OBJECT),
					 errmsg("branch label \"%s\" is the id of a revision", name),
					 errhint("Choose a label that is not a revision id.")));
		if (strcmp(name, id) == 0)
			ereport(ERROR,
					(errcode(ERRCODE_MIGR_CYCLE),
					 errmsg("revision \"%s\" cannot be its own %s", id,
							strcmp(what, "parent") == 0 ? "parent" : "dependency"),
					 errhint("A revision's parents and dependencies are other revisions, applied before it.")));
		sorted[i++] = name;
	}
	qsort(sorted, n, sizeof(char *), define_name_cmp);
	for (i = 1; i < n; i++)
		if (strcmp(sorted[i - 1], sorted[i]) == 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s \"%s\" is given twice for revision \"%s\"",
							what, sorted[i], id)));
	pfree(sorted);
}

/*
 * define_validate
 *		Everything that can be checked without looking at other revisions.
 */
static void
define_validate(MigrRevDef *def)
{
	target_check_name(def->id, "revision id");
	define_check_names(def->parents, "parent", def->id);
	define_check_names(def->deps, "dependency", def->id);
	define_check_names(def->labels, "branch label", def->id);

	if (strcmp(def->kind, "schema") != 0 && strcmp(def->kind, "data") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid kind \"%s\" for revision \"%s\"",
						def->kind, def->id),
				 errhint("The kind is \"schema\" (the default) or \"data\".")));

	/*
	 * An upgrade with no statement is allowed: real histories have marker
	 * revisions (a branch's root, a release point).  Lint reports it as
	 * "empty_upgrade", an info finding.
	 */
	(void) script_check(def->upgrade, def->id, "upgrade");
	if (def->downgrade != NULL)
		(void) script_check(def->downgrade, def->id, "downgrade");
}

/*
 * define_check_labels
 *		A label belongs to one revision and is never also a revision id.
 */
static void
define_check_labels(MigrRevDef *def)
{
	ListCell   *lc;
	char	   *owner;
	MigrRevDef	other;
	bool		applied;

	foreach(lc, def->labels)
	{
		const char *label = lfirst(lc);

		owner = catalog_label_owner(label);
		if (owner != NULL && strcmp(owner, def->id) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_DUPLICATE_OBJECT),
					 errmsg("branch label \"%s\" is already used by revision \"%s\"",
							label, owner),
					 errhint("Choose another label; a label names one branch.")));
		if (catalog_get_def(label, &other, &applied))
			ereport(ERROR,
					(errcode(ERRCODE_DUPLICATE_OBJECT),
					 errmsg("branch label \"%s\" is the id of a revision",
							label),
					 errhint("Choose a label that is not a revision id.")));
	}
	owner = catalog_label_owner(def->id);
	if (owner != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("revision id \"%s\" is a branch label of revision \"%s\"",
						def->id, owner),
				 errhint("Choose an id that is not a branch label.")));
}

static bool
define_same_list(List *a, List *b)
{
	ListCell   *la;
	ListCell   *lb;

	if (list_length(a) != list_length(b))
		return false;
	forboth(la, a, lb, b)
		if (strcmp(lfirst(la), lfirst(lb)) != 0)
			return false;
	return true;
}

/*
 * define_differences
 *		What differs between two definitions, for messages; NULL if nothing.
 */
static char *
define_differences(MigrRevDef *old, MigrRevDef *def)
{
	StringInfoData buf;

	initStringInfo(&buf);
#define DIFF(cond, name) \
	if (cond) appendStringInfo(&buf, "%s%s", buf.len ? ", " : "", name)
	DIFF(!define_same_list(old->parents, def->parents), "down_revision");
	DIFF(!define_same_list(old->deps, def->deps), "depends_on");
	DIFF(!define_same_list(old->labels, def->labels), "branch_labels");
	DIFF(strcmp(old->message, def->message) != 0, "message");
	DIFF(strcmp(old->kind, def->kind) != 0, "kind");
	DIFF(strcmp(old->upgrade, def->upgrade) != 0, "upgrade script");
	DIFF((old->downgrade == NULL) != (def->downgrade == NULL) ||
		 (old->downgrade && strcmp(old->downgrade, def->downgrade) != 0),
		 "downgrade script");
#undef DIFF
	return buf.len ? buf.data : NULL;
}

/*
 * define_check_cycle
 *		After storing a revision that others already named (or whose parents
 *		changed), make sure it is not its own ancestor.
 */
static void
define_check_cycle(MigrRevDef *def)
{
	MigrGraph  *g = catalog_load_graph();
	int			k = graph_find(g, def->id);
	List	   *cycle = graph_find_cycle(g, k);

	if (cycle != NIL)
		ereport(ERROR,
				(errcode(ERRCODE_MIGR_CYCLE),
				 errmsg("revision \"%s\" would be its own ancestor", def->id),
				 errdetail("The cycle is %s.", graph_id_list(g, cycle)),
				 errhint("Correct its down_revision or depends_on.")));
}

/*
 * define_check_changeable
 *		A revision is immutable from its first committed statement on: when
 *		applied, when partially applied, and while a background worker has
 *		(or had, for a failed job) work queued for it, since the worker
 *		reads its script when it gets to it.
 */
static void
define_check_changeable(MigrRevDef *old, bool applied, const char *diff)
{
	char	   *tenant;

	if (applied)
		ereport(ERROR,
				(errcode(ERRCODE_MIGR_APPLIED_CHANGED),
				 errmsg("revision \"%s\" is applied and cannot be changed",
						old->id),
				 errdetail("The new definition differs in: %s.", diff),
				 errhint("Write a new revision that makes the change.")));
	if (old->partial_next > 0)
		ereport(ERROR,
				(errcode(ERRCODE_MIGR_APPLIED_CHANGED),
				 errmsg("revision \"%s\" is partially applied and cannot be changed",
						old->id),
				 errdetail("Its statements before statement %d have committed; the new definition differs in: %s.",
						   old->partial_next, diff),
				 errhint("Finish it with migr_upgrade() (after migr_retry() or migr_cancel() of its job), then write a new revision that makes the change.")));
	if (tenant_using_revision(old->id, &tenant))
		ereport(ERROR,
				(errcode(ERRCODE_MIGR_APPLIED_CHANGED),
				 errmsg("revision \"%s\" is applied in tenant \"%s\" and cannot be changed",
						old->id, tenant),
				 errdetail("The new definition differs in: %s.", diff),
				 errhint("Write a new revision that makes the change.")));
	if (job_revision_queued(old->id))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("revision \"%s\" is queued for a background worker and cannot be changed",
						old->id),
				 errdetail("The new definition differs in: %s.", diff),
				 errhint("SELECT migr_wait() first, or cancel its job with migr_cancel(); migr_jobs() shows the queue.")));
}

/*
 * define_revision
 *		Check and store a definition; returns its id.  Runs inside SPI, on
 *		behalf of the SQL function fname.
 */
char *
define_revision(MigrRevDef *def, const char *fname)
{
	MigrRevDef	old;
	bool		applied = false;
	bool		exists;
	bool		referenced;
	char	   *diff = NULL;
	ListCell   *lc;
	ListCell   *lc2;

	define_validate(def);
	def->checksum = checksum_revision(def);

	catalog_lock_define(fname);
	exists = catalog_get_def(def->id, &old, &applied);
	if (exists)
	{
		diff = define_differences(&old, def);
		if (diff == NULL)
			return def->id;		/* the same definition again */
		define_check_changeable(&old, applied, diff);
	}
	define_check_labels(def);
	lint_define(def);			/* new or changed definitions only */
	referenced = exists || catalog_is_referenced(def->id);
	/* depends_on may name a label: a new label can close a cycle too */
	foreach(lc, def->labels)
	{
		referenced = referenced || catalog_is_referenced(lfirst(lc));
		foreach(lc2, def->deps)
			referenced = referenced || strcmp(lfirst(lc2), lfirst(lc)) == 0;
	}

	catalog_store_def(def, exists, exists ? old.parents : NIL);
	if (referenced)
		define_check_cycle(def);

	if (exists)
		ereport(NOTICE,
				(errmsg("replacing revision \"%s\", which is not applied",
						def->id),
				 errdetail("The new definition differs in: %s.", diff)));
	catalog_log(exists ? "redefine" : "define", def->id, NULL, -1, "ok");
	return def->id;
}

/*
 * migr_define(id, down_revision, upgrade, downgrade, message,
 *			   branch_labels, depends_on, kind) returns text
 */
Datum
migr_define(PG_FUNCTION_ARGS)
{
	MigrRevDef *def = palloc0(sizeof(MigrRevDef));

	def->id = PG_ARGISNULL(0) ? define_new_id() :
		text_to_cstring(PG_GETARG_TEXT_PP(0));
	def->parents = PG_ARGISNULL(1) ? NIL :
		migr_array_list(PG_GETARG_ARRAYTYPE_P(1), "down_revision");
	def->upgrade = migr_arg_text(fcinfo, 2, "upgrade");
	def->downgrade = PG_ARGISNULL(3) ? NULL :
		text_to_cstring(PG_GETARG_TEXT_PP(3));
	def->message = migr_arg_text(fcinfo, 4, "message");
	def->labels = migr_arg_list(fcinfo, 5, "branch_labels");
	def->deps = migr_arg_list(fcinfo, 6, "depends_on");
	def->kind = migr_arg_text(fcinfo, 7, "kind");

	catalog_connect();
	(void) define_revision(def, "migr_define()");
	catalog_finish();
	PG_RETURN_TEXT_P(cstring_to_text(def->id));
}

/*
 * migr_load(script text) returns text
 *		Define a revision from the text of a revision file.
 */
Datum
migr_load(PG_FUNCTION_ARGS)
{
	char	   *text = migr_arg_text(fcinfo, 0, "script");
	MigrRevDef *def = revfile_parse(text);

	catalog_connect();
	(void) define_revision(def, "migr_load()");
	catalog_finish();
	PG_RETURN_TEXT_P(cstring_to_text(def->id));
}

/*
 * migr_merge(revisions text[], message text, id text) returns text
 *		Define an empty revision whose parents are the given revisions (by
 *		default every head).
 */
Datum
migr_merge(PG_FUNCTION_ARGS)
{
	MigrRevDef *def = palloc0(sizeof(MigrRevDef));
	MigrGraph  *g;
	List	   *parents = NIL;
	ListCell   *lc;
	MemoryContext callercxt = CurrentMemoryContext;

	def->id = PG_ARGISNULL(2) ? define_new_id() :
		text_to_cstring(PG_GETARG_TEXT_PP(2));
	def->message = migr_arg_text(fcinfo, 1, "message");
	def->kind = "schema";
	def->upgrade = "";
	def->downgrade = "";

	catalog_connect();
	g = catalog_load_graph();
	if (PG_ARGISNULL(0))
	{
		foreach(lc, graph_heads(g))
			parents = lappend(parents, g->revs[lfirst_int(lc)].id);
	}
	else
	{
		/* each revision once, in the order given: a mark per graph node */
		bool	   *seen = palloc0(sizeof(bool) * Max(g->nrevs, 1));

		foreach(lc, migr_array_list(PG_GETARG_ARRAYTYPE_P(0), "revisions"))
		{
			int			k = target_single(g, lfirst(lc));

			CHECK_FOR_INTERRUPTS();
			if (!seen[k])
				parents = lappend(parents, g->revs[k].id);
			seen[k] = true;
		}
	}
	if (list_length(parents) < 2)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("nothing to merge: %s",
						PG_ARGISNULL(0) ? "there is only one head" :
						"a merge needs at least two different revisions"),
				 errhint("migr_heads() lists the heads.")));

	/* the parents' ids must outlive the SPI context */
	MemoryContextSwitchTo(callercxt);
	foreach(lc, parents)
		def->parents = lappend(def->parents, pstrdup(lfirst(lc)));
	(void) define_revision(def, "migr_merge()");
	catalog_finish();
	PG_RETURN_TEXT_P(cstring_to_text(def->id));
}

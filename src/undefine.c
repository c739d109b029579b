/*-------------------------------------------------------------------------
 *
 * undefine.c
 *	  Removing a revision that was never applied: migr_undefine().
 *
 * A team keeps its revisions as files; one written by mistake (a merge
 * made twice, a revision abandoned before it was applied anywhere) must be
 * removable from the database too, or every later push reports it and its
 * head breaks "head".  What ran is history, though: an applied or partially
 * applied revision is never removed (the way back is a downgrade, the way
 * forward a new revision), nor one that other revisions name as a parent or
 * a dependency (by id, or by one of its branch labels), nor one a
 * background worker still has work for.  Under the definition lock, as
 * every definition: the revision, its edges, its labels and its head row
 * go; its parents become heads again where it was their only child; its
 * finished jobs (done, failed, cancelled) go with it; the log keeps a row.
 *
 * Copyright (c) 2026, migr developers
 *
 * IDENTIFICATION
 *	  src/undefine.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"

#include "migr.h"

PG_FUNCTION_INFO_V1(migr_undefine);

static void undefine_check(MigrRevDef *def, bool applied);
static char *undefine_dependent(const char *name, char *kind);
static void undefine_delete(MigrRevDef *def);

/* who names a revision (or one of its labels) as parent or dependency */
static MigrQuery plan_dependent = {
	"SELECT child, kind FROM migr.edge"
	" WHERE parent OPERATOR(pg_catalog.=) $1"
	" ORDER BY child LIMIT 1",
	1, {TEXTOID}, NULL
};

static MigrQuery plan_del_jobs = {
	"DELETE FROM migr.job WHERE revision OPERATOR(pg_catalog.=) $1",
	1, {TEXTOID}, NULL
};

static MigrQuery plan_del_edges = {
	"DELETE FROM migr.edge WHERE child OPERATOR(pg_catalog.=) $1",
	1, {TEXTOID}, NULL
};

static MigrQuery plan_del_labels = {
	"DELETE FROM migr.label WHERE revision OPERATOR(pg_catalog.=) $1",
	1, {TEXTOID}, NULL
};

static MigrQuery plan_del_head = {
	"DELETE FROM migr.head WHERE revision OPERATOR(pg_catalog.=) $1",
	1, {TEXTOID}, NULL
};

static MigrQuery plan_del_revision = {
	"DELETE FROM migr.revision WHERE id OPERATOR(pg_catalog.=) $1",
	1, {TEXTOID}, NULL
};

/* a parent with no child left is a head again */
static MigrQuery plan_rehead = {
	"INSERT INTO migr.head (revision)"
	" SELECT r.id FROM migr.revision r"
	"  WHERE r.id OPERATOR(pg_catalog.=) $1"
	"    AND NOT EXISTS (SELECT 1 FROM migr.edge e"
	"                     WHERE e.parent OPERATOR(pg_catalog.=) $1"
	"                       AND e.kind OPERATOR(pg_catalog.=) 'p')"
	"    AND NOT EXISTS (SELECT 1 FROM migr.head h"
	"                     WHERE h.revision OPERATOR(pg_catalog.=) $1)",
	1, {TEXTOID}, NULL
};

/*
 * undefine_dependent
 *		The first revision that names this id or label as a parent ('p') or
 *		dependency ('d'), or NULL.
 */
static char *
undefine_dependent(const char *name, char *kind)
{
	MigrCatalogUser save;
	Datum		values[1];
	char	   *child = NULL;

	values[0] = CStringGetTextDatum(name);
	catalog_become_owner(&save);
	catalog_run_expect(&plan_dependent, values, NULL, SPI_OK_SELECT,
					   "read the revisions that need \"%s\"", name);
	catalog_restore_user(&save);
	if (SPI_processed > 0)
	{
		char	   *k = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);

		child = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
		*kind = k[0];
	}
	SPI_freetuptable(SPI_tuptable);
	return child;
}

/*
 * undefine_check
 *		Refuse what must stay: applied, partially applied, queued for a
 *		worker, needed by another revision.
 */
static void
undefine_check(MigrRevDef *def, bool applied)
{
	char		kind = 'p';
	char	   *child;
	ListCell   *lc;

	if (applied)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot undefine revision \"%s\": it is applied",
						def->id),
				 errdetail("An applied revision is part of the history of the database."),
				 errhint("Downgrade below it first (migr_downgrade()), or write a new revision that reverts what it did.")));
	if (def->partial_next > 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot undefine revision \"%s\": it is partially applied",
						def->id),
				 errdetail("Its statements before statement %d have committed.",
						   def->partial_next),
				 errhint("Finish it with migr_upgrade() (after migr_retry() or migr_cancel() of its job), or mark it unapplied with migr_stamp() once its effects are undone.")));
	if (job_revision_queued(def->id))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot undefine revision \"%s\": a background worker has work queued for it",
						def->id),
				 errhint("SELECT migr_wait() first, or cancel its job with migr_cancel(); migr_jobs() shows the queue.")));

	child = undefine_dependent(def->id, &kind);
	foreach(lc, def->labels)
		if (child == NULL)
			child = undefine_dependent(lfirst(lc), &kind);
	if (child != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_DEPENDENT_OBJECTS_STILL_EXIST),
				 errmsg("cannot undefine revision \"%s\": revision \"%s\" %s",
						def->id, child,
						kind == 'p' ? "has it as a parent" : "depends on it"),
				 errhint("Undefine the revisions that build on it first, or keep it.")));
}

/*
 * undefine_delete
 *		Remove the revision's rows, then make heads of the parents it was
 *		the only child of.
 */
static void
undefine_delete(MigrRevDef *def)
{
	MigrCatalogUser save;
	Datum		values[1];
	ListCell   *lc;

	values[0] = CStringGetTextDatum(def->id);
	catalog_become_owner(&save);
	catalog_run_expect(&plan_del_jobs, values, NULL, SPI_OK_DELETE,
					   "remove the jobs of revision \"%s\"", def->id);
	catalog_run_expect(&plan_del_edges, values, NULL, SPI_OK_DELETE,
					   "remove the edges of revision \"%s\"", def->id);
	catalog_run_expect(&plan_del_labels, values, NULL, SPI_OK_DELETE,
					   "remove the labels of revision \"%s\"", def->id);
	catalog_run_expect(&plan_del_head, values, NULL, SPI_OK_DELETE,
					   "remove revision \"%s\" from the heads", def->id);
	catalog_run_expect(&plan_del_revision, values, NULL, SPI_OK_DELETE,
					   "remove revision \"%s\"", def->id);
	if (SPI_processed != 1)
		elog(ERROR, "could not remove revision \"%s\"", def->id);
	foreach(lc, def->parents)
	{
		values[0] = CStringGetTextDatum((char *) lfirst(lc));
		catalog_run_expect(&plan_rehead, values, NULL, SPI_OK_INSERT,
						   "update the heads of revision \"%s\"", def->id);
	}
	catalog_restore_user(&save);
}

/*
 * migr_undefine(id text) returns text
 *		Remove a revision that was never applied; returns its id.
 */
Datum
migr_undefine(PG_FUNCTION_ARGS)
{
	char	   *id = migr_arg_text(fcinfo, 0, "id");
	MigrRevDef	def;
	bool		applied = false;

	memset(&def, 0, sizeof(def));
	target_check_name(id, "revision id");
	catalog_connect();
	catalog_lock_define("migr_undefine()");
	if (!catalog_get_def(id, &def, &applied))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("revision \"%s\" does not exist", id),
				 errhint("migr_history() lists the defined revisions; migr_undefine() takes a whole id.")));
	undefine_check(&def, applied);
	undefine_delete(&def);
	catalog_log("undefine", id, NULL, -1, "ok");
	catalog_finish();
	PG_RETURN_TEXT_P(cstring_to_text(id));
}

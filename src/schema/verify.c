/*-------------------------------------------------------------------------
 *
 * verify.c
 *	  migr_verify(): the "stairway" test of a history, inside the server,
 *	  always rolled back.
 *
 * From the current state, for each revision an upgrade to the target
 * would apply, in that order: upgrade it; if it is reversible, downgrade
 * it and compare the schema with the one before its upgrade (whatever
 * differs is what the downgrade left behind or removed), then upgrade it
 * again and compare with the schema after the first upgrade (an upgrade
 * that does not give the same schema twice is found here).  The revisions
 * run through move.c's machinery (move_revision_try): the same checksum
 * check, subtransaction, lock policy, applied set and log as a real move,
 * except that deferred statements (CREATE INDEX CONCURRENTLY and the like)
 * run in line without CONCURRENTLY, as a downgrade runs them.  Schemas are
 * the schema model's descriptions (schema_describe, schema_compare).
 *
 * Everything runs inside one subtransaction that is always rolled back,
 * and each revision's downgrade and second upgrade inside another one,
 * rolled back too: so the next revision starts from exactly the schema its
 * upgrade will meet in production, whatever the downgrade got wrong, and
 * every revision is checked, not only up to the first mistake.  Nothing
 * persists: not the schema, not the applied set, not migr.log, not the
 * migr lock (taken inside the subtransaction, released with it).
 *
 * Copyright (c) 2026, migr developers
 *
 * IDENTIFICATION
 *	  src/schema/verify.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/tuplestore.h"

#include "migr.h"
#include "schema/schema.h"

PG_FUNCTION_INFO_V1(migr_verify);

#define VERIFY_FNAME "migr_verify()"

/* the state of one call */
typedef struct VerifyState
{
	ReturnSetInfo *rsinfo;
	const char *target;
	MigrGraph  *g;
	int		   *order;
	int			n;
} VerifyState;

/* how each step's differences are told (verify_difference) */
typedef struct VerifyWords
{
	const char *added;
	const char *dropped;
	const char *after;
} VerifyWords;

static void verify_prepare(VerifyState *vs);
static void verify_check_partial(void);
static void verify_run(VerifyState *vs);
static bool verify_revision(VerifyState *vs, int pos, Jsonb **before);
static void verify_back_and_again(VerifyState *vs, MigrRev *rev,
								  Jsonb *before, Jsonb *after);
static void verify_row(VerifyState *vs, const char *revision,
					   const char *step, bool ok, const char *detail);
static int	verify_differences(VerifyState *vs, const char *revision,
							   const char *step, Jsonb *expected,
							   Jsonb *found, const VerifyWords *words);
static char *verify_difference(SchemaChange *c, const VerifyWords *words);
static char *verify_error(ErrorData *edata);

static const VerifyWords verify_down_words = {
	"left behind by the downgrade", "removed by the downgrade",
	"the downgrade"
};
static const VerifyWords verify_again_words = {
	"extra after the second upgrade", "missing after the second upgrade",
	"the second upgrade"
};

/*
 * verify_row
 *		One row of the result.
 */
static void
verify_row(VerifyState *vs, const char *revision, const char *step,
		   bool ok, const char *detail)
{
	Datum		values[4];
	bool		nulls[4] = {false, false, false, detail == NULL};

	values[0] = CStringGetTextDatum(revision);
	values[1] = CStringGetTextDatum(step);
	values[2] = BoolGetDatum(ok);
	values[3] = detail ? CStringGetTextDatum(detail) : (Datum) 0;
	tuplestore_putvalues(vs->rsinfo->setResult, vs->rsinfo->setDesc, values,
						 nulls);
}

/*
 * verify_error
 *		A failed step's error on one line: the message, and the context
 *		line that names the script and the statement, when there is one.
 */
static char *
verify_error(ErrorData *edata)
{
	StringInfoData buf;
	const char *where = NULL;

	initStringInfo(&buf);
	appendStringInfoString(&buf, edata->message ? edata->message :
						   "unknown error");
	if (edata->context)
		where = strstr(edata->context, " script of revision ");
	if (where)
	{
		/* back to the start of that line, and up to its end */
		const char *start = where;
		const char *end = strchr(where, '\n');

		while (start > edata->context && start[-1] != '\n')
			start--;
		appendStringInfo(&buf, " (%.*s)",
						 end ? (int) (end - start) : (int) strlen(start),
						 start);
	}
	return buf.data;
}

/*
 * verify_difference
 *		One difference between the schema a step should have given and the
 *		one it gave, in words: the kind and identity of the object, and
 *		what happened to it.
 */
static char *
verify_difference(SchemaChange *c, const VerifyWords *words)
{
	switch (c->type)
	{
		case SCHEMA_ADDED:
			return psprintf("%s %s %s", c->kind, c->object, words->added);
		case SCHEMA_DROPPED:
			return psprintf("%s %s %s", c->kind, c->object, words->dropped);
		case SCHEMA_RENAMED:
			return psprintf("%s %s renamed to %s after %s", c->kind,
							c->object, c->new_object, words->after);
		case SCHEMA_CHANGED:
			break;
	}
	if (c->detail)
		return psprintf("%s %s differs after %s: %s", c->kind, c->object,
						words->after, c->detail);
	return psprintf("%s %s differs after %s", c->kind, c->object,
					words->after);
}

/*
 * verify_differences
 *		Compare the schema a step gave with the one it should have given:
 *		one failing row per difference, or one passing row.  Returns the
 *		number of differences.
 */
static int
verify_differences(VerifyState *vs, const char *revision, const char *step,
				   Jsonb *expected, Jsonb *found, const VerifyWords *words)
{
	List	   *changes = schema_compare(expected, found);
	ListCell   *lc;

	foreach(lc, changes)
		verify_row(vs, revision, step, false,
				   verify_difference((SchemaChange *) lfirst(lc), words));
	if (changes == NIL)
		verify_row(vs, revision, step, true, NULL);
	return list_length(changes);
}

/*
 * verify_check_partial
 *		A partially applied revision cannot be verified: its committed half
 *		is not undone by rolling back, and its downgrade script was written
 *		for the whole.
 */
static void
verify_check_partial(void)
{
	List	   *partials = catalog_partials();

	if (partials != NIL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot call %s while revision \"%s\" is partially applied",
						VERIFY_FNAME,
						((MigrPartial *) linitial(partials))->revision),
				 errdetail("Its first statements have committed; the rest waits for a background worker or for migr_upgrade()."),
				 errhint("Finish it with migr_upgrade() and verify from there.")));
}

/*
 * verify_prepare
 *		Take the migr lock, as a move does, and compute the revisions an
 *		upgrade to the target would apply, in its order.
 */
static void
verify_prepare(VerifyState *vs)
{
	MigrTarget *t;

	move_lock(VERIFY_FNAME);
	verify_check_partial();
	vs->g = catalog_load_graph();
	t = target_resolve(vs->g, vs->target);
	if (t->base)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot verify up to \"%s\"", vs->target),
				 strcmp(vs->target, "base") != 0 ?
				 errdetail("It resolves to base, below every revision.") : 0,
				 errhint("migr_verify() upgrades toward its target: give a revision, \"head\" or \"heads\".")));
	vs->order = graph_upgrade_order(vs->g, t, &vs->n);
	if (vs->n == 0)
		ereport(NOTICE,
				(errmsg("nothing to verify: every revision up to \"%s\" is applied",
						vs->target),
				 errhint("migr_verify() checks the revisions above the current state; run it on a database where they are not applied yet, such as a fresh one.")));
}

/*
 * verify_back_and_again
 *		Downgrade a revision that was just upgraded, compare with the schema
 *		before, upgrade it again and compare with the schema after the first
 *		upgrade, all in a subtransaction that is rolled back: the caller
 *		goes on from the first upgrade's schema exactly.
 */
static void
verify_back_and_again(VerifyState *vs, MigrRev *rev, Jsonb *before,
					  Jsonb *after)
{
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	ErrorData  *edata;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(cxt);

	/* NB: errors inside are raised to migr_verify(), which rolls back all */
	edata = move_revision_try(rev, false, vs->target);
	if (edata != NULL)
		verify_row(vs, rev->id, "downgrade", false, verify_error(edata));
	else
	{
		verify_differences(vs, rev->id, "downgrade", before,
						   schema_describe(NULL), &verify_down_words);
		edata = move_revision_try(rev, true, vs->target);
		if (edata != NULL)
			verify_row(vs, rev->id, "upgrade again", false,
					   verify_error(edata));
		else
			verify_differences(vs, rev->id, "upgrade again", after,
							   schema_describe(NULL), &verify_again_words);
	}

	RollbackAndReleaseCurrentSubTransaction();
	MemoryContextSwitchTo(cxt);
	CurrentResourceOwner = owner;
}

/*
 * verify_revision
 *		The stairway's step for the revision at position pos of the order.
 *		*before is the schema before its upgrade; on return, the schema
 *		after it.  Returns false when the upgrade failed: the revisions
 *		after it cannot be reached.
 */
static bool
verify_revision(VerifyState *vs, int pos, Jsonb **before)
{
	MigrRev    *rev = &vs->g->revs[vs->order[pos]];
	ErrorData  *edata;
	Jsonb	   *after;

	edata = move_revision_try(rev, true, vs->target);
	if (edata != NULL)
	{
		char	   *detail = verify_error(edata);
		int			left = vs->n - pos - 1;

		if (left > 0)
			detail = psprintf(ngettext("%s; %d later revision not verified",
									   "%s; %d later revisions not verified",
									   left), detail, left);
		verify_row(vs, rev->id, "upgrade", false, detail);
		return false;
	}
	verify_row(vs, rev->id, "upgrade", true, NULL);
	after = schema_describe(NULL);

	if (!rev->reversible)
		verify_row(vs, rev->id, "downgrade", true,
				   "irreversible: skipped");
	else
		verify_back_and_again(vs, rev, *before, after);
	*before = after;
	return true;
}

/*
 * verify_run
 *		The whole stairway, inside the caller's subtransaction.  Each
 *		revision's work is done in a memory context of its own; only the
 *		schema after it is carried to the next.
 */
static void
verify_run(VerifyState *vs)
{
	MemoryContext callercxt = CurrentMemoryContext;
	MemoryContext keepcxt;
	Jsonb	   *before;
	int			i;

	verify_prepare(vs);
	keepcxt = AllocSetContextCreate(callercxt, "migr verify schema",
									ALLOCSET_DEFAULT_SIZES);
	MemoryContextSwitchTo(keepcxt);
	before = schema_describe(NULL);
	for (i = 0; i < vs->n; i++)
	{
		MemoryContext revcxt = AllocSetContextCreate(callercxt,
													 "migr verify revision",
													 ALLOCSET_DEFAULT_SIZES);
		bool		went_on;

		CHECK_FOR_INTERRUPTS();
		MemoryContextSwitchTo(revcxt);
		went_on = verify_revision(vs, i, &before);

		/* keep the schema after this revision, forget the rest */
		MemoryContextSwitchTo(callercxt);
		MemoryContextDelete(keepcxt);
		keepcxt = revcxt;
		if (!went_on)
			break;
	}
	MemoryContextSwitchTo(callercxt);
	MemoryContextDelete(keepcxt);
}

/*
 * migr_verify(target text DEFAULT 'heads') returns table
 *		(revision text, step text, ok boolean, detail text)
 *
 * Refused where a move is (from a migration script or a background
 * worker's job, in a read-only transaction, on a standby, while jobs are
 * queued), and while a revision is partially applied; allowed under
 * migr.forward_only, since nothing it does persists.
 */
Datum
migr_verify(PG_FUNCTION_ARGS)
{
	char	   *target = migr_arg_text(fcinfo, 0, "target");
	ReturnSetInfo *rsinfo;
	VerifyState vs;
	MemoryContext cxt;
	ResourceOwner owner;
	int			level;

	InitMaterializedSRF(fcinfo, 0);
	rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	memset(&vs, 0, sizeof(vs));
	vs.rsinfo = rsinfo;
	vs.target = target;

	catalog_connect();
	cxt = CurrentMemoryContext;
	owner = CurrentResourceOwner;
	level = GetCurrentTransactionNestLevel();
	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		verify_run(&vs);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		/*
		 * Roll back what ran (from inside a revision's downgrade, that is
		 * two subtransactions), then raise the error as it was.
		 */
		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		while (GetCurrentTransactionNestLevel() > level)
			RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
		ReThrowError(edata);
	}
	PG_END_TRY();

	/* all is well or not: nothing of it stays */
	RollbackAndReleaseCurrentSubTransaction();
	MemoryContextSwitchTo(cxt);
	CurrentResourceOwner = owner;
	catalog_finish();
	return (Datum) 0;
}

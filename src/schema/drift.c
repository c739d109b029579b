/*-------------------------------------------------------------------------
 *
 * drift.c
 *	  migr_drift(): how the live schema differs from what the last move
 *	  left, or from a reference description; and the "drift" finding of
 *	  migr_check().
 *
 * Copyright (c) 2026, migr developers
 *
 * IDENTIFICATION
 *	  src/schema/drift.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/tuplestore.h"

#include "migr.h"
#include "schema/schema.h"

PG_FUNCTION_INFO_V1(migr_drift);

static Jsonb *drift_reference(void);

/*
 * drift_reference
 *		The schema the last move recorded, or an error saying why there is
 *		none.
 */
static Jsonb *
drift_reference(void)
{
	char	   *fingerprint;
	Jsonb	   *ref;

	if (!schema_tables_exist())
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("extension \"migr\" records no schema before version 1.2"),
				 errhint("Run ALTER EXTENSION migr UPDATE, or pass a reference description to migr_drift().")));
	ref = schema_last_recorded(&fingerprint);
	if (ref == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("no schema has been recorded yet"),
				 errdetail("The schema is recorded at every upgrade, downgrade and stamp."),
				 errhint("Run a migration or a stamp first, or pass a reference description, such as another database's migr_schema().")));
	return ref;
}

/*
 * migr_drift(reference jsonb DEFAULT NULL) returns table
 *		(kind text, object text, change text, detail text)
 */
Datum
migr_drift(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Jsonb	   *reference;
	ListCell   *lc;

	InitMaterializedSRF(fcinfo, 0);
	reference = PG_ARGISNULL(0) ? drift_reference() : PG_GETARG_JSONB_P(0);
	foreach(lc, schema_compare(reference, schema_describe(NULL)))
	{
		SchemaChange *c = lfirst(lc);
		Datum		values[4];
		bool		nulls[4] = {false, false, false, c->detail == NULL};

		values[0] = CStringGetTextDatum(c->kind);
		values[1] = CStringGetTextDatum(c->object);
		values[2] = CStringGetTextDatum(c->change);
		values[3] = c->detail ? CStringGetTextDatum(c->detail) : (Datum) 0;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values,
							 nulls);
	}
	return (Datum) 0;
}

/*
 * schema_drift_findings
 *		migr_check()'s "drift" findings: one per difference between the live
 *		schema and the one the last move recorded, as MigrFinding.  None
 *		when nothing was recorded yet.
 */
List *
schema_drift_findings(void)
{
	char	   *fingerprint;
	Jsonb	   *ref = schema_last_recorded(&fingerprint);
	List	   *out = NIL;
	ListCell   *lc;

	if (ref == NULL)
		return NIL;
	foreach(lc, schema_compare(ref, schema_describe(NULL)))
	{
		SchemaChange *c = lfirst(lc);
		MigrFinding *f = palloc0(sizeof(MigrFinding));

		f->severity = MIGR_SEV_WARNING;
		f->code = "drift";
		f->message = c->detail ?
			psprintf("%s %s %s outside a migration: %s", c->kind, c->object,
					 c->change, c->detail) :
			psprintf("%s %s %s outside a migration", c->kind, c->object,
					 c->change);
		f->hint = pstrdup("Write a revision that makes the change, or undo it; migr_drift() lists every difference.");
		out = lappend(out, f);
	}
	return out;
}

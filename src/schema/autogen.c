/*-------------------------------------------------------------------------
 *
 * autogen.c
 *	  migr_autogenerate() and migr_baseline(): revision files written from
 *	  the difference between the schema wanted and the live one.
 *
 * The file is the format of README "Revision files": directives, then the
 * upgrade and downgrade scripts that migr_diff() gives.  Nothing is defined:
 * a person reviews the file, then loads it.  The header says what to look
 * at: the statements that lose data, rewrite a table or that migr could not
 * write; and, loudest, a desired schema with nothing in it, which would
 * drop everything.
 *
 * Copyright (c) 2026, migr developers
 *
 * IDENTIFICATION
 *	  src/schema/autogen.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"

#include "migr.h"
#include "schema/schema.h"

PG_FUNCTION_INFO_V1(migr_autogenerate);
PG_FUNCTION_INFO_V1(migr_baseline);

/* sections that hold the objects a schema is made of */
static const char *const autogen_object_sections[] = {
	"tables", "views", "materialized_views", "functions", "types", "sequences",
	"indexes", "constraints", "triggers", "rules", "policies", "statistics",
	"collations",
};

static char *autogen_one_line(const char *s);
static Jsonb *autogen_fresh(Jsonb *live);
static int	autogen_objects(Jsonb *doc);
static char *autogen_parent(void);
static char *autogen_id(text *id);
static void autogen_script(StringInfo buf, List *steps);
static void autogen_summary(StringInfo buf, List *up);
static char *autogen_file(const char *id, const char *parent, const char *message,
						  List *up, List *down, bool empty, bool baseline);

/* a message on one line: the directive ends at the line's end */
static char *
autogen_one_line(const char *s)
{
	char	   *out = pstrdup(s);
	char	   *p;

	for (p = out; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	return out;
}

/* how many objects the description holds */
static int
autogen_objects(Jsonb *doc)
{
	int			n = 0;
	size_t		i;

	for (i = 0; i < lengthof(autogen_object_sections); i++)
	{
		const char *k = autogen_object_sections[i];
		JsonbValue *v = getKeyJsonValueFromContainer(&doc->root, k, strlen(k), NULL);

		if (v && v->type == jbvBinary)
			n += JsonContainerSize(v->val.binary.data);
	}
	return n;
}

/* the single head, NULL when nothing is defined yet */
static char *
autogen_parent(void)
{
	MigrGraph  *g;
	List	   *heads;
	char	   *parent = NULL;

	catalog_connect();
	g = catalog_load_graph();
	heads = graph_heads(g);
	if (list_length(heads) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_MIGR_MULTIPLE_HEADS),
				 errmsg("cannot autogenerate a revision on top of %d heads", list_length(heads)),
				 errdetail("The heads are %s.", graph_id_list(g, heads)),
				 errhint("Merge them first (migr_merge()), so that the new revision has one parent.")));
	if (heads != NIL)
		parent = pstrdup(g->revs[linitial_int(heads)].id);
	catalog_finish();
	return parent;
}

static char *
autogen_id(text *id)
{
	char	   *out;

	if (id != NULL)
	{
		out = text_to_cstring(id);
		target_check_name(out, "revision id");
		return out;
	}
	out = palloc(MIGR_RANDOM_ID_LEN + 1);
	if (!revname_random(out))
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not generate a random revision id")));
	return out;
}

static void
autogen_script(StringInfo buf, List *steps)
{
	ListCell   *lc;

	foreach(lc, steps)
	{
		char	   *sql;
		const char *hazard;

		schema_diff_step(lfirst(lc), &sql, &hazard);
		if (hazard && strcmp(hazard, "unsupported") == 0)
			appendStringInfo(buf, "%s\n", sql);
		else if (hazard)
			appendStringInfo(buf, "-- hazard: %s\n%s;\n", hazard, sql);
		else
			appendStringInfo(buf, "%s;\n", sql);
	}
}

/* the header's count of what to review */
static void
autogen_summary(StringInfo buf, List *up)
{
	ListCell   *lc;
	int			loss = 0,
				rewrite = 0,
				unsup = 0,
				lock = 0;

	foreach(lc, up)
	{
		char	   *sql;
		const char *hazard;

		schema_diff_step(lfirst(lc), &sql, &hazard);
		if (hazard == NULL)
			continue;
		if (strcmp(hazard, "data loss") == 0)
			loss++;
		else if (strcmp(hazard, "rewrite") == 0)
			rewrite++;
		else if (strcmp(hazard, "unsupported") == 0)
			unsup++;
		else
			lock++;
	}
	appendStringInfo(buf, "-- Written by migr_autogenerate(): review it before loading it.\n"
					 "-- %d upgrade statement%s", list_length(up), list_length(up) == 1 ? "" : "s");
	if (loss)
		appendStringInfo(buf, ", %d that lose%s data", loss, loss == 1 ? "s" : "");
	if (rewrite)
		appendStringInfo(buf, ", %d that rewrite%s a table", rewrite, rewrite == 1 ? "s" : "");
	if (lock)
		appendStringInfo(buf, ", %d that lock%s a table", lock, lock == 1 ? "s" : "");
	if (unsup)
		appendStringInfo(buf, ", %d difference%s migr could not write (UNSUPPORTED below: write %s by hand)",
						 unsup, unsup == 1 ? "" : "s", unsup == 1 ? "it" : "them");
	appendStringInfoString(buf, ".\n");
}

static char *
autogen_file(const char *id, const char *parent, const char *message,
			 List *up, List *down, bool empty, bool baseline)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfo(&buf, "-- migr:revision %s\n", id);
	if (parent)
		appendStringInfo(&buf, "-- migr:down_revision %s\n", parent);
	appendStringInfo(&buf, "-- migr:message %s\n", autogen_one_line(message));
	appendStringInfoString(&buf, "--\n");
	if (empty)
		appendStringInfoString(&buf,
							   "-- !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n"
							   "-- !!! WARNING: THE DESIRED SCHEMA IS EMPTY.                         !!!\n"
							   "-- !!! THIS REVISION DROPS EVERY TABLE, VIEW, FUNCTION AND TYPE.     !!!\n"
							   "-- !!! If that is not what you meant, the schema file or database    !!!\n"
							   "-- !!! you generated it from is wrong: do not load this file.        !!!\n"
							   "-- !!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n"
							   "--\n");
	if (baseline)
		appendStringInfoString(&buf,
							   "-- Baseline: the schema as it was when migr took over. It has no downgrade\n"
							   "-- (reverting it would drop everything); `migr baseline` stamps it applied.\n");
	autogen_summary(&buf, up);
	if (up == NIL)
		appendStringInfoString(&buf, "-- No differences: the schema is already as desired.\n");
	appendStringInfoString(&buf, "-- migr:upgrade\n");
	autogen_script(&buf, up);
	if (!baseline)
	{
		appendStringInfoString(&buf, "-- migr:downgrade\n");
		autogen_script(&buf, down);
	}
	return buf.data;
}

/*
 * migr_autogenerate(desired jsonb, message text DEFAULT '', id text DEFAULT NULL)
 *		RETURNS text
 */
Datum
migr_autogenerate(PG_FUNCTION_ARGS)
{
	Jsonb	   *desired;
	Jsonb	   *current;
	char	   *message = PG_ARGISNULL(1) ? "" : text_to_cstring(PG_GETARG_TEXT_PP(1));
	char	   *id;
	char	   *parent;
	List	   *up,
			   *down;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the desired schema must not be null"),
				 errhint("Pass a description made by migr_schema() or migr_schema_of().")));
	desired = PG_GETARG_JSONB_P(0);
	schema_check_description(desired, "desired");
	id = autogen_id(PG_ARGISNULL(2) ? NULL : PG_GETARG_TEXT_PP(2));
	parent = autogen_parent();
	current = schema_diff_live(desired);
	up = schema_diff(desired, current, &down);
	PG_RETURN_TEXT_P(cstring_to_text(autogen_file(id, parent, message, up, down,
												  autogen_objects(desired) == 0 && up != NIL,
												  false)));
}

/*
 * autogen_fresh
 *		What a fresh database already has, that a baseline must not create:
 *		the public schema and plpgsql, as they are here.
 */
static Jsonb *
autogen_fresh(Jsonb *live)
{
	Oid			types[1] = {JSONBOID};
	Datum		values[1];
	Jsonb	   *out;
	MemoryContext caller = CurrentMemoryContext;

	values[0] = JsonbPGetDatum(live);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args("SELECT pg_catalog.jsonb_build_object('format', 1,"
							  " 'schemas', COALESCE((SELECT pg_catalog.jsonb_object_agg(k, v) FROM pg_catalog.jsonb_each($1 OPERATOR(pg_catalog.->) 'schemas') e(k, v) WHERE k OPERATOR(pg_catalog.=) 'public'), '{}'),"
							  " 'extensions', COALESCE((SELECT pg_catalog.jsonb_object_agg(k, v) FROM pg_catalog.jsonb_each($1 OPERATOR(pg_catalog.->) 'extensions') e(k, v) WHERE k OPERATOR(pg_catalog.=) 'plpgsql'), '{}'))",
							  1, types, values, NULL, true, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "could not build the fresh database's description");
	{
		bool		isnull;
		Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

		MemoryContextSwitchTo(caller);
		out = DatumGetJsonbPCopy(d);
	}
	if (SPI_finish() != SPI_OK_FINISH)
		elog(ERROR, "SPI_finish failed");
	return out;
}

/*
 * migr_baseline(message text DEFAULT 'baseline', id text DEFAULT NULL)
 *		RETURNS text
 *
 * A root revision that creates the live schema from nothing, for a
 * database that had tables before migr: the client stamps it applied.
 */
Datum
migr_baseline(PG_FUNCTION_ARGS)
{
	char	   *message = PG_ARGISNULL(0) ? "baseline" : text_to_cstring(PG_GETARG_TEXT_PP(0));
	char	   *id = autogen_id(PG_ARGISNULL(1) ? NULL : PG_GETARG_TEXT_PP(1));
	Jsonb	   *live = schema_describe(NULL);
	List	   *up;
	MigrGraph  *g;

	catalog_connect();
	g = catalog_load_graph();
	if (g->nrevs > 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot baseline a database that has revisions"),
				 errdetail("%d revision%s defined already.", g->nrevs,
						   g->nrevs == 1 ? " is" : "s are"),
				 errhint("A baseline is the first revision; to record later changes use migr_autogenerate().")));
	catalog_finish();
	up = schema_diff(live, autogen_fresh(live), NULL);
	PG_RETURN_TEXT_P(cstring_to_text(autogen_file(id, NULL, message, up, NIL, false, true)));
}

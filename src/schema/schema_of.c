/*-------------------------------------------------------------------------
 *
 * schema_of.c
 *	  migr_schema_of(): the description a DDL script would produce.
 *
 * The script runs in a scratch schema of a fresh, unguessable name, first
 * on search_path, inside a subtransaction that is always rolled back: its
 * objects are never committed, so no other session ever sees them, and
 * nothing persists whether the script succeeds or fails.  The scratch
 * schema is described with the schema model (describe.c) and its name is
 * then replaced by the one asked for.
 *
 * The script is parsed first with the server's parser: transaction control
 * is refused (it would end the subtransaction), and each statement runs on
 * its own so that an error names the statement and its line.  A script that
 * creates or changes objects outside the scratch schema (a schema-qualified
 * name, a SET search_path, CREATE EXTENSION) is refused after it ran: the
 * catalog rows written by this transaction are looked for outside the
 * scratch schema.
 *
 * Copyright (c) 2026, migr developers
 *
 * IDENTIFICATION
 *	  src/schema/schema_of.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/transam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "parser/parser.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/json.h"
#include "utils/memutils.h"
#include "utils/resowner.h"

#include "migr.h"
#include "schema/schema.h"

PG_FUNCTION_INFO_V1(migr_schema_of);

/* the statement being run, for the error context */
typedef struct SchemaOfStmt
{
	int			number;
	int			line;
	const char *text;
} SchemaOfStmt;

static int	schema_of_line(const char *ddl, int offset);
static List *schema_of_raw_parse(const char *ddl);
static pg_noinline List *schema_of_parse(const char *ddl, List **lines);
static void schema_of_context(void *arg);
static void schema_of_run(const char *ddl, List *stmts, List *lines, const char *scratch);
static void schema_of_check_outside(Oid scratch_oid, TransactionId first);
static Jsonb *schema_of_build(const char *ddl, List *stmts, List *lines,
							  const char *scratch, MemoryContext caller);
static Jsonb *schema_of_rename(Jsonb *doc, const char *scratch, const char *schema);

/*
 * Catalog rows written by this transaction outside the scratch schema, by
 * kind; $1 is the scratch schema, $2 the first transaction id of ours.
 * Tables (r, p) are found by their columns, not their pg_class row: a
 * foreign key to an existing table updates that table's row, legitimately.
 */
static const char *schema_of_outside_query =
	"SELECT pg_catalog.pg_describe_object(s.c, s.o, 0), s.x::text FROM (\n"
	" SELECT 'pg_class'::pg_catalog.regclass AS c, oid AS o, xmin AS x FROM pg_catalog.pg_class\n"
	"  WHERE relnamespace <> ALL (ARRAY[$1, 99::oid]) AND relkind <> ALL ('{r,p}'::\"char\"[])\n"
	" UNION ALL SELECT DISTINCT 'pg_class'::pg_catalog.regclass, a.attrelid, a.xmin FROM pg_catalog.pg_attribute a\n"
	"   JOIN pg_catalog.pg_class r ON r.oid = a.attrelid\n"
	"  WHERE r.relnamespace <> ALL (ARRAY[$1, 99::oid]) AND a.attnum > 0\n"
	"    AND a.xmin::text::bigint >= $2\n"
	" UNION ALL SELECT 'pg_type'::pg_catalog.regclass, oid, xmin FROM pg_catalog.pg_type WHERE typnamespace <> $1\n"
	" UNION ALL SELECT 'pg_proc'::pg_catalog.regclass, oid, xmin FROM pg_catalog.pg_proc WHERE pronamespace <> $1\n"
	" UNION ALL SELECT 'pg_namespace'::pg_catalog.regclass, oid, xmin FROM pg_catalog.pg_namespace WHERE oid <> $1\n"
	" UNION ALL SELECT 'pg_constraint'::pg_catalog.regclass, oid, xmin FROM pg_catalog.pg_constraint WHERE connamespace <> $1\n"
	" UNION ALL SELECT 'pg_trigger'::pg_catalog.regclass, t.oid, t.xmin FROM pg_catalog.pg_trigger t\n"
	"   JOIN pg_catalog.pg_class r ON r.oid = t.tgrelid WHERE r.relnamespace <> $1 AND NOT t.tgisinternal\n"
	" UNION ALL SELECT 'pg_policy'::pg_catalog.regclass, p.oid, p.xmin FROM pg_catalog.pg_policy p\n"
	"   JOIN pg_catalog.pg_class r ON r.oid = p.polrelid WHERE r.relnamespace <> $1\n"
	" UNION ALL SELECT 'pg_rewrite'::pg_catalog.regclass, w.oid, w.xmin FROM pg_catalog.pg_rewrite w\n"
	"   JOIN pg_catalog.pg_class r ON r.oid = w.ev_class WHERE r.relnamespace <> $1\n"
	" UNION ALL SELECT 'pg_collation'::pg_catalog.regclass, oid, xmin FROM pg_catalog.pg_collation WHERE collnamespace <> $1\n"
	" UNION ALL SELECT 'pg_operator'::pg_catalog.regclass, oid, xmin FROM pg_catalog.pg_operator WHERE oprnamespace <> $1\n"
	" UNION ALL SELECT 'pg_statistic_ext'::pg_catalog.regclass, oid, xmin FROM pg_catalog.pg_statistic_ext WHERE stxnamespace <> $1\n"
	" UNION ALL SELECT 'pg_extension'::pg_catalog.regclass, oid, xmin FROM pg_catalog.pg_extension\n"
	" UNION ALL SELECT 'pg_publication'::pg_catalog.regclass, oid, xmin FROM pg_catalog.pg_publication\n"
	" UNION ALL SELECT 'pg_event_trigger'::pg_catalog.regclass, oid, xmin FROM pg_catalog.pg_event_trigger\n"
	" UNION ALL SELECT 'pg_default_acl'::pg_catalog.regclass, oid, xmin FROM pg_catalog.pg_default_acl\n"
	" UNION ALL SELECT 'pg_foreign_server'::pg_catalog.regclass, oid, xmin FROM pg_catalog.pg_foreign_server\n"
	" UNION ALL SELECT 'pg_cast'::pg_catalog.regclass, oid, xmin FROM pg_catalog.pg_cast\n"
	" UNION ALL SELECT d.classoid, d.objoid, d.xmin FROM pg_catalog.pg_description d\n"
	"  WHERE d.xmin::text::bigint >= $2\n"
	"    AND (pg_catalog.pg_identify_object(d.classoid, d.objoid, 0)).schema IS DISTINCT FROM\n"
	"        (SELECT nspname FROM pg_catalog.pg_namespace WHERE oid = $1)\n"
	") s WHERE s.x::text::bigint >= $2";

/* the 1-based line of a byte offset */
static int
schema_of_line(const char *ddl, int offset)
{
	int			line = 1;
	int			i;

	for (i = 0; i < offset && ddl[i]; i++)
		if (ddl[i] == '\n')
			line++;
	return line;
}

/*
 * schema_of_raw_parse
 *		raw_parser(), with a syntax error's position turned into a line of
 *		the script: the position would otherwise point into the caller's
 *		query, which only holds the script as a literal.
 */
static List *
schema_of_raw_parse(const char *ddl)
{
	MemoryContext caller = CurrentMemoryContext;
	List	   *volatile raw = NIL;

	PG_TRY();
	{
		raw = raw_parser(ddl, RAW_PARSE_DEFAULT);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(caller);
		edata = CopyErrorData();
		FlushErrorState();
		if (edata->cursorpos > 0)
		{
			edata->context = psprintf("schema script line %d",
									  schema_of_line(ddl, edata->cursorpos - 1));
			edata->cursorpos = 0;
		}
		ReThrowError(edata);
	}
	PG_END_TRY();
	return raw;
}

/*
 * schema_of_parse
 *		The statements of the script (their text) and their lines; refuses
 *		transaction control, which would end the scratch subtransaction.
 */
static pg_noinline List *
schema_of_parse(const char *ddl, List **lines)
{
	List	   *raw;
	List	   *out = NIL;
	ListCell   *lc;
	int			n = 0;

	*lines = NIL;
	raw = schema_of_raw_parse(ddl);
	foreach(lc, raw)
	{
		RawStmt    *rs = lfirst_node(RawStmt, lc);
		int			start = rs->stmt_location;
		int			len = rs->stmt_len > 0 ? rs->stmt_len : (int) strlen(ddl) - start;
		int			line;

		n++;
		/* the line of the statement's first token, past blanks and comments */
		while (start < (int) strlen(ddl) && isspace((unsigned char) ddl[start]))
			start++, len--;
		line = schema_of_line(ddl, start);
		if (IsA(rs->stmt, TransactionStmt))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_TRANSACTION_STATE),
					 errmsg("transaction control is not allowed in a schema script"),
					 errdetail("Statement %d, line %d: %s", n, line,
							   pnstrdup(ddl + start, Max(len, 0))),
					 errhint("Remove BEGIN, COMMIT and the like: migr_schema_of() runs the script in a subtransaction it always rolls back.")));
		if (IsA(rs->stmt, IndexStmt) && ((IndexStmt *) rs->stmt)->concurrent)
			ereport(ERROR,
					(errcode(ERRCODE_ACTIVE_SQL_TRANSACTION),
					 errmsg("CREATE INDEX CONCURRENTLY cannot run in a schema script"),
					 errdetail("Statement %d, line %d.", n, line),
					 errhint("Write the index without CONCURRENTLY: a schema file describes the result; migr_diff() writes CONCURRENTLY where it matters.")));
		out = lappend(out, pnstrdup(ddl + start, Max(len, 0)));
		*lines = lappend_int(*lines, line);
	}
	return out;
}

static void
schema_of_context(void *arg)
{
	SchemaOfStmt *s = (SchemaOfStmt *) arg;
	int			len = strlen(s->text);

	errcontext("schema script statement %d, line %d: %.*s%s", s->number, s->line,
			   Min(len, 200), s->text, len > 200 ? "..." : "");
}

/* run each statement, with the scratch schema first on search_path */
static void
schema_of_run(const char *ddl, List *stmts, List *lines, const char *scratch)
{
	ErrorContextCallback cb;
	SchemaOfStmt cur;
	ListCell   *lc,
			   *lc2;
	int			n = 0;

	if (SPI_execute(psprintf("CREATE SCHEMA %s", quote_identifier(scratch)), false, 0) != SPI_OK_UTILITY)
		elog(ERROR, "could not create the scratch schema");
	if (SPI_execute(psprintf("SELECT pg_catalog.set_config('search_path', %s || ', ' || pg_catalog.current_setting('search_path'), true)",
							 quote_literal_cstr(quote_identifier(scratch))), false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not set search_path for the scratch schema");

	cb.callback = schema_of_context;
	cb.arg = &cur;
	cb.previous = error_context_stack;
	error_context_stack = &cb;
	forboth(lc, stmts, lc2, lines)
	{
		cur.number = ++n;
		cur.line = lfirst_int(lc2);
		cur.text = lfirst(lc);
		CHECK_FOR_INTERRUPTS();
		SPI_execute(cur.text, false, 0);
	}
	error_context_stack = cb.previous;
}

/*
 * schema_of_check_outside
 *		Refuse a script that wrote catalog rows outside the scratch schema:
 *		its description would miss them.
 */
static void
schema_of_check_outside(Oid scratch_oid, TransactionId first)
{
	Oid			types[2] = {OIDOID, INT8OID};
	Datum		values[2];
	StringInfoData found;
	uint64		i;
	int			count = 0;

	values[0] = ObjectIdGetDatum(scratch_oid);
	values[1] = Int64GetDatum((int64) first);
	if (SPI_execute_with_args(schema_of_outside_query, 2, types, values, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not look for objects outside the scratch schema");
	initStringInfo(&found);
	for (i = 0; i < SPI_processed; i++)
	{
		char	   *what = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
		char	   *xid = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2);
		TransactionId x = (TransactionId) strtoul(xid, NULL, 10);

		if (!TransactionIdIsCurrentTransactionId(x))
			continue;
		if (count < 5)
			appendStringInfo(&found, "%s%s", count ? ", " : "", what ? what : "(unnamed)");
		count++;
	}
	if (count > 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the schema script creates or changes objects outside the schema it describes"),
				 errdetail("It touches %s%s.", found.data, count > 5 ? ", ..." : ""),
				 errhint("Write the objects without a schema name, and without SET search_path, CREATE SCHEMA or CREATE EXTENSION: the script runs in a scratch schema named as the schema argument afterwards.")));
}

/*
 * schema_of_rename
 *		The scratch schema's name replaced by the one asked for, everywhere
 *		in the description: identities, definitions, types.  The scratch
 *		name carries random hex digits, so it appears nowhere else.
 */
static Jsonb *
schema_of_rename(Jsonb *doc, const char *scratch, const char *schema)
{
	char	   *text = JsonbToCString(NULL, &doc->root, VARSIZE(doc));
	StringInfoData esc;
	StringInfoData out;
	const char *to;
	char	   *p;
	size_t		slen = strlen(scratch);

	/* the quoted name as it must appear inside a JSON string */
	initStringInfo(&esc);
	escape_json(&esc, quote_identifier(schema));
	esc.data[esc.len - 1] = '\0';
	to = esc.data + 1;

	initStringInfo(&out);
	while ((p = strstr(text, scratch)) != NULL)
	{
		appendBinaryStringInfo(&out, text, p - text);
		appendStringInfoString(&out, to);
		text = p + slen;
	}
	appendStringInfoString(&out, text);
	return DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(out.data)));
}

/*
 * schema_of_build
 *		Inside the scratch subtransaction: run, check, describe.
 */
static pg_noinline Jsonb *
schema_of_build(const char *ddl, List *stmts, List *lines, const char *scratch,
				MemoryContext caller)
{
	TransactionId first = GetCurrentTransactionId();
	ArrayType  *nsps;
	Datum		name;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	schema_of_run(ddl, stmts, lines, scratch);
	schema_of_check_outside(get_namespace_oid(scratch, false), first);
	if (SPI_finish() != SPI_OK_FINISH)
		elog(ERROR, "SPI_finish failed");
	name = CStringGetTextDatum(scratch);
	nsps = construct_array(&name, 1, TEXTOID, -1, false, TYPALIGN_INT);
	MemoryContextSwitchTo(caller);
	return schema_describe(nsps);
}

/*
 * schema_of
 *		The description "ddl" would produce in an empty "schema".  When the
 *		schema exists, its own entry (owner, privileges, comment) is the live
 *		one: the script describes what is in it, not who owns it.
 */
Jsonb *
schema_of(const char *ddl, const char *schema)
{
	MemoryContext caller = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	List	   *lines;
	List	   *stmts;
	char		scratch[64];
	uint8		rnd[8];
	Jsonb	   *volatile doc = NULL;
	Jsonb	   *result;
	int			i;

	stmts = schema_of_parse(ddl, &lines);
	if (!pg_strong_random(rnd, sizeof(rnd)))
		elog(ERROR, "could not generate a random scratch schema name");
	strcpy(scratch, "migr_scratch_");
	for (i = 0; i < (int) sizeof(rnd); i++)
		sprintf(scratch + strlen(scratch), "%02x", rnd[i]);

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(caller);
	PG_TRY();
	{
		doc = schema_of_build(ddl, stmts, lines, scratch, caller);
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(caller);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(caller);
		CurrentResourceOwner = owner;
		ReThrowError(edata);
	}
	PG_END_TRY();
	/* always rolled back: nothing of the script survives, even on success */
	RollbackAndReleaseCurrentSubTransaction();
	MemoryContextSwitchTo(caller);
	CurrentResourceOwner = owner;

	result = schema_of_rename(doc, scratch, schema);
	if (OidIsValid(get_namespace_oid(schema, true)))
	{
		Datum		name = CStringGetTextDatum(schema);
		Jsonb	   *live = schema_describe(construct_array(&name, 1, TEXTOID, -1, false,
														   TYPALIGN_INT));
		JsonbValue *entry;
		JsonbValue	key;
		JsonbParseState *state = NULL;
		JsonbValue *res;

		key.type = jbvString;
		key.val.string.val = "schemas";
		key.val.string.len = strlen("schemas");
		entry = getKeyJsonValueFromContainer(&live->root, "schemas", 7, NULL);
		/* {"schemas": live's} merged over the description */
		pushJsonbValue(&state, WJB_BEGIN_OBJECT, NULL);
		pushJsonbValue(&state, WJB_KEY, &key);
		pushJsonbValue(&state, WJB_VALUE, entry);
		res = pushJsonbValue(&state, WJB_END_OBJECT, NULL);
		result = DatumGetJsonbP(DirectFunctionCall2(jsonb_concat, JsonbPGetDatum(result),
													JsonbPGetDatum(JsonbValueToJsonb(res))));
	}
	return result;
}

/*
 * migr_schema_of(ddl text, schema text DEFAULT 'public') RETURNS jsonb
 */
Datum
migr_schema_of(PG_FUNCTION_ARGS)
{
	char	   *ddl;
	char	   *schema;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the schema script must not be null")));
	ddl = text_to_cstring(PG_GETARG_TEXT_PP(0));
	schema = PG_ARGISNULL(1) ? "public" : text_to_cstring(PG_GETARG_TEXT_PP(1));
	if (schema[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the schema name must not be empty")));
	PG_RETURN_JSONB_P(schema_of(ddl, schema));
}

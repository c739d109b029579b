/*-------------------------------------------------------------------------
 *
 * guard.c
 *	  The guard against manual DDL (migr.guard): DDL on the managed schemas
 *	  that does not come from one of migr's moves is recorded in migr.log
 *	  (log) or refused with MG008 (block).
 *
 * Three event triggers, created by the 1.2 install script and enabled
 * ALWAYS (so that session_replication_role = replica does not switch them
 * off), call the functions below; event triggers load the library when they
 * fire, so the guard works whether or not migr is preloaded.
 *
 *	- ddl_command_end (migr_guard_ddl_end) decides, for every statement: the
 *	  commands it collected (pg_event_trigger_ddl_commands), the objects the
 *	  statement dropped (stashed by sql_drop), and for GRANT, REVOKE and
 *	  ALTER DEFAULT PRIVILEGES, whose collected commands name no object, the
 *	  parse tree.  Refusing here rolls the whole statement back.
 *	- sql_drop (migr_guard_sql_drop) stashes the dropped objects of managed
 *	  schemas for ddl_command_end, so that a statement is one row of
 *	  migr.log even when it both alters and drops (ALTER TABLE ... DROP
 *	  COLUMN).
 *	- ddl_command_start (migr_guard_ddl_start) refuses, under block, the
 *	  statements that commit on their own (CREATE INDEX CONCURRENTLY, DROP
 *	  INDEX CONCURRENTLY, DETACH PARTITION CONCURRENTLY) before they begin:
 *	  refused at their end, they would leave an invalid index behind.
 *
 * What does not count: DDL while migr runs a script (apply_in_script, set
 * by apply.c around each statement of a move, so also DDL inside functions
 * a migration calls), migr's own statements (migr_archive_table through
 * guard_spi_execute, the background worker process through
 * guard_exempt_process), the member objects of an extension being created
 * or updated, ALTER / DROP EXTENSION migr itself, temporary objects,
 * objects outside the managed schemas, pg_upgrade's restore (binary upgrade
 * mode), and every database whose history is still empty: the guard starts
 * with the first revision, which is also what lets a plain pg_restore
 * recreate the schema before it restores migr's own tables.  These are C
 * variables of this backend, set only by migr's C code: nothing in SQL can
 * set them.
 *
 * Copyright (c) 2026, migr developers
 *
 * IDENTIFICATION
 *	  src/schema/guard.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/event_trigger.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/parsenodes.h"
#include "parser/parse_func.h"
#include "parser/parse_type.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/regproc.h"
#include "utils/syscache.h"
#include "utils/varlena.h"

#include "migr.h"

PG_FUNCTION_INFO_V1(migr_guard_ddl_start);
PG_FUNCTION_INFO_V1(migr_guard_ddl_end);
PG_FUNCTION_INFO_V1(migr_guard_sql_drop);

/* depth of migr's own statements run through guard_spi_execute() */
static int	guard_exempt_depth = 0;

/* this process runs nothing but migr's jobs (the background worker) */
static bool guard_exempt_all = false;

/*
 * A value of migr.guard given before the library was loaded that it could
 * not take when it was (set by a role without the privilege, or invalid):
 * the session runs under block.  See guard_check_loaded_value().
 */
static bool guard_fail_closed = false;
static bool guard_defined = false;

/* what sql_drop saw of the current statement, for ddl_command_end */
static MemoryContext guard_cxt = NULL;
static List *guard_dropped = NIL;	/* of char *, "kind identity" */
static bool guard_dropped_migr = false;

static MigrQuery plan_history = {
	"SELECT EXISTS (SELECT FROM migr.revision)",
	0, {0}, NULL, true
};

/*
 * The commands of the statement, with the schema of the objects whose
 * catalog has no namespace column of its own (triggers, rules and policies
 * belong to their table's schema; a schema is its own).
 */
static MigrQuery plan_commands = {
	"SELECT c.command_tag, c.object_type, c.object_identity,"
	"       COALESCE(c.schema_name, n.nspname::pg_catalog.text)"
	"  FROM pg_catalog.pg_event_trigger_ddl_commands() c"
	"  LEFT JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) CASE c.classid"
	"   WHEN 'pg_catalog.pg_namespace'::pg_catalog.regclass THEN c.objid"
	"   WHEN 'pg_catalog.pg_trigger'::pg_catalog.regclass THEN"
	"    (SELECT r.relnamespace FROM pg_catalog.pg_trigger t, pg_catalog.pg_class r"
	"      WHERE t.oid OPERATOR(pg_catalog.=) c.objid AND r.oid OPERATOR(pg_catalog.=) t.tgrelid)"
	"   WHEN 'pg_catalog.pg_rewrite'::pg_catalog.regclass THEN"
	"    (SELECT r.relnamespace FROM pg_catalog.pg_rewrite w, pg_catalog.pg_class r"
	"      WHERE w.oid OPERATOR(pg_catalog.=) c.objid AND r.oid OPERATOR(pg_catalog.=) w.ev_class)"
	"   WHEN 'pg_catalog.pg_policy'::pg_catalog.regclass THEN"
	"    (SELECT r.relnamespace FROM pg_catalog.pg_policy p, pg_catalog.pg_class r"
	"      WHERE p.oid OPERATOR(pg_catalog.=) c.objid AND r.oid OPERATOR(pg_catalog.=) p.polrelid)"
	"   END",
	0, {0}, NULL, true
};

/* the objects a statement dropped; triggers and the like by their table */
static MigrQuery plan_dropped = {
	"SELECT object_type, object_identity, original,"
	"       COALESCE(schema_name, CASE"
	"        WHEN object_type OPERATOR(pg_catalog.=) 'schema' THEN object_name"
	"        WHEN object_type OPERATOR(pg_catalog.=) ANY"
	"         (ARRAY['trigger', 'rule', 'policy', 'default value']) THEN address_names[1]"
	"        END)"
	"  FROM pg_catalog.pg_event_trigger_dropped_objects()"
	" WHERE NOT is_temporary",
	0, {0}, NULL, true
};

static MigrQuery plan_log_ddl = {
	"INSERT INTO migr.log (at, role, action, outcome, command_tag, objects, statement)"
	" VALUES (pg_catalog.clock_timestamp(), $1, 'ddl', 'logged', $2, $3, $4)",
	4, {NAMEOID, TEXTOID, TEXTARRAYOID, TEXTOID}, NULL, true
};

static bool guard_idle(void);
static bool guard_schema_managed(const char *nspname);
static bool guard_nsp_managed(Oid nspid);
static bool guard_history_started(void);
static Oid	guard_type_namespace(Oid typid);
static void guard_reset_stash(void);
static const char *guard_concurrent_target(Node *tree, Oid *relid);
static List *guard_grant_objects(GrantStmt *stmt);
static List *guard_default_acl_objects(AlterDefaultPrivilegesStmt *stmt);
static List *guard_commands(Node *tree);
static void guard_decide(const char *tag, List *objects);
static void guard_record(const char *tag, List *objects);
static void guard_check_event(FunctionCallInfo fcinfo, const char *event);

/*
 * guard_spi_execute
 *		SPI_execute() of a statement migr built itself (migr_archive_table),
 *		which the guard lets through whatever migr.guard says.
 */
int
guard_spi_execute(const char *sql, bool read_only, long count)
{
	volatile int rc = 0;

	guard_exempt_depth++;
	PG_TRY();
	{
		rc = SPI_execute(sql, read_only, count);
	}
	PG_FINALLY();
	{
		guard_exempt_depth--;
	}
	PG_END_TRY();
	return rc;
}

/*
 * guard_exempt_process
 *		This process runs migr's background jobs and nothing else: the
 *		guard lets all of its DDL through (CREATE INDEX CONCURRENTLY
 *		included, and the clean-up of an index a failed build left).
 */
void
guard_exempt_process(void)
{
	guard_exempt_all = true;
}

/*
 * guard_assign
 *		Assign hook of migr.guard: once the setting is defined, a value a
 *		superuser sets ends the fail-closed state.
 */
void
guard_assign(int newval, void *extra)
{
	if (guard_defined)
		guard_fail_closed = false;
}

/*
 * guard_check_loaded_value
 *		Called by _PG_init right after migr.guard is defined, with the value
 *		its placeholder held (or NULL).  When migr is not preloaded, a
 *		placeholder holds whatever was set last before the library loaded:
 *		a non-superuser's SET or PGOPTIONS replaces there the value of ALTER
 *		DATABASE ... SET, and when the library loads, PostgreSQL refuses
 *		the non-superuser's value with a WARNING and falls back to the
 *		default, so the database's "block" would be lost.  Fail closed
 *		instead: if the value could not be taken, the session runs under
 *		block until a superuser sets migr.guard.
 */
void
guard_check_loaded_value(const char *wanted)
{
	const char *now = GetConfigOption("migr.guard", false, false);

	guard_defined = true;
	if (wanted == NULL || pg_strcasecmp(wanted, now) == 0)
		return;
	guard_fail_closed = true;
	ereport(WARNING,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("migr.guard is \"block\" for this session"),
			 errdetail("The value \"%s\" given before migr was loaded could not be applied, and it may have replaced the database's own.",
					   wanted),
			 errhint("Only superusers can set migr.guard.  Preloading migr (shared_preload_libraries or session_preload_libraries) refuses such a value when it is given.")));
}

/*
 * guard_mode
 *		The mode in effect: migr.guard, or block when failing closed.
 */
int
guard_mode(void)
{
	return guard_fail_closed ? MIGR_GUARD_BLOCK : migr_guard_mode;
}

/*
 * guard_idle
 *		Whether the guard has nothing to do for the statement at hand: off,
 *		inside one of migr's moves or statements, inside an extension's
 *		script (its member objects), or during pg_upgrade.
 */
static bool
guard_idle(void)
{
	return guard_mode() == MIGR_GUARD_OFF ||
		apply_in_script || guard_exempt_depth > 0 || guard_exempt_all ||
		creating_extension || IsBinaryUpgrade;
}

/*
 * guard_schema_managed
 *		Whether a schema is one that migr manages: listed in migr.schemas,
 *		or, when that is not set, any schema but the system ones, the
 *		temporary and toast ones, and migr's own.
 */
static bool
guard_schema_managed(const char *nspname)
{
	const char *setting;
	char	   *copy;
	List	   *names;
	ListCell   *lc;
	bool		found = false;

	if (nspname == NULL || strncmp(nspname, "pg_", 3) == 0 ||
		strcmp(nspname, "information_schema") == 0 ||
		strcmp(nspname, "migr") == 0)
		return false;

	setting = GetConfigOption("migr.schemas", true, false);
	if (setting == NULL || setting[0] == '\0')
		return true;

	copy = pstrdup(setting);
	if (!SplitIdentifierString(copy, ',', &names))
		return true;			/* malformed: its own check reports it */
	foreach(lc, names)
	{
		if (strcmp((char *) lfirst(lc), nspname) == 0)
		{
			found = true;
			break;
		}
	}
	list_free(names);
	pfree(copy);
	return found;
}

static bool
guard_nsp_managed(Oid nspid)
{
	if (!OidIsValid(nspid) || isAnyTempNamespace(nspid))
		return false;
	return guard_schema_managed(get_namespace_name(nspid));
}

/*
 * guard_type_namespace
 *		The schema of a type.
 */
static Oid
guard_type_namespace(Oid typid)
{
	HeapTuple	tup = SearchSysCache1(TYPEOID, ObjectIdGetDatum(typid));
	Oid			nsp;

	if (!HeapTupleIsValid(tup))
		return InvalidOid;
	nsp = ((Form_pg_type) GETSTRUCT(tup))->typnamespace;
	ReleaseSysCache(tup);
	return nsp;
}

/*
 * guard_history_started
 *		Whether any revision is defined.  Until then migr manages nothing,
 *		and a pg_restore recreates the schema before migr's tables get their
 *		rows back (a logged row would take an id the restored log needs).
 */
static bool
guard_history_started(void)
{
	MigrCatalogUser save;
	bool		isnull;
	bool		started;

	catalog_become_owner(&save);
	catalog_run_expect(&plan_history, NULL, NULL, SPI_OK_SELECT,
					   "read migr.revision");
	catalog_restore_user(&save);
	started = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0],
										 SPI_tuptable->tupdesc, 1, &isnull));
	SPI_freetuptable(SPI_tuptable);
	return started;
}

/*
 * guard_reset_stash
 *		Forget what sql_drop saw (at the start and end of each statement).
 */
static void
guard_reset_stash(void)
{
	if (guard_cxt == NULL)
		guard_cxt = AllocSetContextCreate(TopMemoryContext, "migr guard",
										  ALLOCSET_SMALL_SIZES);
	else
		MemoryContextReset(guard_cxt);
	guard_dropped = NIL;
	guard_dropped_migr = false;
}

/*
 * guard_check_event
 *		Refuse a call that does not come from the event it was made for.
 */
static void
guard_check_event(FunctionCallInfo fcinfo, const char *event)
{
	if (!CALLED_AS_EVENT_TRIGGER(fcinfo) ||
		strcmp(((EventTriggerData *) fcinfo->context)->event, event) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_EVENT_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("function must be called by a %s event trigger", event)));
}

/*
 * guard_concurrent_target
 *		For a statement that commits by itself (CONCURRENTLY), the command
 *		name and its table or index; NULL for any other statement.
 */
static const char *
guard_concurrent_target(Node *tree, Oid *relid)
{
	RangeVar   *rv = NULL;
	const char *what = NULL;
	ListCell   *lc;

	switch (nodeTag(tree))
	{
		case T_IndexStmt:
			if (((IndexStmt *) tree)->concurrent)
			{
				rv = ((IndexStmt *) tree)->relation;
				what = "CREATE INDEX CONCURRENTLY";
			}
			break;
		case T_DropStmt:
			if (((DropStmt *) tree)->concurrent &&
				((DropStmt *) tree)->objects != NIL)
			{
				rv = makeRangeVarFromNameList(linitial(((DropStmt *) tree)->objects));
				what = "DROP INDEX CONCURRENTLY";
			}
			break;
		case T_AlterTableStmt:
			foreach(lc, ((AlterTableStmt *) tree)->cmds)
			{
				AlterTableCmd *cmd = (AlterTableCmd *) lfirst(lc);

				if (cmd->subtype == AT_DetachPartition &&
					((PartitionCmd *) cmd->def)->concurrent)
				{
					rv = ((AlterTableStmt *) tree)->relation;
					what = "ALTER TABLE ... DETACH PARTITION CONCURRENTLY";
				}
			}
			break;
		default:
			break;
	}
	if (rv == NULL)
		return NULL;
	*relid = RangeVarGetRelid(rv, NoLock, true);
	return what;
}

/*
 * migr_guard_ddl_start
 *		ddl_command_start: forget the previous statement's drops, and under
 *		block refuse a CONCURRENTLY statement on a managed table before it
 *		starts.  (Under log it runs, and ddl_command_end records it.)
 */
Datum
migr_guard_ddl_start(PG_FUNCTION_ARGS)
{
	EventTriggerData *trigdata;
	const char *what;
	Oid			relid = InvalidOid;

	guard_check_event(fcinfo, "ddl_command_start");
	guard_reset_stash();
	if (guard_idle() || guard_mode() != MIGR_GUARD_BLOCK)
		PG_RETURN_VOID();

	trigdata = (EventTriggerData *) fcinfo->context;
	what = guard_concurrent_target(trigdata->parsetree, &relid);
	if (what == NULL || !OidIsValid(relid) ||
		!guard_nsp_managed(get_rel_namespace(relid)))
		PG_RETURN_VOID();

	catalog_connect();
	if (guard_history_started())
		ereport(ERROR,
				(errcode(ERRCODE_MIGR_MANUAL_DDL),
				 errmsg("%s outside a migration is not allowed", what),
				 errdetail("migr.guard is \"block\"; the statement was refused before it started, as it cannot be rolled back once it has."),
				 errhint("Write a revision with the statement, or a superuser may relax migr.guard for the session: SET migr.guard = 'log'.")));
	catalog_finish();
	PG_RETURN_VOID();
}

/*
 * migr_guard_sql_drop
 *		sql_drop: keep the dropped objects of managed schemas for
 *		ddl_command_end; note when migr itself is dropped.
 */
Datum
migr_guard_sql_drop(PG_FUNCTION_ARGS)
{
	MemoryContext oldcxt;
	uint64		i;
	List	   *others = NIL;
	bool		any_original = false;

	guard_check_event(fcinfo, "sql_drop");
	if (guard_cxt == NULL)
		guard_reset_stash();
	if (guard_idle())
		PG_RETURN_VOID();

	catalog_connect();
	catalog_run_expect(&plan_dropped, NULL, NULL, SPI_OK_SELECT,
					   "read the dropped objects");
	oldcxt = MemoryContextSwitchTo(guard_cxt);
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		char	   *kind = SPI_getvalue(tup, desc, 1);
		char	   *ident = SPI_getvalue(tup, desc, 2);
		bool		isnull;
		bool		original = DatumGetBool(SPI_getbinval(tup, desc, 3, &isnull));
		char	   *nsp = SPI_getvalue(tup, desc, 4);
		char	   *label;

		if (strcmp(kind, "extension") == 0 && ident &&
			strcmp(ident, "migr") == 0)
			guard_dropped_migr = true;
		if (strcmp(kind, "extension") != 0 &&
			strncmp(kind, "publication", 11) != 0 &&
			!guard_schema_managed(nsp))
			continue;
		label = psprintf("%s %s", kind, ident ? ident : "?");
		/* name what the statement named; what went with it only if nothing */
		if (original)
		{
			guard_dropped = lappend(guard_dropped, label);
			any_original = true;
		}
		else
			others = lappend(others, label);
	}
	if (!any_original)
		guard_dropped = list_concat(guard_dropped, others);
	MemoryContextSwitchTo(oldcxt);
	catalog_finish();
	PG_RETURN_VOID();
}

/*
 * guard_grant_objects
 *		The objects of managed schemas a GRANT or REVOKE names, from its
 *		parse tree (the collected command names none).  Privileges on
 *		objects outside any schema (databases, tablespaces, languages,
 *		foreign servers, large objects, parameters) are not the schema's.
 */
static List *
guard_grant_objects(GrantStmt *stmt)
{
	List	   *objects = NIL;
	ListCell   *lc;
	const char *verb = stmt->is_grant ? "grant on" : "revoke on";

	foreach(lc, stmt->objects)
	{
		Node	   *obj = (Node *) lfirst(lc);
		Oid			nsp = InvalidOid;
		char	   *name = NULL;
		const char *kind = NULL;

		if (stmt->targtype == ACL_TARGET_ALL_IN_SCHEMA)
		{
			nsp = get_namespace_oid(strVal(obj), true);
			name = psprintf("all in schema %s", quote_identifier(strVal(obj)));
			kind = "schema";
		}
		else
			switch (stmt->objtype)
			{
				case OBJECT_TABLE:
				case OBJECT_SEQUENCE:
					{
						Oid			relid = RangeVarGetRelid((RangeVar *) obj,
															 NoLock, true);

						if (!OidIsValid(relid))
							break;
						nsp = get_rel_namespace(relid);
						name = quote_qualified_identifier(get_namespace_name(nsp),
														  get_rel_name(relid));
						kind = stmt->objtype == OBJECT_TABLE ? "table" : "sequence";
					}
					break;
				case OBJECT_FUNCTION:
				case OBJECT_PROCEDURE:
				case OBJECT_ROUTINE:
					{
						Oid			fn = LookupFuncWithArgs(stmt->objtype,
															(ObjectWithArgs *) obj,
															true);

						if (!OidIsValid(fn))
							break;
						nsp = get_func_namespace(fn);
						name = format_procedure_qualified(fn);
						kind = "function";
					}
					break;
				case OBJECT_TYPE:
				case OBJECT_DOMAIN:
					{
						Oid			typ = LookupTypeNameOid(NULL,
															makeTypeNameFromNameList((List *) obj),
															true);

						if (!OidIsValid(typ))
							break;
						nsp = guard_type_namespace(typ);
						name = format_type_be_qualified(typ);
						kind = "type";
					}
					break;
				case OBJECT_SCHEMA:
					nsp = get_namespace_oid(strVal(obj), true);
					name = pstrdup(quote_identifier(strVal(obj)));
					kind = "schema";
					break;
				default:
					break;
			}
		if (kind != NULL && guard_nsp_managed(nsp))
			objects = lappend(objects, psprintf("%s %s %s", verb, kind, name));
	}
	return objects;
}

/*
 * guard_default_acl_objects
 *		ALTER DEFAULT PRIVILEGES: counts when it names a managed schema, or
 *		no schema at all (then it applies to every schema, managed ones
 *		included).
 */
static List *
guard_default_acl_objects(AlterDefaultPrivilegesStmt *stmt)
{
	List	   *schemas = NIL;
	List	   *objects = NIL;
	ListCell   *lc;

	foreach(lc, stmt->options)
	{
		DefElem    *opt = (DefElem *) lfirst(lc);

		if (strcmp(opt->defname, "schemas") == 0)
			schemas = (List *) opt->arg;
	}
	if (schemas == NIL)
		return list_make1(pstrdup("default privileges in every schema"));
	foreach(lc, schemas)
	{
		const char *nspname = strVal(lfirst(lc));

		if (guard_schema_managed(nspname))
			objects = lappend(objects,
							  psprintf("default privileges in schema %s",
									   quote_identifier(nspname)));
	}
	return objects;
}

/*
 * guard_commands
 *		The objects of managed schemas that the statement created or
 *		altered, as "kind identity".  Extensions and publications, which
 *		have no schema, count (the schema model describes them), except
 *		migr itself.
 */
static List *
guard_commands(Node *tree)
{
	List	   *objects = NIL;
	uint64		i;

	catalog_run_expect(&plan_commands, NULL, NULL, SPI_OK_SELECT,
					   "read the collected commands");
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		char	   *kind = SPI_getvalue(tup, desc, 2);
		char	   *ident = SPI_getvalue(tup, desc, 3);
		char	   *nsp = SPI_getvalue(tup, desc, 4);
		bool		counts;

		if (kind == NULL || ident == NULL)
			continue;			/* GRANT and the like: the parse tree says */
		if (strcmp(kind, "extension") == 0)
			counts = strcmp(ident, "migr") != 0;
		else if (strncmp(kind, "publication", 11) == 0)
			counts = true;		/* and its tables and schemas */
		else
			counts = guard_schema_managed(nsp);
		if (counts)
			objects = lappend(objects, psprintf("%s %s", kind, ident));
	}
	SPI_freetuptable(SPI_tuptable);

	if (IsA(tree, GrantStmt))
		objects = list_concat(objects, guard_grant_objects((GrantStmt *) tree));
	else if (IsA(tree, AlterDefaultPrivilegesStmt))
		objects = list_concat(objects,
							  guard_default_acl_objects((AlterDefaultPrivilegesStmt *) tree));
	return objects;
}

/*
 * guard_record
 *		A row in migr.log for DDL let through under log, written as the
 *		extension owner: role, time, command tag, objects and statement.
 */
static void
guard_record(const char *tag, List *objects)
{
	MigrCatalogUser save;
	Datum		values[4];
	char		nulls[4] = {' ', ' ', ' ', ' '};

	values[0] = DirectFunctionCall1(namein,
									CStringGetDatum(GetUserNameFromId(GetUserId(), false)));
	values[1] = CStringGetTextDatum(tag);
	values[2] = PointerGetDatum(migr_text_array(objects));
	if (debug_query_string)
		values[3] = CStringGetTextDatum(debug_query_string);
	else
		nulls[3] = 'n';

	catalog_become_owner(&save);
	catalog_run_expect(&plan_log_ddl, values, nulls, SPI_OK_INSERT,
					   "write to migr.log");
	catalog_restore_user(&save);
}

/*
 * guard_decide
 *		Refuse (block) or record (log) a statement that touched managed
 *		objects.
 */
static void
guard_decide(const char *tag, List *objects)
{
	StringInfoData names;
	ListCell   *lc;

	if (objects == NIL || !guard_history_started())
		return;
	if (guard_mode() == MIGR_GUARD_LOG)
	{
		guard_record(tag, objects);
		return;
	}

	initStringInfo(&names);
	foreach(lc, objects)
	{
		if (names.len > 0)
			appendStringInfoString(&names, ", ");
		appendStringInfoString(&names, (char *) lfirst(lc));
	}
	ereport(ERROR,
			(errcode(ERRCODE_MIGR_MANUAL_DDL),
			 errmsg("%s outside a migration is not allowed", tag),
			 errdetail("migr.guard is \"block\"; the statement changes %s.",
					   names.data),
			 errhint("Write a revision with the statement, or a superuser may relax migr.guard for the session: SET migr.guard = 'log'.")));
}

/*
 * migr_guard_ddl_end
 *		ddl_command_end: what the statement created, altered or dropped in
 *		the managed schemas, recorded or refused.
 */
Datum
migr_guard_ddl_end(PG_FUNCTION_ARGS)
{
	EventTriggerData *trigdata;
	const char *tag;
	List	   *objects;

	guard_check_event(fcinfo, "ddl_command_end");
	if (guard_idle() || guard_dropped_migr)
	{
		guard_reset_stash();
		PG_RETURN_VOID();
	}

	trigdata = (EventTriggerData *) fcinfo->context;
	tag = GetCommandTagName(trigdata->tag);
	catalog_connect();
	objects = guard_commands(trigdata->parsetree);
	objects = list_concat(objects, list_copy(guard_dropped));
	guard_decide(tag, objects);
	catalog_finish();
	guard_reset_stash();
	PG_RETURN_VOID();
}

/*-------------------------------------------------------------------------
 *
 * script.c
 *	  Splitting and classifying migration scripts with the server's own
 *	  parser.
 *
 * A script is handed to raw_parser() exactly as the server would parse a
 * client's query string: the statements come back with their positions,
 * and each is classified from its parse tree, never by matching text.
 * Parse trees are built in a scratch memory context that is deleted before
 * returning, so a large script costs memory only while it is parsed.
 *
 * Copyright (c) 2026, migr developers
 *
 * IDENTIFICATION
 *	  src/script.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>

#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_subscription.h"
#include "commands/defrem.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "parser/parser.h"
#include "tcop/utility.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "migr.h"

/* State of script_check_walker() across the statements of a script. */
typedef struct ScriptCheck
{
	HTAB	   *slotless;		/* subscriptions set slot_name = NONE */
} ScriptCheck;

typedef struct ScriptContext
{
	const char *id;
	const char *section;
	const char *script;
} ScriptContext;

static void script_parse_callback(void *arg);
static void script_classify(Node *stmt, MigrStmt *ms);
static MigrStmtClass script_class(Node *stmt);
static bool script_modifies_data(WithClause *with);
static bool script_option_bool(List *options, const char *name, bool dflt);
static bool script_option_given(List *options, const char *name);
static void script_reindex(ReindexStmt *stmt, MigrStmt *ms);
static void script_subscription(Node *stmt, MigrStmt *ms);
static bool script_detach_concurrently(AlterTableStmt *stmt);
static int	script_skip_space(const char *s, int pos, int end);
static bool script_partitioned(RangeVar *rv);
static bool script_slot_none(List *options);
static void script_remember_slotless(ScriptCheck *sc, const char *subname);
static bool script_drop_needs_slot(ScriptCheck *sc, const char *subname);
static void script_check_walker(MigrStmt *ms, Node *tree, void *arg);

/*
 * script_parse_callback
 *		Error context while a script is parsed.
 */
static void
script_parse_callback(void *arg)
{
	ScriptContext *sc = (ScriptContext *) arg;
	int			pos = geterrposition();
	int			line = 1;
	int			i;

	/*
	 * A syntax error's position is in the script, not in the caller's query:
	 * report it as an internal query, as PL/pgSQL does for its bodies.
	 */
	if (pos > 0)
	{
		errposition(0);
		internalerrposition(pos);
		internalerrquery(sc->script);
		for (i = 0; i < pos - 1 && sc->script[i]; i++)
			if (sc->script[i] == '\n')
				line++;
		errcontext("%s script of revision \"%s\", line %d",
				   sc->section, sc->id ? sc->id : "(new)", line);
	}
	else
		errcontext("%s script of revision \"%s\"",
				   sc->section, sc->id ? sc->id : "(new)");
}

/*
 * script_skip_space
 *		Position of the first character at or after pos that is neither
 *		white space nor inside a comment.
 */
static int
script_skip_space(const char *s, int pos, int end)
{
	while (pos < end)
	{
		if (isspace((unsigned char) s[pos]))
			pos++;
		else if (s[pos] == '-' && pos + 1 < end && s[pos + 1] == '-')
		{
			while (pos < end && s[pos] != '\n')
				pos++;
		}
		else if (s[pos] == '/' && pos + 1 < end && s[pos + 1] == '*')
		{
			int			depth = 1;

			pos += 2;
			while (pos < end && depth > 0)
			{
				if (s[pos] == '/' && pos + 1 < end && s[pos + 1] == '*')
					depth++, pos += 2;
				else if (s[pos] == '*' && pos + 1 < end && s[pos + 1] == '/')
					depth--, pos += 2;
				else
					pos++;
			}
		}
		else
			break;
	}
	return pos;
}

/*
 * script_option_bool
 *		The value of a boolean option of a statement's WITH list, or dflt
 *		when it is not given.
 */
static bool
script_option_bool(List *options, const char *name, bool dflt)
{
	ListCell   *lc;

	foreach(lc, options)
	{
		DefElem    *opt = (DefElem *) lfirst(lc);

		if (strcmp(opt->defname, name) == 0)
			return defGetBoolean(opt);
	}
	return dflt;
}

/*
 * script_option_given
 *		Whether a statement's WITH list names the option.
 */
static bool
script_option_given(List *options, const char *name)
{
	ListCell   *lc;

	foreach(lc, options)
		if (strcmp(((DefElem *) lfirst(lc))->defname, name) == 0)
			return true;
	return false;
}

/*
 * script_reindex
 *		REINDEX (CONCURRENTLY) of a table or an index is handed to a
 *		background worker; REINDEX SCHEMA, SYSTEM and DATABASE each process
 *		many tables, one transaction each, so the server never runs them in
 *		a transaction block (ExecReindex).  REINDEX SCHEMA CONCURRENTLY can
 *		go to the worker too, but never in line (it names no table that the
 *		revision might have created).
 */
static void
script_reindex(ReindexStmt *stmt, MigrStmt *ms)
{
	bool		concurrently = script_option_bool(stmt->params, "concurrently",
												  false);

	switch (stmt->kind)
	{
		case REINDEX_OBJECT_INDEX:
		case REINDEX_OBJECT_TABLE:
			if (!concurrently)
				return;
			ms->what = "REINDEX CONCURRENTLY";
			ms->deferrable = ms->inlinable = true;
			break;
		case REINDEX_OBJECT_SCHEMA:
			ms->what = concurrently ? "REINDEX SCHEMA CONCURRENTLY" :
				"REINDEX SCHEMA";
			ms->deferrable = concurrently;
			if (!concurrently)
				ms->hint = "Use REINDEX SCHEMA ... CONCURRENTLY, which migr hands to a background worker, or REINDEX each table; or run the statement outside migr.";
			break;
		case REINDEX_OBJECT_SYSTEM:
		case REINDEX_OBJECT_DATABASE:
			ms->what = stmt->kind == REINDEX_OBJECT_SYSTEM ?
				"REINDEX SYSTEM" : "REINDEX DATABASE";
			break;
	}
	ms->non_transactional = true;
}

/*
 * script_subscription
 *		CREATE SUBSCRIPTION that creates its replication slot (the default
 *		unless connect = false or create_slot = false), and ALTER
 *		SUBSCRIPTION that refreshes the publications (REFRESH PUBLICATION,
 *		and SET, ADD or DROP PUBLICATION unless refresh = false): the server
 *		refuses both in a transaction block, since the publisher's side
 *		cannot be rolled back (subscriptioncmds.c).
 */
static void
script_subscription(Node *stmt, MigrStmt *ms)
{
	if (IsA(stmt, CreateSubscriptionStmt))
	{
		List	   *options = ((CreateSubscriptionStmt *) stmt)->options;
		bool		connect = script_option_bool(options, "connect", true);

		if (!script_option_bool(options, "create_slot", connect))
			return;
		ms->what = "CREATE SUBSCRIPTION ... WITH (create_slot = true)";
		ms->hint = "Create the subscription WITH (connect = false) in the revision, then create its slot, enable it and refresh it outside migr; or run the statement outside migr.";
	}
	else
	{
		AlterSubscriptionStmt *as = (AlterSubscriptionStmt *) stmt;

		if (as->kind == ALTER_SUBSCRIPTION_REFRESH)
			ms->what = "ALTER SUBSCRIPTION ... REFRESH PUBLICATION";
		else if ((as->kind == ALTER_SUBSCRIPTION_SET_PUBLICATION ||
				  as->kind == ALTER_SUBSCRIPTION_ADD_PUBLICATION ||
				  as->kind == ALTER_SUBSCRIPTION_DROP_PUBLICATION) &&
				 script_option_bool(as->options, "refresh", true))
		{
			ms->what = "ALTER SUBSCRIPTION ... PUBLICATION with refresh";
			ms->hint = "Change the publications WITH (refresh = false) in the revision, and run ALTER SUBSCRIPTION ... REFRESH PUBLICATION outside migr.";
		}
		else
			return;
	}
	ms->non_transactional = true;
}

/*
 * script_detach_concurrently
 *		ALTER TABLE ... DETACH PARTITION ... CONCURRENTLY
 */
static bool
script_detach_concurrently(AlterTableStmt *stmt)
{
	ListCell   *lc;

	foreach(lc, stmt->cmds)
	{
		AlterTableCmd *cmd = (AlterTableCmd *) lfirst(lc);

		if (cmd->subtype == AT_DetachPartition &&
			((PartitionCmd *) cmd->def)->concurrent)
			return true;
	}
	return false;
}

/*
 * script_modifies_data
 *		Whether a WITH clause holds INSERT, UPDATE, DELETE or MERGE.
 */
static bool
script_modifies_data(WithClause *with)
{
	ListCell   *lc;

	if (with == NULL)
		return false;
	foreach(lc, with->ctes)
	{
		Node	   *q = ((CommonTableExpr *) lfirst(lc))->ctequery;

		if (IsA(q, InsertStmt) || IsA(q, UpdateStmt) ||
			IsA(q, DeleteStmt) || IsA(q, MergeStmt))
			return true;
	}
	return false;
}

/*
 * script_class
 *		What a statement does: change the schema, change data, only query,
 *		control the transaction, or something migr cannot look into.
 *		SELECT INTO and CREATE TABLE AS fill a new table with rows, so they
 *		count as data operations (WITH NO DATA makes them DDL again); a
 *		SELECT whose WITH clause modifies rows is one too.
 */
static MigrStmtClass
script_class(Node *stmt)
{
	switch (nodeTag(stmt))
	{
		case T_InsertStmt:
		case T_UpdateStmt:
		case T_DeleteStmt:
		case T_MergeStmt:
		case T_CopyStmt:
		case T_TruncateStmt:
			return MIGR_STMT_DATA;
		case T_SelectStmt:
			if (((SelectStmt *) stmt)->intoClause != NULL ||
				script_modifies_data(((SelectStmt *) stmt)->withClause))
				return MIGR_STMT_DATA;
			return MIGR_STMT_QUERY;
		case T_CreateTableAsStmt:
			if (((CreateTableAsStmt *) stmt)->objtype == OBJECT_TABLE &&
				!((CreateTableAsStmt *) stmt)->into->skipData)
				return MIGR_STMT_DATA;
			return MIGR_STMT_DDL;
		case T_ExplainStmt:
			{
				ExplainStmt *es = (ExplainStmt *) stmt;
				ListCell   *lc;

				foreach(lc, es->options)
					if (strcmp(((DefElem *) lfirst(lc))->defname, "analyze") == 0 &&
						defGetBoolean((DefElem *) lfirst(lc)))
						return script_class(es->query);
				return MIGR_STMT_QUERY;
			}
		case T_VariableSetStmt:
		case T_VariableShowStmt:
		case T_LockStmt:
			return MIGR_STMT_QUERY;
		case T_TransactionStmt:
			return MIGR_STMT_TRANSACTION;
		case T_DoStmt:
		case T_CallStmt:
			return MIGR_STMT_OPAQUE;
		default:
			return MIGR_STMT_DDL;
	}
}

/*
 * script_classify
 *		Fill in what kind of statement this is.  "Non-transactional" covers
 *		every statement the server refuses to run inside a transaction block
 *		(the callers of PreventInTransactionBlock in PostgreSQL 15) that the
 *		parse tree alone can tell; script_check_walker() adds those that
 *		depend on the catalog.  COMMIT PREPARED and ROLLBACK PREPARED are
 *		transaction control, refused as such.
 */
static void
script_classify(Node *stmt, MigrStmt *ms)
{
	ms->tag = nodeTag(stmt);
	ms->what = CreateCommandName(stmt);
	ms->stmt_class = script_class(stmt);

	switch (nodeTag(stmt))
	{
		case T_TransactionStmt:
			ms->transaction_control = true;
			break;
		case T_IndexStmt:
			if (((IndexStmt *) stmt)->concurrent)
			{
				ms->non_transactional = true;
				ms->what = "CREATE INDEX CONCURRENTLY";
				ms->deferrable = ms->inlinable = true;
			}
			break;
		case T_DropStmt:
			if (((DropStmt *) stmt)->concurrent)
			{
				ms->non_transactional = true;
				ms->what = "DROP INDEX CONCURRENTLY";
				ms->deferrable = ms->inlinable = true;
			}
			break;
		case T_ReindexStmt:
			script_reindex((ReindexStmt *) stmt, ms);
			break;
		case T_AlterTableStmt:
			if (script_detach_concurrently((AlterTableStmt *) stmt))
			{
				ms->non_transactional = true;
				ms->what = "ALTER TABLE ... DETACH PARTITION ... CONCURRENTLY";
				ms->deferrable = ms->inlinable = true;
			}
			break;
		case T_VacuumStmt:
			ms->non_transactional = ((VacuumStmt *) stmt)->is_vacuumcmd;
			ms->deferrable = ms->non_transactional;
			break;
		case T_ClusterStmt:
			if (((ClusterStmt *) stmt)->relation == NULL)
			{
				ms->non_transactional = true;
				ms->hint = "CLUSTER each table by name (CLUSTER table USING index), or run the statement outside migr.";
			}
			break;
		case T_AlterDatabaseStmt:
			if (script_option_given(((AlterDatabaseStmt *) stmt)->options,
									"tablespace"))
			{
				ms->non_transactional = true;
				ms->what = "ALTER DATABASE ... SET TABLESPACE";
			}
			break;
		case T_DiscardStmt:
			if (((DiscardStmt *) stmt)->target == DISCARD_ALL)
			{
				ms->non_transactional = true;
				ms->what = "DISCARD ALL";
				ms->hint = "Remove the statement: DISCARD ALL resets the session, not the schema.";
			}
			break;
		case T_CreateSubscriptionStmt:
		case T_AlterSubscriptionStmt:
			script_subscription(stmt, ms);
			break;
		case T_CreatedbStmt:
		case T_DropdbStmt:
		case T_CreateTableSpaceStmt:
		case T_DropTableSpaceStmt:
		case T_AlterSystemStmt:
			ms->non_transactional = true;
			break;
		case T_CopyStmt:
			/* COPY to or from the client has no client to talk to here */
			ms->client_copy = (((CopyStmt *) stmt)->filename == NULL);
			break;
		default:
			break;
	}
}

/*
 * script_split
 *		The statements of a script, classified, in order.  An empty list
 *		means the script holds nothing but white space and comments.  id may
 *		be NULL when the script belongs to no revision yet.
 */
List *
script_split(const char *script, const char *id, const char *section)
{
	return script_walk(script, id, section, NULL, NULL);
}

/*
 * script_walk
 *		script_split(), calling walker (if given) on each statement with its
 *		parse tree, in order, while the tree exists (lint.c).
 */
List *
script_walk(const char *script, const char *id, const char *section,
			MigrStmtWalker walker, void *arg)
{
	MemoryContext parsecxt;
	MemoryContext oldcxt;
	ErrorContextCallback errcb;
	ScriptContext sc;
	List	   *raw;
	List	   *result = NIL;
	ListCell   *lc;
	int			len = strlen(script);
	int			line = 1;
	int			counted = 0;

	if (len > MIGR_MAX_SCRIPT_BYTES)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("%s script of revision \"%s\" is too large",
						section, id ? id : "(new)"),
				 errdetail("The script is %d bytes; the limit is %d bytes.",
						   len, MIGR_MAX_SCRIPT_BYTES),
				 errhint("Split the work into several revisions, or load bulk data with COPY outside the migration.")));

	sc.id = id;
	sc.section = section;
	sc.script = script;
	errcb.callback = script_parse_callback;
	errcb.arg = &sc;
	errcb.previous = error_context_stack;
	error_context_stack = &errcb;

	parsecxt = AllocSetContextCreate(CurrentMemoryContext, "migr script parse",
									 ALLOCSET_DEFAULT_SIZES);
	oldcxt = MemoryContextSwitchTo(parsecxt);
	raw = raw_parser(script, RAW_PARSE_DEFAULT);

	foreach(lc, raw)
	{
		RawStmt    *rs = lfirst_node(RawStmt, lc);
		int			start = rs->stmt_location < 0 ? 0 : rs->stmt_location;
		int			end = rs->stmt_len > 0 ? start + rs->stmt_len : len;
		MigrStmt   *ms;

		CHECK_FOR_INTERRUPTS();
		start = script_skip_space(script, start, end);
		while (end > start && isspace((unsigned char) script[end - 1]))
			end--;
		for (; counted < start; counted++)
			if (script[counted] == '\n')
				line++;

		MemoryContextSwitchTo(oldcxt);
		ms = palloc0(sizeof(MigrStmt));
		ms->sql = pnstrdup(script + start, end - start);
		ms->location = start;
		ms->line = line;
		ms->index = list_length(result) + 1;
		script_classify(rs->stmt, ms);
		result = lappend(result, ms);
		if (walker)
			walker(ms, rs->stmt, arg);
		MemoryContextSwitchTo(parsecxt);
	}

	MemoryContextSwitchTo(oldcxt);
	MemoryContextDelete(parsecxt);
	error_context_stack = errcb.previous;
	return result;
}

/*
 * script_partitioned
 *		Whether a table or index a statement names is partitioned, as the
 *		catalog says now.  A name that does not resolve is not.
 */
static bool
script_partitioned(RangeVar *rv)
{
	Oid			relid;
	char		relkind;

	if (rv == NULL)
		return false;
	relid = RangeVarGetRelidExtended(rv, NoLock, RVR_MISSING_OK, NULL, NULL);
	if (!OidIsValid(relid))
		return false;
	relkind = get_rel_relkind(relid);
	return relkind == RELKIND_PARTITIONED_TABLE ||
		relkind == RELKIND_PARTITIONED_INDEX;
}

/*
 * script_slot_none
 *		Whether a subscription statement's options say slot_name = NONE.
 */
static bool
script_slot_none(List *options)
{
	ListCell   *lc;

	foreach(lc, options)
	{
		DefElem    *opt = (DefElem *) lfirst(lc);

		if (strcmp(opt->defname, "slot_name") == 0)
			return strcmp(defGetString(opt), "none") == 0;
	}
	return false;
}

/*
 * script_remember_slotless
 *		Note a subscription that an earlier statement of the script left
 *		without a replication slot.
 */
static void
script_remember_slotless(ScriptCheck *sc, const char *subname)
{
	NameData	key;

	if (sc->slotless == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = NAMEDATALEN;
		ctl.entrysize = NAMEDATALEN;
		ctl.hcxt = CurrentMemoryContext;
		sc->slotless = hash_create("migr slotless subscriptions", 16, &ctl,
								   HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	}
	namestrcpy(&key, subname);
	(void) hash_search(sc->slotless, NameStr(key), HASH_ENTER, NULL);
}

/*
 * script_drop_needs_slot
 *		Whether DROP SUBSCRIPTION would drop a replication slot on the
 *		publisher, which the server refuses in a transaction block.  Unless
 *		the script or the catalog shows the subscription has no slot, it
 *		might.
 */
static bool
script_drop_needs_slot(ScriptCheck *sc, const char *subname)
{
	NameData	key;
	Oid			subid;

	namestrcpy(&key, subname);
	if (sc->slotless != NULL &&
		hash_search(sc->slotless, NameStr(key), HASH_FIND, NULL) != NULL)
		return false;
	subid = get_subscription_oid(subname, true);
	return !OidIsValid(subid) || GetSubscription(subid, false)->slotname != NULL;
}

/*
 * script_check_walker
 *		script_walk() callback for script_check(): the statements that the
 *		server refuses in a transaction block depending on the catalog:
 *		REINDEX and CLUSTER of a partitioned table (one transaction per
 *		partition), DROP SUBSCRIPTION of a subscription with a slot.
 */
static void
script_check_walker(MigrStmt *ms, Node *tree, void *arg)
{
	ScriptCheck *sc = (ScriptCheck *) arg;

	switch (nodeTag(tree))
	{
		case T_ReindexStmt:
			if (!ms->non_transactional &&
				script_partitioned(((ReindexStmt *) tree)->relation))
			{
				ms->non_transactional = true;
				ms->what = ((ReindexStmt *) tree)->kind == REINDEX_OBJECT_INDEX ?
					"REINDEX INDEX of a partitioned index" :
					"REINDEX TABLE of a partitioned table";
				ms->hint = "REINDEX each partition by name, or run the statement outside migr.";
			}
			break;
		case T_ClusterStmt:
			if (script_partitioned(((ClusterStmt *) tree)->relation))
			{
				ms->non_transactional = true;
				ms->what = "CLUSTER of a partitioned table";
				ms->hint = "CLUSTER each partition by name, or run the statement outside migr.";
			}
			break;
		case T_CreateSubscriptionStmt:
			if (script_slot_none(((CreateSubscriptionStmt *) tree)->options))
				script_remember_slotless(sc, ((CreateSubscriptionStmt *) tree)->subname);
			break;
		case T_AlterSubscriptionStmt:
			if (((AlterSubscriptionStmt *) tree)->kind == ALTER_SUBSCRIPTION_OPTIONS &&
				script_slot_none(((AlterSubscriptionStmt *) tree)->options))
				script_remember_slotless(sc, ((AlterSubscriptionStmt *) tree)->subname);
			break;
		case T_DropSubscriptionStmt:
			if (script_drop_needs_slot(sc, ((DropSubscriptionStmt *) tree)->subname))
			{
				ms->non_transactional = true;
				ms->what = "DROP SUBSCRIPTION of a subscription with a replication slot";
				ms->hint = "Detach the slot earlier in the revision (ALTER SUBSCRIPTION ... DISABLE, then ALTER SUBSCRIPTION ... SET (slot_name = NONE)) and drop the slot on the publisher outside migr; or run the statement outside migr.";
			}
			break;
		default:
			break;
	}
}

/*
 * script_check
 *		Parse a script and refuse what can never run inside a migration.
 *		Returns its statements.
 */
List *
script_check(const char *script, const char *id, const char *section)
{
	ScriptCheck sc;
	List	   *stmts;
	ListCell   *lc;

	memset(&sc, 0, sizeof(sc));
	stmts = script_walk(script, id, section, script_check_walker, &sc);
	if (sc.slotless != NULL)
		hash_destroy(sc.slotless);

	foreach(lc, stmts)
	{
		MigrStmt   *ms = (MigrStmt *) lfirst(lc);
		const char *hint = ms->hint ? ms->hint : "Run the statement outside migr.";

		if (ms->transaction_control)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("%s script of revision \"%s\" contains transaction control statement %s",
							section, id, ms->what),
					 errdetail("Statement %d, at line %d, controls the transaction; a revision runs inside its caller's transaction and commits or rolls back with it.",
							   ms->index, ms->line),
					 errhint("Remove the statement; split the work into several revisions if parts must commit separately.")));
		if (ms->non_transactional && strcmp(section, "upgrade") == 0 &&
			!ms->deferrable)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("%s script of revision \"%s\" contains %s, which cannot run in a migration",
							section, id, ms->what),
					 errdetail("Statement %d, at line %d, can run neither inside a transaction block nor from a background worker on behalf of a migration.",
							   ms->index, ms->line),
					 errhint("%s", hint)));
		if (ms->non_transactional && strcmp(section, "upgrade") != 0 &&
			!ms->inlinable)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("%s script of revision \"%s\" contains %s, which cannot run inside a transaction block",
							section, id, ms->what),
					 errdetail("Statement %d, at line %d. Only an upgrade hands such statements to a background worker; a downgrade runs every statement in the caller's transaction.",
							   ms->index, ms->line),
					 errhint("%s", hint)));
		if (ms->client_copy)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("%s script of revision \"%s\" contains COPY to or from the client",
							section, id),
					 errdetail("Statement %d, at line %d: a migration runs in the server, where there is no client to copy from or to.",
							   ms->index, ms->line),
					 errhint("Use COPY with a server-side file, or INSERT ... SELECT.")));
	}
	return stmts;
}

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

#include "commands/defrem.h"
#include "nodes/parsenodes.h"
#include "parser/parser.h"
#include "tcop/utility.h"
#include "utils/memutils.h"

#include "migr.h"

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
static bool script_reindex_concurrently(ReindexStmt *stmt);
static bool script_detach_concurrently(AlterTableStmt *stmt);
static int	script_skip_space(const char *s, int pos, int end);

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
 * script_reindex_concurrently
 *		REINDEX (CONCURRENTLY) ..., and REINDEX SYSTEM/DATABASE, which can
 *		never run inside a transaction block.
 */
static bool
script_reindex_concurrently(ReindexStmt *stmt)
{
	ListCell   *lc;

	if (stmt->kind == REINDEX_OBJECT_SYSTEM ||
		stmt->kind == REINDEX_OBJECT_DATABASE)
		return true;
	foreach(lc, stmt->params)
	{
		DefElem    *opt = (DefElem *) lfirst(lc);

		if (strcmp(opt->defname, "concurrently") == 0 && defGetBoolean(opt))
			return true;
	}
	return false;
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
 *		(PreventInTransactionBlock) or from a function.
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
			if (script_reindex_concurrently((ReindexStmt *) stmt))
			{
				ms->non_transactional = true;
				if (((ReindexStmt *) stmt)->kind != REINDEX_OBJECT_SYSTEM &&
					((ReindexStmt *) stmt)->kind != REINDEX_OBJECT_DATABASE)
				{
					ms->what = "REINDEX CONCURRENTLY";
					ms->deferrable = ms->inlinable = true;
				}
			}
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
			ms->non_transactional = (((ClusterStmt *) stmt)->relation == NULL);
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
 * script_check
 *		Parse a script and refuse what can never run inside a migration.
 *		Returns its statements.
 */
List *
script_check(const char *script, const char *id, const char *section)
{
	List	   *stmts = script_split(script, id, section);
	ListCell   *lc;

	foreach(lc, stmts)
	{
		MigrStmt   *ms = (MigrStmt *) lfirst(lc);

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
					 errhint("Run the statement outside migr.")));
		if (ms->non_transactional && strcmp(section, "upgrade") != 0 &&
			!ms->inlinable)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("%s script of revision \"%s\" contains %s, which cannot run inside a transaction block",
							section, id, ms->what),
					 errdetail("Statement %d, at line %d. Only an upgrade hands such statements to a background worker; a downgrade runs every statement in the caller's transaction.",
							   ms->index, ms->line),
					 errhint("Run the statement outside migr.")));
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

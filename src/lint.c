/*-------------------------------------------------------------------------
 *
 * lint.c
 *	  Lint of migration scripts: the rules of the README's "Lint", decided
 *	  from the server's parse trees and the live catalog; migr_lint().
 *
 * Each statement of a script is looked at with its parse tree, in order
 * (script_walk()).  A rule that is about an "existing" table resolves the
 * statement's RangeVar in the catalog under the caller's search_path, as
 * the statement itself would, and skips tables the script created before
 * the statement.  The table's size (pg_class's estimates, and its current
 * number of blocks when that can be read without waiting) sets the
 * severity: on a table below LINT_TINY_ROWS rows and LINT_TINY_BYTES bytes
 * the hazard is too short to matter and the finding is only "info".
 *
 * A line "-- migr:allow <code> [reason]" (a real comment, found with
 * revlex.c) acknowledges the findings of that code in the statement that
 * contains it or follows it: they are kept, with severity "allowed", but
 * never raised.
 *
 * Anyone may call migr_lint(), so its cost is bounded by the script's size
 * whatever the script holds: allow lines are handed out to statements in
 * one pass, what the script did to its tables (created, archived, columns
 * added, constraints added NOT VALID) is kept in a hash table, and every
 * loop over the input checks for interrupts.
 *
 * When a revision is defined, findings of severity "warning" and above are
 * raised as WARNINGs, or the first as an ERROR, following migr.lint; data
 * operations in a schema revision follow migr.data_operations instead.
 *
 * Copyright (c) 2026, migr developers
 *
 * IDENTIFICATION
 *	  src/lint.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>

#include "access/htup_details.h"
#include "access/relation.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "nodes/parsenodes.h"
#include "optimizer/optimizer.h"
#include "parser/parse_coerce.h"
#include "parser/parse_type.h"
#include "parser/parser.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/fmgrprotos.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/typcache.h"
#include "utils/varlena.h"

#include "migr.h"

PG_FUNCTION_INFO_V1(migr_lint);

/* a table below both limits is "tiny": its findings are only "info" */
#define LINT_TINY_ROWS		10000.0
#define LINT_TINY_BYTES		(1024 * 1024)

/*
 * The rules' codes: migr:allow accepts these.  Not data_operation (a data
 * revision says it), nor invalid_allow and unused_allow (about directives).
 */
static const char *const lint_codes[] = {
	"not_null_without_default", "index_not_concurrent",
	"constraint_under_lock", "constraint_not_valid", "column_type_change",
	"set_not_null", "rename", "drop_without_archive", "volatile_default",
	"table_rewrite", "opaque_statement", NULL
};

#define LINT_NCODES		(lengthof(lint_codes) - 1)

/* One "-- migr:allow" line. */
typedef struct LintAllow
{
	int			offset;			/* of the line, in the script */
	int			line;
	char	   *code;
	int			codeno;			/* index in lint_codes, -1 if none */
	char	   *reason;			/* may be empty */
	int			statement;		/* the statement it applies to, 0 if none */
	bool		used;
} LintAllow;

/*
 * What the script did before the current statement, by kind: a table it
 * created (by name as written, and by bare name, since an unqualified name
 * matches a qualified one), a table it archived, a constraint it added NOT
 * VALID, a column it added or changed the type of (with the type).
 */
typedef enum LintSeenKind
{
	LINT_SEEN_CREATED,			/* schema (or "") and name */
	LINT_SEEN_CREATED_ANY,		/* name, in any schema */
	LINT_SEEN_ARCHIVED,			/* relid */
	LINT_SEEN_NOT_VALID,		/* relid and constraint name */
	LINT_SEEN_COLUMN			/* relid and column name */
} LintSeenKind;

typedef struct LintSeenKey
{
	LintSeenKind kind;
	Oid			relid;
	NameData	a;
	NameData	b;
} LintSeenKey;

typedef struct LintSeen
{
	LintSeenKey key;
	/* LINT_SEEN_COLUMN: the column's type from here on (InvalidOid: unknown) */
	Oid			typid;
	int32		typmod;
	Oid			collid;
} LintSeen;

/* What the catalog says about a table a statement names. */
typedef struct LintTable
{
	Oid			relid;			/* InvalidOid: not an existing table */
	const char *name;			/* as the statement wrote it */
	char		relkind;
	BlockNumber pages;
	double		rows;			/* estimate; -1 when never analyzed */
	bool		empty;
	bool		tiny;
} LintTable;

typedef struct LintState
{
	const char *script;
	bool		data_kind;		/* a "data" revision */
	List	   *allows;			/* LintAllow, in script order */
	int			next_allow;		/* the first not handed to a statement */
	int			stmt_allow;		/* the current statement's first */
	LintAllow  *code_allow[LINT_NCODES];	/* its last of each code */
	bool		code_used[LINT_NCODES]; /* which of them acknowledged */
	HTAB	   *seen;			/* LintSeen */
	List	   *findings;		/* MigrFinding, by statement */
	List	   *line_findings;	/* MigrFinding about allow lines */
	MigrStmt   *ms;				/* the statement looked at */
} LintState;

static void lint_find_allows(LintState *ls);
static void lint_allow_line(LintState *ls, const char *line, int len,
							int offset, int lineno);
static int	lint_code_index(const char *code);
static void lint_assign_allows(LintState *ls);
static void lint_close_allows(LintState *ls);
static LintSeen *lint_seen(LintState *ls, LintSeenKind kind, Oid relid,
						   const char *a, const char *b, bool enter);
static void lint_add(LintState *ls, const char *code, MigrSeverity sev,
					 char *message, const char *hint);
static void lint_walker(MigrStmt *ms, Node *tree, void *arg);
static void lint_statement(LintState *ls, Node *tree);
static void lint_remember(LintState *ls, Node *tree);
static bool lint_created_here(LintState *ls, RangeVar *rv);
static void lint_remember_created(LintState *ls, const char *schemaname,
								  const char *relname);
static bool lint_table(LintState *ls, RangeVar *rv, LintTable *t);
static void lint_size(LintTable *t);
static void lint_leaf_size(Oid relid, BlockNumber *pages, double *rows);
static MigrSeverity lint_by_size(LintTable *t);
static MigrSeverity lint_by_rows(LintTable *t);
static char *lint_size_text(LintTable *t);
static RangeVar *lint_name_to_rangevar(const char *name);
static RangeVar *lint_archive_call(FuncCall *fc);
static RangeVar *lint_archive_target(Node *tree);
static void lint_alter_table(LintState *ls, AlterTableStmt *stmt);
static void lint_add_column(LintState *ls, LintTable *t, ColumnDef *col);
static bool lint_column_has_default(ColumnDef *col, bool *filled);
static bool lint_is_serial(TypeName *tn);
static char *lint_volatile_call(Node *expr);
static bool lint_volatile_walker(Node *node, char **found);
static void lint_add_constraint(LintState *ls, LintTable *t, Constraint *con);
static void lint_validate(LintState *ls, LintTable *t, const char *conname);
static void lint_type_change(LintState *ls, LintTable *t, AlterTableCmd *cmd);
static bool lint_type_rewrites(LintState *ls, Oid relid, const char *colname,
							   ColumnDef *def, char **type);
static bool lint_column_type(LintState *ls, Oid relid, const char *colname,
							 Oid *typid, int32 *typmod, Oid *collid);
static void lint_remember_column(LintState *ls, Oid relid,
								 const char *colname, TypeName *tn,
								 CollateClause *coll);
static bool lint_using_is_column(Node *expr, const char *colname);
static bool lint_change_requires_rewrite(Node *expr);
static void lint_set_not_null(LintState *ls, LintTable *t, const char *col);
static bool lint_has_not_null_check(Oid relid, const char *col);
static void lint_drop_column(LintState *ls, LintTable *t, AlterTableCmd *cmd);
static void lint_rewrite(LintState *ls, LintTable *t, const char *what,
						 const char *hint);
static void lint_index(LintState *ls, IndexStmt *stmt);
static void lint_rename(LintState *ls, RenameStmt *stmt);
static void lint_drop(LintState *ls, DropStmt *stmt);
static bool lint_archived(LintState *ls, LintTable *t, const char *what);
static void lint_vacuum(LintState *ls, VacuumStmt *stmt);
static void lint_cluster(LintState *ls, ClusterStmt *stmt);
static void lint_reindex(LintState *ls, ReindexStmt *stmt);
static void lint_domain(LintState *ls, AlterDomainStmt *stmt);
static void lint_data(LintState *ls, Node *tree);
static void lint_unused_allows(LintState *ls);
static MigrFinding *lint_empty_finding(void);
static List *lint_merge(List *a, List *b);
static MigrFinding *lint_data_finding(MigrStmt *ms, Node *tree);
static void lint_data_walker(MigrStmt *ms, Node *tree, void *arg);
static void lint_raise(MigrFinding *f, const char *section, const char *id,
					   int elevel, int sqlstate);

/* ----------------------------------------------------------------
 * Acknowledgements: "-- migr:allow <code> [reason]"
 * ----------------------------------------------------------------
 */

/*
 * lint_code_index
 *		The index in lint_codes of a rule that migr:allow can acknowledge,
 *		or -1.
 */
static int
lint_code_index(const char *code)
{
	int			i;

	for (i = 0; lint_codes[i]; i++)
		if (strcmp(lint_codes[i], code) == 0)
			return i;
	return -1;
}

/*
 * lint_allow_line
 *		Record one "-- migr:allow" line, or report it as invalid.
 */
static void
lint_allow_line(LintState *ls, const char *line, int len, int offset,
				int lineno)
{
	const char *p = line + strlen(REVLEX_DIRECTIVE "allow");
	const char *end = line + len;
	const char *code;
	LintAllow  *a;

	while (p < end && isspace((unsigned char) *p))
		p++;
	code = p;
	while (p < end && !isspace((unsigned char) *p))
		p++;
	a = palloc0(sizeof(LintAllow));
	a->offset = offset;
	a->line = lineno;
	a->code = pnstrdup(code, p - code);
	a->codeno = lint_code_index(a->code);
	while (p < end && isspace((unsigned char) *p))
		p++;
	while (end > p && isspace((unsigned char) end[-1]))
		end--;
	a->reason = pnstrdup(p, end - p);
	ls->allows = lappend(ls->allows, a);
}

/*
 * lint_find_allows
 *		The script's "-- migr:allow" lines: real comments at the start of a
 *		line, never text inside a string, a quoted identifier, a dollar
 *		quote or a block comment.
 */
static void
lint_find_allows(LintState *ls)
{
	RevLexer	lx;
	const char *line = ls->script;
	int			lineno = 0;

	revlex_init(&lx, standard_conforming_strings);
	while (*line)
	{
		const char *nl = strchr(line, '\n');
		int			full = nl ? (int) (nl - line + 1) : (int) strlen(line);
		int			len = nl ? (int) (nl - line) : full;

		CHECK_FOR_INTERRUPTS();
		lineno++;
		if (len > 0 && line[len - 1] == '\r')
			len--;
		if (revlex_is_script_directive(&lx, line, len))
			lint_allow_line(ls, line, len, line - ls->script, lineno);
		else if (revlex_is_near_directive(&lx, line, len))
		{
			MigrFinding *f = palloc0(sizeof(MigrFinding));

			f->line = lineno;
			f->severity = MIGR_SEV_WARNING;
			f->code = "invalid_allow";
			f->message = psprintf("line %d looks like a migr directive but is not one: \"%.*s\"",
								  lineno, len, line);
			f->hint = "Write \"-- migr:allow <code> <reason>\" at the very start of the line before the statement.";
			ls->line_findings = lappend(ls->line_findings, f);
		}
		(void) revlex_line(&lx, line, len);
		line += full;
	}
}

/*
 * lint_assign_allows
 *		Give the allow lines before or inside the current statement (and
 *		after the previous one) to it; report those naming no rule.  The
 *		lines are in script order and so are the statements, so one cursor
 *		hands each line out once.
 */
static void
lint_assign_allows(LintState *ls)
{
	int			end = ls->ms->location + strlen(ls->ms->sql);

	lint_close_allows(ls);
	ls->stmt_allow = ls->next_allow;
	for (; ls->next_allow < list_length(ls->allows); ls->next_allow++)
	{
		LintAllow  *a = (LintAllow *) list_nth(ls->allows, ls->next_allow);

		CHECK_FOR_INTERRUPTS();
		if (a->offset >= end)
			break;
		a->statement = ls->ms->index;
		if (a->codeno >= 0)
			ls->code_allow[a->codeno] = a;
		else
		{
			MigrFinding *f = palloc0(sizeof(MigrFinding));

			a->used = true;		/* reported here, not as unused */
			f->statement = a->statement;
			f->line = a->line;
			f->severity = MIGR_SEV_WARNING;
			f->code = "invalid_allow";
			f->message = psprintf("\"-- migr:allow\" at line %d names no rule: \"%s\"",
								  a->line, a->code);
			f->hint = pstrdup(strcmp(a->code, "data_operation") == 0 ?
							  "Data operations are acknowledged by the revision's kind: define it with kind => 'data' (in a revision file, \"-- migr:kind data\")." :
							  "Write \"-- migr:allow <code> <reason>\" with one of the codes listed in the README (section Lint).");
			ls->findings = lappend(ls->findings, f);
		}
	}
}

/*
 * lint_close_allows
 *		When the statement's rules are done: its allow lines of a code that
 *		acknowledged a finding are used, all of them.
 */
static void
lint_close_allows(LintState *ls)
{
	int			i;

	for (i = ls->stmt_allow; i < ls->next_allow; i++)
	{
		LintAllow  *a = (LintAllow *) list_nth(ls->allows, i);

		CHECK_FOR_INTERRUPTS();
		if (a->codeno >= 0 && ls->code_used[a->codeno])
			a->used = true;
	}
	memset(ls->code_allow, 0, sizeof(ls->code_allow));
	memset(ls->code_used, 0, sizeof(ls->code_used));
	ls->stmt_allow = ls->next_allow;
}

/*
 * lint_unused_allows
 *		Allow lines that acknowledged nothing: usually a directive one
 *		statement too early or late, or a hazard that went away.
 */
static void
lint_unused_allows(LintState *ls)
{
	ListCell   *lc;
	List	   *unused = NIL;

	lint_close_allows(ls);
	foreach(lc, ls->allows)
	{
		LintAllow  *a = (LintAllow *) lfirst(lc);
		MigrFinding *f;

		CHECK_FOR_INTERRUPTS();
		if (a->used)
			continue;
		f = palloc0(sizeof(MigrFinding));
		f->statement = a->statement;
		f->line = a->line;
		f->severity = MIGR_SEV_INFO;
		f->code = "unused_allow";
		f->message = psprintf("\"-- migr:allow %s\" at line %d acknowledges nothing",
							  a->code, a->line);
		f->hint = pstrdup("Put the directive on a line of its own just before the statement it is about, or remove it.");
		unused = lappend(unused, f);
	}
	ls->line_findings = lint_merge(ls->line_findings, unused);
}

/*
 * lint_merge
 *		Two lists of findings in line order, merged in line order (a's
 *		first where lines tie).
 */
static List *
lint_merge(List *a, List *b)
{
	List	   *out = NIL;
	ListCell   *la = list_head(a);
	ListCell   *lb = list_head(b);

	while (la || lb)
	{
		if (lb == NULL ||
			(la && ((MigrFinding *) lfirst(la))->line <=
			 ((MigrFinding *) lfirst(lb))->line))
		{
			out = lappend(out, lfirst(la));
			la = lnext(a, la);
		}
		else
		{
			out = lappend(out, lfirst(lb));
			lb = lnext(b, lb);
		}
	}
	return out;
}

/*
 * lint_add
 *		Record a finding about the current statement, acknowledged if an
 *		allow line of its code belongs to the statement.
 */
static void
lint_add(LintState *ls, const char *code, MigrSeverity sev, char *message,
		 const char *hint)
{
	MigrFinding *f = palloc0(sizeof(MigrFinding));
	int			codeno = lint_code_index(code);
	LintAllow  *a = codeno >= 0 ? ls->code_allow[codeno] : NULL;

	f->statement = ls->ms->index;
	f->line = ls->ms->line;
	f->severity = sev;
	f->code = code;
	f->message = message;
	f->hint = pstrdup(hint);
	if (a != NULL)
	{
		ls->code_used[codeno] = true;
		f->severity = MIGR_SEV_ALLOWED;
		f->message = psprintf("%s (acknowledged at line %d%s%s)", message,
							  a->line, a->reason[0] ? ": " : "", a->reason);
	}
	ls->findings = lappend(ls->findings, f);
}

/* ----------------------------------------------------------------
 * Tables: existing or not, and how big
 * ----------------------------------------------------------------
 */

/*
 * lint_seen
 *		Find (or with enter, add) what the script did, in the hash table.
 *		Names are kept as the parser truncated them, to NAMEDATALEN - 1.
 */
static LintSeen *
lint_seen(LintState *ls, LintSeenKind kind, Oid relid, const char *a,
		  const char *b, bool enter)
{
	LintSeenKey key;
	LintSeen   *entry;
	bool		found;

	if (ls->seen == NULL)
	{
		HASHCTL		ctl;

		if (!enter)
			return NULL;
		ctl.keysize = sizeof(LintSeenKey);
		ctl.entrysize = sizeof(LintSeen);
		ctl.hcxt = CurrentMemoryContext;
		ls->seen = hash_create("migr lint", 64, &ctl,
							   HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}
	memset(&key, 0, sizeof(key));
	key.kind = kind;
	key.relid = relid;
	if (a)
		strlcpy(NameStr(key.a), a, NAMEDATALEN);
	if (b)
		strlcpy(NameStr(key.b), b, NAMEDATALEN);
	entry = hash_search(ls->seen, &key, enter ? HASH_ENTER : HASH_FIND,
						&found);
	if (enter && !found)
		entry->typid = InvalidOid;
	return entry;
}

/*
 * lint_created_here
 *		Whether the script created a table of that name before the current
 *		statement.  Names are compared as written; an unqualified name
 *		matches a qualified one.
 */
static bool
lint_created_here(LintState *ls, RangeVar *rv)
{
	if (rv->schemaname == NULL)
		return lint_seen(ls, LINT_SEEN_CREATED_ANY, InvalidOid, NULL,
						 rv->relname, false) != NULL;
	return lint_seen(ls, LINT_SEEN_CREATED, InvalidOid, rv->schemaname,
					 rv->relname, false) != NULL ||
		lint_seen(ls, LINT_SEEN_CREATED, InvalidOid, "", rv->relname,
				  false) != NULL;
}

/*
 * lint_remember_created
 *		A table the script created (or renamed to), by name.
 */
static void
lint_remember_created(LintState *ls, const char *schemaname,
					  const char *relname)
{
	(void) lint_seen(ls, LINT_SEEN_CREATED, InvalidOid,
					 schemaname ? schemaname : "", relname, true);
	(void) lint_seen(ls, LINT_SEEN_CREATED_ANY, InvalidOid, NULL, relname,
					 true);
}

/*
 * lint_leaf_size
 *		One relation's size: its current number of blocks when its lock can
 *		be had at once (never waiting behind someone else's ACCESS
 *		EXCLUSIVE; released at once), else pg_class's estimate; rows from
 *		pg_class's density, as the planner does, or -1 when there is none
 *		(never analyzed, or the rows came after the last ANALYZE).
 */
static void
lint_leaf_size(Oid relid, BlockNumber *pages, double *rows)
{
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	BlockNumber relpages;
	double		reltuples;

	*pages = 0;
	*rows = -1;
	if (!HeapTupleIsValid(tup))
		return;
	relpages = ((Form_pg_class) GETSTRUCT(tup))->relpages;
	reltuples = ((Form_pg_class) GETSTRUCT(tup))->reltuples;
	ReleaseSysCache(tup);

	*pages = relpages;
	*rows = reltuples;
	if (ConditionalLockRelationOid(relid, AccessShareLock))
	{
		Relation	rel = try_relation_open(relid, NoLock);

		if (rel != NULL)
		{
			*pages = RelationGetNumberOfBlocks(rel);
			relation_close(rel, NoLock);
		}
		/* a lint must not hold locks on the caller's tables */
		UnlockRelationOid(relid, AccessShareLock);
		if (reltuples >= 0 && relpages > 0)
			*rows = reltuples / relpages * *pages;
		else if (*pages > 0)
			*rows = -1;
	}
}

/*
 * lint_size
 *		The table's size, and whether it is empty or tiny.  A partitioned
 *		table adds up its leaf partitions.
 */
static void
lint_size(LintTable *t)
{
	if (t->relkind == RELKIND_PARTITIONED_TABLE)
	{
		ListCell   *lc;

		t->pages = 0;
		t->rows = 0;
		foreach(lc, find_all_inheritors(t->relid, NoLock, NULL))
		{
			BlockNumber p;
			double		r;

			if (get_rel_relkind(lfirst_oid(lc)) != RELKIND_RELATION)
				continue;
			lint_leaf_size(lfirst_oid(lc), &p, &r);
			t->pages += p;
			if (t->rows >= 0)
				t->rows = (r >= 0) ? t->rows + r : -1;
		}
	}
	else
		lint_leaf_size(t->relid, &t->pages, &t->rows);
	t->empty = (t->pages == 0 && t->rows <= 0);
	t->tiny = ((double) t->pages * BLCKSZ < LINT_TINY_BYTES &&
			   t->rows < LINT_TINY_ROWS);
}

/*
 * lint_table
 *		Resolve a table the statement names.  Returns true if it exists in
 *		the catalog (as a table, partitioned table or materialized view)
 *		and the script did not create it.
 */
static bool
lint_table(LintState *ls, RangeVar *rv, LintTable *t)
{
	memset(t, 0, sizeof(*t));
	t->name = rv->schemaname ?
		psprintf("%s.%s", rv->schemaname, rv->relname) : rv->relname;
	if (rv->catalogname != NULL || lint_created_here(ls, rv))
		return false;
	t->relid = RangeVarGetRelidExtended(rv, NoLock, RVR_MISSING_OK, NULL,
										NULL);
	if (!OidIsValid(t->relid))
		return false;
	t->relkind = get_rel_relkind(t->relid);
	if (t->relkind != RELKIND_RELATION &&
		t->relkind != RELKIND_PARTITIONED_TABLE &&
		t->relkind != RELKIND_MATVIEW)
	{
		t->relid = InvalidOid;
		return false;
	}
	lint_size(t);
	return true;
}

/*
 * lint_by_size / lint_by_rows
 *		Severity of a hazard that lasts as long as the table is big, or
 *		that exists as soon as it has a row.
 */
static MigrSeverity
lint_by_size(LintTable *t)
{
	return t->tiny ? MIGR_SEV_INFO : MIGR_SEV_WARNING;
}

static MigrSeverity
lint_by_rows(LintTable *t)
{
	return t->empty ? MIGR_SEV_INFO : MIGR_SEV_WARNING;
}

/*
 * lint_size_text
 *		"about 20000 rows, 712 kB", for messages.
 */
static char *
lint_size_text(LintTable *t)
{
	char	   *bytes = text_to_cstring(DatumGetTextPP(
											   DirectFunctionCall1(pg_size_pretty,
																   Int64GetDatum((int64) t->pages * BLCKSZ))));

	if (t->empty)
		return pstrdup("empty");
	if (t->rows < 0)
		return psprintf("%s, not analyzed", bytes);
	return psprintf("about %.0f row%s, %s", t->rows,
					t->rows == 1 ? "" : "s", bytes);
}

/* ----------------------------------------------------------------
 * migr_archive_table() calls in the script
 * ----------------------------------------------------------------
 */

/*
 * lint_name_to_rangevar
 *		A possibly qualified table name as regclass input reads it; NULL if
 *		it is not one.
 */
static RangeVar *
lint_name_to_rangevar(const char *name)
{
	List	   *names;

	if (!SplitIdentifierString(pstrdup(name), '.', &names))
		return NULL;
	switch (list_length(names))
	{
		case 1:
			return makeRangeVar(NULL, linitial(names), -1);
		case 2:
			return makeRangeVar(linitial(names), lsecond(names), -1);
		default:
			return NULL;
	}
}

/*
 * lint_archive_call
 *		The table a call migr_archive_table('name'[::regclass], ...) names.
 */
static RangeVar *
lint_archive_call(FuncCall *fc)
{
	Node	   *arg;
	A_Const    *c;

	if (strcmp(strVal(llast(fc->funcname)), "migr_archive_table") != 0 ||
		fc->args == NIL)
		return NULL;
	arg = linitial(fc->args);
	if (IsA(arg, NamedArgExpr))
		arg = (Node *) ((NamedArgExpr *) arg)->arg;
	if (IsA(arg, TypeCast))
		arg = ((TypeCast *) arg)->arg;
	if (!IsA(arg, A_Const))
		return NULL;
	c = (A_Const *) arg;
	if (c->isnull || !IsA(&c->val, String))
		return NULL;
	return lint_name_to_rangevar(strVal(&c->val));
}

/*
 * lint_archive_target
 *		If the statement is SELECT migr_archive_table(...) (in the target
 *		list or in FROM), the table it archives.
 */
static RangeVar *
lint_archive_target(Node *tree)
{
	SelectStmt *sel;
	ListCell   *lc;
	RangeVar   *rv;

	if (!IsA(tree, SelectStmt))
		return NULL;
	sel = (SelectStmt *) tree;
	foreach(lc, sel->targetList)
	{
		Node	   *val = ((ResTarget *) lfirst(lc))->val;

		if (IsA(val, FuncCall) &&
			(rv = lint_archive_call((FuncCall *) val)) != NULL)
			return rv;
	}
	foreach(lc, sel->fromClause)
	{
		RangeFunction *rf = (RangeFunction *) lfirst(lc);
		Node	   *fn;

		if (!IsA(rf, RangeFunction) || list_length(rf->functions) != 1)
			continue;
		fn = linitial((List *) linitial(rf->functions));
		if (IsA(fn, FuncCall) &&
			(rv = lint_archive_call((FuncCall *) fn)) != NULL)
			return rv;
	}
	return NULL;
}

/* ----------------------------------------------------------------
 * ALTER TABLE
 * ----------------------------------------------------------------
 */

/*
 * lint_is_serial
 *		serial, bigserial, smallserial (as transformColumnDefinition sees
 *		them).
 */
static bool
lint_is_serial(TypeName *tn)
{
	const char *name;

	if (tn == NULL || tn->pct_type || list_length(tn->names) > 2 ||
		(list_length(tn->names) == 2 &&
		 strcmp(strVal(linitial(tn->names)), "pg_catalog") != 0))
		return false;
	name = strVal(llast(tn->names));
	return strcmp(name, "serial") == 0 || strcmp(name, "serial4") == 0 ||
		strcmp(name, "bigserial") == 0 || strcmp(name, "serial8") == 0 ||
		strcmp(name, "smallserial") == 0 || strcmp(name, "serial2") == 0;
}

/*
 * lint_column_has_default
 *		Whether a new column gets a value in existing rows other than NULL;
 *		*filled is set when that value is computed row by row (identity,
 *		serial, stored generated column), which rewrites the table.
 */
static bool
lint_column_has_default(ColumnDef *col, bool *filled)
{
	ListCell   *lc;
	bool		has = false;

	*filled = lint_is_serial(col->typeName);
	foreach(lc, col->constraints)
	{
		Constraint *c = (Constraint *) lfirst(lc);

		if (c->contype == CONSTR_DEFAULT)
			has = true;
		else if (c->contype == CONSTR_IDENTITY ||
				 c->contype == CONSTR_GENERATED)
			*filled = true;
	}
	return has || *filled;
}

/*
 * lint_volatile_walker / lint_volatile_call
 *		The first function call in an expression that is volatile, or that
 *		cannot be resolved (counted as volatile: it might be); NULL if none.
 *		Volatility comes from pg_proc.provolatile of every function of that
 *		name and number of arguments on the search_path.
 */
static bool
lint_volatile_walker(Node *node, char **found)
{
	if (node == NULL)
		return false;
	if (IsA(node, FuncCall))
	{
		FuncCall   *fc = (FuncCall *) node;
		FuncCandidateList cands;
		bool		volatile_or_unknown = true;

		cands = FuncnameGetCandidates(fc->funcname, list_length(fc->args),
									  NIL, true, true, false, true);
		for (; cands != NULL; cands = cands->next)
		{
			volatile_or_unknown = (func_volatile(cands->oid) ==
								   PROVOLATILE_VOLATILE);
			if (volatile_or_unknown)
				break;
		}
		if (volatile_or_unknown)
		{
			*found = psprintf(cands ? "%s()" : "%s() (not found, so counted as volatile)",
							  NameListToString(fc->funcname));
			return true;
		}
	}
	return raw_expression_tree_walker(node, lint_volatile_walker,
									  (void *) found);
}

static char *
lint_volatile_call(Node *expr)
{
	char	   *found = NULL;

	(void) lint_volatile_walker(expr, &found);
	return found;
}

/*
 * lint_add_column
 *		ADD COLUMN on an existing table: NOT NULL without a default, a
 *		volatile or row-by-row default, and inline UNIQUE / PRIMARY KEY.
 */
static void
lint_add_column(LintState *ls, LintTable *t, ColumnDef *col)
{
	bool		filled;
	bool		has_default = lint_column_has_default(col, &filled);
	bool		not_null = col->is_not_null;
	ListCell   *lc;

	foreach(lc, col->constraints)
	{
		Constraint *c = (Constraint *) lfirst(lc);
		char	   *call;

		if (c->contype == CONSTR_NOTNULL || c->contype == CONSTR_PRIMARY)
			not_null = true;
		if (c->contype == CONSTR_PRIMARY || c->contype == CONSTR_UNIQUE)
			lint_add_constraint(ls, t, c);
		if (c->contype == CONSTR_DEFAULT &&
			(call = lint_volatile_call(c->raw_expr)) != NULL)
			lint_add(ls, "volatile_default", lint_by_size(t),
					 psprintf("ADD COLUMN \"%s\" with volatile default %s rewrites existing table \"%s\" (%s) under an ACCESS EXCLUSIVE lock",
							  col->colname, call, t->name, lint_size_text(t)),
					 "Add the column without a default (or with a constant or stable one, which does not rewrite), then SET DEFAULT for new rows, and fill existing rows in batches in a data revision.");
	}
	if (filled)
		lint_add(ls, "volatile_default", lint_by_size(t),
				 psprintf("ADD COLUMN \"%s\" computes a value for every existing row (serial, identity or generated column), which rewrites existing table \"%s\" (%s) under an ACCESS EXCLUSIVE lock",
						  col->colname, t->name, lint_size_text(t)),
				 "Add a plain nullable column, fill it in batches in a data revision, then attach the sequence or identity with SET DEFAULT / ADD GENERATED for new rows.");
	if (not_null && !has_default)
		lint_add(ls, "not_null_without_default", lint_by_rows(t),
				 psprintf("ADD COLUMN \"%s\" NOT NULL without a default fails on existing table \"%s\" as soon as it has a row (%s)",
						  col->colname, t->name, lint_size_text(t)),
				 "Give the column a constant DEFAULT (which does not rewrite the table), or add it nullable, fill it in a data revision, and make it NOT NULL later (see rule set_not_null).");
	lint_remember_column(ls, t->relid, col->colname, col->typeName,
						 col->collClause);
}

/*
 * lint_add_constraint
 *		Constraints added to an existing table: an index built under lock,
 *		or a check of every row under lock.
 */
static void
lint_add_constraint(LintState *ls, LintTable *t, Constraint *con)
{
	char	   *name = con->conname ?
		psprintf(" \"%s\"", con->conname) : "";

	switch (con->contype)
	{
		case CONSTR_PRIMARY:
		case CONSTR_UNIQUE:
			if (con->indexname != NULL)
				break;
			lint_add(ls, "constraint_under_lock", lint_by_size(t),
					 psprintf("%s constraint%s on existing table \"%s\" (%s) builds its index under an ACCESS EXCLUSIVE lock, blocking reads and writes",
							  con->contype == CONSTR_PRIMARY ? "PRIMARY KEY" : "UNIQUE",
							  name, t->name, lint_size_text(t)),
					 "Build the index first with CREATE UNIQUE INDEX CONCURRENTLY, then add the constraint in a later revision with ADD CONSTRAINT ... UNIQUE USING INDEX (or PRIMARY KEY USING INDEX).");
			break;
		case CONSTR_EXCLUSION:
			lint_add(ls, "constraint_under_lock", lint_by_size(t),
					 psprintf("EXCLUDE constraint%s on existing table \"%s\" (%s) builds its index under an ACCESS EXCLUSIVE lock, blocking reads and writes",
							  name, t->name, lint_size_text(t)),
					 "There is no concurrent form: add it while the table is small, or in a maintenance window with the statement acknowledged by \"-- migr:allow constraint_under_lock\".");
			break;
		case CONSTR_FOREIGN:
		case CONSTR_CHECK:
			if (con->skip_validation)
			{
				if (con->conname != NULL)
					(void) lint_seen(ls, LINT_SEEN_NOT_VALID, t->relid,
									 con->conname, NULL, true);
				break;
			}
			lint_add(ls, "constraint_not_valid", lint_by_size(t),
					 psprintf("%s constraint%s on existing table \"%s\" (%s) checks every row while holding a lock that blocks writes",
							  con->contype == CONSTR_FOREIGN ? "FOREIGN KEY" : "CHECK",
							  name, t->name, lint_size_text(t)),
					 "Add the constraint with NOT VALID (new rows are checked at once), then VALIDATE CONSTRAINT in a later revision, which checks the old rows without blocking writes.");
			break;
		default:
			break;
	}
}

/*
 * lint_validate
 *		VALIDATE CONSTRAINT of a constraint this same script added NOT
 *		VALID: the ADD's lock is held until commit, so nothing was gained.
 */
static void
lint_validate(LintState *ls, LintTable *t, const char *conname)
{
	if (!lint_seen(ls, LINT_SEEN_NOT_VALID, t->relid, conname, NULL, false))
		return;
	lint_add(ls, "constraint_not_valid", lint_by_size(t),
			 psprintf("constraint \"%s\" on existing table \"%s\" (%s) is validated in the revision that adds it, under the lock ADD CONSTRAINT took, which is held until commit",
					  conname, t->name, lint_size_text(t)),
			 "Move VALIDATE CONSTRAINT to a later revision: a revision runs in one transaction.");
}

/*
 * lint_remember_column
 *		The type a column has from here on in the script: one it added, or
 *		one whose type it changed.  A type that does not resolve (serial,
 *		say, or a type the script creates) is remembered as unknown.
 */
static void
lint_remember_column(LintState *ls, Oid relid, const char *colname,
					 TypeName *tn, CollateClause *coll)
{
	LintSeen   *col = lint_seen(ls, LINT_SEEN_COLUMN, relid, colname, NULL,
								true);
	Type		typ;

	/* serial and its kin are their integer type with a default */
	if (lint_is_serial(tn))
	{
		const char *name = strVal(llast(tn->names));

		tn = SystemTypeName(strcmp(name, "bigserial") == 0 ||
							strcmp(name, "serial8") == 0 ? "int8" :
							strcmp(name, "smallserial") == 0 ||
							strcmp(name, "serial2") == 0 ? "int2" : "int4");
	}
	typ = tn ? LookupTypeName(NULL, tn, &col->typmod, true) : NULL;

	col->typid = InvalidOid;
	if (typ == NULL)
		return;
	col->typid = typeTypeId(typ);
	col->collid = typeTypeCollation(typ);
	ReleaseSysCache(typ);
	if (coll != NULL)
		col->collid = get_collation_oid(coll->collname, true);
}

/*
 * lint_column_type
 *		A column's type as the statement finds it: as an earlier statement
 *		of the script left it, else from the catalog.  False if unknown.
 */
static bool
lint_column_type(LintState *ls, Oid relid, const char *colname, Oid *typid,
				 int32 *typmod, Oid *collid)
{
	LintSeen   *col = lint_seen(ls, LINT_SEEN_COLUMN, relid, colname, NULL,
								false);
	AttrNumber	attnum;

	if (col != NULL)
	{
		*typid = col->typid;
		*typmod = col->typmod;
		*collid = col->collid;
		return OidIsValid(col->typid);
	}
	attnum = get_attnum(relid, colname);
	if (attnum == InvalidAttrNumber)
		return false;
	get_atttypetypmodcoll(relid, attnum, typid, typmod, collid);
	return true;
}

/*
 * lint_using_is_column
 *		Whether a USING expression is the column itself, which is what the
 *		server uses when there is no USING.
 */
static bool
lint_using_is_column(Node *expr, const char *colname)
{
	ColumnRef  *cref = (ColumnRef *) expr;

	return IsA(expr, ColumnRef) && list_length(cref->fields) == 1 &&
		IsA(linitial(cref->fields), String) &&
		strcmp(strVal(linitial(cref->fields)), colname) == 0;
}

/*
 * lint_change_requires_rewrite
 *		The server's ATColumnChangeRequiresRewrite() (tablecmds.c, static
 *		there), on the planned expression that turns the old value into the
 *		new: only the column itself, binary relabelling, coercion to a
 *		domain without constraints, and timestamp <-> timestamptz when the
 *		session's time zone is UTC, keep the stored values.
 */
static bool
lint_change_requires_rewrite(Node *expr)
{
	for (;;)
	{
		if (IsA(expr, Var))
			return false;
		else if (IsA(expr, RelabelType))
			expr = (Node *) ((RelabelType *) expr)->arg;
		else if (IsA(expr, CoerceToDomain))
		{
			CoerceToDomain *d = (CoerceToDomain *) expr;

			if (DomainHasConstraints(d->resulttype))
				return true;
			expr = (Node *) d->arg;
		}
		else if (IsA(expr, FuncExpr) &&
				 (((FuncExpr *) expr)->funcid == F_TIMESTAMPTZ_TIMESTAMP ||
				  ((FuncExpr *) expr)->funcid == F_TIMESTAMP_TIMESTAMPTZ))
		{
			if (TimestampTimestampTzRequiresRewrite())
				return true;
			expr = linitial(((FuncExpr *) expr)->args);
		}
		else
			return true;
	}
}

/*
 * lint_type_rewrites
 *		Whether ALTER COLUMN TYPE rewrites the table, decided as the server
 *		decides it (ATPrepAlterColumnType): the old column as a Var, coerced
 *		to the new type by assignment, planned (which lets the length
 *		coercions' support functions drop a typmod change that only widens:
 *		varchar(n) to a longer or no limit, numeric precision with the same
 *		scale, time and timestamp precision), then
 *		lint_change_requires_rewrite().  A column the script added or
 *		changed earlier has the type it gave it.  Anything unknown counts as
 *		a rewrite.
 */
static bool
lint_type_rewrites(LintState *ls, Oid relid, const char *colname,
				   ColumnDef *def, char **type)
{
	Oid			oldtype;
	int32		oldmod;
	Oid			oldcoll;
	Type		typ;
	Oid			newtype;
	int32		newmod;
	Node	   *expr;

	*type = TypeNameToString(def->typeName);
	typ = LookupTypeName(NULL, def->typeName, &newmod, true);
	if (typ == NULL)
		return true;
	newtype = typeTypeId(typ);
	ReleaseSysCache(typ);
	*type = format_type_with_typemod(newtype, newmod);
	if (!lint_column_type(ls, relid, colname, &oldtype, &oldmod, &oldcoll) ||
		(def->raw_default != NULL &&
		 !lint_using_is_column(def->raw_default, colname)))
		return true;

	expr = coerce_to_target_type(NULL,
								 (Node *) makeVar(1, 1, oldtype, oldmod,
												  oldcoll, 0),
								 oldtype, newtype, newmod,
								 COERCION_ASSIGNMENT, COERCE_IMPLICIT_CAST,
								 -1);
	if (expr == NULL)
		return true;			/* no cast: the server refuses it */
	expr = (Node *) expression_planner((Expr *) expr);
	return lint_change_requires_rewrite(expr);
}

/*
 * lint_type_change
 *		ALTER COLUMN ... TYPE on an existing table.
 */
static void
lint_type_change(LintState *ls, LintTable *t, AlterTableCmd *cmd)
{
	ColumnDef  *def = (ColumnDef *) cmd->def;
	char	   *type;

	if (!lint_type_rewrites(ls, t->relid, cmd->name, def, &type))
		lint_add(ls, "column_type_change", MIGR_SEV_INFO,
				 psprintf("ALTER COLUMN \"%s\" TYPE %s on existing table \"%s\" is binary compatible: no rewrite, a brief ACCESS EXCLUSIVE lock",
						  cmd->name, type, t->name),
				 "Nothing to do; make sure the application accepts the new type.");
	else
		lint_add(ls, "column_type_change", t->empty ? MIGR_SEV_INFO : lint_by_size(t),
				 psprintf("ALTER COLUMN \"%s\" TYPE %s rewrites existing table \"%s\" (%s) and its indexes under an ACCESS EXCLUSIVE lock",
						  cmd->name, type, t->name, lint_size_text(t)),
				 "Add a column of the new type, fill it in batches in data revisions while a trigger keeps it in step, move readers over, then drop the old column; widening varchar(n), numeric(p,s) precision or dropping a length limit does not rewrite.");
	lint_remember_column(ls, t->relid, cmd->name, def->typeName,
						 def->collClause);
}

/*
 * lint_has_not_null_check
 *		Whether the table has a valid CHECK (col IS NOT NULL), which lets
 *		SET NOT NULL skip its scan.
 */
static bool
lint_has_not_null_check(Oid relid, const char *col)
{
	Datum		values[2];
	Oid			types[2] = {OIDOID, TEXTOID};
	int			rc;

	values[0] = ObjectIdGetDatum(relid);
	values[1] = CStringGetTextDatum(psprintf("CHECK ((%s IS NOT NULL))",
											 quote_identifier(col)));
	rc = SPI_execute_with_args("SELECT 1 FROM pg_catalog.pg_constraint"
							   " WHERE conrelid OPERATOR(pg_catalog.=) $1"
							   "   AND contype OPERATOR(pg_catalog.=) 'c'"
							   "   AND convalidated"
							   "   AND pg_catalog.pg_get_constraintdef(oid) OPERATOR(pg_catalog.=) $2",
							   2, types, values, NULL, true, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed: %s",
			 SPI_result_code_string(rc));
	return SPI_processed > 0;
}

/*
 * lint_set_not_null
 *		SET NOT NULL on an existing table scans it under ACCESS EXCLUSIVE,
 *		unless a valid CHECK constraint already proves it.
 */
static void
lint_set_not_null(LintState *ls, LintTable *t, const char *col)
{
	if (t->relkind != RELKIND_PARTITIONED_TABLE &&
		lint_has_not_null_check(t->relid, col))
		return;
	lint_add(ls, "set_not_null", t->empty ? MIGR_SEV_INFO : lint_by_size(t),
			 psprintf("SET NOT NULL on column \"%s\" of existing table \"%s\" (%s) scans every row under an ACCESS EXCLUSIVE lock",
					  col, t->name, lint_size_text(t)),
			 psprintf("Add CHECK (%s IS NOT NULL) NOT VALID, VALIDATE CONSTRAINT in a later revision, then SET NOT NULL, which uses the valid constraint instead of a scan; the CHECK can be dropped afterwards.",
					  quote_identifier(col)));
}

/*
 * lint_archived
 *		Whether the table was archived earlier in the script, or before (an
 *		archive recorded in migr.archive that still exists).  An earlier
 *		archive gets an "info" finding naming it, since rows written after
 *		it are not in it.
 */
static bool
lint_archived(LintState *ls, LintTable *t, const char *what)
{
	char	   *archive;
	int			days;

	if (lint_seen(ls, LINT_SEEN_ARCHIVED, t->relid, NULL, NULL, false))
		return true;
	if (!archive_find(t->relid, &archive, &days))
		return false;
	lint_add(ls, "drop_without_archive", MIGR_SEV_INFO,
			 psprintf("%s: table \"%s\" was archived as %s %d day%s ago, not in this revision",
					  what, t->name, archive, days, days == 1 ? "" : "s"),
			 "Rows written since then are not in the archive; archive again in this revision if they matter.");
	return true;
}

/*
 * lint_drop_column
 *		DROP COLUMN of an existing table not archived first.
 */
static void
lint_drop_column(LintState *ls, LintTable *t, AlterTableCmd *cmd)
{
	char	   *what;

	if (get_attnum(t->relid, cmd->name) == InvalidAttrNumber)
		return;
	what = psprintf("DROP COLUMN \"%s\"", cmd->name);
	if (lint_archived(ls, t, what))
		return;
	lint_add(ls, "drop_without_archive", lint_by_rows(t),
			 psprintf("%s discards the column's values in existing table \"%s\" (%s), and no archive of the table was made before it",
					  what, t->name, lint_size_text(t)),
			 psprintf("Call SELECT migr_archive_table(%s) earlier in the revision, so the values can be recovered; drop the archive when it is no longer needed.",
					  quote_literal_cstr(t->name)));
}

/*
 * lint_rewrite
 *		A statement that rewrites (or rebuilds) an existing table.
 */
static void
lint_rewrite(LintState *ls, LintTable *t, const char *what, const char *hint)
{
	lint_add(ls, "table_rewrite", lint_by_size(t),
			 psprintf("%s rewrites existing table \"%s\" (%s) under a lock that blocks %s",
					  what, t->name, lint_size_text(t),
					  strncmp(what, "REINDEX", 7) == 0 ? "writes" : "reads and writes"),
			 hint);
}

#define LINT_REWRITE_HINT \
	"Rewrite big tables outside migrations (pg_repack or pg_squeeze work without the long lock), or acknowledge the statement with \"-- migr:allow table_rewrite\" for a maintenance window."

/*
 * lint_alter_table
 *		Every command of an ALTER TABLE on an existing table.
 */
static void
lint_alter_table(LintState *ls, AlterTableStmt *stmt)
{
	LintTable	t;
	ListCell   *lc;

	if (stmt->objtype != OBJECT_TABLE && stmt->objtype != OBJECT_MATVIEW)
		return;
	if (!lint_table(ls, stmt->relation, &t))
		return;
	foreach(lc, stmt->cmds)
	{
		AlterTableCmd *cmd = (AlterTableCmd *) lfirst(lc);

		switch (cmd->subtype)
		{
			case AT_AddColumn:
				lint_add_column(ls, &t, (ColumnDef *) cmd->def);
				break;
			case AT_AddConstraint:
				lint_add_constraint(ls, &t, (Constraint *) cmd->def);
				break;
			case AT_ValidateConstraint:
				lint_validate(ls, &t, cmd->name);
				break;
			case AT_AlterColumnType:
				lint_type_change(ls, &t, cmd);
				break;
			case AT_SetNotNull:
				lint_set_not_null(ls, &t, cmd->name);
				break;
			case AT_DropColumn:
				lint_drop_column(ls, &t, cmd);
				break;
			case AT_SetTableSpace:
				lint_rewrite(ls, &t, "SET TABLESPACE", LINT_REWRITE_HINT);
				break;
			case AT_SetLogged:
			case AT_SetUnLogged:
				lint_rewrite(ls, &t, cmd->subtype == AT_SetLogged ?
							 "SET LOGGED" : "SET UNLOGGED", LINT_REWRITE_HINT);
				break;
			case AT_SetAccessMethod:
				lint_rewrite(ls, &t, "SET ACCESS METHOD", LINT_REWRITE_HINT);
				break;
			default:
				break;
		}
	}
}

/* ----------------------------------------------------------------
 * Other statements
 * ----------------------------------------------------------------
 */

/*
 * lint_index
 *		CREATE INDEX without CONCURRENTLY on an existing table.
 */
static void
lint_index(LintState *ls, IndexStmt *stmt)
{
	LintTable	t;

	if (stmt->concurrent || !lint_table(ls, stmt->relation, &t))
		return;
	lint_add(ls, "index_not_concurrent", lint_by_size(&t),
			 psprintf("CREATE INDEX%s%s%s on existing table \"%s\" (%s) without CONCURRENTLY blocks writes to the table while the index builds",
					  stmt->idxname ? " \"" : "",
					  stmt->idxname ? stmt->idxname : "",
					  stmt->idxname ? "\"" : "", t.name, lint_size_text(&t)),
			 t.relkind == RELKIND_PARTITIONED_TABLE ?
			 "Create the index ON ONLY the partitioned table, build each partition's index with CREATE INDEX CONCURRENTLY, then ALTER INDEX ... ATTACH PARTITION each." :
			 "Use CREATE INDEX CONCURRENTLY, which does not block writes; migr runs it outside the migration's transaction.");
}

/*
 * lint_rename
 *		RENAME of an existing table or of one of its columns: every query
 *		still using the old name breaks at once.
 */
static void
lint_rename(LintState *ls, RenameStmt *stmt)
{
	LintTable	t;

	if (stmt->renameType == OBJECT_TABLE && stmt->relation)
	{
		if (lint_table(ls, stmt->relation, &t))
			lint_add(ls, "rename", MIGR_SEV_WARNING,
					 psprintf("RENAME of existing table \"%s\" to \"%s\" breaks every query that still uses the old name",
							  t.name, stmt->newname),
					 "Deploy application code that no longer uses the old name first; or create the new name beside the old (for a table, a view of the old one), move readers and writers over, and drop the old name in a later revision.");
		else
			lint_remember_created(ls, stmt->relation->schemaname,
								  stmt->newname);
	}
	else if (stmt->renameType == OBJECT_COLUMN &&
			 stmt->relationType == OBJECT_TABLE && stmt->relation &&
			 lint_table(ls, stmt->relation, &t))
		lint_add(ls, "rename", MIGR_SEV_WARNING,
				 psprintf("RENAME of column \"%s\" of existing table \"%s\" to \"%s\" breaks every query that still uses the old name",
						  stmt->subname, t.name, stmt->newname),
				 "Deploy application code that no longer uses the old name first; or add the new column, keep both in step with a trigger, move readers and writers over, and drop the old column in a later revision.");
}

/*
 * lint_drop
 *		DROP TABLE of an existing table not archived first.
 */
static void
lint_drop(LintState *ls, DropStmt *stmt)
{
	ListCell   *lc;

	if (stmt->removeType != OBJECT_TABLE)
		return;
	foreach(lc, stmt->objects)
	{
		RangeVar   *rv = makeRangeVarFromNameList((List *) lfirst(lc));
		LintTable	t;

		if (!lint_table(ls, rv, &t) || lint_archived(ls, &t, "DROP TABLE"))
			continue;
		lint_add(ls, "drop_without_archive", lint_by_rows(&t),
				 psprintf("DROP TABLE discards the rows of existing table \"%s\" (%s), and no archive of it was made before",
						  t.name, lint_size_text(&t)),
				 psprintf("Call SELECT migr_archive_table(%s) earlier in the revision, so the rows can be recovered; drop the archive when it is no longer needed.",
						  quote_literal_cstr(t.name)));
	}
}

/*
 * lint_vacuum
 *		VACUUM FULL rewrites every table it names (or every table).
 */
static void
lint_vacuum(LintState *ls, VacuumStmt *stmt)
{
	ListCell   *lc;
	bool		full = false;

	foreach(lc, stmt->options)
		if (strcmp(((DefElem *) lfirst(lc))->defname, "full") == 0)
			full = defGetBoolean((DefElem *) lfirst(lc));
	if (!stmt->is_vacuumcmd || !full)
		return;
	if (stmt->rels == NIL)
		lint_add(ls, "table_rewrite", MIGR_SEV_WARNING,
				 pstrdup("VACUUM FULL without a table rewrites every table of the database, each under an ACCESS EXCLUSIVE lock"),
				 LINT_REWRITE_HINT);
	foreach(lc, stmt->rels)
	{
		VacuumRelation *vr = (VacuumRelation *) lfirst(lc);
		LintTable	t;

		if (vr->relation && lint_table(ls, vr->relation, &t))
			lint_rewrite(ls, &t, "VACUUM FULL", LINT_REWRITE_HINT);
	}
}

/*
 * lint_cluster
 *		CLUSTER of one table rewrites it.
 */
static void
lint_cluster(LintState *ls, ClusterStmt *stmt)
{
	LintTable	t;

	if (stmt->relation && lint_table(ls, stmt->relation, &t))
		lint_rewrite(ls, &t, "CLUSTER", LINT_REWRITE_HINT);
}

/*
 * lint_reindex
 *		REINDEX TABLE without CONCURRENTLY rebuilds every index of a table
 *		while blocking writes.
 */
static void
lint_reindex(LintState *ls, ReindexStmt *stmt)
{
	LintTable	t;
	ListCell   *lc;

	foreach(lc, stmt->params)
		if (strcmp(((DefElem *) lfirst(lc))->defname, "concurrently") == 0 &&
			defGetBoolean((DefElem *) lfirst(lc)))
			return;
	if (stmt->kind == REINDEX_OBJECT_TABLE && stmt->relation &&
		lint_table(ls, stmt->relation, &t))
		lint_rewrite(ls, &t, "REINDEX TABLE",
					 "Use REINDEX TABLE CONCURRENTLY, which does not block writes; migr runs it outside the migration's transaction.");
}

/*
 * lint_domain
 *		ALTER DOMAIN ... ADD CONSTRAINT without NOT VALID checks every
 *		column of that domain in every table.
 */
static void
lint_domain(LintState *ls, AlterDomainStmt *stmt)
{
	Constraint *con = (Constraint *) stmt->def;
	TypeName   *tn = makeTypeNameFromNameList(stmt->typeName);

	if (stmt->subtype != 'C' || con == NULL || con->skip_validation ||
		con->contype != CONSTR_CHECK ||
		!OidIsValid(LookupTypeNameOid(NULL, tn, true)))
		return;
	lint_add(ls, "constraint_not_valid", MIGR_SEV_WARNING,
			 psprintf("CHECK constraint added to existing domain \"%s\" checks every value of that domain in every table, blocking writes to them",
					  NameListToString(stmt->typeName)),
			 "Add the constraint with NOT VALID, then ALTER DOMAIN ... VALIDATE CONSTRAINT in a later revision.");
}

/*
 * lint_data_finding / lint_data
 *		A data operation in a schema revision, by migr.data_operations.
 *		Not acknowledged by migr:allow: the revision's kind says it.
 */
static MigrFinding *
lint_data_finding(MigrStmt *ms, Node *tree)
{
	MigrFinding *f = palloc0(sizeof(MigrFinding));
	const char *what = ms->what;

	if (IsA(tree, SelectStmt))
		what = ((SelectStmt *) tree)->intoClause ? "SELECT INTO" :
			"WITH ... INSERT, UPDATE or DELETE";
	else if (IsA(tree, ExplainStmt))
		what = "EXPLAIN ANALYZE";

	f->statement = ms->index;
	f->line = ms->line;
	f->severity = migr_data_mode == MIGR_DATA_ERROR ?
		MIGR_SEV_ERROR : MIGR_SEV_WARNING;
	f->code = "data_operation";
	f->message = psprintf("%s in a schema revision changes data, not the schema",
						  what);
	f->hint = pstrdup("Mark the revision kind => 'data' (in a revision file, \"-- migr:kind data\"), or move the data change into a data revision of its own.");
	return f;
}

static void
lint_data(LintState *ls, Node *tree)
{
	if (ls->data_kind || migr_data_mode == MIGR_DATA_ALLOW)
		return;
	ls->findings = lappend(ls->findings, lint_data_finding(ls->ms, tree));
}

/*
 * lint_data_walker
 *		script_walk() callback for a downgrade script: data operations only.
 */
static void
lint_data_walker(MigrStmt *ms, Node *tree, void *arg)
{
	List	  **findings = (List **) arg;

	if (ms->stmt_class == MIGR_STMT_DATA)
		*findings = lappend(*findings, lint_data_finding(ms, tree));
}

/*
 * lint_remember
 *		What later statements need to know: tables the script created, and
 *		tables it archived.
 */
static void
lint_remember(LintState *ls, Node *tree)
{
	RangeVar   *rv = NULL;

	switch (nodeTag(tree))
	{
		case T_CreateStmt:
			rv = ((CreateStmt *) tree)->relation;
			break;
		case T_CreateTableAsStmt:
			rv = ((CreateTableAsStmt *) tree)->into->rel;
			break;
		case T_SelectStmt:
			if (((SelectStmt *) tree)->intoClause)
				rv = ((SelectStmt *) tree)->intoClause->rel;
			else if ((rv = lint_archive_target(tree)) != NULL)
			{
				Oid			relid = RangeVarGetRelidExtended(rv, NoLock,
															 RVR_MISSING_OK,
															 NULL, NULL);

				if (OidIsValid(relid))
					(void) lint_seen(ls, LINT_SEEN_ARCHIVED, relid, NULL,
									 NULL, true);
				rv = NULL;
			}
			break;
		default:
			break;
	}
	if (rv)
		lint_remember_created(ls, rv->schemaname, rv->relname);
}

/*
 * lint_statement
 *		The rules that apply to one statement.
 */
static void
lint_statement(LintState *ls, Node *tree)
{
	if (ls->ms->stmt_class == MIGR_STMT_DATA)
		lint_data(ls, tree);
	switch (nodeTag(tree))
	{
		case T_AlterTableStmt:
			lint_alter_table(ls, (AlterTableStmt *) tree);
			break;
		case T_IndexStmt:
			lint_index(ls, (IndexStmt *) tree);
			break;
		case T_RenameStmt:
			lint_rename(ls, (RenameStmt *) tree);
			break;
		case T_DropStmt:
			lint_drop(ls, (DropStmt *) tree);
			break;
		case T_VacuumStmt:
			lint_vacuum(ls, (VacuumStmt *) tree);
			break;
		case T_ClusterStmt:
			lint_cluster(ls, (ClusterStmt *) tree);
			break;
		case T_ReindexStmt:
			lint_reindex(ls, (ReindexStmt *) tree);
			break;
		case T_AlterDomainStmt:
			lint_domain(ls, (AlterDomainStmt *) tree);
			break;
		case T_DoStmt:
		case T_CallStmt:
			lint_add(ls, "opaque_statement", MIGR_SEV_WARNING,
					 psprintf("%s runs code that migr cannot look into: no rule checks what it does",
							  ls->ms->what),
					 "Write the statements it runs directly in the script, or review them and acknowledge the statement with \"-- migr:allow opaque_statement\".");
			break;
		default:
			break;
	}
}

/*
 * lint_walker
 *		script_walk() callback: one statement, in script order.
 */
static void
lint_walker(MigrStmt *ms, Node *tree, void *arg)
{
	LintState  *ls = (LintState *) arg;

	ls->ms = ms;
	lint_assign_allows(ls);

	/*
	 * What defining refuses outright (script_check()) is an error finding
	 * here, so that migr_lint() tells a client checking files before a push
	 * everything the push would meet ("migr check --dir").
	 */
	if (ms->transaction_control)
		lint_add(ls, "transaction_control", MIGR_SEV_ERROR,
				 psprintf("%s controls the transaction: a revision runs inside its caller's transaction",
						  ms->what),
				 "Remove the statement; split the work into several revisions if parts must commit separately.");
	lint_statement(ls, tree);
	lint_remember(ls, tree);
}

/* ----------------------------------------------------------------
 * Entry points
 * ----------------------------------------------------------------
 */

/*
 * lint_severity_name
 *		"allowed", "info", "warning", "error".
 */
const char *
lint_severity_name(MigrSeverity sev)
{
	switch (sev)
	{
		case MIGR_SEV_ALLOWED:
			return "allowed";
		case MIGR_SEV_INFO:
			return "info";
		case MIGR_SEV_WARNING:
			return "warning";
		case MIGR_SEV_ERROR:
			return "error";
	}
	return "unknown";
}

/*
 * lint_empty_finding
 *		An upgrade with no statement: allowed, since real histories have
 *		marker revisions (a branch's root, a release point), but worth a
 *		look, since it may be a file whose SQL was never written.
 */
static MigrFinding *
lint_empty_finding(void)
{
	MigrFinding *f = palloc0(sizeof(MigrFinding));

	f->line = 1;
	f->severity = MIGR_SEV_INFO;
	f->code = "empty_upgrade";
	f->message = pstrdup("the upgrade script is empty: it holds nothing but white space and comments");
	f->hint = pstrdup("Nothing to do if the revision only marks a point in the history (a branch's root, a release); otherwise write the SQL it applies.");
	return f;
}

/*
 * lint_script
 *		Every finding of a script (an upgrade script, or one given to
 *		migr_lint()), statement by statement.  Must run inside SPI.
 */
List *
lint_script(const char *script, const char *kind, const char *id)
{
	LintState	ls;

	memset(&ls, 0, sizeof(ls));
	ls.script = script;
	ls.data_kind = (strcmp(kind, "data") == 0);
	lint_find_allows(&ls);
	if (script_walk(script, id, "upgrade", lint_walker, &ls) == NIL)
		ls.findings = lappend(ls.findings, lint_empty_finding());
	lint_unused_allows(&ls);
	if (ls.seen != NULL)
		hash_destroy(ls.seen);
	return lint_merge(ls.findings, ls.line_findings);
}

/*
 * lint_raise
 *		One finding as a WARNING or an ERROR at define time.
 */
static void
lint_raise(MigrFinding *f, const char *section, const char *id, int elevel,
		   int sqlstate)
{
	StringInfoData detail;

	initStringInfo(&detail);
	appendStringInfo(&detail, "Rule %s, ", f->code);
	if (f->statement > 0)
		appendStringInfo(&detail, "statement %d at ", f->statement);
	appendStringInfo(&detail, "line %d of the %s script of revision \"%s\".",
					 f->line, section, id);
	if (f->statement > 0 && lint_code_index(f->code) >= 0)
		appendStringInfo(&detail, " A line \"-- migr:allow %s <reason>\" before the statement acknowledges it.",
						 f->code);
	ereport(elevel,
			(errcode(sqlstate),
			 errmsg("%s", f->message),
			 errdetail_internal("%s", detail.data),
			 errhint("%s", f->hint)));
}

/*
 * lint_define
 *		Lint a revision being defined: findings of severity warning and
 *		above become WARNINGs, or the first an ERROR (migr.lint = error);
 *		data operations follow migr.data_operations.  The upgrade script is
 *		linted whole; the downgrade only for data operations (it usually
 *		drops what the upgrade made, which is not a hazard).
 */
void
lint_define(MigrRevDef *def)
{
	ListCell   *lc;
	List	   *findings = NIL;

	if (migr_lint_mode == MIGR_LINT_OFF && migr_data_mode == MIGR_DATA_ALLOW)
		return;
	findings = lint_script(def->upgrade, def->kind, def->id);
	if (def->downgrade != NULL && strcmp(def->kind, "data") != 0 &&
		migr_data_mode != MIGR_DATA_ALLOW)
	{
		List	   *down = NIL;

		(void) script_walk(def->downgrade, def->id, "downgrade",
						   lint_data_walker, &down);
		foreach(lc, down)
			lint_raise((MigrFinding *) lfirst(lc), "downgrade", def->id,
					   migr_data_mode == MIGR_DATA_ERROR ? ERROR : WARNING,
					   ERRCODE_MIGR_DATA_OPERATION);
	}

	foreach(lc, findings)
	{
		MigrFinding *f = (MigrFinding *) lfirst(lc);
		bool		data = (strcmp(f->code, "data_operation") == 0);

		if (f->severity < MIGR_SEV_WARNING)
			continue;
		if (data)
			lint_raise(f, "upgrade", def->id,
					   migr_data_mode == MIGR_DATA_ERROR ? ERROR : WARNING,
					   ERRCODE_MIGR_DATA_OPERATION);
		else if (migr_lint_mode != MIGR_LINT_OFF)
			lint_raise(f, "upgrade", def->id,
					   migr_lint_mode == MIGR_LINT_ERROR ? ERROR : WARNING,
					   ERRCODE_MIGR_LINT);
	}
}

/*
 * migr_lint(script text, kind text) returns table (statement, line,
 *		severity, code, message, hint)
 *		The findings of a script, without defining anything.
 */
Datum
migr_lint(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *script = migr_arg_text(fcinfo, 0, "script");
	char	   *kind = migr_arg_text(fcinfo, 1, "kind");
	ListCell   *lc;

	if (strcmp(kind, "schema") != 0 && strcmp(kind, "data") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid kind \"%s\"", kind),
				 errhint("The kind is \"schema\" (the default) or \"data\".")));
	InitMaterializedSRF(fcinfo, 0);
	catalog_connect();
	foreach(lc, lint_script(script, kind, NULL))
	{
		MigrFinding *f = (MigrFinding *) lfirst(lc);
		Datum		values[6];
		bool		nulls[6] = {false, false, false, false, false, false};

		values[0] = Int32GetDatum(f->statement);
		nulls[0] = (f->statement == 0);
		values[1] = Int32GetDatum(f->line);
		values[2] = CStringGetTextDatum(lint_severity_name(f->severity));
		values[3] = CStringGetTextDatum(f->code);
		values[4] = CStringGetTextDatum(f->message);
		values[5] = CStringGetTextDatum(f->hint);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	catalog_finish();
	return (Datum) 0;
}

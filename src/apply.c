/*-------------------------------------------------------------------------
 *
 * apply.c
 *	  Running a revision's script: one statement at a time, each in its own
 *	  subtransaction, under migr's lock timeout, with retries.
 *
 * A migration that queues behind a long-running reader for an ACCESS
 * EXCLUSIVE lock makes every other session queue behind it in turn.  So
 * each statement runs with lock_timeout set to migr.lock_timeout; if it
 * cannot get its locks in time, the revision's subtransaction is rolled
 * back (which releases whatever it did get), and the revision is run again
 * after a wait, until migr.lock_deadline (move.c, lockpolicy.c).  One
 * subtransaction per revision, not per statement: each subtransaction end
 * walks the relation cache once the transaction has created more than a few
 * relations, so a subtransaction per statement made long histories
 * quadratic.  The background worker, which runs few
 * statements, retries statement by statement.  migr.statement_timeout
 * bounds each statement the same way.
 *
 * Statements run through SPI as the calling role, inside the caller's
 * transaction; any error that is not a lock timeout propagates, and the
 * caller's transaction rolls back everything the call did.
 *
 * A statement that cannot run in a transaction block (CREATE INDEX
 * CONCURRENTLY and the like) runs in line without CONCURRENTLY when its
 * table was created in this same transaction — nobody else can see the
 * table yet, so the result is the same without the wait — and otherwise
 * stops the script there: the caller hands the rest to a background worker
 * (job.c, worker.c).
 *
 * Copyright (c) 2026, migr developers
 *
 * IDENTIFICATION
 *	  src/apply.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/relation.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "executor/spi.h"
#include "nodes/makefuncs.h"
#include "parser/parser.h"
#include "tcop/utility.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "portability/instr_time.h"
#include "storage/latch.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/timeout.h"
#include "utils/timestamp.h"

#include "migr.h"

/* true while a script's statement runs: migr must not be re-entered */
bool		apply_in_script = false;

/* the revision whose script is running, or NULL (for migr_archive_table) */
const char *apply_current_revision = NULL;

typedef struct ApplyContext
{
	const char *id;
	const char *section;
	MigrStmt   *stmt;
} ApplyContext;

typedef struct ApplyTimer
{
	bool		changed;
	bool		outer_active;
	TimestampTz outer_finish;
} ApplyTimer;

static void apply_error_callback(void *arg);
static void apply_run(ApplyContext *ac);
static bool apply_try(void *arg, ErrorData **edata);
static void apply_statement(ApplyContext *ac);
static Node *apply_strip_concurrently(MigrStmt *ms);
static Oid	apply_target_relid(Node *stmt);
static bool apply_created_here(MigrStmt *ms);
static void apply_run_inline(ApplyContext *ac);
static void apply_timer_start(ApplyTimer *timer);
static void apply_timer_stop(ApplyTimer *timer);

/*
 * apply_error_callback
 *		Name the revision, script and statement in every error.
 */
static void
apply_error_callback(void *arg)
{
	ApplyContext *ac = (ApplyContext *) arg;

	errcontext("%s script of revision \"%s\", statement %d at line %d",
			   ac->section, ac->id, ac->stmt->index, ac->stmt->line);
	/* the retry names who blocks it (lockpolicy.c) */
	if (geterrcode() == ERRCODE_LOCK_NOT_AVAILABLE)
		lock_note_failed_statement(ac->stmt->sql);
}

/*
 * apply_timer_start / apply_timer_stop
 *		Arm the statement timeout for migr.statement_timeout, without
 *		extending a shorter one the caller's own statement already has, and
 *		put the caller's back afterwards.
 */
static void
apply_timer_start(ApplyTimer *timer)
{
	TimestampTz fin;

	timer->changed = false;
	if (migr_statement_timeout <= 0)
		return;
	timer->outer_active = get_timeout_active(STATEMENT_TIMEOUT);
	timer->outer_finish = timer->outer_active ?
		get_timeout_finish_time(STATEMENT_TIMEOUT) : 0;
	fin = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
									  migr_statement_timeout);
	if (timer->outer_active && timer->outer_finish <= fin)
		return;
	enable_timeout_at(STATEMENT_TIMEOUT, fin);
	timer->changed = true;
}

static void
apply_timer_stop(ApplyTimer *timer)
{
	if (!timer->changed)
		return;
	if (timer->outer_active)
		enable_timeout_at(STATEMENT_TIMEOUT, timer->outer_finish);
	else
		disable_timeout(STATEMENT_TIMEOUT, false);
	timer->changed = false;
}

/*
 * apply_run
 *		Run one statement in the current (sub)transaction.
 */
static void
apply_run(ApplyContext *ac)
{
	ErrorContextCallback errcb;
	ApplyTimer	timer;
	int			nest;
	volatile int rc = 0;

	errcb.callback = apply_error_callback;
	errcb.arg = ac;
	errcb.previous = error_context_stack;
	error_context_stack = &errcb;

	nest = NewGUCNestLevel();
	if (migr_lock_timeout > 0)
	{
		char		buf[32];

		snprintf(buf, sizeof(buf), "%d", migr_lock_timeout);
		(void) set_config_option("lock_timeout", buf, PGC_USERSET,
								 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0,
								 false);
	}

	apply_timer_start(&timer);
	apply_in_script = true;
	apply_current_revision = ac->id;
	PG_TRY();
	{
		if (ac->stmt->non_transactional)
			apply_run_inline(ac);
		else
			rc = SPI_execute(ac->stmt->sql, false, 0);
	}
	PG_FINALLY();
	{
		apply_in_script = false;
		apply_current_revision = NULL;
		apply_timer_stop(&timer);
	}
	PG_END_TRY();

	if (rc < 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("%s cannot run inside a migration", ac->stmt->what),
				 errdetail("SPI reported %s.", SPI_result_code_string(rc))));
	SPI_freetuptable(SPI_tuptable);
	AtEOXact_GUC(true, nest);
	error_context_stack = errcb.previous;
}

/*
 * apply_try
 *		Run one statement in a subtransaction.  Returns true on success; on
 *		failure the subtransaction is rolled back, *edata holds the error and
 *		false is returned.
 */
static bool
apply_try(void *arg, ErrorData **edata)
{
	ApplyContext *ac = (ApplyContext *) arg;
	MemoryContext oldcxt = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	volatile bool ok = false;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcxt);
	PG_TRY();
	{
		apply_run(ac);
		ReleaseCurrentSubTransaction();
		ok = true;
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(oldcxt);
		*edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
	}
	PG_END_TRY();
	MemoryContextSwitchTo(oldcxt);
	CurrentResourceOwner = oldowner;
	return ok;
}

/*
 * apply_sleep
 *		Wait between attempts, interruptibly.
 */
void
apply_sleep(int ms)
{
	TimestampTz until = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), ms);

	for (;;)
	{
		long		left = TimestampDifferenceMilliseconds(GetCurrentTimestamp(),
														   until);

		if (left <= 0)
			break;
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 left, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
}

/*
 * apply_statement
 *		Run one statement in its own subtransaction, retrying it while it
 *		fails for lack of a lock (the background worker's way).
 */
static void
apply_statement(ApplyContext *ac)
{
	lock_retry(ac->id, apply_try, ac);
}

/*
 * apply_strip_concurrently
 *		A fresh parse tree of the statement, with CONCURRENTLY taken out.
 */
static Node *
apply_strip_concurrently(MigrStmt *ms)
{
	Node	   *stmt = linitial_node(RawStmt, raw_parser(ms->sql, RAW_PARSE_DEFAULT))->stmt;
	ListCell   *lc;

	switch (nodeTag(stmt))
	{
		case T_IndexStmt:
			((IndexStmt *) stmt)->concurrent = false;
			break;
		case T_DropStmt:
			((DropStmt *) stmt)->concurrent = false;
			break;
		case T_ReindexStmt:
			{
				ReindexStmt *rs = (ReindexStmt *) stmt;
				List	   *params = NIL;

				foreach(lc, rs->params)
					if (strcmp(((DefElem *) lfirst(lc))->defname, "concurrently") != 0)
						params = lappend(params, lfirst(lc));
				rs->params = params;
			}
			break;
		case T_AlterTableStmt:
			foreach(lc, ((AlterTableStmt *) stmt)->cmds)
			{
				AlterTableCmd *cmd = (AlterTableCmd *) lfirst(lc);

				if (cmd->subtype == AT_DetachPartition)
					((PartitionCmd *) cmd->def)->concurrent = false;
			}
			break;
		default:
			break;
	}
	return stmt;
}

/*
 * apply_target_relid
 *		The table or index a CONCURRENTLY statement works on, if it exists.
 */
static Oid
apply_target_relid(Node *stmt)
{
	RangeVar   *rv = NULL;

	switch (nodeTag(stmt))
	{
		case T_IndexStmt:
			rv = ((IndexStmt *) stmt)->relation;
			break;
		case T_DropStmt:
			if (((DropStmt *) stmt)->objects != NIL)
				rv = makeRangeVarFromNameList(linitial(((DropStmt *) stmt)->objects));
			break;
		case T_ReindexStmt:
			rv = ((ReindexStmt *) stmt)->relation;
			break;
		case T_AlterTableStmt:
			rv = ((AlterTableStmt *) stmt)->relation;
			break;
		default:
			break;
	}
	return rv ? RangeVarGetRelid(rv, NoLock, true) : InvalidOid;
}

/*
 * apply_statement_relid
 *		The table or index a CONCURRENTLY statement works on, if it exists.
 */
Oid
apply_statement_relid(MigrStmt *ms)
{
	return apply_target_relid(apply_strip_concurrently(ms));
}

/*
 * apply_created_here
 *		Whether the statement's table (or index) was created in the current
 *		transaction, so that nobody else can see it.  A table that does not
 *		exist counts too: running the statement in line reports that at
 *		once, to the caller.
 */
static bool
apply_created_here(MigrStmt *ms)
{
	Oid			relid = apply_target_relid(apply_strip_concurrently(ms));
	Relation	rel;
	bool		created;

	if (!OidIsValid(relid))
		return true;
	rel = try_relation_open(relid, AccessShareLock);
	if (rel == NULL)
		return true;
	created = (rel->rd_createSubid != InvalidSubTransactionId);
	relation_close(rel, AccessShareLock);
	return created;
}

/*
 * apply_would_defer
 *		Whether an upgrade would hand this statement to a background worker,
 *		judged from the catalog as it is now (for migr_plan).
 */
bool
apply_would_defer(MigrStmt *ms)
{
	if (!ms->deferrable)
		return false;
	return !ms->inlinable || !apply_created_here(ms);
}

/*
 * apply_run_inline
 *		Run a CONCURRENTLY statement without CONCURRENTLY, through the
 *		server's utility processing, as a statement of this transaction.
 */
static void
apply_run_inline(ApplyContext *ac)
{
	PlannedStmt *pstmt = makeNode(PlannedStmt);

	pstmt->commandType = CMD_UTILITY;
	pstmt->canSetTag = true;
	pstmt->utilityStmt = apply_strip_concurrently(ac->stmt);
	pstmt->stmt_location = 0;
	pstmt->stmt_len = strlen(ac->stmt->sql);

	PushActiveSnapshot(GetTransactionSnapshot());
	ProcessUtility(pstmt, ac->stmt->sql, false, PROCESS_UTILITY_QUERY,
				   NULL, NULL, None_Receiver, NULL);
	PopActiveSnapshot();
	CommandCounterIncrement();
}

/*
 * apply_one
 *		Run one statement of a revision in the current transaction, with the
 *		lock timeout and retries (for the background worker).
 */
void
apply_one(const char *id, const char *section, MigrStmt *ms)
{
	ApplyContext ac;

	ac.id = id;
	ac.section = section;
	ac.stmt = ms;
	apply_statement(&ac);
}

/*
 * apply_script
 *		Run the statements of one script of a revision, from statement
 *		"first" on.  Returns the time it took in milliseconds.
 *
 *		With deferred_at, a statement that must run outside a transaction
 *		block stops the script: its number is stored there (0 when the
 *		script ran to the end) and the caller queues the rest.  Without it,
 *		such statements run in line without CONCURRENTLY (downgrades, and
 *		migr_verify's upgrades); one that has no in-line form at all
 *		(VACUUM, REINDEX SCHEMA ... CONCURRENTLY: neither changes the
 *		schema) is skipped: only migr_verify() meets one, as a downgrade
 *		may not hold it (script_check).
 */
double
apply_script(const char *id, const char *section, const char *script,
			 int first, int *deferred_at)
{
	List	   *stmts = script_split(script, id, section);
	ListCell   *lc;
	instr_time	start;
	instr_time	duration;
	ApplyContext ac;

	if (deferred_at)
		*deferred_at = 0;
	INSTR_TIME_SET_CURRENT(start);
	ac.id = id;
	ac.section = section;
	foreach(lc, stmts)
	{
		ac.stmt = (MigrStmt *) lfirst(lc);

		/*
		 * Resuming a partially applied revision: what ran has committed,
		 * but its SETs ended with their session; the rest must see them.
		 */
		if (ac.stmt->index < first)
		{
			if (ac.stmt->tag == T_VariableSetStmt)
				apply_run(&ac);
			continue;
		}
		if (ac.stmt->non_transactional && deferred_at &&
			(!ac.stmt->inlinable || !apply_created_here(ac.stmt)))
		{
			*deferred_at = ac.stmt->index;
			break;
		}
		if (ac.stmt->deferrable && !ac.stmt->inlinable && !deferred_at)
			continue;
		apply_run(&ac);
	}
	INSTR_TIME_SET_CURRENT(duration);
	INSTR_TIME_SUBTRACT(duration, start);
	return INSTR_TIME_GET_MILLISEC(duration);
}

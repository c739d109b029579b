/*-------------------------------------------------------------------------
 *
 * lockpolicy.c
 *	  What migr does when a statement of a migration times out on a lock.
 *
 * A DDL statement that waits for its lock makes every later session that
 * needs a conflicting lock on the table queue behind it: the application
 * stalls for as long as the migration waits.  So each statement waits at
 * most migr.lock_timeout (apply.c), which is what the application's worst
 * stall comes to.  On a timeout the attempt is rolled back, which releases
 * every lock it took, and tried again after a wait that doubles from
 * migr.retry_delay up to migr.max_retry_delay, drawn at random between half
 * of that and all of it (so that two migrations, or a migration and a
 * blocker that retries itself, do not keep meeting).  The cap bounds how
 * long a migration lingers after its blocker is gone; migr.lock_deadline
 * bounds how long it keeps trying (migr.lock_retries, when not -1, also
 * bounds the number of attempts).
 *
 * Each retry says who blocks, so that an operator can act: the sessions
 * that hold locks conflicting with the ones the failed statement needs, as
 * the lock manager has them, with what pg_stat_activity shows of them.  By
 * then the statement no longer waits (pg_blocking_pids() would show
 * nothing), so the tables and lock modes are worked out again from its
 * parse tree.
 *
 * Copyright (c) 2026, migr developers
 *
 * IDENTIFICATION
 *	  src/lockpolicy.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/tablecmds.h"
#include "common/pg_prng.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "parser/parser.h"
#include "pgstat.h"
#include "storage/lock.h"
#include "storage/proc.h"
#include "storage/sinvaladt.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "migr.h"

/* at most this many blocking sessions are described */
#define LOCK_MAX_BLOCKERS	5

/* how much of a blocker's query is shown */
#define LOCK_QUERY_CHARS	80

/* a table a statement locks, and in which mode */
typedef struct LockTarget
{
	RangeVar   *rv;
	LOCKMODE	mode;
} LockTarget;

/*
 * The text of the statement whose lock wait timed out last.  Noted from
 * apply.c's error context callback, where nothing but a copy may be done;
 * the subtransaction it ran in (and its memory) is gone by the time the
 * retry looks at it.
 */
static MemoryContext failed_cxt = NULL;
static char *failed_sql = NULL;

/* where a revision (or a worker's statement) stands in its lock retries */
typedef struct MigrLockRetry
{
	TimestampTz start;			/* when its first attempt began */
	int			delay;			/* the next wait's upper bound, in ms */
} MigrLockRetry;

static List *lock_add_target(List *targets, RangeVar *rv, LOCKMODE mode);
static List *lock_targets(const char *sql);
static void lock_describe_blockers(StringInfo detail, int *first_pid);
static bool lock_describe_pid(StringInfo detail, int pid, Oid relid,
							  TimestampTz waited_from);
static void lock_retry_start(MigrLockRetry *retry);
static bool apply_retry_or_throw(const char *id, int attempt,
								 MigrLockRetry *retry, ErrorData *edata);
static int	lock_retry_report(const char *id, int attempt,
							  MigrLockRetry *retry, ErrorData *edata);
static int	lock_next_wait(MigrLockRetry *retry);
static char *lock_ms_string(int ms);

/*
 * lock_retry
 *		Make attempts at a revision (or at a worker's statement) until one
 *		succeeds, as long as they fail for lack of a lock and the policy
 *		allows another; raise the last error otherwise.  This is the one
 *		retry loop of move.c and apply.c.
 *
 * NB: the worker's job-level retry (worker_try_job) is a different thing
 * and does not use this.  It retries a whole job after any error, across
 * transactions, with migr.max_job_attempts and a pause counted in seconds,
 * and records every failed attempt in migr.job for the user to see.  Here
 * the unit is one subtransaction inside the caller's transaction, only
 * lock timeouts are retried (any other error is the caller's to see at
 * once), and the policy is migr.lock_retries and migr.lock_deadline, kept
 * short because the caller's transaction holds its locks meanwhile.  A
 * worker's statement that exhausts this policy fails its attempt, and the
 * job-level retry takes over.
 */
void
lock_retry(const char *id, MigrAttempt attempt, void *arg)
{
	MigrLockRetry retry;
	int			n;

	lock_retry_start(&retry);
	for (n = 1;; n++)
	{
		ErrorData  *edata = NULL;

		if (attempt(arg, &edata))
			return;
		(void) apply_retry_or_throw(id, n, &retry, edata);
	}
}

/*
 * lock_retry_start
 *		Before the first attempt of a revision (or of a worker's statement).
 */
static void
lock_retry_start(MigrLockRetry *retry)
{
	retry->start = GetCurrentTimestamp();
	retry->delay = migr_retry_delay;
	lock_attempt_start();
}

/*
 * lock_attempt_start
 *		Before a first attempt: no statement has failed yet.  (move.c calls
 *		it for each revision it runs in a batch, outside lock_retry.)
 */
void
lock_attempt_start(void)
{
	if (failed_cxt == NULL)
		failed_cxt = AllocSetContextCreate(TopMemoryContext,
										   "migr lock policy",
										   ALLOCSET_SMALL_SIZES);
	MemoryContextReset(failed_cxt);
	failed_sql = NULL;
}

/*
 * lock_retry_after
 *		lock_retry() for a revision whose first attempt was made elsewhere
 *		and failed with edata: move.c runs revisions in batches, one
 *		subtransaction for several, and when one of them fails the whole
 *		batch is rolled back.  The first failure is reported as lock_retry()
 *		would have reported it, at once (while the blockers it names are
 *		there); then between(between_arg) puts back what the batch had done
 *		before the revision; then comes the wait, and the next attempts, as
 *		in lock_retry().  start is when the first attempt began.
 */
void
lock_retry_after(const char *id, MigrAttempt attempt, void *arg,
				 ErrorData *edata, TimestampTz start,
				 void (*between) (void *), void *between_arg)
{
	MigrLockRetry retry;
	int			wait;
	int			n;

	retry.start = start;
	retry.delay = migr_retry_delay;
	wait = lock_retry_report(id, 1, &retry, edata);
	between(between_arg);
	apply_sleep(wait);
	for (n = 2;; n++)
	{
		ErrorData  *next = NULL;

		if (attempt(arg, &next))
			return;
		(void) apply_retry_or_throw(id, n, &retry, next);
	}
}

/*
 * lock_note_failed_statement
 *		Remember the statement that just timed out on a lock.
 */
void
lock_note_failed_statement(const char *sql)
{
	if (failed_cxt != NULL)
		failed_sql = MemoryContextStrdup(failed_cxt, sql);
}

/*
 * apply_retry_or_throw
 *		After a failed attempt: if it failed for lack of a lock and neither
 *		migr.lock_deadline nor migr.lock_retries is used up, say who blocks,
 *		wait and return true; otherwise raise the error.  edata is freed.
 */
static bool
apply_retry_or_throw(const char *id, int attempt, MigrLockRetry *retry,
					 ErrorData *edata)
{
	apply_sleep(lock_retry_report(id, attempt, retry, edata));
	return true;
}

/*
 * lock_retry_report
 *		apply_retry_or_throw() but for the wait, which it returns (in ms).
 */
static int
lock_retry_report(const char *id, int attempt, MigrLockRetry *retry,
				  ErrorData *edata)
{
	StringInfoData detail;
	long		elapsed;
	long		left = -1;
	int			pid = 0;
	int			wait;

	/* a worker's NOTICEs would reach nobody: its retries go to the log */
	int			elevel = (MyBackendType == B_BG_WORKER) ? LOG : NOTICE;

	if (edata->sqlerrcode != ERRCODE_LOCK_NOT_AVAILABLE)
		ReThrowError(edata);

	initStringInfo(&detail);
	lock_describe_blockers(&detail, &pid);
	if (detail.len == 0)
		appendStringInfo(&detail, _("No session was found holding a conflicting lock on the statement's tables since before it began to wait.  The last attempt failed with \"%s\"."),
						 edata->message);
	MemoryContextReset(failed_cxt);
	failed_sql = NULL;

	if (migr_lock_retries >= 0 && attempt > migr_lock_retries)
		ereport(ERROR,
				(errcode(ERRCODE_LOCK_NOT_AVAILABLE),
				 errmsg("could not obtain the locks for revision \"%s\" after %d attempts",
						id, attempt),
				 errdetail_internal("%s", detail.data),
				 pid > 0 ?
				 errhint("Let the blocking transaction finish, or end it with pg_terminate_backend(%d), and migrate again; or raise migr.lock_retries (-1 leaves only migr.lock_deadline).", pid) :
				 errhint("Migrate again, or raise migr.lock_retries (-1 leaves only migr.lock_deadline)."),
				 edata->context ? errcontext("%s", edata->context) : 0));

	elapsed = TimestampDifferenceMilliseconds(retry->start,
											  GetCurrentTimestamp());
	if (migr_lock_deadline > 0)
	{
		left = migr_lock_deadline - elapsed;
		if (left <= 0)
			ereport(ERROR,
					(errcode(ERRCODE_LOCK_NOT_AVAILABLE),
					 errmsg("could not obtain the locks for revision \"%s\" within migr.lock_deadline (%s)",
							id, lock_ms_string(migr_lock_deadline)),
					 errdetail_internal("%s", detail.data),
					 pid > 0 ?
					 errhint("Let the blocking transaction finish, or end it with pg_terminate_backend(%d), and migrate again; or raise migr.lock_deadline.", pid) :
					 errhint("Migrate again, or raise migr.lock_deadline."),
					 edata->context ? errcontext("%s", edata->context) : 0));
	}

	wait = lock_next_wait(retry);
	if (left >= 0 && wait > left)
		wait = (int) left;		/* one last attempt at the deadline */

	if (left >= 0)
		appendStringInfo(&detail, _("\nAttempt %d failed; migr.lock_deadline ends in %ld s."),
						 attempt, (left + 999) / 1000);
	else
		appendStringInfo(&detail, _("\nAttempt %d failed; there is no migr.lock_deadline."),
						 attempt);
	if (migr_lock_retries >= 0)
		ereport(elevel,
				(errcode(ERRCODE_LOCK_NOT_AVAILABLE),
				 errmsg("could not obtain the locks for revision \"%s\", retrying in %d ms (attempt %d of %d)",
						id, wait, attempt + 1, migr_lock_retries + 1),
				 errdetail_internal("%s", detail.data)));
	else
		ereport(elevel,
				(errcode(ERRCODE_LOCK_NOT_AVAILABLE),
				 errmsg("could not obtain the locks for revision \"%s\", retrying in %d ms",
						id, wait),
				 errdetail_internal("%s", detail.data)));
	pfree(detail.data);
	FreeErrorData(edata);
	return wait;
}

/*
 * lock_next_wait
 *		The wait before the next attempt: between half and all of the
 *		current bound, which doubles up to migr.max_retry_delay (but never
 *		below migr.retry_delay).
 */
static int
lock_next_wait(MigrLockRetry *retry)
{
	int			bound = retry->delay;
	int			cap = Max(migr_retry_delay, migr_max_retry_delay);
	int			wait;

	wait = bound / 2 +
		(int) (pg_prng_double(&pg_global_prng_state) * (bound - bound / 2));
	retry->delay = (bound > cap / 2) ? cap : bound * 2;
	return wait;
}

/*
 * lock_ms_string
 *		A duration in the unit a setting would be written in.
 */
static char *
lock_ms_string(int ms)
{
	if (ms % 60000 == 0)
		return psprintf("%dmin", ms / 60000);
	if (ms % 1000 == 0)
		return psprintf("%ds", ms / 1000);
	return psprintf("%dms", ms);
}

/*
 * lock_add_target
 *		Add a table to lock, unless the statement names none.
 */
static List *
lock_add_target(List *targets, RangeVar *rv, LOCKMODE mode)
{
	LockTarget *t;

	if (rv == NULL)
		return targets;
	t = palloc(sizeof(LockTarget));
	t->rv = rv;
	t->mode = mode;
	return lappend(targets, t);
}

/*
 * lock_targets
 *		The tables a statement locks, with the modes the server takes for
 *		it, for the statements a migration runs into lock waits with.  An
 *		unknown kind of statement gives none (its blockers go unnamed).
 */
static List *
lock_targets(const char *sql)
{
	List	   *targets = NIL;
	List	   *raw = raw_parser(sql, RAW_PARSE_DEFAULT);
	ListCell   *lc;
	Node	   *stmt;

	if (list_length(raw) != 1)
		return NIL;
	stmt = linitial_node(RawStmt, raw)->stmt;
	switch (nodeTag(stmt))
	{
		case T_AlterTableStmt:
			{
				AlterTableStmt *as = (AlterTableStmt *) stmt;

				targets = lock_add_target(targets, as->relation,
										  AlterTableGetLockLevel(as->cmds));
				/* a foreign key also locks the table it references */
				foreach(lc, as->cmds)
				{
					AlterTableCmd *cmd = lfirst_node(AlterTableCmd, lc);

					if (cmd->subtype == AT_AddConstraint &&
						IsA(cmd->def, Constraint) &&
						((Constraint *) cmd->def)->contype == CONSTR_FOREIGN)
						targets = lock_add_target(targets,
												  ((Constraint *) cmd->def)->pktable,
												  ShareRowExclusiveLock);
				}
			}
			break;
		case T_IndexStmt:
			targets = lock_add_target(targets, ((IndexStmt *) stmt)->relation,
									  ((IndexStmt *) stmt)->concurrent ?
									  ShareUpdateExclusiveLock : ShareLock);
			break;
		case T_DropStmt:
			{
				DropStmt   *ds = (DropStmt *) stmt;

				if (ds->removeType != OBJECT_TABLE &&
					ds->removeType != OBJECT_INDEX &&
					ds->removeType != OBJECT_VIEW &&
					ds->removeType != OBJECT_MATVIEW &&
					ds->removeType != OBJECT_SEQUENCE &&
					ds->removeType != OBJECT_FOREIGN_TABLE)
					break;
				foreach(lc, ds->objects)
					targets = lock_add_target(targets,
											  makeRangeVarFromNameList(lfirst(lc)),
											  ds->concurrent ?
											  ShareUpdateExclusiveLock :
											  AccessExclusiveLock);
			}
			break;
		case T_RenameStmt:
			targets = lock_add_target(targets, ((RenameStmt *) stmt)->relation,
									  AccessExclusiveLock);
			break;
		case T_TruncateStmt:
			foreach(lc, ((TruncateStmt *) stmt)->relations)
				targets = lock_add_target(targets, lfirst(lc),
										  AccessExclusiveLock);
			break;
		case T_LockStmt:
			foreach(lc, ((LockStmt *) stmt)->relations)
				targets = lock_add_target(targets, lfirst(lc),
										  ((LockStmt *) stmt)->mode);
			break;
		case T_CreateTrigStmt:
			targets = lock_add_target(targets, ((CreateTrigStmt *) stmt)->relation,
									  ShareRowExclusiveLock);
			break;
		case T_CreateStmt:
			/* a new partition locks its parent harder than a new child */
			foreach(lc, ((CreateStmt *) stmt)->inhRelations)
				targets = lock_add_target(targets, lfirst(lc),
										  ((CreateStmt *) stmt)->partbound ?
										  AccessExclusiveLock :
										  ShareUpdateExclusiveLock);
			break;
		case T_InsertStmt:
			targets = lock_add_target(targets, ((InsertStmt *) stmt)->relation,
									  RowExclusiveLock);
			break;
		case T_UpdateStmt:
			targets = lock_add_target(targets, ((UpdateStmt *) stmt)->relation,
									  RowExclusiveLock);
			break;
		case T_DeleteStmt:
			targets = lock_add_target(targets, ((DeleteStmt *) stmt)->relation,
									  RowExclusiveLock);
			break;
		default:
			break;
	}
	return targets;
}

/*
 * lock_describe_blockers
 *		Describe, one line each, the sessions holding locks that conflict
 *		with those the failed statement needs; *first_pid is set to the
 *		first of them.  Nothing is added when there are none (any more) or
 *		the statement is not known.
 *
 *		Sessions whose transaction began after the statement started to
 *		wait are left out: they queued behind it and got their locks when
 *		it gave up (a busy application always has a few); they are not why
 *		it waited.
 */
static void
lock_describe_blockers(StringInfo detail, int *first_pid)
{
	List	   *targets;
	ListCell   *lc;
	int			pids[LOCK_MAX_BLOCKERS];
	int			npids = 0;
	int			more = 0;
	TimestampTz waited_from;

	if (failed_sql == NULL)
		return;
	waited_from = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
											  -migr_lock_timeout);
	targets = lock_targets(failed_sql);
	foreach(lc, targets)
	{
		LockTarget *t = lfirst(lc);
		Oid			relid = RangeVarGetRelid(t->rv, NoLock, true);
		LOCKTAG		tag;
		VirtualTransactionId *vxids;
		int			i;

		if (!OidIsValid(relid))
			continue;
		SET_LOCKTAG_RELATION(tag, MyDatabaseId, relid);
		vxids = GetLockConflicts(&tag, t->mode, NULL);
		for (i = 0; VirtualTransactionIdIsValid(vxids[i]); i++)
		{
			PGPROC	   *proc = BackendIdGetProc(vxids[i].backendId);
			int			pid = proc ? proc->pid : 0;
			int			j;

			for (j = 0; j < npids && pids[j] != pid; j++)
				;
			if (j < npids)
				continue;		/* described already */
			if (npids == LOCK_MAX_BLOCKERS)
			{
				more++;
				continue;
			}
			if (!lock_describe_pid(detail, pid, relid, waited_from))
				continue;
			pids[npids++] = pid;
			if (*first_pid == 0)
				*first_pid = pid;
		}
	}
	if (more > 0)
		appendStringInfo(detail, _("\nAnd %d more sessions."), more);
}

/*
 * lock_describe_pid
 *		One blocking session, on a line of its own: which table it holds,
 *		since when its transaction has been open, what it does.  A prepared
 *		transaction has no process (pid 0).  Returns false, describing
 *		nothing, for a session that has gone, is idle (its transaction has
 *		ended) or began its transaction after waited_from.
 */
static bool
lock_describe_pid(StringInfo detail, int pid, Oid relid,
				  TimestampTz waited_from)
{
	char	   *relname = quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
													 get_rel_name(relid));
	Datum		arg = Int32GetDatum(pid);
	Oid			argtype = INT4OID;
	bool		isnull;
	TimestampTz xact_start;
	char	   *app;
	char	   *state;
	char	   *query;
	char	   *p;
	int			len;

	if (pid == 0)
	{
		if (detail->len > 0)
			appendStringInfoChar(detail, '\n');
		appendStringInfo(detail, _("A prepared transaction holds a conflicting lock on table %s (see pg_prepared_xacts)."),
						 relname);
		return true;
	}

	/* what pg_stat_activity shows now, not as of this transaction's start */
	pgstat_clear_snapshot();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args("SELECT application_name, xact_start, state, query"
							  "  FROM pg_catalog.pg_stat_activity"
							  " WHERE pid OPERATOR(pg_catalog.=) $1",
							  1, &argtype, &arg, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read pg_stat_activity");
	if (SPI_processed == 0)
	{
		SPI_finish();
		return false;
	}
	app = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	xact_start = DatumGetTimestampTz(SPI_getbinval(SPI_tuptable->vals[0],
												   SPI_tuptable->tupdesc, 2,
												   &isnull));
	state = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3);
	query = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 4);
	if ((state && strcmp(state, "idle") == 0) ||
		(!isnull && xact_start > waited_from))
	{
		SPI_finish();
		return false;
	}

	if (detail->len > 0)
		appendStringInfoChar(detail, '\n');

	appendStringInfo(detail, _("Process %d holds a conflicting lock on table %s: application \"%s\""),
					 pid, relname, app ? app : "");
	if (!isnull)
		appendStringInfo(detail, _(", transaction open for %.1f s"),
						 TimestampDifferenceMilliseconds(xact_start,
														 GetCurrentTimestamp()) / 1000.0);
	if (state)
		appendStringInfo(detail, _(", %s"), state);
	if (query && query[0] != '\0')
	{
		/* on one line, and not too long */
		for (p = query; *p; p++)
			if (*p == '\n' || *p == '\r' || *p == '\t')
				*p = ' ';
		len = strlen(query);
		while (len > 0 && (query[len - 1] == ' ' || query[len - 1] == ';'))
			query[--len] = '\0';
		if (len > LOCK_QUERY_CHARS)
			len = pg_mbcliplen(query, len, LOCK_QUERY_CHARS);
		appendStringInfo(detail, _(", last query: %.*s%s"),
						 len, query, query[len] ? "..." : "");
	}
	appendStringInfoChar(detail, '.');
	SPI_finish();
	return true;
}

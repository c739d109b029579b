/*-------------------------------------------------------------------------
 *
 * apply.c
 *	  Running a revision's script: one statement at a time, each in its own
 *	  subtransaction, under migr's lock timeout, with retries.
 *
 * A migration that queues behind a long-running reader for an ACCESS
 * EXCLUSIVE lock makes every other session queue behind it in turn.  So
 * each statement runs with lock_timeout set to migr.lock_timeout; if it
 * cannot get its locks in time, its subtransaction is rolled back (which
 * releases whatever it did get), migr waits migr.retry_delay (doubled each
 * time) and tries the statement again, up to migr.lock_retries times.
 * migr.statement_timeout bounds each statement the same way.
 *
 * Statements run through SPI as the calling role, inside the caller's
 * transaction; any error that is not a lock timeout propagates, and the
 * caller's transaction rolls back everything the call did.
 *
 * Copyright (c) 2026, migr developers
 *
 * IDENTIFICATION
 *	  src/apply.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "executor/spi.h"
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
static bool apply_try(ApplyContext *ac, ErrorData **edata);
static void apply_statement(ApplyContext *ac);
static void apply_sleep(int ms);
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
apply_try(ApplyContext *ac, ErrorData **edata)
{
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
static void
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
 *		Run one statement, retrying it while it fails for lack of a lock.
 */
static void
apply_statement(ApplyContext *ac)
{
	int			delay = migr_retry_delay;
	int			attempt;

	for (attempt = 1;; attempt++)
	{
		ErrorData  *edata = NULL;
		ErrorContextCallback errcb;

		if (apply_try(ac, &edata))
			return;

		if (edata->sqlerrcode != ERRCODE_LOCK_NOT_AVAILABLE)
			ReThrowError(edata);

		errcb.callback = apply_error_callback;
		errcb.arg = ac;
		errcb.previous = error_context_stack;
		error_context_stack = &errcb;
		if (attempt > migr_lock_retries)
			ereport(ERROR,
					(errcode(ERRCODE_LOCK_NOT_AVAILABLE),
					 errmsg("could not obtain the locks for revision \"%s\" after %d attempts",
							ac->id, attempt),
					 errdetail("The last attempt failed with: %s", edata->message),
					 errhint("Another session holds a conflicting lock (see pg_locks and pg_stat_activity). Retry when it is done, or raise migr.lock_timeout or migr.lock_retries.")));
		ereport(NOTICE,
				(errmsg("could not obtain the locks for revision \"%s\", retrying in %d ms (attempt %d of %d)",
						ac->id, delay, attempt + 1, migr_lock_retries + 1),
				 errdetail("%s", edata->message)));
		error_context_stack = errcb.previous;
		FreeErrorData(edata);

		apply_sleep(delay);
		delay = (delay > INT_MAX / 2) ? INT_MAX : delay * 2;
	}
}

/*
 * apply_script
 *		Run every statement of one script of a revision.  Returns the time it
 *		took in milliseconds.
 */
double
apply_script(const char *id, const char *section, const char *script)
{
	List	   *stmts = script_split(script, id, section);
	ListCell   *lc;
	instr_time	start;
	instr_time	duration;
	ApplyContext ac;

	INSTR_TIME_SET_CURRENT(start);
	ac.id = id;
	ac.section = section;
	foreach(lc, stmts)
	{
		ac.stmt = (MigrStmt *) lfirst(lc);
		apply_statement(&ac);
	}
	INSTR_TIME_SET_CURRENT(duration);
	INSTR_TIME_SUBTRACT(duration, start);
	return INSTR_TIME_GET_MILLISEC(duration);
}

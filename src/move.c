/*-------------------------------------------------------------------------
 *
 * move.c
 *	  Moving the database along the revision graph: migr_upgrade(),
 *	  migr_downgrade(), migr_stamp() and migr_plan().
 *
 * Each call is one transaction's work.  The plan is computed first without
 * any lock; when there is nothing to do the call returns at once (for
 * migr_upgrade('head') from one index scan of the heads).  Otherwise it
 * takes the migr lock, reads the graph again (another session may have
 * done the work while we waited) and goes on.  Revisions run in batches,
 * a subtransaction for up to MOVE_BATCH of them; a lock timeout rolls the
 * batch back, and its revisions are run again each in a subtransaction of
 * its own, the one that timed out retried (lockpolicy.c), as if each had
 * always had its own.  Any other error rolls the caller's transaction back,
 * schema and migr's tables alike.
 *
 * Copyright (c) 2026, migr developers
 *
 * IDENTIFICATION
 *	  src/move.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/timestamp.h"

#include "migr.h"
#include "schema/schema.h"
#include "tenant/tenant.h"

PG_FUNCTION_INFO_V1(migr_upgrade);
PG_FUNCTION_INFO_V1(migr_downgrade);
PG_FUNCTION_INFO_V1(migr_stamp);
PG_FUNCTION_INFO_V1(migr_plan);

typedef enum MoveKind
{
	MOVE_UPGRADE,
	MOVE_DOWNGRADE
} MoveKind;

typedef struct MovePlan
{
	MigrGraph  *g;
	MigrTarget *t;
	int		   *order;
	int			n;
} MovePlan;

/* one revision as move_attempt() works on it */
typedef struct MoveAttempt
{
	MigrRev    *rev;
	MoveKind	kind;
	const char *target;
	MemoryContext revcxt;		/* reset after every attempt */
	double		ms;
	int			deferred_at;
	bool		inline_all;		/* deferred statements run in line (verify) */
	ErrorData  *failed;			/* move_revision_try(): its error, or NULL */
} MoveAttempt;

/*
 * How many revisions share a subtransaction.  NB: a subtransaction's end
 * walks structures that belong to the whole transaction once it has
 * created a few dozen relations (the local lock table when the
 * subtransaction took more than a few locks, the relation cache, the list
 * of files to delete at abort), so one per revision made a long history
 * quadratic: a tenth of a 1,000-revision upgrade went there.  A batch pays
 * that once for MOVE_BATCH revisions.  What a lock timeout costs grows
 * with it (the revisions of the batch before the one that timed out run
 * again, each in its own subtransaction), and timeouts are rare.
 */
#define MOVE_BATCH	32

/* a batch of revisions, plan positions from .. to - 1, in one subtransaction */
typedef struct MoveBatch
{
	MovePlan   *p;
	MoveKind	kind;
	const char *target;
	ReturnSetInfo *rsinfo;
	MemoryContext revcxt;		/* reset after every revision */
	int			from;
	int			to;
	int			done;			/* how many ran whole */
	int			deferred_at;	/* where revision from + done stopped */
	TimestampTz started;		/* when revision from + done began */
	double		ms[MOVE_BATCH];
} MoveBatch;

static MovePlan *move_prepare(const char *target, MoveKind kind);
static void move_check_reversible(MovePlan *p, const char *target);
static int	move_one(MigrRev *rev, MoveKind kind, const char *target,
					 ReturnSetInfo *rsinfo);
static void move_row(MigrRev *rev, double ms, ReturnSetInfo *rsinfo);
static int	move_all(MovePlan *p, MoveKind kind, const char *target,
					 ReturnSetInfo *rsinfo, int *deferred_at);
static bool move_batch(MoveBatch *b, ErrorData **edata);
static void move_batch_redo(void *arg);
static bool move_attempt(void *arg, ErrorData **edata);
static bool move_attempt_catch(void *arg, ErrorData **edata);
static double move_run(MigrRev *rev, MoveKind kind, const char *target,
					   int *deferred_at);
static void move_queue(MovePlan *p, int from, int first, const char *target,
					   ReturnSetInfo *rsinfo);
static void move_queued_rows(List *revisions, List *messages,
							 ReturnSetInfo *rsinfo);
static void move_check_forward_only(void);
static void move_check_no_jobs(const char *fname);
static bool move_try_lock(const char *fname);
static void move_wait_worker(const char *fname, int *polls);
static void move_check_partial(MovePlan *p, const char *target);
static void move_stamp_partials(MigrGraph *g, bool *want, const char *target,
								ReturnSetInfo *rsinfo);
static Datum move_upgrade(PG_FUNCTION_ARGS);
static Datum move_downgrade(PG_FUNCTION_ARGS);
static Datum move_stamp(PG_FUNCTION_ARGS);
static Datum move_plan(PG_FUNCTION_ARGS);

/*
 * The SQL functions, and their 1.2 overloads whose last argument is a
 * tenant (src/tenant/): the same moves on the tenant's applied set and
 * schema.
 */
Datum
migr_upgrade(PG_FUNCTION_ARGS)
{
	return tenant_call(fcinfo, 1, TENANT_UPGRADE, move_upgrade);
}

Datum
migr_downgrade(PG_FUNCTION_ARGS)
{
	return tenant_call(fcinfo, 1, TENANT_MOVE, move_downgrade);
}

Datum
migr_stamp(PG_FUNCTION_ARGS)
{
	return tenant_call(fcinfo, 1, TENANT_MOVE, move_stamp);
}

Datum
migr_plan(PG_FUNCTION_ARGS)
{
	return tenant_call(fcinfo, 2, TENANT_LOOK, move_plan);
}

/*
 * move_prepare
 *		Load the graph, resolve the target and compute what to do.
 */
static MovePlan *
move_prepare(const char *target, MoveKind kind)
{
	MovePlan   *p = palloc0(sizeof(MovePlan));
	int			i;

	p->g = catalog_load_graph();
	p->t = target_resolve(p->g, target);
	if (kind == MOVE_UPGRADE)
	{
		/* "base", or a step that reaches it, as "root-1" */
		if (p->t->base)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("cannot upgrade to \"%s\"", target),
					 strcmp(target, "base") != 0 ?
					 errdetail("It resolves to base, below every revision.") : 0,
					 errhint("Use migr_downgrade('base') to revert every revision.")));
		p->order = graph_upgrade_order(p->g, p->t, &p->n);
	}
	else
	{
		for (i = 0; i < p->t->n; i++)
			if (!p->g->revs[p->t->idx[i]].applied)
				ereport(ERROR,
						(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
						 errmsg("revision \"%s\" is not applied",
								p->g->revs[p->t->idx[i]].id),
						 errdetail("A downgrade reverts the revisions above an applied revision."),
						 errhint("Use migr_upgrade('%s') to reach it.",
								 p->g->revs[p->t->idx[i]].id)));
		p->order = graph_downgrade_order(p->g, p->t, &p->n);
	}
	return p;
}

/*
 * move_check_reversible
 *		Refuse a downgrade through an irreversible revision, before anything
 *		is reverted.
 */
static void
move_check_reversible(MovePlan *p, const char *target)
{
	int			i;

	for (i = 0; i < p->n; i++)
	{
		MigrRev    *r = &p->g->revs[p->order[i]];

		if (!r->reversible)
			ereport(ERROR,
					(errcode(ERRCODE_MIGR_IRREVERSIBLE),
					 errmsg("cannot downgrade to \"%s\": revision \"%s\" is irreversible",
							target, r->id),
					 errdetail("Revision \"%s\" has no downgrade script; the downgrade would revert %d revisions.",
							   r->id, p->n),
					 errhint("Downgrade to \"%s\" or a revision above it, or write a new revision that undoes the change.",
							 r->id)));
	}
}

/*
 * move_check_no_jobs
 *		Downgrades and stamps wait for no worker either: while jobs are queued
 *		they are refused.
 */
static void
move_check_no_jobs(const char *fname)
{
	List	   *queued;
	List	   *messages;

	if (job_pending_quiet(&queued, &messages))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot call %s while background jobs are queued", fname),
				 errdetail("A background worker is applying revision \"%s\" and %d more.",
						   (char *) linitial(queued), list_length(queued) - 1),
				 errhint("SELECT migr_wait() first, or cancel the jobs with migr_cancel().")));
}

/*
 * move_try_lock
 *		The migr lock for an in-line move, unless a background worker holds
 *		it (catalog_try_lock): then false.  The caller looks at the queue:
 *		with jobs pending it does not wait at all; without, the worker is
 *		finishing, and the caller polls rather than queueing for the lock,
 *		so that a job it read a moment too early (one the worker starts
 *		after all) is seen and stops it, instead of it waiting for a build
 *		that waits for its snapshot in turn.  Under REPEATABLE READ the
 *		queue as the snapshot shows it never changes, and the snapshot is
 *		what a build waits for: a worker holding the lock is a serialization
 *		failure at once (waiting would deadlock with the build, and the
 *		deadlock detector might pick the build), and a move that committed
 *		meanwhile is one too (catalog_bump_state()'s update fails).
 */
static bool
move_try_lock(const char *fname)
{
	/*
	 * NB: both ways take the definition lock before the migr lock, never
	 * the other way round (catalog_lock()).  Two movers taking them in
	 * opposite orders could each hold one and wait for the other, and the
	 * deadlock detector would then fail one of them with 40P01 for doing
	 * nothing wrong; one order makes that cycle impossible.  The try-lock
	 * below gives up only on the migr lock, which with the definition lock
	 * held can only be a background worker's.
	 */
	if (IsolationUsesXactSnapshot())
	{
		if (!catalog_try_lock(fname, true))
			ereport(ERROR,
					(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
					 errmsg("could not serialize access: a background worker holds the migr lock"),
					 errdetail("Under REPEATABLE READ this transaction's snapshot cannot see the worker's progress, and its index build waits for that snapshot."),
					 errhint("Retry %s in a new transaction; migr_wait() waits for the worker.",
							 fname)));
		return true;
	}
	return catalog_try_lock(fname, true);
}

/*
 * move_lock
 *		The migr lock for a downgrade or a stamp, refused while jobs are
 *		queued.  Checked before the lock, to fail fast, and again once it is
 *		held (or found held by a worker): the session we waited for may
 *		have queued jobs and committed meanwhile, which the first check
 *		could not see.  catalog_run() reads with a fresh snapshot, so the
 *		second check sees them (under REPEATABLE READ catalog_lock() has
 *		already failed with a serialization error instead).
 */
void
move_lock(const char *fname)
{
	int			polls = 0;

	move_check_no_jobs(fname);
	for (;;)
	{
		bool		locked = move_try_lock(fname);

		move_check_no_jobs(fname);
		if (locked)
			break;
		move_wait_worker(fname, &polls);
	}
}

/*
 * move_wait_worker
 *		Pause before looking again at a worker that holds the migr lock
 *		with no job pending: it is finishing, which takes moments.  Should
 *		it be building after all (a job cancelled a moment too late), its
 *		build may wait for this transaction, or for one that waits for
 *		this one: the deadlock detector does not see a poll, so give up
 *		with an error when the build waits for us, and in any case after
 *		two seconds.  *polls counts the calls.
 */
static void
move_wait_worker(const char *fname, int *polls)
{
	apply_sleep(20);
	if (++*polls >= 100 || job_waited_on())
		ereport(ERROR,
				(errcode(ERRCODE_LOCK_NOT_AVAILABLE),
				 errmsg("cannot call %s while a background worker holds the migr lock", fname),
				 errdetail("The worker has no job pending but has not let go of the lock."),
				 errhint("Retry in a new transaction; migr_jobs() shows the queue.")));
}

/*
 * move_check_partial
 *		Refuse a downgrade that would revert a revision that a partially
 *		applied revision needs.  The partially applied revision itself is
 *		not applied, so no downgrade reverts it: its downgrade script was
 *		written for the whole upgrade and could not undo half of it.
 */
static void
move_check_partial(MovePlan *p, const char *target)
{
	ListCell   *lc;
	int			i;

	foreach(lc, catalog_partials())
	{
		MigrPartial *part = (MigrPartial *) lfirst(lc);
		int			k = graph_find(p->g, part->revision);
		MigrTarget	t = {false, 1, &k};
		bool	   *needs;

		if (k < 0)
			continue;
		needs = graph_ancestors(p->g, &t, true, false);
		for (i = 0; i < p->n; i++)
			if (needs[p->order[i]])
				ereport(ERROR,
						(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
						 errmsg("cannot downgrade to \"%s\": revision \"%s\" is partially applied on top of revision \"%s\"",
								target, part->revision,
								p->g->revs[p->order[i]].id),
						 errdetail("Statements of \"%s\" before statement %d have committed; its downgrade script cannot undo half of it.",
								   part->revision, part->next_statement),
						 errhint("Finish it with migr_upgrade('%s') and downgrade through it; or undo its committed statements by hand and SELECT migr_stamp() to a revision below it.",
								 part->revision)));
		pfree(needs);
	}
}

/*
 * move_check_forward_only
 */
static void
move_check_forward_only(void)
{
	if (migr_forward_only)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("downgrades are disabled because migr.forward_only is on"),
				 errhint("Write a new revision that undoes the change (a forward fix).")));
}

/*
 * move_get_def
 *		A revision's definition, checked against its recorded checksum: a
 *		row edited behind migr's back is never run.
 */
void
move_get_def(const char *id, MigrRevDef *def)
{
	bool		applied;
	char	   *stored;

	if (!catalog_get_def(id, def, &applied))
		elog(ERROR, "revision \"%s\" disappeared", id);
	stored = def->checksum;
	if (strcmp(checksum_revision(def), stored) != 0 ||
		(def->applied_checksum &&
		 strcmp(def->applied_checksum, stored) != 0) ||
		(def->partial_checksum &&
		 strcmp(def->partial_checksum, stored) != 0))
		ereport(ERROR,
				(errcode(ERRCODE_MIGR_APPLIED_CHANGED),
				 errmsg("revision \"%s\" does not match its checksum", id),
				 errdetail("Its row in migr.revision was changed without migr_define()."),
				 errhint("Restore the original definition; migr_check() lists every such revision.")));
}

/*
 * move_one
 *		Apply or revert one revision in its own subtransaction, record it and
 *		return its row.  Returns the number of the statement at which an
 *		upgrade stopped because it must run outside a transaction block, or
 *		0 when the revision ran whole.
 */
static int
move_one(MigrRev *rev, MoveKind kind, const char *target,
		 ReturnSetInfo *rsinfo)
{
	MoveAttempt ma;

	ma.rev = rev;
	ma.kind = kind;
	ma.target = target;
	ma.revcxt = AllocSetContextCreate(CurrentMemoryContext, "migr revision",
									  ALLOCSET_DEFAULT_SIZES);
	ma.ms = 0;
	ma.deferred_at = 0;
	ma.inline_all = false;
	ma.failed = NULL;
	lock_retry(rev->id, move_attempt, &ma);
	MemoryContextDelete(ma.revcxt);
	if (ma.deferred_at > 0)
		return ma.deferred_at;	/* its row comes with the queued ones */
	move_row(rev, ma.ms, rsinfo);
	return 0;
}

/*
 * move_row
 *		The row of a revision that was applied or reverted.
 */
static void
move_row(MigrRev *rev, double ms, ReturnSetInfo *rsinfo)
{
	Datum		values[3];
	bool		nulls[3] = {false, false, false};

	values[0] = CStringGetTextDatum(rev->id);
	values[1] = PointerGetDatum(rev->message);
	values[2] = Float8GetDatum(ms);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

/*
 * move_all
 *		Apply or revert the revisions of a plan in order, in batches, and
 *		return their rows.  Returns the position in the plan of the
 *		revision at which an upgrade stopped because a statement must run
 *		outside a transaction block, with the statement's number in
 *		*deferred_at; else p->n, with 0 there.
 */
static int
move_all(MovePlan *p, MoveKind kind, const char *target,
		 ReturnSetInfo *rsinfo, int *deferred_at)
{
	MoveBatch	b;
	int			i;

	memset(&b, 0, sizeof(b));
	b.p = p;
	b.kind = kind;
	b.target = target;
	b.rsinfo = rsinfo;
	b.revcxt = AllocSetContextCreate(CurrentMemoryContext, "migr revision",
									 ALLOCSET_DEFAULT_SIZES);
	*deferred_at = 0;
	for (b.from = 0; b.from < p->n; b.from = b.to)
	{
		ErrorData  *edata;
		MoveAttempt ma;
		int			k;

		b.to = Min(p->n, b.from + MOVE_BATCH);
		if (move_batch(&b, &edata))
		{
			for (i = 0; i < b.done; i++)
				move_row(&p->g->revs[p->order[b.from + i]], b.ms[i], rsinfo);
			if (b.deferred_at > 0)
			{
				*deferred_at = b.deferred_at;
				MemoryContextDelete(b.revcxt);
				return b.from + b.done;
			}
			continue;
		}

		/*
		 * Revision k failed and the batch was rolled back.  Any error but a
		 * lock timeout ends the call, as it would have with a subtransaction
		 * per revision.  A lock timeout is reported, the revisions before k
		 * run again, each on its own (move_batch_redo), and k is retried
		 * under the lock policy, in a subtransaction of its own: by the
		 * first wait the transaction is where it would have been.
		 */
		k = b.from + b.done;
		if (edata->sqlerrcode != ERRCODE_LOCK_NOT_AVAILABLE)
			ReThrowError(edata);
		ma.rev = &p->g->revs[p->order[k]];
		ma.kind = kind;
		ma.target = target;
		ma.revcxt = b.revcxt;
		ma.ms = 0;
		ma.deferred_at = 0;
		lock_retry_after(ma.rev->id, move_attempt, &ma, edata, b.started,
						 move_batch_redo, &b);
		if (ma.deferred_at > 0)
		{
			*deferred_at = ma.deferred_at;
			MemoryContextDelete(b.revcxt);
			return k;
		}
		move_row(ma.rev, ma.ms, rsinfo);
		b.to = k + 1;
	}
	MemoryContextDelete(b.revcxt);
	return p->n;
}

/*
 * move_batch
 *		Run revisions b->from .. b->to - 1 in one subtransaction, stopping
 *		after one that defers a statement.  On success b->done of them ran
 *		whole (their times in b->ms), and b->deferred_at says where the next
 *		one stopped, if one did.  On failure everything is rolled back,
 *		*edata is the error, and revision b->from + b->done is the one that
 *		failed, begun at b->started.
 */
static bool
move_batch(MoveBatch *b, ErrorData **edata)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;

	*edata = NULL;
	b->done = 0;
	b->deferred_at = 0;
	BeginInternalSubTransaction(NULL);
	PG_TRY();
	{
		while (b->from + b->done < b->to)
		{
			MigrRev    *rev = &b->p->g->revs[b->p->order[b->from + b->done]];

			b->started = GetCurrentTimestamp();
			lock_attempt_start();
			MemoryContextSwitchTo(b->revcxt);
			b->ms[b->done] = move_run(rev, b->kind, b->target,
									  &b->deferred_at);
			MemoryContextSwitchTo(oldcxt);
			MemoryContextReset(b->revcxt);
			if (b->deferred_at > 0)
				break;
			b->done++;
		}
		ReleaseCurrentSubTransaction();
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(oldcxt);
		*edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
	}
	PG_END_TRY();

	/* NB: as in move_attempt(), for the same reasons */
	MemoryContextSwitchTo(oldcxt);
	CurrentResourceOwner = oldowner;
	MemoryContextReset(b->revcxt);
	return *edata == NULL;
}

/*
 * move_batch_redo
 *		After a lock timeout rolled a batch back: run again, each in its
 *		own subtransaction, the revisions of the batch before the one that
 *		timed out.  They ran whole a moment ago, in the same transaction.
 */
static void
move_batch_redo(void *arg)
{
	MoveBatch  *b = (MoveBatch *) arg;
	int			i;

	for (i = b->from; i < b->from + b->done; i++)
		if (move_one(&b->p->g->revs[b->p->order[i]], b->kind, b->target,
					 b->rsinfo) > 0)
			elog(ERROR, "revision \"%s\" stopped at a statement it ran before",
				 b->p->g->revs[b->p->order[i]].id);
}

/*
 * move_attempt
 *		One attempt at a revision, in a subtransaction of its own (a
 *		MigrAttempt for lock_retry).
 */
static bool
move_attempt(void *arg, ErrorData **edata)
{
	MoveAttempt *ma = (MoveAttempt *) arg;
	MemoryContext oldcxt = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;

	*edata = NULL;
	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(ma->revcxt);
	PG_TRY();
	{
		ma->ms = move_run(ma->rev, ma->kind, ma->target,
						  ma->inline_all ? NULL : &ma->deferred_at);
		ReleaseCurrentSubTransaction();
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(oldcxt);
		*edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
	}
	PG_END_TRY();

	/*
	 * NB: both ways out of the subtransaction leave CurrentResourceOwner
	 * pointing at the parent transaction's owner, not at the owner that was
	 * current when we began: inside a set-returning function called from a
	 * portal that is the portal's owner, and the buffer pins and relation
	 * references the executor takes after we return must be released by
	 * it, or they would outlive the portal (the server warns about leaked
	 * references) or be released twice.  Hence the explicit restore, as in
	 * PL/pgSQL's exception blocks.  The memory context is restored for the
	 * same reason: the subtransaction's ends switch to its parent's
	 * CurTransactionContext.  What the attempt allocated lives in revcxt,
	 * reset here, so that a hundred retries do not keep a hundred parsed
	 * scripts.
	 */
	MemoryContextSwitchTo(oldcxt);
	CurrentResourceOwner = oldowner;
	MemoryContextReset(ma->revcxt);
	return *edata == NULL;
}

/*
 * move_attempt_catch
 *		move_attempt() for move_revision_try(): an error other than a lock
 *		timeout ends the attempts without being raised, kept in ma->failed.
 */
static bool
move_attempt_catch(void *arg, ErrorData **edata)
{
	MoveAttempt *ma = (MoveAttempt *) arg;

	if (move_attempt(arg, edata))
		return true;
	if ((*edata)->sqlerrcode == ERRCODE_LOCK_NOT_AVAILABLE)
		return false;			/* lock_retry() retries, or raises it */
	ma->failed = *edata;
	*edata = NULL;
	return true;
}

/*
 * move_revision_try
 *		Apply or revert one revision as a move does (its own subtransaction,
 *		the checksum check, lock retries, the applied set and the log), but
 *		with every deferred statement run in line, without CONCURRENTLY,
 *		and return the error instead of raising it: the subtransaction has
 *		rolled back and the caller's transaction may go on.  NULL when the
 *		revision ran.  For migr_verify() (schema/verify.c), which rolls all
 *		of it back in the end; a lock timeout the policy gives up on is
 *		still raised.
 */
ErrorData *
move_revision_try(MigrRev *rev, bool upgrade, const char *target)
{
	MoveAttempt ma;

	ma.rev = rev;
	ma.kind = upgrade ? MOVE_UPGRADE : MOVE_DOWNGRADE;
	ma.target = target;
	ma.revcxt = AllocSetContextCreate(CurrentMemoryContext, "migr revision",
									  ALLOCSET_DEFAULT_SIZES);
	ma.ms = 0;
	ma.deferred_at = 0;
	ma.inline_all = true;
	ma.failed = NULL;
	lock_retry(rev->id, move_attempt_catch, &ma);
	MemoryContextDelete(ma.revcxt);
	return ma.failed;
}

/*
 * move_run
 *		One attempt at a revision, inside its subtransaction: run the script
 *		and record it.  What a script SETs lasts until the end of its
 *		revision.  A partially applied revision resumes at its first
 *		statement that has not run: what committed never runs again.
 *		Without deferred_at, deferred statements run in line.
 */
static double
move_run(MigrRev *rev, MoveKind kind, const char *target, int *deferred_at)
{
	int			nest = NewGUCNestLevel();
	MigrRevDef	def;
	double		ms;

	move_get_def(rev->id, &def);
	if (kind == MOVE_UPGRADE)
	{
		ms = apply_script(rev->id, "upgrade", def.upgrade,
						  Max(def.partial_next, 1), deferred_at);
		if (deferred_at == NULL || *deferred_at == 0)
		{
			/* a migr.partial row to clear only if the definition had one */
			catalog_mark_applied_ext(rev->id, def.checksum, ms,
									 def.partial_next > 0);
			catalog_log("upgrade", rev->id, target, ms, "applied");
		}
	}
	else
	{
		ms = apply_script(rev->id, "downgrade", def.downgrade, 1, NULL);
		catalog_mark_unapplied(rev->id);
		catalog_log("downgrade", rev->id, target, ms, "reverted");
	}
	AtEOXact_GUC(false, nest);
	return ms;
}

/*
 * move_queued_rows
 *		Rows of migr_upgrade() for revisions a background worker applies.
 */
static void
move_queued_rows(List *revisions, List *messages, ReturnSetInfo *rsinfo)
{
	ListCell   *lc;
	ListCell   *lc2;

	forboth(lc, revisions, lc2, messages)
	{
		Datum		values[3];
		bool		nulls[3] = {false, false, true};

		values[0] = CStringGetTextDatum(lfirst(lc));
		values[1] = CStringGetTextDatum(lfirst(lc2) ? lfirst(lc2) : "");
		values[2] = (Datum) 0;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values,
							 nulls);
	}
}

/*
 * move_queue
 *		An upgrade stopped at statement "first" of the revision at position
 *		"from" of the plan: queue the rest of it and every later revision for
 *		a background worker.
 */
static void
move_queue(MovePlan *p, int from, int first, const char *target,
		   ReturnSetInfo *rsinfo)
{
	List	   *revisions = NIL;
	List	   *messages = NIL;
	MigrRevDef	def;
	List	   *stmts;
	int			i;

	for (i = from; i < p->n; i++)
	{
		revisions = lappend(revisions, p->g->revs[p->order[i]].id);
		messages = lappend(messages, text_to_cstring(p->g->revs[p->order[i]].message));
		catalog_log("upgrade", p->g->revs[p->order[i]].id, target, -1,
					"queued");
	}
	move_get_def(p->g->revs[p->order[from]].id, &def);
	stmts = script_split(def.upgrade, def.id, "upgrade");

	/* its statements before "first" commit with this transaction */
	if (first > 1)
		catalog_mark_partial(def.id, def.checksum, first);
	job_queue(revisions, first,
			  ((MigrStmt *) list_nth(stmts, first - 1))->sql, target);
	move_queued_rows(revisions, messages, rsinfo);
	ereport(NOTICE,
			(errmsg("revision \"%s\" continues in a background worker after this transaction commits",
					def.id),
			 errdetail_plural("Statement %d cannot run inside a transaction block; it and %d later revision are queued.",
							  "Statement %d cannot run inside a transaction block; it and %d later revisions are queued.",
							  p->n - from - 1, first, p->n - from - 1),
			 errhint("SELECT migr_wait() in a later transaction waits for the worker; migr_jobs() shows its progress.")));
}

/*
 * migr_upgrade(target text) returns table (revision, message, ms)
 */
static Datum
move_upgrade(PG_FUNCTION_ARGS)
{
	char	   *target = migr_arg_text(fcinfo, 0, "target");
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MovePlan   *p;
	List	   *queued;
	List	   *messages;
	int			i;
	int			first;

	/*
	 * The common case, at every application start: nothing to do.  An empty
	 * result needs no tuplestore (the executor treats a NULL setResult as
	 * the empty set) and no SPI connection.
	 */
	if (strcmp(target, "head") == 0 && catalog_tenant() == NULL &&
		rsinfo != NULL &&
		IsA(rsinfo, ReturnSetInfo) &&
		(rsinfo->allowedModes & SFRM_Materialize))
	{
		List	   *heads;

		if (catalog_head_is_applied(&heads) || heads == NIL)
		{
			rsinfo->returnMode = SFRM_Materialize;
			rsinfo->setResult = NULL;
			rsinfo->setDesc = NULL;
			return (Datum) 0;
		}
	}

	InitMaterializedSRF(fcinfo, 0);
	catalog_connect();

	/*
	 * A background worker is applying queued revisions: return them, and
	 * never wait for the worker (its index build would wait for us).
	 */
	if (job_blocking(&queued, &messages))
	{
		move_queued_rows(queued, messages, rsinfo);
		catalog_finish();
		return (Datum) 0;
	}

	p = move_prepare(target, MOVE_UPGRADE);
	if (p->n > 0)
	{
		int			polls = 0;

		for (;;)
		{
			bool		locked = move_try_lock("migr_upgrade()");

			/* a worker may have got its jobs queued while we waited */
			if (job_blocking(&queued, &messages))
			{
				move_queued_rows(queued, messages, rsinfo);
				catalog_finish();
				return (Datum) 0;
			}
			if (locked)
				break;
			move_wait_worker("migr_upgrade()", &polls);
		}
		p = move_prepare(target, MOVE_UPGRADE);
		i = move_all(p, MOVE_UPGRADE, target, rsinfo, &first);
		if (first > 0)
			move_queue(p, i, first, target, rsinfo);
	}
	schema_record_move(rsinfo);
	catalog_finish();
	return (Datum) 0;
}

/*
 * migr_downgrade(target text) returns table (revision, message, ms)
 */
static Datum
move_downgrade(PG_FUNCTION_ARGS)
{
	char	   *target = migr_arg_text(fcinfo, 0, "target");
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MovePlan   *p;
	int			deferred_at;

	move_check_forward_only();
	InitMaterializedSRF(fcinfo, 0);
	catalog_connect();
	move_lock("migr_downgrade()");
	p = move_prepare(target, MOVE_DOWNGRADE);
	move_check_reversible(p, target);
	move_check_partial(p, target);
	/* a downgrade runs every statement in line: it never stops */
	(void) move_all(p, MOVE_DOWNGRADE, target, rsinfo, &deferred_at);
	schema_record_move(rsinfo);
	catalog_finish();
	return (Datum) 0;
}

/*
 * move_stamp_partials
 *		A stamp says what the schema is, whatever ran: a partially applied
 *		revision outside the target is declared unapplied (its committed
 *		statements were undone by hand), one inside it is marked applied
 *		below with the others (its rest was done by hand).  Both lose their
 *		migr.partial row; the first gets an "unapplied" row here.
 */
static void
move_stamp_partials(MigrGraph *g, bool *want, const char *target,
					ReturnSetInfo *rsinfo)
{
	ListCell   *lc;

	foreach(lc, catalog_partials())
	{
		MigrPartial *part = (MigrPartial *) lfirst(lc);
		int			k = graph_find(g, part->revision);
		Datum		values[2];
		bool		nulls[2] = {false, false};

		if (k >= 0 && want[k])
			continue;			/* catalog_mark_applied() clears it */
		catalog_clear_partial(part->revision);
		catalog_log("stamp", part->revision, target, -1, "unapplied");
		values[0] = CStringGetTextDatum(part->revision);
		values[1] = CStringGetTextDatum("unapplied");
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values,
							 nulls);
	}
}

/*
 * migr_stamp(target text) returns table (revision, action)
 *		Make the applied set exactly the target and its ancestors, running
 *		no script.
 */
static Datum
move_stamp(PG_FUNCTION_ARGS)
{
	char	   *target = migr_arg_text(fcinfo, 0, "target");
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MigrGraph  *g;
	MigrTarget *t;
	bool	   *want;
	bool	   *in;
	int		   *order;
	int			n;
	int			i;
	int			count;

	InitMaterializedSRF(fcinfo, 0);
	catalog_connect();
	move_lock("migr_stamp()");
	g = catalog_load_graph();
	t = target_resolve(g, target);
	want = graph_ancestors(g, t, true, true);
	graph_check_defined(g, want);
	move_stamp_partials(g, want, target, rsinfo);

	/* first unmark, children first, what the target does not include */
	in = palloc0(sizeof(bool) * Max(g->nrevs, 1));
	for (i = 0, count = 0; i < g->nrevs; i++)
	{
		in[i] = g->revs[i].applied && !want[i];
		count += in[i];
	}
	if (count > 0)
	{
		MigrTarget	none = {true, 0, NULL};

		/* the reverse topological order of the applied revisions */
		order = graph_downgrade_order(g, &none, &n);
		for (i = 0; i < n; i++)
		{
			MigrRev    *r = &g->revs[order[i]];
			Datum		values[2];
			bool		nulls[2] = {false, false};

			if (!in[order[i]])
				continue;
			catalog_mark_unapplied(r->id);
			catalog_log("stamp", r->id, target, -1, "unapplied");
			values[0] = CStringGetTextDatum(r->id);
			values[1] = CStringGetTextDatum("unapplied");
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values,
								 nulls);
		}
	}

	/* then mark, parents first, what it includes and is not applied */
	order = graph_upgrade_order(g, t, &n);
	for (i = 0; i < n; i++)
	{
		MigrRev    *r = &g->revs[order[i]];
		MigrRevDef	def;
		Datum		values[2];
		bool		nulls[2] = {false, false};

		move_get_def(r->id, &def);
		catalog_mark_applied(r->id, def.checksum, -1);
		catalog_log("stamp", r->id, target, -1, "applied");
		values[0] = CStringGetTextDatum(r->id);
		values[1] = CStringGetTextDatum("applied");
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values,
							 nulls);
	}
	schema_record_move(rsinfo);
	catalog_finish();
	return (Datum) 0;
}

/*
 * migr_plan(target text, direction text) returns table
 *		(step int, revision text, statement text, deferred boolean)
 *		What an upgrade or downgrade would run, statement by statement,
 *		without running it.  A revision with an empty script has one row
 *		whose statement is NULL; a partially applied one starts at the
 *		statement it resumes at (after its SETs, which are run again).
 */
static Datum
move_plan(PG_FUNCTION_ARGS)
{
	char	   *target = migr_arg_text(fcinfo, 0, "target");
	char	   *direction = migr_arg_text(fcinfo, 1, "direction");
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MoveKind	kind;
	MovePlan   *p;
	int			step = 0;
	bool		deferring = false;
	int			i;

	if (strcmp(direction, "upgrade") == 0)
		kind = MOVE_UPGRADE;
	else if (strcmp(direction, "downgrade") == 0)
		kind = MOVE_DOWNGRADE;
	else
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid direction \"%s\"", direction),
				 errhint("The direction is \"upgrade\" or \"downgrade\".")));

	InitMaterializedSRF(fcinfo, 0);
	catalog_connect();
	p = move_prepare(target, kind);
	if (kind == MOVE_DOWNGRADE)
		move_check_reversible(p, target);
	for (i = 0; i < p->n; i++)
	{
		MigrRev    *r = &p->g->revs[p->order[i]];
		MigrRevDef	def;
		List	   *stmts;
		ListCell   *lc;
		Datum		values[4];
		bool		nulls[4] = {false, false, false, false};

		move_get_def(r->id, &def);
		stmts = script_split(kind == MOVE_UPGRADE ? def.upgrade : def.downgrade,
							 r->id, kind == MOVE_UPGRADE ? "upgrade" : "downgrade");
		values[1] = CStringGetTextDatum(r->id);
		values[3] = BoolGetDatum(kind == MOVE_UPGRADE && deferring);
		if (stmts == NIL)
		{
			values[0] = Int32GetDatum(++step);
			nulls[2] = true;
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values,
								 nulls);
		}
		foreach(lc, stmts)
		{
			MigrStmt   *ms = (MigrStmt *) lfirst(lc);

			/* a partially applied revision resumes (move_run) */
			if (kind == MOVE_UPGRADE && ms->index < def.partial_next &&
				ms->tag != T_VariableSetStmt)
				continue;
			values[0] = Int32GetDatum(++step);
			values[2] = CStringGetTextDatum(ms->sql);
			values[3] = BoolGetDatum(kind == MOVE_UPGRADE &&
									 (deferring || apply_would_defer(ms)));
			deferring = DatumGetBool(values[3]);
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values,
								 nulls);
		}
	}
	catalog_finish();
	return (Datum) 0;
}

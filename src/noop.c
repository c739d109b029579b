/*-------------------------------------------------------------------------
 *
 * noop.c
 *	  The no-op migr_upgrade('head') answered from memory: a generation of
 *	  migr's state in shared memory, and what this backend last saw of it.
 *
 * Every application start calls migr_upgrade('head'), and almost always
 * there is nothing to do.  catalog_head_is_applied() finds that out from
 * two index probes; this file lets a backend that has already found it
 * out skip even those, as long as nothing has changed since.
 *
 * "Nothing has changed" is a word in shared memory (so only with migr in
 * shared_preload_libraries): a generation in the high bits, and in the low
 * bits the number of transactions that have changed migr.head or
 * migr.applied and are committing.  Such a transaction is seen by the
 * trigger migr.state_changed() (statement level, on both tables, enabled
 * ALWAYS, so that a hand-made change counts as much as migr's own).  Its
 * backend adds one to the word before commit (XACT_EVENT_PRE_COMMIT) and,
 * once the commit is visible to everybody, turns that one into a new
 * generation (XACT_EVENT_COMMIT, or ABORT).  A backend remembers the word
 * it read before it checked the tables, when nobody was committing then:
 *
 *	- The word is read before the snapshot that the remembered answer was
 *	  checked with (catalog.c takes a new one for that), so every change
 *	  whose generation the word includes is in that snapshot.
 *	- A change that commits later moves the word at least twice, and the
 *	  word can never come back to a value it had, so the remembered word no
 *	  longer matches.
 *	- A change that is visible to a later call's snapshot had already
 *	  started committing before that snapshot was taken: if the word is
 *	  then still the one remembered, with nobody committing, the change had
 *	  finished before the word was read, and so was in the checked answer.
 *
 * The remembered answer is used only where the tables would have given
 * the same one: not in a transaction that has itself changed them, not
 * under SERIALIZABLE (whose reads must leave predicate locks), not during
 * recovery (replayed changes fire no trigger), and not with
 * max_prepared_transactions above zero (a prepared change commits from
 * another backend, which does not know it changed anything).  It is
 * forgotten with the relation cache entries of migr's tables (catalog.c),
 * so DROP and CREATE EXTENSION start afresh.
 *
 * Copyright (c) 2026, migr developers
 *
 * IDENTIFICATION
 *	  src/noop.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/twophase.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "commands/trigger.h"
#include "miscadmin.h"
#include "port/atomics.h"
#include "storage/ipc.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"

#include "migr.h"

PG_FUNCTION_INFO_V1(migr_state_changed);

/*
 * The low bits count the transactions committing a change: at most one per
 * backend, and MAX_BACKENDS is below 2^18.
 */
#define NOOP_COMMITTING_BITS	20
#define NOOP_GENERATION_ONE		(UINT64CONST(1) << NOOP_COMMITTING_BITS)
#define NOOP_COMMITTING_MASK	(NOOP_GENERATION_ONE - 1)

typedef struct NoopShared
{
	pg_atomic_uint64 state;
} NoopShared;

static NoopShared *noop_shared = NULL;

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

/* what this backend last found: nothing to do, as of this word */
static bool noop_known = false;
static uint64 noop_known_state = 0;

/* this transaction changed migr.head or migr.applied */
static bool xact_changed = false;

/* ... and has announced that it is committing */
static bool xact_committing = false;

static void noop_shmem_request(void);
static void noop_shmem_startup(void);
static void noop_xact_callback(XactEvent event, void *arg);

/*
 * noop_init
 *		From _PG_init: ask for the shared word when preloaded.
 */
void
noop_init(void)
{
	if (!process_shared_preload_libraries_in_progress)
		return;
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = noop_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = noop_shmem_startup;
}

static void
noop_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(MAXALIGN(sizeof(NoopShared)));
}

static void
noop_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	noop_shared = ShmemInitStruct("migr state generation", sizeof(NoopShared),
								  &found);
	if (!found)
		pg_atomic_init_u64(&noop_shared->state, 0);
	LWLockRelease(AddinShmemInitLock);
}

/*
 * noop_state
 *		Whether a remembered answer may be used or recorded by this call,
 *		and if so the shared word, read now (before any snapshot taken to
 *		check the tables).
 */
bool
noop_state(uint64 *state)
{
	if (noop_shared == NULL || xact_changed || max_prepared_xacts > 0 ||
		IsolationIsSerializable() || RecoveryInProgress())
		return false;
	*state = pg_atomic_read_u64(&noop_shared->state);
	/* NB: the read must not move after the snapshot the caller takes next */
	pg_memory_barrier();
	return true;
}

/*
 * noop_known_at
 *		Whether this backend found nothing to do as of the word "state".
 */
bool
noop_known_at(uint64 state)
{
	return noop_known && noop_known_state == state;
}

/*
 * noop_remember
 *		Nothing to do as of the word "state", as read by noop_state() before
 *		the snapshot the tables were checked with.  A word read while
 *		somebody was committing a change is not remembered: the change may
 *		or may not be in that snapshot.
 */
void
noop_remember(uint64 state)
{
	if ((state & NOOP_COMMITTING_MASK) != 0)
		return;
	noop_known = true;
	noop_known_state = state;
}

/*
 * noop_forget
 *		Forget the answer (migr's tables were invalidated in the relation
 *		cache, or this transaction changed them).
 */
void
noop_forget(void)
{
	noop_known = false;
}

/*
 * noop_xact_callback
 *		Announce a committing change before commit, and make it a new
 *		generation once the commit is visible.  An abort after the
 *		announcement makes a new generation too: harmless, and it keeps the
 *		count of committing transactions right.
 */
static void
noop_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_PRE_COMMIT:
			if (xact_changed && noop_shared != NULL && !xact_committing)
			{
				pg_atomic_fetch_add_u64(&noop_shared->state, 1);
				xact_committing = true;
			}
			break;
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PREPARE:
			if (xact_committing)
				pg_atomic_fetch_add_u64(&noop_shared->state,
										NOOP_GENERATION_ONE - 1);
			xact_committing = false;
			xact_changed = false;
			break;
		default:
			break;
	}
}

/*
 * migr.state_changed() returns trigger
 *		After any statement that writes migr.head or migr.applied: this
 *		transaction changes what a no-op upgrade would answer.
 */
Datum
migr_state_changed(PG_FUNCTION_ARGS)
{
	static bool registered = false;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("migr.state_changed() was not called by the trigger manager")));
	if (!registered)
	{
		RegisterXactCallback(noop_xact_callback, NULL);
		registered = true;
	}
	xact_changed = true;
	noop_forget();
	return PointerGetDatum(NULL);
}

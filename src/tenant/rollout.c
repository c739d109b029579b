/*-------------------------------------------------------------------------
 *
 * rollout.c
 *	  migr_upgrade_tenants(): upgrading many tenants in background workers.
 *
 * A rollout is a row of migr.rollout (target, the caller's role and
 * settings) and a state on each of its tenants' rows in migr.tenant:
 * "queued" until a worker claims it, "running", then "done" or "failed"
 * with the error.  The workers, started as the calling role once the
 * caller's transaction commits, claim one queued tenant at a time (FOR
 * UPDATE SKIP LOCKED, so they never wait for each other) and upgrade it
 * with migr_upgrade(target, tenant => ...) in a transaction of its own: a
 * tenant's failure rolls back that tenant alone and is recorded on its row,
 * and the workers go on.  A statement that must run outside a transaction
 * block (CREATE INDEX CONCURRENTLY) is queued as a job of that tenant, as
 * an in-line upgrade queues it, and the same worker runs the tenant's queue
 * right after (worker.c), under the tenant's migr lock.
 *
 * Everything a rollout needs is in tables, so nothing is lost with a
 * worker: a worker takes over a tenant left "running" by a worker that is
 * gone, and when no worker of a running rollout is alive (a crash, a
 * restart, a promotion), tenant_reconcile() starts its workers again; the
 * launcher does that at server start when migr is preloaded, and
 * migr_wait() does it otherwise.  A tenant whose transaction was
 * interrupted rolled back whole, so upgrading it again is always right.  No
 * worker runs on a standby.
 *
 * Copyright (c) 2026, migr developers
 *
 * IDENTIFICATION
 *	  src/tenant/rollout.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/lmgr.h"
#include "storage/proc.h"
#include "storage/procarray.h"
#include "tcop/tcopprot.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"

#include "migr.h"
#include "tenant/tenant.h"

PG_FUNCTION_INFO_V1(migr_upgrade_tenants);

static MigrQuery q_new = {
	"INSERT INTO migr.rollout (target, workers, role, login_role, settings,"
	"  queued_xid, state, queued_at)"
	" VALUES ($1, $2, $3, $4, $5, pg_catalog.pg_current_xact_id(), 'running',"
	"  pg_catalog.now())"
	" RETURNING id",
	5, {TEXTOID, INT4OID, NAMEOID, NAMEOID, TEXTARRAYOID}, NULL
};

/* a schema named by the caller becomes a tenant */
static MigrQuery q_adopt = {
	"INSERT INTO migr.tenant (tenant, updated_at)"
	" SELECT t, pg_catalog.clock_timestamp() FROM pg_catalog.unnest($1) t"
	" ON CONFLICT (tenant) DO NOTHING",
	1, {TEXTARRAYOID}, NULL
};

static MigrQuery q_enqueue = {
	"UPDATE migr.tenant SET state = 'queued', rollout = $1, error = NULL,"
	"  worker_pid = NULL, target = $2,"
	"  updated_at = pg_catalog.clock_timestamp()"
	" WHERE $3::pg_catalog.text[] IS NULL"
	"    OR tenant OPERATOR(pg_catalog.=) ANY ($3::pg_catalog.text[])",
	3, {INT8OID, TEXTOID, TEXTARRAYOID}, NULL, true
};

static MigrQuery q_pids = {
	"UPDATE migr.rollout SET pids = $2 WHERE id OPERATOR(pg_catalog.=) $1",
	2, {INT8OID, INT4ARRAYOID}, NULL
};

static MigrQuery q_finish = {
	"UPDATE migr.rollout SET state = 'done', finished_at = pg_catalog.now()"
	" WHERE id OPERATOR(pg_catalog.=) $1"
	"   AND state OPERATOR(pg_catalog.=) 'running'"
	"   AND NOT EXISTS (SELECT 1 FROM migr.tenant t"
	"                    WHERE t.rollout OPERATOR(pg_catalog.=) $1"
	"                      AND t.state OPERATOR(pg_catalog.=) ANY (ARRAY['queued', 'running']))",
	1, {INT8OID}, NULL, true
};

static MigrQuery q_lock = {
	"SELECT target, settings, state FROM migr.rollout"
	" WHERE id OPERATOR(pg_catalog.=) $1 FOR UPDATE",
	1, {INT8OID}, NULL
};

static MigrQuery q_read = {
	"SELECT target, settings, state FROM migr.rollout"
	" WHERE id OPERATOR(pg_catalog.=) $1",
	1, {INT8OID}, NULL
};

/*
 * The next tenant: a queued one, or one left running by a worker that is
 * gone (its transaction rolled back whole).  Through migr.tenant's partial
 * index of unfinished tenants, so that claiming stays cheap however many
 * are done.
 */
static MigrQuery q_claim = {
	"UPDATE migr.tenant SET state = 'running', worker_pid = $2,"
	"  updated_at = pg_catalog.clock_timestamp()"
	" WHERE tenant OPERATOR(pg_catalog.=)"
	"       (SELECT t.tenant FROM migr.tenant t"
	"         WHERE t.rollout OPERATOR(pg_catalog.=) $1"
	"           AND t.state OPERATOR(pg_catalog.=) ANY (ARRAY['queued', 'running'])"
	"           AND (t.state OPERATOR(pg_catalog.=) 'queued'"
	"                OR NOT EXISTS (SELECT 1 FROM pg_catalog.pg_stat_activity a"
	"                                WHERE a.pid OPERATOR(pg_catalog.=) t.worker_pid))"
	"         ORDER BY t.rollout, t.tenant LIMIT 1 FOR UPDATE SKIP LOCKED)"
	" RETURNING tenant",
	2, {INT8OID, INT4OID}, NULL
};

/* a worker records itself, so that nobody starts another in its place */
static MigrQuery q_register = {
	"UPDATE migr.rollout SET pids = pg_catalog.array_append(pids, $2)"
	" WHERE id OPERATOR(pg_catalog.=) $1"
	"   AND NOT ($2 OPERATOR(pg_catalog.=) ANY (pids))",
	2, {INT8OID, INT4OID}, NULL
};

static MigrQuery q_running = {
	"SELECT id, role, workers, pids FROM migr.rollout"
	" WHERE state OPERATOR(pg_catalog.=) 'running' ORDER BY id",
	0, {0}, NULL, true
};

static MigrQuery q_any_running = {
	"SELECT EXISTS (SELECT 1 FROM migr.rollout"
	"                WHERE state OPERATOR(pg_catalog.=) 'running')",
	0, {0}, NULL, true
};

static MigrQuery q_extschema = {
	"SELECT n.nspname FROM pg_catalog.pg_extension e"
	"  JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) e.extnamespace"
	" WHERE e.extname OPERATOR(pg_catalog.=) 'migr'",
	0, {0}, NULL, true
};

/* tenants a worker upgrades between two resets of its caches */
#define ROLLOUT_CACHE_RESET 50

/* the rollout a worker works on, in its long-lived context */
typedef struct Rollout
{
	int64		id;
	char	   *target;
	List	   *settings;
	char	   *upgrade_sql;	/* migr_upgrade($1, tenant => $2) */
	Oid			roleid;
} Rollout;

static ArrayType *rollout_launch(int64 id, Oid roleid, int workers,
								 bool wait);
static void rollout_begin(void);
static void rollout_commit(void);
static bool rollout_load(Rollout *r);
static void rollout_apply_settings(Rollout *r);
static void rollout_register(Rollout *r);
static char *rollout_claim(Rollout *r);
static void rollout_tenant(Rollout *r, const char *tenant);
static void rollout_finish(Rollout *r);

/*
 * rollout_launch
 *		Start the workers of a rollout, as roleid, each waiting for the
 *		current transaction to commit.  Returns their pids.
 */
static ArrayType *
rollout_launch(int64 id, Oid roleid, int workers, bool wait)
{
	Datum	   *pids = palloc(sizeof(Datum) * workers);
	int			i;

	for (i = 0; i < workers; i++)
	{
		BackgroundWorker worker;
		BackgroundWorkerHandle *handle;
		MigrWorkerArgs args;
		pid_t		pid;

		memset(&args, 0, sizeof(args));
		args.mode = MIGR_WORKER_ROLLOUT;
		args.dboid = MyDatabaseId;
		args.roleid = roleid;
		args.loginid = job_login_role(roleid);
		args.wait_xid = wait ?
			U64FromFullTransactionId(GetTopFullTransactionId()) : 0;
		args.rollout = id;
		job_worker_entry(&worker, "migr rollout worker", &args);
		snprintf(worker.bgw_function_name, BGW_MAXLEN, "migr_rollout_main");
		if (!RegisterDynamicBackgroundWorker(&worker, &handle))
			ereport(ERROR,
					(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
					 errmsg("could not start a migr rollout worker"),
					 errdetail("%d of the %d workers were started.", i, workers),
					 errhint("Raise max_worker_processes (now %d), or ask for fewer workers.",
							 max_worker_processes)));
		if (WaitForBackgroundWorkerStartup(handle, &pid) != BGWH_STARTED)
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_RESOURCES),
					 errmsg("could not start a migr rollout worker"),
					 errhint("More details may be available in the server log.")));
		pids[i] = Int32GetDatum((int32) pid);
	}
	return construct_array(pids, workers, INT4OID, sizeof(int32), true,
						   TYPALIGN_INT);
}

/*
 * migr_upgrade_tenants(target text, tenants text[], workers int)
 *		returns bigint
 */
Datum
migr_upgrade_tenants(PG_FUNCTION_ARGS)
{
	char	   *target = migr_arg_text(fcinfo, 0, "target");
	List	   *tenants = NIL;
	int			workers;
	MigrCatalogUser save;
	MigrGraph  *g;
	MigrTarget *t;
	Datum		values[5];
	char		nulls[5] = {' ', ' ', ' ', ' ', ' '};
	ListCell   *lc;
	int64		id;
	uint64		count;
	bool		isnull;

	if (PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("workers must not be null")));
	workers = PG_GETARG_INT32(2);
	if (workers < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("workers must be at least 1")));
	if (workers > max_worker_processes)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("workers must not exceed max_worker_processes (%d)",
						max_worker_processes)));
	if (!PG_ARGISNULL(1))
		tenants = migr_array_list(PG_GETARG_ARRAYTYPE_P(1), "tenants");
	foreach(lc, tenants)
		tenant_check_name(lfirst(lc));

	catalog_connect();
	catalog_lock_define("migr_upgrade_tenants()");
	g = catalog_load_graph();
	t = target_resolve(g, target);
	if (t->base || target[0] == '+' || target[0] == '-')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot upgrade tenants to \"%s\"", target),
				 errdetail("A rollout's target names revisions, the same for every tenant."),
				 errhint("Give a revision, a label or \"head\"; migr_downgrade(target, tenant => ...) moves one tenant down.")));

	values[0] = CStringGetTextDatum(target);
	values[1] = Int32GetDatum(workers);
	values[2] = DirectFunctionCall1(namein,
									CStringGetDatum(GetUserNameFromId(GetUserId(), false)));
	values[3] = DirectFunctionCall1(namein,
									CStringGetDatum(GetUserNameFromId(GetSessionUserId(), false)));
	values[4] = PointerGetDatum(job_capture_settings());
	catalog_become_owner(&save);
	catalog_run_expect(&q_new, values, NULL, SPI_OK_INSERT_RETURNING,
					   "record the rollout");
	id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0],
									 SPI_tuptable->tupdesc, 1, &isnull));
	if (tenants != NIL)
	{
		values[0] = PointerGetDatum(migr_text_array(tenants));
		catalog_run_expect(&q_adopt, values, NULL, SPI_OK_INSERT,
						   "record the tenants");
	}
	values[0] = Int64GetDatum(id);
	values[1] = CStringGetTextDatum(target);
	if (!PG_ARGISNULL(1))
		values[2] = PointerGetDatum(migr_text_array(tenants));
	else
		nulls[2] = 'n';
	catalog_run_expect(&q_enqueue, values, nulls, SPI_OK_UPDATE,
					   "queue the tenants");
	count = SPI_processed;
	if (count == 0)
		catalog_run_expect(&q_finish, values, NULL, SPI_OK_UPDATE,
						   "record the rollout");
	else
	{
		values[1] = PointerGetDatum(rollout_launch(id, GetUserId(),
												   (int) Min((uint64) workers, count),
												   true));
		catalog_run_expect(&q_pids, values, NULL, SPI_OK_UPDATE,
						   "record the rollout's workers");
	}
	catalog_restore_user(&save);
	catalog_finish();
	PG_RETURN_INT64(id);
}

/*
 * tenant_rollouts_pending
 *		For migr_wait(): whether a rollout is still running.  Must run
 *		inside SPI.
 */
bool
tenant_rollouts_pending(void)
{
	MigrCatalogUser save;
	bool		isnull;
	bool		running;

	catalog_become_owner(&save);
	catalog_run_expect(&q_any_running, NULL, NULL, SPI_OK_SELECT,
					   "read migr.rollout");
	catalog_restore_user(&save);
	running = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0],
										 SPI_tuptable->tupdesc, 1, &isnull));
	SPI_freetuptable(SPI_tuptable);
	return running;
}

/*
 * tenant_reconcile
 *		Resume the running rollouts none of whose workers is alive: start
 *		their workers again.  It writes nothing (so that migr_wait(), which
 *		calls it and then waits, never holds up the workers it starts): the
 *		new workers record themselves, and take over the tenants the old
 *		ones left running.  Must run inside SPI; never on a standby.
 */
void
tenant_reconcile(void)
{
	MigrCatalogUser save;
	SPITupleTable *tt;
	uint64		n;
	uint64		i;

	if (RecoveryInProgress())
		return;
	catalog_become_owner(&save);
	catalog_run_expect(&q_running, NULL, NULL, SPI_OK_SELECT,
					   "read migr.rollout");
	catalog_restore_user(&save);
	tt = SPI_tuptable;
	n = SPI_processed;
	for (i = 0; i < n; i++)
	{
		HeapTuple	tup = tt->vals[i];
		bool		isnull;
		int64		id = DatumGetInt64(SPI_getbinval(tup, tt->tupdesc, 1, &isnull));
		Oid			roleid = get_role_oid(SPI_getvalue(tup, tt->tupdesc, 2), true);
		int			workers = DatumGetInt32(SPI_getbinval(tup, tt->tupdesc, 3, &isnull));
		ArrayType  *pids = DatumGetArrayTypeP(SPI_getbinval(tup, tt->tupdesc, 4, &isnull));
		Datum	   *elems;
		bool	   *enulls;
		int			npids;
		int			k;
		bool		alive = false;

		deconstruct_array(pids, INT4OID, sizeof(int32), true, TYPALIGN_INT,
						  &elems, &enulls, &npids);
		for (k = 0; k < npids && !alive; k++)
			alive = BackendPidGetProc(DatumGetInt32(elems[k])) != NULL;
		if (alive || !OidIsValid(roleid))
			continue;
		ereport(LOG,
				(errmsg("migr: resuming tenant rollout " INT64_FORMAT " whose workers are gone",
						id)));
		(void) rollout_launch(id, roleid, workers, false);
	}
	SPI_freetuptable(tt);
}

/* the worker's transactions, with SPI and a snapshot */
static void
rollout_begin(void)
{
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	catalog_connect();
	PushActiveSnapshot(GetTransactionSnapshot());
}

static void
rollout_commit(void)
{
	PopActiveSnapshot();
	catalog_finish();
	CommitTransactionCommand();
}

/*
 * rollout_load
 *		The rollout's target and settings, and how to call migr_upgrade();
 *		false if it is no longer running.
 */
static bool
rollout_load(Rollout *r)
{
	Datum		values[1];
	bool		isnull;
	bool		running;
	MemoryContext old;

	rollout_begin();
	values[0] = Int64GetDatum(r->id);
	catalog_run_expect(&q_read, values, NULL, SPI_OK_SELECT, "read migr.rollout");
	running = SPI_processed == 1 &&
		strcmp(SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3),
			   "running") == 0;
	if (running)
	{
		HeapTuple	tup = SPI_tuptable->vals[0];
		TupleDesc	desc = SPI_tuptable->tupdesc;

		old = MemoryContextSwitchTo(worker_context());
		r->target = SPI_getvalue(tup, desc, 1);
		r->settings = migr_array_list(DatumGetArrayTypeP(SPI_getbinval(tup, desc, 2, &isnull)),
									  "settings");
		MemoryContextSwitchTo(old);
		catalog_run_expect(&q_extschema, NULL, NULL, SPI_OK_SELECT,
						   "find extension \"migr\"");
		old = MemoryContextSwitchTo(worker_context());
		r->upgrade_sql = psprintf("SELECT pg_catalog.count(*) FROM %s.migr_upgrade($1, tenant => $2)",
								  quote_identifier(SPI_getvalue(SPI_tuptable->vals[0],
																SPI_tuptable->tupdesc, 1)));
		MemoryContextSwitchTo(old);
	}
	rollout_commit();
	return running;
}

/*
 * rollout_register
 *		Add this worker's pid to the rollout's.
 */
static void
rollout_register(Rollout *r)
{
	Datum		values[2];
	MigrCatalogUser save;

	rollout_begin();
	values[0] = Int64GetDatum(r->id);
	values[1] = Int32GetDatum(MyProcPid);
	catalog_become_owner(&save);
	catalog_run_expect(&q_register, values, NULL, SPI_OK_UPDATE,
					   "record the rollout's worker");
	catalog_restore_user(&save);
	rollout_commit();
}

/*
 * rollout_apply_settings
 *		The settings of the session that started the rollout, as a job
 *		worker applies its job's, with the role's own right to set them.
 */
static void
rollout_apply_settings(Rollout *r)
{
	GucContext	context;
	ListCell   *lc;

	StartTransactionCommand();
	context = superuser() ? PGC_SUSET : PGC_USERSET;
	foreach(lc, r->settings)
	{
		char	   *item = pstrdup(lfirst(lc));
		char	   *eq = strchr(item, '=');

		if (eq == NULL)
			continue;
		*eq = '\0';
		(void) set_config_option(item, eq + 1, context, PGC_S_SESSION,
								 GUC_ACTION_SET, true, WARNING, false);
	}
	CommitTransactionCommand();
}

/*
 * rollout_claim
 *		The next queued tenant of the rollout, marked running by this
 *		worker; NULL when none is left.
 */
static char *
rollout_claim(Rollout *r)
{
	Datum		values[2];
	char	   *tenant = NULL;
	MigrCatalogUser save;

	rollout_begin();
	values[0] = Int64GetDatum(r->id);
	values[1] = Int32GetDatum(MyProcPid);
	catalog_become_owner(&save);
	catalog_run_expect(&q_claim, values, NULL, SPI_OK_UPDATE_RETURNING,
					   "claim a tenant");
	catalog_restore_user(&save);
	if (SPI_processed == 1)
	{
		MemoryContext old = MemoryContextSwitchTo(worker_context());

		tenant = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
		MemoryContextSwitchTo(old);
	}
	rollout_commit();
	return tenant;
}

/*
 * rollout_tenant
 *		Upgrade one tenant in a transaction of its own; on error, roll it
 *		back and record the error on the tenant's row.  Then run the jobs
 *		its upgrade queued, if any.
 */
static void
rollout_tenant(Rollout *r, const char *tenant)
{
	MemoryContext cxt = CurrentMemoryContext;
	ErrorData  *volatile edata = NULL;
	Oid			argtypes[2] = {TEXTOID, TEXTOID};
	Datum		values[2];

	pgstat_report_activity(STATE_RUNNING,
						   psprintf("upgrading tenant %s", tenant));
	PG_TRY();
	{
		rollout_begin();
		values[0] = CStringGetTextDatum(r->target);
		values[1] = CStringGetTextDatum(tenant);
		if (SPI_execute_with_args(r->upgrade_sql, 2, argtypes, values, NULL,
								  false, 0) != SPI_OK_SELECT)
			elog(ERROR, "could not upgrade tenant \"%s\"", tenant);
		rollout_commit();
	}
	PG_CATCH();
	{
		/* as worker_try_job: copy, abort, then flush */
		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		HOLD_INTERRUPTS();
		EmitErrorReport();
		AbortOutOfAnyTransaction();
		FlushErrorState();
		RESUME_INTERRUPTS();
	}
	PG_END_TRY();

	if (edata != NULL)
	{
		rollout_begin();
		tenant_record_failure(tenant, job_error_text(edata));
		rollout_commit();
		FreeErrorData(edata);
		return;
	}

	/* the jobs it queued (a concurrent index build): this worker runs them */
	catalog_set_tenant(tenant);
	(void) worker_run_queue(r->roleid);
	catalog_set_tenant(NULL);
}

/*
 * rollout_finish
 *		Mark the rollout done if no tenant of it is left.  The rollout's row
 *		is locked first, so that of two workers finishing at once the second
 *		sees what the first committed.
 */
static void
rollout_finish(Rollout *r)
{
	Datum		values[1];
	MigrCatalogUser save;

	rollout_begin();
	values[0] = Int64GetDatum(r->id);
	catalog_become_owner(&save);
	catalog_run_expect(&q_lock, values, NULL, SPI_OK_SELECT,
					   "lock the rollout");
	catalog_run_expect(&q_finish, values, NULL, SPI_OK_UPDATE,
					   "record the rollout");
	catalog_restore_user(&save);
	rollout_commit();
}

/*
 * migr_rollout_main
 *		Entry point of a rollout worker.
 */
void
migr_rollout_main(Datum main_arg)
{
	MigrWorkerArgs args;
	Rollout		r;
	MemoryContext tenantcxt;
	FullTransactionId fxid;
	uint64		done = 0;

	memcpy(&args, MyBgworkerEntry->bgw_extra, sizeof(args));
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	worker_connect(&args);
	MemoryContextSwitchTo(worker_context());
	pgstat_report_appname("migr rollout worker");

	/* the caller's transaction first: nothing is queued if it rolls back */
	fxid = FullTransactionIdFromU64(args.wait_xid);
	if (FullTransactionIdIsValid(fxid))
	{
		pgstat_report_activity(STATE_RUNNING, "waiting for the rollout's transaction to end");
		StartTransactionCommand();
		XactLockTableWait(XidFromFullTransactionId(fxid), NULL, NULL, XLTW_None);
		CommitTransactionCommand();
	}

	memset(&r, 0, sizeof(r));
	r.id = args.rollout;
	r.roleid = args.roleid;
	if (!rollout_load(&r))
		proc_exit(0);
	rollout_register(&r);
	rollout_apply_settings(&r);
	pgstat_report_appname("migr rollout worker");
	job_run_inline = true;

	tenantcxt = AllocSetContextCreate(worker_context(), "migr rollout tenant",
									  ALLOCSET_DEFAULT_SIZES);
	for (;;)
	{
		char	   *tenant;

		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
		tenant = rollout_claim(&r);
		if (tenant == NULL)
			break;
		MemoryContextSwitchTo(tenantcxt);
		rollout_tenant(&r, tenant);
		MemoryContextSwitchTo(worker_context());
		MemoryContextReset(tenantcxt);
		pfree(tenant);

		/*
		 * Every tenant's tables enter this backend's relation and catalog
		 * caches, which the server never shrinks: forget them now and then,
		 * so that a worker's memory does not grow with the number of
		 * tenants it upgrades (what is still needed is read again).
		 */
		if (++done % ROLLOUT_CACHE_RESET == 0)
		{
			StartTransactionCommand();
			InvalidateSystemCaches();
			CommitTransactionCommand();
		}

		/*
		 * A client's backend hands its table statistics over when idle; a
		 * worker must do it itself, or their pending entries (one per table
		 * of every tenant) pile up in its memory.
		 */
		pgstat_report_stat(false);
	}
	rollout_finish(&r);
	pgstat_report_activity(STATE_IDLE, NULL);
	proc_exit(0);
}

/*-------------------------------------------------------------------------
 *
 * job.c
 *	  The queue of background jobs: statements that cannot run in a
 *	  transaction block, and the revisions queued behind them.
 *
 * When an upgrade reaches a statement such as CREATE INDEX CONCURRENTLY on
 * an existing table, the revision has run up to that statement; the rest
 * of it and every later revision toward the target become rows of
 * migr.job, in the caller's transaction, and a background worker is
 * started as the calling role.  The worker first waits for that
 * transaction to end: if it rolled back, the rows never existed and the
 * worker finds nothing to do.
 *
 * While jobs are queued or running, nobody applies anything out of order
 * and nobody waits for the worker: migr_upgrade() returns at once with the
 * queued revisions and a NOTICE.  A job whose worker is gone (crash,
 * immediate shutdown, pg_terminate_backend) is resumed by a new worker,
 * started by the launcher at server start or by the next migr call in the
 * database.
 *
 * Copyright (c) 2026, migr developers
 *
 * IDENTIFICATION
 *	  src/job.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "storage/procarray.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/guc_tables.h"
#include "utils/syscache.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "migr.h"

PG_FUNCTION_INFO_V1(migr_jobs);
PG_FUNCTION_INFO_V1(migr_wait);
PG_FUNCTION_INFO_V1(migr_retry);
PG_FUNCTION_INFO_V1(migr_cancel);

/*
 * Settings a worker never takes over, beyond those RESET ALL leaves alone
 * (role, session_authorization, the transaction's): those of the client
 * connection, which a worker does not have.
 */
static const char *const job_settings_skipped[] = {
	"application_name", "client_encoding", NULL
};

static MigrQuery q_insert = {
	"INSERT INTO migr.job (revision, first_statement, next_statement,"
	"  statement, target, role, login_role, settings, queued_xid, state,"
	"  queued_at)"
	" VALUES ($1, $2, $2, $3, $4, $5, $7, $6, pg_catalog.pg_current_xact_id(),"
	"  'queued', pg_catalog.now())",
	7, {TEXTOID, INT4OID, TEXTOID, TEXTOID, NAMEOID, TEXTARRAYOID, NAMEOID}, NULL
};

/*
 * The same where migr.job has a tenant column (1.2): each tenant's jobs are
 * a queue of their own, and the shared queue is the jobs without one.  The
 * tenant is the last parameter, NULL for the shared queue.
 */
static MigrQuery q_t_insert = {
	"INSERT INTO migr.job (revision, first_statement, next_statement,"
	"  statement, target, role, login_role, settings, queued_xid, state,"
	"  queued_at, tenant)"
	" VALUES ($1, $2, $2, $3, $4, $5, $7, $6, pg_catalog.pg_current_xact_id(),"
	"  'queued', pg_catalog.now(), $8)",
	8, {TEXTOID, INT4OID, TEXTOID, TEXTOID, NAMEOID, TEXTARRAYOID, NAMEOID,
	TEXTOID}, NULL
};

static MigrQuery q_t_set_pid = {
	"UPDATE migr.job SET worker_pid = $1"
	" WHERE state OPERATOR(pg_catalog.=) ANY (ARRAY['queued', 'running'])"
	"   AND tenant IS NOT DISTINCT FROM $2",
	2, {INT4OID, TEXTOID}, NULL
};

static MigrQuery q_t_pending = {
	"SELECT j.id, j.revision, r.message, j.state, j.statement, j.worker_pid,"
	"       j.role, j.error, j.sqlstate, j.login_role"
	"  FROM migr.job j"
	"  JOIN migr.revision r ON r.id OPERATOR(pg_catalog.=) j.revision"
	" WHERE j.state OPERATOR(pg_catalog.=) ANY (ARRAY['queued', 'running', 'failed'])"
	"   AND j.tenant IS NOT DISTINCT FROM $1"
	" ORDER BY j.id",
	1, {TEXTOID}, NULL
};

/* the first unfinished job of each queue, for job_reconcile() */
static MigrQuery q_t_queues = {
	"SELECT DISTINCT ON (j.tenant) j.tenant, j.state, j.worker_pid, j.role"
	"  FROM migr.job j"
	" WHERE j.state OPERATOR(pg_catalog.=) ANY (ARRAY['queued', 'running', 'failed'])"
	" ORDER BY j.tenant, j.id",
	0, {0}, NULL, true
};

/*
 * migr_wait(): jobs of any queue still to run, but not those of a tenant
 * whose queue a failed job stopped (that tenant's failure is recorded in
 * migr.tenant), nor that failed job itself.
 */
static MigrQuery q_t_waiting = {
	"SELECT EXISTS (SELECT 1 FROM migr.job j"
	"  WHERE j.state OPERATOR(pg_catalog.=) ANY (ARRAY['queued', 'running'])"
	"    AND j.tenant IS NOT NULL"
	"    AND NOT EXISTS (SELECT 1 FROM migr.job f"
	"                     WHERE f.tenant OPERATOR(pg_catalog.=) j.tenant"
	"                       AND f.state OPERATOR(pg_catalog.=) 'failed'))",
	0, {0}, NULL
};

static MigrQuery q_t_next = {
	"UPDATE migr.job SET state = 'running', worker_pid = $1,"
	"  started_at = COALESCE(started_at, pg_catalog.now())"
	" WHERE id OPERATOR(pg_catalog.=)"
	"       (SELECT id FROM migr.job"
	"         WHERE state OPERATOR(pg_catalog.=) ANY (ARRAY['queued', 'running'])"
	"           AND tenant IS NOT DISTINCT FROM $2"
	"         ORDER BY id LIMIT 1 FOR UPDATE)"
	"   AND state OPERATOR(pg_catalog.=) ANY (ARRAY['queued', 'running'])"
	" RETURNING id, revision, next_statement, settings, role, target",
	2, {INT4OID, TEXTOID}, NULL
};

static MigrQuery q_t_cancel = {
	"WITH c AS (SELECT id, state, worker_pid FROM migr.job"
	"            WHERE id OPERATOR(pg_catalog.>=) $1"
	"              AND state OPERATOR(pg_catalog.=) ANY (ARRAY['queued', 'running', 'failed'])"
	"              AND tenant IS NOT DISTINCT FROM"
	"                  (SELECT tenant FROM migr.job WHERE id OPERATOR(pg_catalog.=) $1)"
	"            FOR UPDATE)"
	" UPDATE migr.job j SET state = 'cancelled',"
	"        finished_at = pg_catalog.now()"
	"   FROM c WHERE j.id OPERATOR(pg_catalog.=) c.id"
	" RETURNING c.id, c.state, c.worker_pid, j.tenant",
	1, {INT8OID}, NULL
};

static MigrQuery q_t_retry = {
	"UPDATE migr.job SET state = 'queued', attempts = 0, error = NULL,"
	"  sqlstate = NULL, finished_at = NULL"
	" WHERE id OPERATOR(pg_catalog.=) $1"
	"   AND state OPERATOR(pg_catalog.=) 'failed'"
	" RETURNING role, login_role, tenant",
	1, {INT8OID}, NULL
};

static MigrQuery q_set_pid = {
	"UPDATE migr.job SET worker_pid = $1"
	" WHERE state OPERATOR(pg_catalog.=) ANY (ARRAY['queued', 'running'])",
	1, {INT4OID}, NULL
};

static MigrQuery q_pending = {
	"SELECT j.id, j.revision, r.message, j.state, j.statement, j.worker_pid,"
	"       j.role, j.error, j.sqlstate, j.login_role"
	"  FROM migr.job j"
	"  JOIN migr.revision r ON r.id OPERATOR(pg_catalog.=) j.revision"
	" WHERE j.state OPERATOR(pg_catalog.=) ANY (ARRAY['queued', 'running', 'failed'])"
	" ORDER BY j.id",
	0, {0}, NULL
};

static MigrQuery q_own = {
	"SELECT EXISTS (SELECT 1 FROM migr.job"
	"  WHERE state OPERATOR(pg_catalog.=) ANY (ARRAY['queued', 'running'])"
	"    AND queued_xid OPERATOR(pg_catalog.=) pg_catalog.pg_current_xact_id_if_assigned())",
	0, {0}, NULL
};

/* somebody (an index build) waits for this transaction to end */
static MigrQuery q_waited_on = {
	"SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_locks"
	"  WHERE locktype OPERATOR(pg_catalog.=) 'virtualxid'"
	"    AND virtualxid OPERATOR(pg_catalog.=) $1 AND NOT granted)",
	1, {TEXTOID}, NULL, true
};

static MigrQuery q_list = {
	"SELECT id, revision, statement, state, attempts, error, queued_at,"
	"       finished_at"
	"  FROM migr.job ORDER BY id",
	0, {0}, NULL, true
};

static MigrQuery q_retry = {
	"UPDATE migr.job SET state = 'queued', attempts = 0, error = NULL,"
	"  sqlstate = NULL, finished_at = NULL"
	" WHERE id OPERATOR(pg_catalog.=) $1"
	"   AND state OPERATOR(pg_catalog.=) 'failed'"
	" RETURNING role, login_role",
	1, {INT8OID}, NULL
};

static MigrQuery q_cancel = {
	"WITH c AS (SELECT id, state, worker_pid FROM migr.job"
	"            WHERE id OPERATOR(pg_catalog.>=) $1"
	"              AND state OPERATOR(pg_catalog.=) ANY (ARRAY['queued', 'running', 'failed'])"
	"            FOR UPDATE)"
	" UPDATE migr.job j SET state = 'cancelled',"
	"        finished_at = pg_catalog.now()"
	"   FROM c WHERE j.id OPERATOR(pg_catalog.=) c.id"
	" RETURNING c.id, c.state, c.worker_pid",
	1, {INT8OID}, NULL
};

static MigrQuery q_cancel_worker = {
	"SELECT pg_catalog.pg_cancel_backend($1)",
	1, {INT4OID}, NULL, true
};

/*
 * A worker's queries.  Every change of a job's state is a compare-and-set:
 * the UPDATE names the state it expects, waits for a concurrent
 * migr_cancel()'s row lock, then skips a row that changed meanwhile, and
 * the caller checks the row count.
 *
 * NB: the state in the WHERE clause is what makes this safe, not the row
 * lock alone.  Under READ COMMITTED, an UPDATE that waited for another
 * transaction's row lock re-evaluates its WHERE clause on the row as that
 * transaction left it (EvalPlanQual), so a worker's update after a
 * committed migr_cancel() finds the row 'cancelled' and changes nothing.
 * Without the state test the worker would overwrite the cancel, and a job
 * the user cancelled would be recorded done or queued again.  So a cancel
 * always wins over a worker's later update.
 */
static MigrQuery q_next = {
	"UPDATE migr.job SET state = 'running', worker_pid = $1,"
	"  started_at = COALESCE(started_at, pg_catalog.now())"
	" WHERE id OPERATOR(pg_catalog.=)"
	"       (SELECT id FROM migr.job"
	"         WHERE state OPERATOR(pg_catalog.=) ANY (ARRAY['queued', 'running'])"
	"         ORDER BY id LIMIT 1 FOR UPDATE)"
	"   AND state OPERATOR(pg_catalog.=) ANY (ARRAY['queued', 'running'])"
	" RETURNING id, revision, next_statement, settings, role, target",
	1, {INT4OID}, NULL
};

static MigrQuery q_progress = {
	"UPDATE migr.job SET next_statement = $2"
	" WHERE id OPERATOR(pg_catalog.=) $1"
	"   AND state OPERATOR(pg_catalog.=) 'running'",
	2, {INT8OID, INT4OID}, NULL
};

static MigrQuery q_done = {
	"UPDATE migr.job SET state = 'done', error = NULL, sqlstate = NULL,"
	"  finished_at = pg_catalog.now()"
	" WHERE id OPERATOR(pg_catalog.=) $1"
	"   AND state OPERATOR(pg_catalog.=) 'running'",
	1, {INT8OID}, NULL
};

/* after a failed attempt, the job goes on, from where it stopped */
static MigrQuery q_resume = {
	"UPDATE migr.job SET state = 'running'"
	" WHERE id OPERATOR(pg_catalog.=) $1"
	"   AND state OPERATOR(pg_catalog.=) 'queued'"
	" RETURNING next_statement",
	1, {INT8OID}, NULL
};

static MigrQuery q_fail = {
	"UPDATE migr.job SET state = $2, attempts = attempts OPERATOR(pg_catalog.+) 1,"
	"  error = $3, sqlstate = $4,"
	"  finished_at = CASE WHEN $2 OPERATOR(pg_catalog.=) 'failed'"
	"                     THEN pg_catalog.now() END"
	" WHERE id OPERATOR(pg_catalog.=) $1"
	"   AND state OPERATOR(pg_catalog.=) 'running'"
	" RETURNING attempts",
	4, {INT8OID, TEXTOID, TEXTOID, TEXTOID}, NULL
};

static MigrQuery q_attempts = {
	"SELECT attempts FROM migr.job WHERE id OPERATOR(pg_catalog.=) $1",
	1, {INT8OID}, NULL
};

/* a job of this revision is queued, running or failed */
static MigrQuery q_rev_queued = {
	"SELECT EXISTS (SELECT 1 FROM migr.job"
	"  WHERE revision OPERATOR(pg_catalog.=) $1"
	"    AND state OPERATOR(pg_catalog.=) ANY (ARRAY['queued', 'running', 'failed']))",
	1, {TEXTOID}, NULL
};

/* for migr_check(): failed jobs, and jobs queued with no live worker */
static MigrQuery q_check = {
	"SELECT id, revision, state, error, worker_pid"
	"  FROM migr.job"
	" WHERE state OPERATOR(pg_catalog.=) ANY (ARRAY['queued', 'running', 'failed'])"
	" ORDER BY id",
	0, {0}, NULL, true
};

static bool job_tenant_queues(void);
static void job_run_tenant(MigrQuery *q, Datum *values, const char *nulls,
						   int n, int expected, const char *what);
static bool job_setting_captured(struct config_generic *gconf);
static void job_check_not_in_script(const char *fname);
static void job_check_restrictions(void);
static bool job_worker_alive(int pid);
static void job_check_own(const char *fname);
static void job_raise_failed(HeapTuple tup, TupleDesc desc);
static void job_split_error(char *error, char **detail, char **hint);
static void job_clear_xmin(void);
static bool job_pending(List **revisions, List **messages, bool notice);
static void job_reconcile_queues(void);
static void job_launch_for(const char *tenant, Oid roleid);
static void job_show_partial(List *partials, const char *job, Datum *error,
							 bool *isnull);

/*
 * job_capture_settings
 *		Every setting the caller's session gave a value of its own (SET,
 *		ALTER ROLE/DATABASE ... SET, the connection's options), as
 *		name=value: with them, and with the SETs of its own revision that it
 *		replays, a worker-run statement sees what it would have seen in
 *		line.  Called after the revision's own SETs were undone, so that
 *		the later revisions of the queue see none of them.
 */
ArrayType *
job_capture_settings(void)
{
	struct config_generic **gucs = get_guc_variables();
	int			n = GetNumConfigOptions();
	List	   *items = NIL;
	int			i;

	for (i = 0; i < n; i++)
	{
		const char *value;

		if (!job_setting_captured(gucs[i]))
			continue;
		value = GetConfigOption(gucs[i]->name, true, false);
		if (value != NULL)
			items = lappend(items, psprintf("%s=%s", gucs[i]->name, value));
	}
	return migr_text_array(items);
}

/*
 * job_setting_captured
 *		Whether a worker takes this setting over: one a session can change,
 *		that this session did change, and that is not about the session's
 *		identity, transaction or client.
 */
static bool
job_setting_captured(struct config_generic *gconf)
{
	int			i;

	if (gconf->context != PGC_USERSET && gconf->context != PGC_SUSET)
		return false;
	if (gconf->source < PGC_S_DATABASE || gconf->source == PGC_S_OVERRIDE)
		return false;
	/* role, session_authorization, transaction_isolation and the like */
	if (gconf->flags & GUC_NO_RESET_ALL)
		return false;
	for (i = 0; job_settings_skipped[i]; i++)
		if (strcmp(gconf->name, job_settings_skipped[i]) == 0)
			return false;
	return true;
}

/*
 * When set, job_queue() starts no worker: the caller is a worker that runs
 * the queue itself once its transaction commits (a tenant rollout).
 */
bool		job_run_inline = false;

/*
 * job_tenant_queues
 *		Whether migr.job has the tenant column (extension 1.2): then each
 *		tenant's jobs are a queue of their own.
 */
static bool
job_tenant_queues(void)
{
	return catalog_has_tenants();
}

/*
 * job_run_tenant
 *		Run a query of the tenant variants, with the current tenant (NULL:
 *		the shared queue) as parameter n + 1 after values[0..n-1].
 */
static void
job_run_tenant(MigrQuery *q, Datum *values, const char *nulls, int n,
			   int expected, const char *what)
{
	Datum		v[12];
	char		nl[12];
	const char *tenant = catalog_tenant();

	memcpy(v, values, sizeof(Datum) * n);
	if (nulls)
		memcpy(nl, nulls, n);
	else
		memset(nl, ' ', n);
	v[n] = tenant ? CStringGetTextDatum(tenant) : (Datum) 0;
	nl[n] = tenant ? ' ' : 'n';
	catalog_run_expect(q, v, nl, expected, "%s", what);
}

/*
 * job_worker_entry
 *		A dynamic worker running migr_worker_main with these arguments,
 *		reporting its start and end to this process.
 */
void
job_worker_entry(BackgroundWorker *worker, const char *type,
				 MigrWorkerArgs *args)
{
	memset(worker, 0, sizeof(BackgroundWorker));
	worker->bgw_flags = BGWORKER_SHMEM_ACCESS |
		BGWORKER_BACKEND_DATABASE_CONNECTION;
	worker->bgw_start_time = BgWorkerStart_RecoveryFinished;
	worker->bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(worker->bgw_library_name, BGW_MAXLEN, "migr");
	snprintf(worker->bgw_function_name, BGW_MAXLEN, "migr_worker_main");
	snprintf(worker->bgw_name, BGW_MAXLEN, "%s", type);
	snprintf(worker->bgw_type, BGW_MAXLEN, "%s", type);
	worker->bgw_notify_pid = MyProcPid;
	StaticAssertStmt(sizeof(MigrWorkerArgs) <= BGW_EXTRALEN,
					 "MigrWorkerArgs must fit in bgw_extra");
	memcpy(worker->bgw_extra, args, sizeof(MigrWorkerArgs));
}

/*
 * job_login_role
 *		The role a worker for roleid connects as: roleid itself when it may
 *		log in; otherwise (a NOLOGIN role, which the server does not let a
 *		background worker connect as) none, and the worker, connected as the
 *		bootstrap superuser, becomes roleid before it reads anything.
 */
Oid
job_login_role(Oid roleid)
{
	HeapTuple	tup;
	bool		canlogin;

	if (!OidIsValid(roleid))
		return InvalidOid;
	tup = SearchSysCache1(AUTHOID, ObjectIdGetDatum(roleid));
	if (!HeapTupleIsValid(tup))
		return InvalidOid;
	canlogin = ((Form_pg_authid) GETSTRUCT(tup))->rolcanlogin;
	ReleaseSysCache(tup);
	return canlogin ? roleid : InvalidOid;
}

/*
 * job_launch
 *		Start a worker as the given role in this database (InvalidOid: a
 *		worker that fails the jobs whose role is gone).  With a valid
 *		wait_xid, the worker first waits for that transaction to end.  No
 *		free slot is retried for a while, then error 53400: never a silent
 *		stall.  Returns the worker's pid.
 */
int
job_launch(Oid roleid, FullTransactionId wait_xid)
{
	BackgroundWorker worker;
	BackgroundWorkerHandle *handle = NULL;
	MigrWorkerArgs args;
	BgwHandleStatus status;
	pid_t		pid;
	int			tries;

	memset(&args, 0, sizeof(args));
	args.mode = MIGR_WORKER_JOBS;
	args.dboid = MyDatabaseId;
	args.roleid = roleid;
	args.loginid = job_login_role(roleid);
	args.wait_xid = U64FromFullTransactionId(wait_xid);
	/* a worker for the queue of the tenant being worked on, if any */
	if (catalog_tenant() != NULL)
		strlcpy(args.tenant, catalog_tenant(), NAMEDATALEN);
	job_worker_entry(&worker, "migr worker", &args);

	for (tries = 0; tries < 50; tries++)
	{
		if (RegisterDynamicBackgroundWorker(&worker, &handle))
			break;
		handle = NULL;
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 100L, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
	if (handle == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
				 errmsg("could not start a migr background worker"),
				 errdetail("Every background worker slot stayed in use for 5 seconds."),
				 errhint("Raise max_worker_processes (now %d), or retry when other background workers are done.",
						 max_worker_processes)));

	status = WaitForBackgroundWorkerStartup(handle, &pid);
	if (status == BGWH_STOPPED)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_RESOURCES),
				 errmsg("could not start a migr background worker"),
				 errhint("More details may be available in the server log.")));
	if (status == BGWH_POSTMASTER_DIED)
		ereport(ERROR,
				(errcode(ERRCODE_ADMIN_SHUTDOWN),
				 errmsg("cannot start a migr background worker without the postmaster"),
				 errhint("Kill all remaining database processes and restart the database.")));
	Assert(status == BGWH_STARTED);
	return (int) pid;
}

/*
 * job_check_restrictions
 *		A worker runs as the queuing context's current user, and always as
 *		if inside a security-definer function (no SET ROLE, RESET ROLE or
 *		SET SESSION AUTHORIZATION).  A security-restricted operation
 *		(REFRESH MATERIALIZED VIEW, VACUUM, ANALYZE, an index expression)
 *		restricts more than that: work cannot be handed on from inside one.
 */
static void
job_check_restrictions(void)
{
	if (InSecurityRestrictedOperation())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("cannot queue background jobs within security-restricted operation"),
				 errdetail("The upgrade reached a statement that must run in a background worker, and a worker cannot keep the restrictions of REFRESH MATERIALIZED VIEW, VACUUM, ANALYZE or an index expression."),
				 errhint("Call migr_upgrade() directly, outside such an operation.")));
}

/*
 * job_queue
 *		Queue the rest of a revision, from statement "first", and the whole
 *		of the revisions after it, then start a worker that waits for this
 *		transaction to commit.  Called by migr_upgrade() as the caller; the
 *		worker runs as the caller's current user (inside a security-definer
 *		function, its owner), never as the session user.
 */
void
job_queue(List *revisions, int first, const char *statement,
		  const char *target)
{
	MigrCatalogUser save;
	ListCell   *lc;
	Datum		values[7];
	char		nulls[7];
	ArrayType  *settings;
	Datum		role;
	Datum		login;
	FullTransactionId xid;
	int			pid;

	job_check_restrictions();
	settings = job_capture_settings();
	role = DirectFunctionCall1(namein,
							   CStringGetDatum(GetUserNameFromId(GetUserId(), false)));
	login = DirectFunctionCall1(namein,
								CStringGetDatum(GetUserNameFromId(GetSessionUserId(), false)));
	xid = GetTopFullTransactionId();

	catalog_become_owner(&save);
	foreach(lc, revisions)
	{
		bool		is_first = (lc == list_head(revisions));

		memset(nulls, ' ', sizeof(nulls));
		values[0] = CStringGetTextDatum((char *) lfirst(lc));
		values[1] = Int32GetDatum(is_first ? first : 1);
		if (is_first && statement)
			values[2] = CStringGetTextDatum(statement);
		else
			nulls[2] = 'n';
		values[3] = CStringGetTextDatum(target);
		values[4] = role;
		values[5] = PointerGetDatum(settings);
		values[6] = login;
		if (catalog_tenant() != NULL)
			job_run_tenant(&q_t_insert, values, nulls, 7, SPI_OK_INSERT,
						   "queue a revision");
		else
			catalog_run_expect(&q_insert, values, nulls, SPI_OK_INSERT,
							   "queue revision \"%s\"", (char *) lfirst(lc));
	}
	catalog_restore_user(&save);

	pid = job_run_inline ? MyProcPid : job_launch(GetUserId(), xid);

	values[0] = Int32GetDatum(pid);
	catalog_become_owner(&save);
	if (job_tenant_queues())
		job_run_tenant(&q_t_set_pid, values, NULL, 1, SPI_OK_UPDATE,
					   "record the worker of the queued jobs");
	else
		catalog_run_expect(&q_set_pid, values, NULL, SPI_OK_UPDATE,
						   "record the worker of the queued jobs");
	catalog_restore_user(&save);
}

/*
 * job_worker_alive
 *		Whether pid is a live process of this server.  A worker that has just
 *		been started may not show in pg_stat_activity yet, but it has its
 *		PGPROC.  (The pid of a worker that died being reused by another
 *		process at once would only delay the resumption to the next call.)
 */
static bool
job_worker_alive(int pid)
{
	return BackendPidGetProc(pid) != NULL;
}

/*
 * job_reconcile
 *		If queued or running jobs have no live worker (it crashed, was
 *		terminated, or the server restarted), start one.  The new worker
 *		drops what an interrupted build left behind and redoes it.  Two
 *		sessions doing this at once start two workers; the second waits for
 *		the migr lock behind the first and then finds nothing to do.
 */
void
job_reconcile(void)
{
	MigrCatalogUser save;
	char	   *role = NULL;
	bool		orphaned = false;
	uint64		i;

	/* a standby runs no job: its primary does, or it will once promoted */
	if (RecoveryInProgress())
		return;
	if (job_tenant_queues())
	{
		job_reconcile_queues();
		return;
	}
	catalog_become_owner(&save);
	catalog_run_expect(&q_pending, NULL, NULL, SPI_OK_SELECT,
					   "read the job queue");
	catalog_restore_user(&save);
	for (i = 0; i < SPI_processed && !orphaned; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		char	   *state = SPI_getvalue(tup, desc, 4);
		bool		isnull;
		int			pid;

		if (strcmp(state, "failed") == 0)
			break;				/* the queue is stopped: nothing to resume */
		pid = DatumGetInt32(SPI_getbinval(tup, desc, 6, &isnull));
		role = SPI_getvalue(tup, desc, 7);
		orphaned = isnull || !job_worker_alive(pid);
	}
	if (!orphaned)
		return;

	ereport(LOG,
			(errmsg("migr: resuming background jobs whose worker is gone")));
	/* a role dropped or renamed meanwhile: the worker fails its job */
	(void) job_launch(get_role_oid(role, true), InvalidFullTransactionId);
}

/*
 * job_launch_for
 *		job_launch() for a tenant's queue (NULL: the shared one).
 */
static void
job_launch_for(const char *tenant, Oid roleid)
{
	const char *prev = catalog_set_tenant(tenant);

	PG_TRY();
	{
		(void) job_launch(roleid, InvalidFullTransactionId);
	}
	PG_FINALLY();
	{
		catalog_set_tenant(prev);
	}
	PG_END_TRY();
}

/*
 * job_reconcile_queues
 *		job_reconcile() where each tenant has a queue of its own: start a
 *		worker for every queue whose first unfinished job has none.
 */
static void
job_reconcile_queues(void)
{
	MigrCatalogUser save;
	SPITupleTable *tt;
	uint64		n;
	uint64		i;

	catalog_become_owner(&save);
	catalog_run_expect(&q_t_queues, NULL, NULL, SPI_OK_SELECT,
					   "read the job queue");
	catalog_restore_user(&save);
	tt = SPI_tuptable;
	n = SPI_processed;
	for (i = 0; i < n; i++)
	{
		HeapTuple	tup = tt->vals[i];
		char	   *tenant = SPI_getvalue(tup, tt->tupdesc, 1);
		bool		isnull;
		int			pid = DatumGetInt32(SPI_getbinval(tup, tt->tupdesc, 3,
													  &isnull));

		if (strcmp(SPI_getvalue(tup, tt->tupdesc, 2), "failed") == 0)
			continue;			/* that queue is stopped */
		if (!isnull && job_worker_alive(pid))
			continue;
		ereport(LOG,
				(errmsg("migr: resuming background jobs whose worker is gone"),
				 tenant ? errdetail("They belong to tenant \"%s\".", tenant) : 0));
		job_launch_for(tenant,
					   get_role_oid(SPI_getvalue(tup, tt->tupdesc, 4), true));
	}
	SPI_freetuptable(tt);
}

/*
 * job_pending_all
 *		For migr_wait(): whether any queue still has work, raising the
 *		error of a failed shared job; tenants' queues stopped by a failure
 *		are done (their error is in migr.tenant).
 */
bool
job_pending_all(void)
{
	List	   *revisions;
	List	   *messages;
	MigrCatalogUser save;
	bool		isnull;
	volatile bool waiting = false;
	const char *prev = catalog_set_tenant(NULL);

	PG_TRY();
	{
		waiting = job_pending_quiet(&revisions, &messages);
	}
	PG_FINALLY();
	{
		catalog_set_tenant(prev);
	}
	PG_END_TRY();
	if (waiting || !job_tenant_queues())
		return waiting;
	catalog_become_owner(&save);
	catalog_run_expect(&q_t_waiting, NULL, NULL, SPI_OK_SELECT,
					   "read the job queue");
	catalog_restore_user(&save);
	waiting = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0],
										 SPI_tuptable->tupdesc, 1, &isnull));
	SPI_freetuptable(SPI_tuptable);
	return waiting || tenant_rollouts_pending();
}

/*
 * job_blocking
 *		For migr_upgrade(): true when jobs are queued or running, with the
 *		revisions still to be applied in *revisions and *messages; raises
 *		the error of a failed job that stopped the queue.  Reconciles an
 *		orphaned queue first.
 */
bool
job_blocking(List **revisions, List **messages)
{
	job_reconcile();
	return job_pending(revisions, messages, true);
}

/*
 * job_pending
 *		The queued or running jobs' revisions and messages; raises the
 *		error of a failed job that stopped the queue.  With notice, tells
 *		the caller that revisions are queued.
 */
static bool
job_pending(List **revisions, List **messages, bool notice)
{
	MigrCatalogUser save;
	uint64		i;
	char	   *first_desc = NULL;

	*revisions = NIL;
	*messages = NIL;
	catalog_become_owner(&save);
	if (job_tenant_queues())
		job_run_tenant(&q_t_pending, NULL, NULL, 0, SPI_OK_SELECT,
					   "read the job queue");
	else
		catalog_run_expect(&q_pending, NULL, NULL, SPI_OK_SELECT,
						   "read the job queue");
	catalog_restore_user(&save);
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		char	   *state = SPI_getvalue(tup, desc, 4);

		if (strcmp(state, "failed") == 0)
			job_raise_failed(tup, desc);
		if (first_desc == NULL)
		{
			char	   *stmt = SPI_getvalue(tup, desc, 5);

			first_desc = psprintf("job %s (%s%s%s)",
								  SPI_getvalue(tup, desc, 1), state,
								  stmt ? ": " : "", stmt ? stmt : "");
		}
		*revisions = lappend(*revisions, SPI_getvalue(tup, desc, 2));
		*messages = lappend(*messages, SPI_getvalue(tup, desc, 3));
	}
	SPI_freetuptable(SPI_tuptable);

	if (*revisions != NIL && notice)
		ereport(NOTICE,
				(errmsg("revisions are queued behind %s", first_desc),
				 errdetail("A background worker applies them in order; nothing else is applied until it is done."),
				 errhint("SELECT migr_wait() in a later transaction waits for it; migr_jobs() shows the queue.")));
	return *revisions != NIL;
}

/*
 * job_raise_failed
 *		The error of a failed job, which stops the queue, with the detail
 *		and hint the job's error had.
 */
static void
job_raise_failed(HeapTuple tup, TupleDesc desc)
{
	char	   *id = SPI_getvalue(tup, desc, 1);
	char	   *sqlstate = SPI_getvalue(tup, desc, 9);
	char	   *error = SPI_getvalue(tup, desc, 8);
	char	   *detail;
	char	   *hint;
	int			code = ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE;

	if (error == NULL)
		error = "unknown error";
	job_split_error(error, &detail, &hint);

	if (sqlstate != NULL && strlen(sqlstate) == 5)
		code = MAKE_SQLSTATE(sqlstate[0], sqlstate[1], sqlstate[2],
							 sqlstate[3], sqlstate[4]);
	ereport(ERROR,
			(errcode(code),
			 errmsg("background job %s for revision \"%s\" failed: %s", id,
					SPI_getvalue(tup, desc, 2), error),
			 errdetail("%s%sThe job queue is stopped: no later revision is applied until the job succeeds or is cancelled.",
					   detail ? detail : "", detail ? "\n" : ""),
			 errhint("%s%sFix the cause, then SELECT migr_retry(%s); or give it up with SELECT migr_cancel(%s).",
					 hint ? hint : "", hint ? "\n" : "", id, id)));
}

/*
 * job_error_text
 *		A failed job's error as migr.job keeps it and migr_jobs() shows it:
 *		the message, then its detail and hint on lines of their own, as psql
 *		shows an error.
 */
char *
job_error_text(ErrorData *edata)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfoString(&buf, edata->message ? edata->message : "unknown error");
	if (edata->detail)
		appendStringInfo(&buf, "\nDETAIL:  %s", edata->detail);
	if (edata->hint)
		appendStringInfo(&buf, "\nHINT:  %s", edata->hint);
	return buf.data;
}

/*
 * job_split_error
 *		The reverse of job_error_text(), in place: error keeps the message.
 */
static void
job_split_error(char *error, char **detail, char **hint)
{
	char	   *d = strstr(error, "\nDETAIL:  ");
	char	   *h = strstr(d ? d : error, "\nHINT:  ");

	*detail = NULL;
	*hint = NULL;
	if (h)
	{
		*h = '\0';
		*hint = h + strlen("\nHINT:  ");
	}
	if (d)
	{
		*d = '\0';
		*detail = d + strlen("\nDETAIL:  ");
	}
}

/*
 * job_check_not_in_script
 *		The functions that change the queue are refused inside a migration
 *		script, as those that change the applied set are (catalog_lock).
 */
static void
job_check_not_in_script(const char *fname)
{
	if (apply_in_script)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot call %s from a migration script", fname),
				 errdetail("A revision's script runs while migr is applying revisions or running jobs."),
				 errhint("Call %s from a session of its own.", fname)));
}

/*
 * job_check_own
 *		Waiting inside the transaction that queued the jobs would wait
 *		forever: the worker waits for that transaction to end.
 */
static void
job_check_own(const char *fname)
{
	MigrCatalogUser save;
	bool		isnull;
	bool		own;

	catalog_become_owner(&save);
	catalog_run_expect(&q_own, NULL, NULL, SPI_OK_SELECT,
					   "read the job queue");
	catalog_restore_user(&save);
	own = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0],
									 SPI_tuptable->tupdesc, 1, &isnull));
	SPI_freetuptable(SPI_tuptable);
	if (own)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot call %s in the transaction that queued background jobs",
						fname),
				 errdetail("The worker starts only after this transaction commits."),
				 errhint("Commit first, then call %s in a new transaction.",
						 fname)));
}

/*
 * job_clear_xmin
 *		Stop advertising this backend's snapshot while migr_wait() sleeps.
 *		A concurrent index build waits for every transaction whose snapshot
 *		is older than its own; a session waiting for that build with an old
 *		snapshot would wait for it forever.  migr_wait() reads nothing
 *		through its statement's snapshot (each poll takes a new one), so the
 *		xmin it advertises can go, as it goes between a client's statements.
 */
static void
job_clear_xmin(void)
{
	MyProc->xmin = InvalidTransactionId;
}

/*
 * job_waited_on
 *		Whether another session waits for this transaction to end.
 */
bool
job_waited_on(void)
{
	MigrCatalogUser save;
	Datum		values[1];
	bool		isnull;
	bool		waited;

	values[0] = CStringGetTextDatum(psprintf("%d/%u", MyBackendId,
											 MyProc->lxid));
	catalog_become_owner(&save);
	catalog_run_expect(&q_waited_on, values, NULL, SPI_OK_SELECT,
					   "read pg_locks");
	waited = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0],
										SPI_tuptable->tupdesc, 1, &isnull));
	SPI_freetuptable(SPI_tuptable);
	catalog_restore_user(&save);
	return waited;
}

/*
 * migr_wait(timeout interval) returns boolean
 */
Datum
migr_wait(PG_FUNCTION_ARGS)
{
	TimestampTz deadline = 0;
	TimestampTz next_reconcile = 0;
	TimestampTz next_check = 0;
	bool		done = false;

	if (!PG_ARGISNULL(0))
	{
		Interval   *iv = PG_GETARG_INTERVAL_P(0);
		double		ms = (iv->time / 1000.0) +
			((double) iv->day * SECS_PER_DAY + (double) iv->month * DAYS_PER_MONTH * SECS_PER_DAY) * 1000.0;

		if (ms < 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("timeout must not be negative")));
		deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
											   (int64) Min(ms, (double) PG_INT64_MAX / 2000));
	}

	catalog_connect();
	job_check_own("migr_wait()");
	if (FirstSnapshotSet && IsolationUsesXactSnapshot())
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot call migr_wait() under REPEATABLE READ or SERIALIZABLE"),
				 errdetail("The transaction's snapshot would never see the jobs finish."),
				 errhint("Call it in a READ COMMITTED transaction.")));
	for (;;)
	{
		TimestampTz now = GetCurrentTimestamp();

		/*
		 * Look for a worker that is gone at the first poll and then every
		 * few seconds, not at every poll: a worker that cannot even start
		 * must not be relaunched ten times a second.
		 */
		if (now >= next_reconcile)
		{
			job_reconcile();
			if (catalog_has_tenants())
				tenant_reconcile();
			next_reconcile = TimestampTzPlusMilliseconds(now, 5000);
		}
		if (!job_pending_all())
		{
			done = true;
			break;
		}
		if (deadline != 0 && now >= deadline)
			break;
		if (now >= next_check && job_waited_on())
		{
			/*
			 * The build waits for this very transaction (it saw its snapshot
			 * before we could hide it): waiting on would wait forever.
			 */
			ereport(NOTICE,
					(errmsg("an index build is waiting for this transaction to end"),
					 errdetail("migr_wait() returns false so that the build can go on."),
					 errhint("Call migr_wait() again, in a new transaction.")));
			break;
		}
		if (now >= next_check)
			next_check = TimestampTzPlusMilliseconds(now, 1000);
		job_clear_xmin();
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 100L, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
	catalog_finish();
	PG_RETURN_BOOL(done);
}

/*
 * job_pending_quiet
 *		job_pending() without the NOTICE and without resuming orphaned jobs,
 *		for polling.
 */
bool
job_pending_quiet(List **revisions, List **messages)
{
	return job_pending(revisions, messages, false);
}

/*
 * job_check_findings
 *		For migr_check(): a failed job (the queue is stopped) and a job
 *		queued or running with no live worker (nothing will run it until a
 *		migr call or the launcher resumes it).  Must run inside SPI.
 */
List *
job_check_findings(void)
{
	MigrCatalogUser save;
	List	   *out = NIL;
	SPITupleTable *tt;
	uint64		n;
	uint64		i;

	catalog_become_owner(&save);
	catalog_run_expect(&q_check, NULL, NULL, SPI_OK_SELECT,
					   "read the job queue");
	catalog_restore_user(&save);
	tt = SPI_tuptable;
	n = SPI_processed;
	for (i = 0; i < n; i++)
	{
		HeapTuple	tup = tt->vals[i];
		char	   *id = SPI_getvalue(tup, tt->tupdesc, 1);
		char	   *state = SPI_getvalue(tup, tt->tupdesc, 3);
		bool		isnull;
		int			pid = DatumGetInt32(SPI_getbinval(tup, tt->tupdesc, 5, &isnull));
		MigrFinding *f;

		if (strcmp(state, "failed") != 0 && !isnull && job_worker_alive(pid))
			continue;
		f = palloc0(sizeof(MigrFinding));
		f->revision = SPI_getvalue(tup, tt->tupdesc, 2);
		if (strcmp(state, "failed") == 0)
		{
			char	   *error = SPI_getvalue(tup, tt->tupdesc, 4);
			char	   *detail;
			char	   *hint;

			if (error == NULL)
				error = "unknown error";
			job_split_error(error, &detail, &hint);
			f->severity = MIGR_SEV_ERROR;
			f->code = "job_failed";
			f->message = psprintf("background job %s failed: %s%s%s", id,
								  error, detail ? "\nDETAIL:  " : "",
								  detail ? detail : "");
			f->hint = psprintf("Fix the cause, then SELECT migr_retry(%s); or give it up with SELECT migr_cancel(%s).",
							   id, id);
		}
		else
		{
			f->severity = MIGR_SEV_WARNING;
			f->code = "job_stuck";
			f->message = psprintf("background job %s is %s but no worker runs it",
								  id, state);
			f->hint = pstrdup("The next migr_upgrade() or migr_wait() in this database starts a worker for it.");
		}
		out = lappend(out, f);
	}
	SPI_freetuptable(tt);
	return out;
}

/*
 * job_show_partial
 *		In migr_jobs(), the latest job of a partially applied revision says
 *		so in its error column: after a cancel, that is what is left to do.
 */
static void
job_show_partial(List *partials, const char *job, Datum *error, bool *isnull)
{
	ListCell   *lc;

	foreach(lc, partials)
	{
		MigrPartial *p = (MigrPartial *) lfirst(lc);
		char	   *note;

		if (p->job == NULL || strcmp(p->job, job) != 0)
			continue;
		note = psprintf("revision \"%s\" is partially applied: its statements before statement %d committed, and migr_upgrade() resumes it there",
						p->revision, p->next_statement);
		if (!*isnull)
			note = psprintf("%s\n%s", TextDatumGetCString(*error), note);
		*error = CStringGetTextDatum(note);
		*isnull = false;
	}
}

/*
 * migr_jobs() returns table (id, revision, statement, state, attempts,
 *		error, queued_at, finished_at)
 */
Datum
migr_jobs(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MigrCatalogUser save;
	List	   *partials;
	uint64		i;

	InitMaterializedSRF(fcinfo, 0);
	catalog_connect();
	partials = catalog_partials();
	catalog_become_owner(&save);
	catalog_run_expect(&q_list, NULL, NULL, SPI_OK_SELECT,
					   "read the job queue");
	catalog_restore_user(&save);
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		Datum		values[8];
		bool		nulls[8];
		int			k;

		for (k = 0; k < 8; k++)
			values[k] = SPI_getbinval(tup, SPI_tuptable->tupdesc, k + 1,
									  &nulls[k]);
		job_show_partial(partials, SPI_getvalue(tup, SPI_tuptable->tupdesc, 1),
						 &values[5], &nulls[5]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values,
							 nulls);
	}
	SPI_freetuptable(SPI_tuptable);
	catalog_finish();
	return (Datum) 0;
}

/*
 * migr_retry(job bigint)
 *		Queue a failed job again, from where it stopped, and start a worker
 *		(as the role that queued it) that waits for this transaction.
 */
Datum
migr_retry(PG_FUNCTION_ARGS)
{
	MigrCatalogUser save;
	Datum		values[1];
	char	   *role;
	char	   *tenant;
	const char *prev;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("job must not be null")));
	job_check_not_in_script("migr_retry()");
	values[0] = Int64GetDatum(PG_GETARG_INT64(0));
	catalog_connect();
	catalog_lock("migr_retry()", false);
	catalog_become_owner(&save);
	catalog_run_expect(job_tenant_queues() ? &q_t_retry : &q_retry, values,
					   NULL, SPI_OK_UPDATE_RETURNING, "update the job queue");
	catalog_restore_user(&save);
	if (SPI_processed != 1)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("job " INT64_FORMAT " is not a failed job",
						PG_GETARG_INT64(0)),
				 errhint("migr_jobs() shows the jobs and their states.")));
	role = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	tenant = job_tenant_queues() ?
		SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3) : NULL;
	SPI_freetuptable(SPI_tuptable);
	prev = catalog_set_tenant(tenant);
	PG_TRY();
	{
		values[0] = Int32GetDatum(job_launch(get_role_oid(role, false),
											 GetTopFullTransactionId()));
		catalog_become_owner(&save);
		if (job_tenant_queues())
			job_run_tenant(&q_t_set_pid, values, NULL, 1, SPI_OK_UPDATE,
						   "record the worker of the queued jobs");
		else
			catalog_run_expect(&q_set_pid, values, NULL, SPI_OK_UPDATE,
							   "record the worker of the queued jobs");
		catalog_restore_user(&save);
	}
	PG_FINALLY();
	{
		catalog_set_tenant(prev);
	}
	PG_END_TRY();
	catalog_finish();
	PG_RETURN_VOID();
}

/*
 * migr_cancel(job bigint)
 *		Cancel a job and every job queued after it (they come later in the
 *		upgrade order).  A running build is interrupted; the worker drops
 *		what it leaves behind.  The revision stays unapplied; statements of
 *		it that already ran are not undone.
 */
Datum
migr_cancel(PG_FUNCTION_ARGS)
{
	MigrCatalogUser save;
	Datum		values[1];
	List	   *running = NIL;
	bool		found = false;
	ListCell   *lc;
	uint64		i;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("job must not be null")));
	job_check_not_in_script("migr_cancel()");
	values[0] = Int64GetDatum(PG_GETARG_INT64(0));
	catalog_connect();
	catalog_become_owner(&save);
	catalog_run_expect(job_tenant_queues() ? &q_t_cancel : &q_cancel, values,
					   NULL, SPI_OK_UPDATE_RETURNING, "update the job queue");
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		bool		isnull;
		Datum		pid;

		if (DatumGetInt64(SPI_getbinval(tup, SPI_tuptable->tupdesc, 1, &isnull)) ==
			PG_GETARG_INT64(0))
			found = true;
		pid = SPI_getbinval(tup, SPI_tuptable->tupdesc, 3, &isnull);
		if (!isnull &&
			strcmp(SPI_getvalue(tup, SPI_tuptable->tupdesc, 2), "running") == 0)
			running = lappend_int(running, DatumGetInt32(pid));
	}
	SPI_freetuptable(SPI_tuptable);
	if (!found)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("job " INT64_FORMAT " is not queued, running or failed",
						PG_GETARG_INT64(0)),
				 errhint("migr_jobs() shows the jobs and their states.")));

	/* interrupt a running build; its worker sees the cancelled state */
	foreach(lc, running)
	{
		values[0] = Int32GetDatum(lfirst_int(lc));
		(void) catalog_run(&q_cancel_worker, values, NULL);
	}
	catalog_restore_user(&save);
	catalog_finish();
	PG_RETURN_VOID();
}

/*
 * job_next_running
 *		Claim the first queued (or interrupted) job for this worker, marking
 *		it running; false if there is none.  The row's values are copied
 *		into cxt, so that they outlive the transaction.
 */
bool
job_next_running(MigrJobRow *row, MemoryContext cxt)
{
	MigrCatalogUser save;
	Datum		values[1];
	bool		found;

	catalog_become_owner(&save);
	values[0] = Int32GetDatum(MyProcPid);
	if (job_tenant_queues())
		job_run_tenant(&q_t_next, values, NULL, 1, SPI_OK_UPDATE_RETURNING,
					   "read the job queue");
	else
		catalog_run_expect(&q_next, values, NULL, SPI_OK_UPDATE_RETURNING,
						   "read the job queue");
	found = (SPI_processed == 1);
	if (found)
	{
		HeapTuple	tup = SPI_tuptable->vals[0];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		MemoryContext old = MemoryContextSwitchTo(cxt);
		bool		isnull;
		Datum		settings;

		memset(row, 0, sizeof(MigrJobRow));
		row->id = DatumGetInt64(SPI_getbinval(tup, desc, 1, &isnull));
		row->revision = SPI_getvalue(tup, desc, 2);
		row->next = DatumGetInt32(SPI_getbinval(tup, desc, 3, &isnull));
		settings = SPI_getbinval(tup, desc, 4, &isnull);
		row->settings = migr_array_list(DatumGetArrayTypeP(settings),
										"settings");
		row->role = SPI_getvalue(tup, desc, 5);
		row->target = SPI_getvalue(tup, desc, 6);
		MemoryContextSwitchTo(old);
		SPI_freetuptable(SPI_tuptable);
	}
	catalog_restore_user(&save);
	return found;
}

/*
 * job_update_running
 *		One of a running job's compare-and-set updates, as the extension's
 *		owner.  The job was cancelled if its row is no longer running: the
 *		error rolls back the transaction the update belongs to, and with it
 *		the work the update was to record.
 */
static void
job_update_running(int64 id, MigrQuery *q, Datum *values)
{
	MigrCatalogUser save;

	catalog_become_owner(&save);
	catalog_run_expect(q, values, NULL, SPI_OK_UPDATE,
					   "update job " INT64_FORMAT, id);
	if (SPI_processed != 1)
		ereport(ERROR,
				(errcode(ERRCODE_QUERY_CANCELED),
				 errmsg("job " INT64_FORMAT " was cancelled", id)));
	catalog_restore_user(&save);
}

/*
 * job_set_progress
 *		Record that the running job's statements before "next" have run, in
 *		the transaction that ran them.
 */
void
job_set_progress(int64 id, int next)
{
	Datum		values[2];

	values[0] = Int64GetDatum(id);
	values[1] = Int32GetDatum(next);
	job_update_running(id, &q_progress, values);
}

/*
 * job_finish
 *		Record the running job as done, in the transaction that ran its last
 *		statement.
 */
void
job_finish(int64 id)
{
	Datum		values[1];

	values[0] = Int64GetDatum(id);
	job_update_running(id, &q_done, values);
}

/*
 * job_record_failure
 *		Record a failed attempt of a running job, with the error's detail
 *		and hint.  Returns false if the job was cancelled in the meantime;
 *		*stop is set when the job has used up its attempts (or the failure
 *		is final): the job is then failed, and the queue stops.
 */
bool
job_record_failure(int64 id, ErrorData *edata, bool final, bool *stop)
{
	MigrCatalogUser save;
	Datum		values[4];
	int			attempts = 0;
	bool		isnull;
	bool		recorded;

	catalog_become_owner(&save);
	values[0] = Int64GetDatum(id);
	catalog_run_expect(&q_attempts, values, NULL, SPI_OK_SELECT,
					   "read job " INT64_FORMAT, id);
	if (SPI_processed == 1)
		attempts = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0],
											   SPI_tuptable->tupdesc, 1,
											   &isnull));
	*stop = final || (attempts + 1 >= migr_max_job_attempts);
	values[1] = CStringGetTextDatum(*stop ? "failed" : "queued");
	values[2] = CStringGetTextDatum(job_error_text(edata));
	values[3] = CStringGetTextDatum(unpack_sql_state(edata->sqlerrcode));
	catalog_run_expect(&q_fail, values, NULL, SPI_OK_UPDATE_RETURNING,
					   "record the failure of job " INT64_FORMAT, id);
	recorded = (SPI_processed == 1);
	catalog_restore_user(&save);
	return recorded;
}

/*
 * job_resume
 *		Mark a job that is to be retried running again, and set *next to
 *		where the failed attempt left off.  False if it was cancelled
 *		meanwhile.
 */
bool
job_resume(int64 id, int *next)
{
	MigrCatalogUser save;
	Datum		values[1];
	bool		isnull;
	bool		found;

	values[0] = Int64GetDatum(id);
	catalog_become_owner(&save);
	catalog_run_expect(&q_resume, values, NULL, SPI_OK_UPDATE_RETURNING,
					   "update job " INT64_FORMAT, id);
	found = (SPI_processed == 1);
	if (found)
		*next = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0],
											SPI_tuptable->tupdesc, 1,
											&isnull));
	catalog_restore_user(&save);
	return found;
}

/*
 * job_revision_queued
 *		Whether a job of this revision is queued, running or failed.
 */
bool
job_revision_queued(const char *id)
{
	MigrCatalogUser save;
	Datum		values[1];
	bool		isnull;
	bool		result;

	values[0] = CStringGetTextDatum(id);
	catalog_become_owner(&save);
	catalog_run_expect(&q_rev_queued, values, NULL, SPI_OK_SELECT,
					   "read the job queue");
	catalog_restore_user(&save);
	result = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0],
										SPI_tuptable->tupdesc, 1, &isnull));
	SPI_freetuptable(SPI_tuptable);
	return result;
}

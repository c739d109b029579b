/*-------------------------------------------------------------------------
 *
 * worker.c
 *	  Background workers: the job worker that runs statements which cannot
 *	  run in a transaction block (and the revisions queued behind them),
 *	  and the launcher that resumes interrupted jobs at server start.
 *
 * A job worker is started by migr_upgrade() as the calling role, in the
 * caller's database.  It waits for the caller's transaction to end, takes
 * the migr lock for its whole session (so that it spans the build's own
 * transactions), and works through migr.job in order.  A statement such as
 * CREATE INDEX CONCURRENTLY runs as the server runs a client's query —
 * parse, analyze, plan, PortalRun at top level — in a memory context that
 * survives the build's internal commits; SPI would refuse it.  The other
 * statements run in ordinary transactions with migr's lock timeout and
 * retries, as migr_upgrade() runs them.  Progress is recorded after each
 * step, so a job resumes where it stopped.
 *
 * A failed build leaves no INVALID index: the worker drops it (by name, or
 * whatever invalid index the attempt added to the table), then retries up
 * to migr.max_job_attempts times with a growing pause, then stops the
 * queue with the error in migr.job.
 *
 * With migr in shared_preload_libraries, a launcher started with the
 * server (and again after every crash restart) visits every database and
 * resumes jobs left "running" by a crash or an immediate shutdown, then
 * sleeps until shutdown; without it, the next migr call in the database
 * does (job.c).
 *
 * Copyright (c) 2026, migr developers
 *
 * IDENTIFICATION
 *	  src/worker.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/index.h"
#include "catalog/namespace.h"
#include "catalog/pg_database.h"
#include "catalog/pg_index.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "parser/analyze.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lmgr.h"
#include "storage/lock.h"
#include "storage/proc.h"
#include "tcop/pquery.h"
#include "tcop/tcopprot.h"
#include "tcop/utility.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/portal.h"
#include "utils/ps_status.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timeout.h"
#include "utils/timestamp.h"

#include "migr.h"
#include "schema/schema.h"

PGDLLEXPORT void migr_worker_main(Datum main_arg);
PGDLLEXPORT void migr_launcher_main(Datum main_arg);

/* a job as the worker works on it; lives in the worker's context */
typedef struct WorkerJob
{
	int64		id;
	char	   *revision;
	char	   *target;
	char	   *role;
	Oid			roleid;			/* invalid: the role was dropped or renamed */
	int			next;			/* next statement to run */
	List	   *settings;		/* "name=value" */
	char	   *checksum;
	List	   *stmts;			/* MigrStmt */
	double		ms;
} WorkerJob;

static MemoryContext worker_cxt = NULL;

static void worker_begin(void);
static void worker_commit(void);
static void worker_wait_for_caller(uint64 xid);
static void worker_take_lock(void);
static bool worker_next_job(WorkerJob *job);
static void worker_load_job(WorkerJob *job);
static void worker_apply_settings(WorkerJob *job);
static void worker_replay_sets(WorkerJob *job);
static void worker_run_job(WorkerJob *job);
static bool worker_try_job(WorkerJob *job);
static void worker_run_toplevel(const char *sql);
static void worker_set_progress(WorkerJob *job, int next);
static void worker_finish_job(WorkerJob *job);
static List *worker_invalid_indexes(MigrStmt *ms);
static bool worker_prepare_build(MigrStmt *ms);
static const char *worker_detach_sql(MigrStmt *ms);
static void worker_drop_indexes(List *drop);
static void worker_clean_after(MigrStmt *ms, List *before);
static bool worker_record_failure(WorkerJob *job, ErrorData *edata,
								  bool final, bool *stop);
static void worker_fail_role(WorkerJob *job);
static bool worker_resume_job(WorkerJob *job);
static void worker_reconcile_database(void);

/*
 * worker_register_launcher
 *		With migr in shared_preload_libraries, a launcher resumes interrupted
 *		jobs once the server is up.  Called from _PG_init.
 */
void
worker_register_launcher(void)
{
	BackgroundWorker worker;
	MigrWorkerArgs args;

	if (!process_shared_preload_libraries_in_progress)
		return;
	memset(&args, 0, sizeof(args));
	job_worker_entry(&worker, "migr launcher", &args);
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "migr_launcher_main");
	/* registered by the postmaster, which is told of nothing */
	worker.bgw_notify_pid = 0;
	/* restarted after a crash: that is when interrupted jobs need it */
	worker.bgw_restart_time = 10;
	RegisterBackgroundWorker(&worker);
}

/*
 * worker_connect
 *		Become the job's role, and nothing more, for the whole session.
 *		The worker connects as the role itself, or, when the role cannot log
 *		in (the server lets no background worker connect as a NOLOGIN role),
 *		as the bootstrap superuser that then makes the role its session
 *		user before anything runs.  Either way the session user is the role:
 *		RESET ROLE has nobody else to go back to.  On top of that the worker
 *		runs as inside a security-definer function, for good: SET ROLE,
 *		RESET ROLE and SET SESSION AUTHORIZATION are refused, whatever a
 *		script tries.  (Transaction abort restores the user and security
 *		context saved at transaction start, i.e. these.)  Without a role
 *		(the launcher's helper, or a worker for a role that was dropped),
 *		the worker runs no script: it only reads and updates the queue.
 */
void
worker_connect(MigrWorkerArgs *args)
{
	BackgroundWorkerInitializeConnectionByOid(args->dboid, args->loginid, 0);
	if (!OidIsValid(args->roleid))
		return;
	if (GetSessionUserId() != args->roleid)
	{
		StartTransactionCommand();
		SetSessionAuthorization(args->roleid, superuser_arg(args->roleid));
		CommitTransactionCommand();
	}
	SetUserIdAndSecContext(args->roleid, SECURITY_LOCAL_USERID_CHANGE);
}

/* transactions of the worker's own, with SPI and a snapshot */
static void
worker_begin(void)
{
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	catalog_connect();
	PushActiveSnapshot(GetTransactionSnapshot());
}

static void
worker_commit(void)
{
	PopActiveSnapshot();
	catalog_finish();
	CommitTransactionCommand();
}

/*
 * worker_wait_for_caller
 *		Wait until the transaction that queued the jobs has ended, however
 *		it ended: the server's own wait on a transaction's lock.
 */
static void
worker_wait_for_caller(uint64 xid)
{
	FullTransactionId fxid = FullTransactionIdFromU64(xid);

	if (!FullTransactionIdIsValid(fxid))
		return;
	pgstat_report_activity(STATE_RUNNING, "waiting for the migration's transaction to end");
	StartTransactionCommand();
	XactLockTableWait(XidFromFullTransactionId(fxid), NULL, NULL, XLTW_None);
	CommitTransactionCommand();
}

/*
 * worker_take_lock
 *		The migr lock, for the rest of the worker's session: nobody applies
 *		anything while jobs are in progress.
 */
static void
worker_take_lock(void)
{
	pgstat_report_activity(STATE_RUNNING, "waiting for the migr lock");
	StartTransactionCommand();
	catalog_lock_session();
	CommitTransactionCommand();
}

/*
 * worker_next_job
 *		The first queued (or interrupted) job, marked running.
 */
static bool
worker_next_job(WorkerJob *job)
{
	MigrJobRow	row;
	bool		found;

	worker_begin();
	found = job_next_running(&row, worker_cxt);
	if (found)
	{
		memset(job, 0, sizeof(WorkerJob));
		job->id = row.id;
		job->revision = row.revision;
		job->next = row.next;
		job->settings = row.settings;
		job->role = row.role;
		job->roleid = get_role_oid(job->role, true);
		job->target = row.target;
	}
	worker_commit();
	return found;
}

/*
 * worker_load_job
 *		The revision's script, split, in the worker's context.
 */
static void
worker_load_job(WorkerJob *job)
{
	MigrRevDef	def;
	MemoryContext old;

	worker_begin();
	move_get_def(job->revision, &def);
	old = MemoryContextSwitchTo(worker_cxt);
	job->checksum = pstrdup(def.checksum);
	job->stmts = script_split(def.upgrade, job->revision, "upgrade");
	MemoryContextSwitchTo(old);
	worker_commit();
}

/*
 * worker_apply_settings
 *		What a statement of the job would see in line: the settings of the
 *		session that queued it, then the SETs of its own revision that ran
 *		before the job's next statement, and nothing of the jobs before it
 *		(RESET ALL first).  The settings are applied with the job's role's
 *		own right to set them: one it may not set is left out, with a
 *		warning in the server log.
 */
static void
worker_apply_settings(WorkerJob *job)
{
	GucContext	context;
	ListCell   *lc;

	StartTransactionCommand();
	context = superuser() ? PGC_SUSET : PGC_USERSET;
	ResetAllOptions();
	foreach(lc, job->settings)
	{
		char	   *item = pstrdup(lfirst(lc));
		char	   *eq = strchr(item, '=');

		if (eq == NULL)
			continue;
		*eq = '\0';
		(void) set_config_option(item, eq + 1, context, PGC_S_SESSION,
								 GUC_ACTION_SET, true, WARNING, false);
	}
	worker_replay_sets(job);
	CommitTransactionCommand();
	pgstat_report_appname("migr worker");
}

/*
 * worker_replay_sets
 *		Run again the SET and RESET statements of the job's revision that
 *		come before its next statement: they ran in the caller's transaction
 *		(or in an earlier worker), and in line their effect would last until
 *		the end of the revision.  SET LOCAL lasts as long in line (a
 *		revision is one subtransaction), so it is replayed as SET.  SET ROLE
 *		and SET SESSION AUTHORIZATION are refused here as anywhere in a
 *		worker.
 */
static void
worker_replay_sets(WorkerJob *job)
{
	int			i;

	for (i = 1; i < job->next && i <= list_length(job->stmts); i++)
	{
		MigrStmt   *ms = list_nth(job->stmts, i - 1);
		VariableSetStmt *stmt;

		if (ms->tag != T_VariableSetStmt)
			continue;
		stmt = (VariableSetStmt *) linitial_node(RawStmt,
												 raw_parser(ms->sql, RAW_PARSE_DEFAULT))->stmt;
		if (stmt->kind == VAR_SET_MULTI &&
			strncmp(stmt->name, "TRANSACTION", 11) == 0)
			continue;			/* about the caller's own transaction */
		stmt->is_local = false;
		ExecSetVariableStmt(stmt, true);
	}
}

/*
 * worker_run_toplevel
 *		Run one statement as the server runs a client's query, at top level
 *		and outside any transaction block: what CREATE INDEX CONCURRENTLY and
 *		its kind require.  Parse trees and plans live in a context that
 *		survives the statement's own commits.
 */
static void
worker_run_toplevel(const char *sql)
{
	MemoryContext parsecxt = AllocSetContextCreate(worker_cxt,
												   "migr worker statement",
												   ALLOCSET_DEFAULT_SIZES);
	MemoryContext old;
	List	   *raw;
	ListCell   *lc;

	pgstat_report_activity(STATE_RUNNING, sql);
	debug_query_string = sql;
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	if (migr_statement_timeout > 0)
		enable_timeout_after(STATEMENT_TIMEOUT, migr_statement_timeout);

	old = MemoryContextSwitchTo(parsecxt);
	raw = pg_parse_query(sql);
	MemoryContextSwitchTo(old);

	foreach(lc, raw)
	{
		RawStmt    *parsetree = lfirst_node(RawStmt, lc);
		CommandTag	tag = CreateCommandTag(parsetree->stmt);
		bool		snapshot_set = false;
		List	   *queries;
		List	   *plans;
		Portal		portal;
		DestReceiver *receiver;
		QueryCompletion qc;

		set_ps_display(GetCommandTagName(tag));
		if (analyze_requires_snapshot(parsetree))
		{
			PushActiveSnapshot(GetTransactionSnapshot());
			snapshot_set = true;
		}
		old = MemoryContextSwitchTo(parsecxt);
		queries = pg_analyze_and_rewrite_fixedparams(parsetree, sql, NULL, 0,
													 NULL);
		plans = pg_plan_queries(queries, sql, CURSOR_OPT_PARALLEL_OK, NULL);
		MemoryContextSwitchTo(old);
		if (snapshot_set)
			PopActiveSnapshot();
		CHECK_FOR_INTERRUPTS();

		old = MemoryContextSwitchTo(parsecxt);
		portal = CreatePortal("migr", true, true);
		portal->visible = false;
		PortalDefineQuery(portal, NULL, sql, tag, plans, NULL);
		PortalStart(portal, NULL, 0, InvalidSnapshot);
		receiver = CreateDestReceiver(DestNone);
		MemoryContextSwitchTo(old);

		InitializeQueryCompletion(&qc);
		(void) PortalRun(portal, FETCH_ALL, true, true, receiver, receiver,
						 &qc);
		receiver->rDestroy(receiver);
		PortalDrop(portal, false);
	}

	if (migr_statement_timeout > 0)
		disable_timeout(STATEMENT_TIMEOUT, false);
	CommitTransactionCommand();
	debug_query_string = NULL;
	set_ps_display("idle");
	MemoryContextDelete(parsecxt);
}

/*
 * worker_invalid_indexes
 *		The invalid indexes on the table a statement works on, as
 *		"schema"."name" strings (empty if there is no such table).
 */
static List *
worker_invalid_indexes(MigrStmt *ms)
{
	List	   *result = NIL;
	Oid			relid;
	List	   *indexes;
	ListCell   *lc;
	Relation	rel;

	StartTransactionCommand();
	relid = apply_statement_relid(ms);
	if (OidIsValid(relid) && get_rel_relkind(relid) == RELKIND_INDEX)
		relid = IndexGetRelation(relid, true);
	if (OidIsValid(relid) && (rel = try_table_open(relid, AccessShareLock)) != NULL)
	{
		indexes = RelationGetIndexList(rel);
		foreach(lc, indexes)
		{
			Oid			idx = lfirst_oid(lc);
			HeapTuple	tup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(idx));

			if (!HeapTupleIsValid(tup))
				continue;
			if (!((Form_pg_index) GETSTRUCT(tup))->indisvalid)
			{
				MemoryContext old = MemoryContextSwitchTo(worker_cxt);

				result = lappend(result,
								 quote_qualified_identifier(get_namespace_name(get_rel_namespace(idx)),
															get_rel_name(idx)));
				MemoryContextSwitchTo(old);
			}
			ReleaseSysCache(tup);
		}
		table_close(rel, AccessShareLock);
	}
	CommitTransactionCommand();
	return result;
}

/*
 * worker_drop_indexes
 *		Drop invalid indexes a build left behind, without blocking writers.
 *		A migr_cancel() that arrives meanwhile (its pg_cancel_backend is
 *		meant for the build) must not interrupt the drop and leave the
 *		index behind: it is held off until the drop is done, then raised.
 */
static void
worker_drop_indexes(List *drop)
{
	ListCell   *lc;

	foreach(lc, drop)
	{
		char	   *sql = psprintf("DROP INDEX CONCURRENTLY IF EXISTS %s",
								   (char *) lfirst(lc));

		ereport(LOG,
				(errmsg("migr: dropping invalid index %s left by an interrupted build",
						(char *) lfirst(lc))));
		HOLD_CANCEL_INTERRUPTS();
		PG_TRY();
		{
			worker_run_toplevel(sql);
		}
		PG_FINALLY();
		{
			RESUME_CANCEL_INTERRUPTS();
		}
		PG_END_TRY();
	}
	CHECK_FOR_INTERRUPTS();
}

/*
 * worker_prepare_build
 *		Before a CREATE INDEX CONCURRENTLY: if an earlier attempt (or a
 *		crash) left its index INVALID, drop it; if it left it valid, the
 *		build is done and the statement is skipped (returns false).
 */
static bool
worker_prepare_build(MigrStmt *ms)
{
	IndexStmt  *stmt;
	Oid			relid;
	Oid			idx = InvalidOid;
	bool		valid = false;
	char	   *name = NULL;

	if (ms->tag != T_IndexStmt)
	{
		/* REINDEX CONCURRENTLY leaves *_ccnew / *_ccold indexes invalid */
		if (ms->tag == T_ReindexStmt)
		{
			List	   *drop = NIL;
			ListCell   *lc;

			foreach(lc, worker_invalid_indexes(ms))
				if (strstr(lfirst(lc), "_ccnew") || strstr(lfirst(lc), "_ccold"))
					drop = lappend(drop, lfirst(lc));
			worker_drop_indexes(drop);
		}
		return true;
	}

	StartTransactionCommand();
	stmt = (IndexStmt *) linitial_node(RawStmt, raw_parser(ms->sql, RAW_PARSE_DEFAULT))->stmt;
	relid = RangeVarGetRelid(stmt->relation, NoLock, true);
	if (stmt->idxname && OidIsValid(relid))
	{
		idx = get_relname_relid(stmt->idxname, get_rel_namespace(relid));
		if (OidIsValid(idx) && get_index_isvalid(idx))
			valid = true;
		else if (OidIsValid(idx))
		{
			MemoryContext old = MemoryContextSwitchTo(worker_cxt);

			name = quote_qualified_identifier(get_namespace_name(get_rel_namespace(idx)),
											  stmt->idxname);
			MemoryContextSwitchTo(old);
		}
	}
	CommitTransactionCommand();

	if (name)
		worker_drop_indexes(list_make1(name));
	return !valid;
}

/*
 * worker_detach_sql
 *		What to run for a statement: itself, except for an ALTER TABLE ...
 *		DETACH PARTITION ... CONCURRENTLY whose first transaction committed
 *		before the worker was interrupted: the partition is then "pending
 *		detach", the statement would fail, and FINALIZE completes it.
 */
static const char *
worker_detach_sql(MigrStmt *ms)
{
	AlterTableStmt *stmt;
	ListCell   *lc;
	const char *sql = ms->sql;

	if (ms->tag != T_AlterTableStmt)
		return sql;
	StartTransactionCommand();
	stmt = (AlterTableStmt *) linitial_node(RawStmt,
											raw_parser(ms->sql, RAW_PARSE_DEFAULT))->stmt;
	foreach(lc, stmt->cmds)
	{
		AlterTableCmd *cmd = lfirst_node(AlterTableCmd, lc);
		PartitionCmd *pc = (PartitionCmd *) cmd->def;
		Oid			parent;
		Oid			part;

		if (cmd->subtype != AT_DetachPartition || !pc->concurrent)
			continue;
		parent = RangeVarGetRelid(stmt->relation, NoLock, true);
		part = RangeVarGetRelid(pc->name, NoLock, true);
		if (OidIsValid(parent) && OidIsValid(part) &&
			get_rel_relispartition(part) && PartitionHasPendingDetach(part))
		{
			MemoryContext old = MemoryContextSwitchTo(worker_cxt);

			sql = psprintf("ALTER TABLE %s DETACH PARTITION %s FINALIZE",
						   quote_qualified_identifier(get_namespace_name(get_rel_namespace(parent)),
													  get_rel_name(parent)),
						   quote_qualified_identifier(get_namespace_name(get_rel_namespace(part)),
													  get_rel_name(part)));
			MemoryContextSwitchTo(old);
			ereport(LOG,
					(errmsg("migr: finishing the interrupted detach of partition %s",
							quote_qualified_identifier(get_namespace_name(get_rel_namespace(part)),
													   get_rel_name(part)))));
		}
	}
	CommitTransactionCommand();
	return sql;
}

/*
 * worker_clean_after
 *		After a failed statement: drop the invalid indexes it added.
 */
static void
worker_clean_after(MigrStmt *ms, List *before)
{
	List	   *drop = NIL;
	ListCell   *lc;
	ListCell   *lc2;

	foreach(lc, worker_invalid_indexes(ms))
	{
		bool		old = false;

		foreach(lc2, before)
			old = old || strcmp(lfirst(lc), lfirst(lc2)) == 0;
		if (!old)
			drop = lappend(drop, lfirst(lc));
	}
	worker_drop_indexes(drop);
}

/*
 * worker_set_progress
 *		Record, in the transaction that ran them, that the job's statements
 *		before "next" have run: the revision is partially applied from now
 *		until its last statement runs.
 */
static void
worker_set_progress(WorkerJob *job, int next)
{
	catalog_mark_partial(job->revision, job->checksum, next);
	job_set_progress(job->id, next);
}

/*
 * worker_finish_job
 *		Record the revision as applied, in the current transaction.
 */
static void
worker_finish_job(WorkerJob *job)
{
	catalog_mark_applied(job->revision, job->checksum, job->ms);
	catalog_log("upgrade", job->revision, job->target, job->ms,
				"applied by worker");
	job_finish(job->id);
	/*
	 * A tenant's row in migr.tenant says where it is now; the schema model
	 * records the shared schemas only (tenant schemas are left out of it).
	 */
	if (catalog_tenant() != NULL)
		tenant_record(catalog_tenant(), NULL);
	else
		schema_record();
}

/*
 * worker_run_job
 *		Run a job's statements from where it stopped: statements that must
 *		run outside a transaction block one by one at top level, the others
 *		in transactions of consecutive statements.  The revision is marked
 *		applied in the transaction that runs its last statement.
 */
static void
worker_run_job(WorkerJob *job)
{
	int			n;
	instr_time	start;
	instr_time	duration;

	worker_load_job(job);
	worker_apply_settings(job);
	n = list_length(job->stmts);
	INSTR_TIME_SET_CURRENT(start);

	while (job->next <= n)
	{
		MigrStmt   *ms = list_nth(job->stmts, job->next - 1);

		if (ms->non_transactional)
		{
			List	   *before = worker_invalid_indexes(ms);

			if (worker_prepare_build(ms))
			{
				PG_TRY();
				{
					worker_run_toplevel(worker_detach_sql(ms));
				}
				PG_CATCH();
				{
					/*
					 * Leave no INVALID index behind; the caller records the
					 * error.  NB: the failed transaction is aborted before
					 * the cleanup, not after: the cleanup runs statements
					 * (DROP INDEX CONCURRENTLY among them) that need a
					 * transaction state of their own, and in the aborted
					 * one nothing can run.  The error is copied into the
					 * worker's context first, as the abort frees the
					 * transaction's memory, and rethrown after the cleanup
					 * so that worker_try_job still sees the build's error,
					 * not the cleanup's.
					 */
					ErrorData  *edata;

					MemoryContextSwitchTo(worker_cxt);
					edata = CopyErrorData();
					FlushErrorState();
					AbortOutOfAnyTransaction();
					worker_clean_after(ms, before);
					ReThrowError(edata);
				}
				PG_END_TRY();
			}
			job->next++;
			worker_begin();
			if (job->next > n)
			{
				INSTR_TIME_SET_CURRENT(duration);
				INSTR_TIME_SUBTRACT(duration, start);
				job->ms = INSTR_TIME_GET_MILLISEC(duration);
				worker_finish_job(job);
			}
			else
				worker_set_progress(job, job->next);
			worker_commit();
			continue;
		}

		worker_begin();
		while (job->next <= n &&
			   !((MigrStmt *) list_nth(job->stmts, job->next - 1))->non_transactional)
		{
			ms = list_nth(job->stmts, job->next - 1);
			pgstat_report_activity(STATE_RUNNING, ms->sql);
			apply_one(job->revision, "upgrade", ms);
			job->next++;
		}
		if (job->next > n)
		{
			INSTR_TIME_SET_CURRENT(duration);
			INSTR_TIME_SUBTRACT(duration, start);
			job->ms = INSTR_TIME_GET_MILLISEC(duration);
			worker_finish_job(job);
		}
		else
			worker_set_progress(job, job->next);
		worker_commit();
	}

	if (n == 0)
	{
		/* a merge revision: nothing to run, only to record */
		worker_begin();
		worker_finish_job(job);
		worker_commit();
	}
	pgstat_report_activity(STATE_IDLE, NULL);
}

/*
 * worker_record_failure
 *		Record a failed attempt, with the error's detail and hint.  Returns
 *		false if the job was cancelled in the meantime; *stop is set when
 *		the job has used up its attempts (or the failure is final) and the
 *		queue stops.
 */
static bool
worker_record_failure(WorkerJob *job, ErrorData *edata, bool final,
					  bool *stop)
{
	bool		recorded;

	worker_begin();
	recorded = job_record_failure(job->id, edata, final, stop);
	/* a tenant whose queue stops has failed, for migr_tenants() */
	if (recorded && *stop && catalog_tenant() != NULL)
		tenant_record_failure(catalog_tenant(), job_error_text(edata));
	worker_commit();
	return recorded;
}

/*
 * worker_fail_role
 *		A job whose role was dropped or renamed after it was queued cannot
 *		run as anyone: it fails at once, and the queue stops with its error.
 */
static void
worker_fail_role(WorkerJob *job)
{
	ErrorData	edata;
	bool		stop;

	memset(&edata, 0, sizeof(edata));
	edata.sqlerrcode = ERRCODE_UNDEFINED_OBJECT;
	edata.message = psprintf("role \"%s\" of the job does not exist", job->role);
	edata.detail = pstrdup("The role that queued the job was dropped or renamed while the job waited.");
	edata.hint = psprintf("Cancel the job with SELECT migr_cancel(" INT64_FORMAT "), then upgrade again as an existing role.",
						  job->id);
	ereport(LOG,
			(errmsg("migr: job " INT64_FORMAT " for revision \"%s\" failed: %s",
					job->id, job->revision, edata.message)));
	(void) worker_record_failure(job, &edata, true, &stop);
}

/*
 * worker_try_job
 *		Run a job, retrying it with a growing pause while attempts remain.
 *		Returns false when the queue must stop.
 */
static bool
worker_try_job(WorkerJob *job)
{
	volatile int pause = 1000;

	for (;;)
	{
		ErrorData  *volatile edata;
		bool		stop;

		PG_TRY();
		{
			worker_run_job(job);
			edata = NULL;
		}
		PG_CATCH();
		{
			/*
			 * NB: the order matters.  The error is copied into the worker's
			 * context before the abort frees the memory it lives in;
			 * interrupts are held so that a cancel arriving now cannot
			 * throw out of the handler with the transaction half aborted;
			 * the transaction is aborted before the error state is flushed
			 * and before worker_record_failure starts a new one, which it
			 * could not do inside the failed one.
			 */
			MemoryContextSwitchTo(worker_cxt);
			edata = CopyErrorData();
			HOLD_INTERRUPTS();
			EmitErrorReport();
			AbortOutOfAnyTransaction();
			FlushErrorState();
			RESUME_INTERRUPTS();
		}
		PG_END_TRY();

		if (edata == NULL)
			return true;
		if (!worker_record_failure(job, edata, false, &stop))
			return true;		/* cancelled: so are the jobs after it */
		if (stop)
			return false;
		ereport(LOG,
				(errmsg("migr: job " INT64_FORMAT " for revision \"%s\" failed, retrying in %d ms",
						job->id, job->revision, pause)));
		apply_sleep(pause);		/* the whole pause, whatever sets the latch */
		pause = Min(pause * 2, 60000);
		if (!worker_resume_job(job))
			return true;		/* cancelled during the pause */
	}
}

/*
 * worker_resume_job
 *		Mark a job that is to be retried running again, and reload where
 *		the failed attempt left off.  False if it was cancelled meanwhile.
 */
static bool
worker_resume_job(WorkerJob *job)
{
	bool		found;

	worker_begin();
	found = job_resume(job->id, &job->next);
	worker_commit();
	return found;
}

/*
 * worker_reconcile_database
 *		Launcher's helper, in one database: resume orphaned jobs.
 */
static void
worker_reconcile_database(void)
{
	worker_begin();
	if (OidIsValid(get_extension_oid("migr", true)))
	{
		job_reconcile();
		if (catalog_has_tenants())
			tenant_reconcile();
	}
	worker_commit();
}

/*
 * migr_worker_main
 *		Entry point of a job worker (and of the launcher's per-database
 *		helper).
 */
void
migr_worker_main(Datum main_arg)
{
	MigrWorkerArgs args;

	memcpy(&args, MyBgworkerEntry->bgw_extra, sizeof(args));
	guard_exempt_process();		/* it runs migr's jobs and nothing else */
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	worker_connect(&args);
	(void) worker_context();
	MemoryContextSwitchTo(worker_cxt);
	pgstat_report_appname("migr worker");

	if (args.mode == MIGR_WORKER_RECONCILE)
	{
		worker_reconcile_database();
		proc_exit(0);
	}

	/* a tenant's queue: its lock, its search_path, its applied set */
	if (args.tenant[0] != '\0')
		catalog_set_tenant(pstrdup(args.tenant));
	worker_wait_for_caller(args.wait_xid);
	(void) worker_run_queue(args.roleid);
	proc_exit(0);
}

/*
 * worker_context
 *		The worker's long-lived memory context (made on first use).
 */
MemoryContext
worker_context(void)
{
	if (worker_cxt == NULL)
		worker_cxt = AllocSetContextCreate(TopMemoryContext, "migr worker",
										   ALLOCSET_DEFAULT_SIZES);
	return worker_cxt;
}

/*
 * worker_run_queue
 *		Work through the queue of the current tenant (catalog_tenant(); the
 *		shared queue when none) as roleid, holding that queue's migr lock
 *		for the whole of it.  Returns false when the queue stopped (a job
 *		failed for good, or the next job is another role's and its worker
 *		was started).  A tenant rollout's worker runs its tenants' queues
 *		this way too (src/tenant/rollout.c).
 */
bool
worker_run_queue(Oid roleid)
{
	WorkerJob	job;
	bool		finished = true;
	bool		handed_over = false;
	MemoryContext outer = worker_context();

	/*
	 * What the jobs need (their scripts, split) lives in a context of this
	 * queue's, gone when it is done: a rollout worker runs the queues of
	 * thousands of tenants.
	 */
	worker_cxt = AllocSetContextCreate(outer, "migr worker queue",
									   ALLOCSET_DEFAULT_SIZES);
	MemoryContextSwitchTo(worker_cxt);
	worker_take_lock();
	for (;;)
	{
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
		if (!worker_next_job(&job))
			break;
		if (!OidIsValid(job.roleid))
		{
			worker_fail_role(&job);
			finished = false;
			break;				/* the queue is stopped */
		}
		if (job.roleid != roleid)
		{
			/* the next job belongs to another role: hand over to its worker */
			catalog_unlock_session();
			StartTransactionCommand();
			(void) job_launch(job.roleid, InvalidFullTransactionId);
			CommitTransactionCommand();
			finished = false;
			handed_over = true;
			break;
		}
		if (!worker_try_job(&job))
		{
			finished = false;
			break;				/* the queue is stopped */
		}
	}
	if (!handed_over)
		catalog_unlock_session();
	MemoryContextSwitchTo(outer);
	MemoryContextDelete(worker_cxt);
	worker_cxt = outer;
	return finished;
}

/*
 * migr_launcher_main
 *		At server start: in every database that accepts connections, resume
 *		jobs that a crash or an immediate shutdown interrupted.  One helper
 *		at a time; each starts the job workers it needs and exits.
 */
void
migr_launcher_main(Datum main_arg)
{
	List	   *dbs = NIL;
	ListCell   *lc;
	Relation	rel;
	TableScanDesc scan;
	HeapTuple	tup;

	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnection(NULL, NULL, 0);
	pgstat_report_appname("migr launcher");

	StartTransactionCommand();
	(void) GetTransactionSnapshot();
	rel = table_open(DatabaseRelationId, AccessShareLock);
	scan = table_beginscan_catalog(rel, 0, NULL);
	while ((tup = heap_getnext(scan, ForwardScanDirection)) != NULL)
	{
		Form_pg_database db = (Form_pg_database) GETSTRUCT(tup);
		MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

		if (db->datallowconn)
			dbs = lappend_oid(dbs, db->oid);
		MemoryContextSwitchTo(old);
	}
	table_endscan(scan);
	table_close(rel, AccessShareLock);
	CommitTransactionCommand();

	foreach(lc, dbs)
	{
		BackgroundWorker worker;
		BackgroundWorkerHandle *handle;
		MigrWorkerArgs args;
		pid_t		pid;

		memset(&args, 0, sizeof(args));
		args.mode = MIGR_WORKER_RECONCILE;
		args.dboid = lfirst_oid(lc);
		args.roleid = InvalidOid;	/* the bootstrap superuser: it only reads */
		job_worker_entry(&worker, "migr launcher helper", &args);

		if (!RegisterDynamicBackgroundWorker(&worker, &handle))
		{
			ereport(LOG,
					(errmsg("migr launcher: no background worker slot free; jobs in database %u resume at the next migr call",
							args.dboid)));
			continue;
		}
		if (WaitForBackgroundWorkerStartup(handle, &pid) == BGWH_STARTED)
			(void) WaitForBackgroundWorkerShutdown(handle);
	}

	/*
	 * Stay, doing nothing: a worker that has exited is forgotten when the
	 * postmaster reinitialises after a crash, and a crash is exactly when
	 * jobs need resuming.
	 */
	for (;;)
	{
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_EXIT_ON_PM_DEATH, -1L,
						 PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
}

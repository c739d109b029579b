/*-------------------------------------------------------------------------
 *
 * catalog.c
 *	  Reading and writing migr's own tables (schema "migr") through SPI.
 *
 * Every query here is fully qualified (tables, functions and operators) so
 * that nothing a caller plants on search_path can take part in it, and runs
 * as the extension's owner: a role that may only EXECUTE migr_upgrade() can
 * still record what it applied, without migr's tables being writable by it
 * and without SECURITY DEFINER functions.  Scripts themselves never run
 * here; they run as the calling role (apply.c).
 *
 * Plans are prepared once per backend and kept; the plan cache replans them
 * if the extension is dropped and created again.
 *
 * This file owns every read and write of migr.revision, migr.edge,
 * migr.label, migr.head, migr.applied, migr.partial, migr.log and
 * migr.state, and the migr and definition locks.  The job queue, migr.job,
 * belongs to job.c, which runs its queries through catalog_run() too; the
 * one read of it here, in catalog_partials(), only names the latest job of
 * each partially applied revision.
 *
 * Copyright (c) 2026, migr developers
 *
 * IDENTIFICATION
 *	  src/catalog.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "access/relation.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/namespace.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_trigger.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "tcop/dest.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "storage/lock.h"
#include "storage/proc.h"
#include "tcop/utility.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/syscache.h"
#include "utils/rel.h"
#include "utils/timestamp.h"
#include "common/hashfn.h"
#include "nodes/params.h"

#include "migr.h"

/* The migr lock: an advisory-type lock tag of our own (see README). */
#define MIGR_LOCK_KEY		0x6d696772	/* "migr" */
#define MIGR_LOCK_FIELD4	3			/* pg_advisory_* use 1 and 2 */
#define MIGR_DEFINE_FIELD4	4			/* the definition lock */
#define MIGR_TENANT_FIELD4	5			/* a tenant's migr lock (key2: hash) */

/*
 * NB: whoever takes both takes the definition lock first (catalog_lock());
 * see there for why that order, and catalog_lock_define() for why defining
 * never takes the migr lock.
 */


static MigrQuery plan_heads_msg = {
	"SELECT h.revision, r.message, EXISTS (SELECT 1 FROM migr.label)"
	"  FROM migr.head h"
	"  JOIN migr.revision r ON r.id OPERATOR(pg_catalog.=) h.revision"
	" ORDER BY r.seq",
	0, {0}, NULL
};


static MigrQuery plan_graph = {
	"SELECT id, seq, down_revision, depends_on, branch_labels, message,"
	"       downgrade IS NOT NULL"
	"  FROM migr.revision",
	0, {0}, NULL, true
};

static MigrQuery plan_applied_all = {
	"SELECT revision, applied_at FROM migr.applied",
	0, {0}, NULL, true
};

static MigrQuery plan_applied = {
	"INSERT INTO migr.applied (revision, checksum, applied_at, applied_by, ms)"
	" VALUES ($1, $2, pg_catalog.clock_timestamp(), $3, $4)",
	4, {TEXTOID, TEXTOID, NAMEOID, FLOAT8OID}, NULL
};

static MigrQuery plan_unapplied = {
	"DELETE FROM migr.applied WHERE revision OPERATOR(pg_catalog.=) $1",
	1, {TEXTOID}, NULL
};

/*
 * Partially applied revisions (migr.partial): the checksum stays the one in
 * effect when the revision was started; only the progress moves.
 */
static MigrQuery plan_partial = {
	"INSERT INTO migr.partial (revision, checksum, next_statement,"
	"  started_at, started_by)"
	" VALUES ($1, $2, $3, pg_catalog.clock_timestamp(), $4)"
	" ON CONFLICT (revision) DO UPDATE"
	"   SET next_statement = EXCLUDED.next_statement",
	4, {TEXTOID, TEXTOID, INT4OID, NAMEOID}, NULL
};

static MigrQuery plan_unpartial = {
	"DELETE FROM migr.partial WHERE revision OPERATOR(pg_catalog.=) $1",
	1, {TEXTOID}, NULL
};

static MigrQuery plan_partials = {
	"SELECT p.revision, p.next_statement,"
	"       (SELECT j.id FROM migr.job j"
	"         WHERE j.revision OPERATOR(pg_catalog.=) p.revision"
	"         ORDER BY j.id DESC LIMIT 1),"
	"       (SELECT j.state FROM migr.job j"
	"         WHERE j.revision OPERATOR(pg_catalog.=) p.revision"
	"         ORDER BY j.id DESC LIMIT 1)"
	"  FROM migr.partial p ORDER BY p.started_at",
	0, {0}, NULL, true
};

static MigrQuery plan_log = {
	"INSERT INTO migr.log (at, role, action, revision, target, ms, outcome)"
	" VALUES (pg_catalog.clock_timestamp(), $1, $2, $3, $4, $5, $6)",
	6, {NAMEOID, TEXTOID, TEXTOID, TEXTOID, FLOAT8OID, TEXTOID}, NULL
};

static MigrQuery plan_state = {
	"UPDATE migr.state SET generation = generation OPERATOR(pg_catalog.+) 1",
	0, {0}, NULL, true
};

static MigrQuery plan_getdef = {
	"SELECT r.down_revision, r.depends_on, r.branch_labels, r.message, r.kind,"
	"       r.upgrade, r.downgrade, r.checksum, a.revision IS NOT NULL,"
	"       a.checksum, p.next_statement, p.checksum"
	"  FROM migr.revision r"
	"  LEFT JOIN migr.applied a ON a.revision OPERATOR(pg_catalog.=) r.id"
	"  LEFT JOIN migr.partial p ON p.revision OPERATOR(pg_catalog.=) r.id"
	" WHERE r.id OPERATOR(pg_catalog.=) $1",
	1, {TEXTOID}, NULL
};

/* the same, where migr.partial does not exist yet (extension 1.0) */
static MigrQuery plan_getdef_10 = {
	"SELECT r.down_revision, r.depends_on, r.branch_labels, r.message, r.kind,"
	"       r.upgrade, r.downgrade, r.checksum, a.revision IS NOT NULL,"
	"       a.checksum, NULL::integer, NULL::text"
	"  FROM migr.revision r"
	"  LEFT JOIN migr.applied a ON a.revision OPERATOR(pg_catalog.=) r.id"
	" WHERE r.id OPERATOR(pg_catalog.=) $1",
	1, {TEXTOID}, NULL
};

/*
 * The same for a tenant (src/tenant/): its applied set and partially
 * applied revisions live in migr.tenant_applied and migr.tenant_partial,
 * keyed by the tenant's name, always the last parameter.
 */
static MigrQuery plan_t_applied_all = {
	"SELECT revision, applied_at FROM migr.tenant_applied"
	" WHERE tenant OPERATOR(pg_catalog.=) $1",
	1, {TEXTOID}, NULL
};

static MigrQuery plan_t_applied = {
	"INSERT INTO migr.tenant_applied (revision, checksum, applied_at,"
	"  applied_by, ms, tenant)"
	" VALUES ($1, $2, pg_catalog.clock_timestamp(), $3, $4, $5)",
	5, {TEXTOID, TEXTOID, NAMEOID, FLOAT8OID, TEXTOID}, NULL
};

static MigrQuery plan_t_unapplied = {
	"DELETE FROM migr.tenant_applied WHERE revision OPERATOR(pg_catalog.=) $1"
	"   AND tenant OPERATOR(pg_catalog.=) $2",
	2, {TEXTOID, TEXTOID}, NULL
};

static MigrQuery plan_t_partial = {
	"INSERT INTO migr.tenant_partial (revision, checksum, next_statement,"
	"  started_at, started_by, tenant)"
	" VALUES ($1, $2, $3, pg_catalog.clock_timestamp(), $4, $5)"
	" ON CONFLICT (tenant, revision) DO UPDATE"
	"   SET next_statement = EXCLUDED.next_statement",
	5, {TEXTOID, TEXTOID, INT4OID, NAMEOID, TEXTOID}, NULL
};

static MigrQuery plan_t_unpartial = {
	"DELETE FROM migr.tenant_partial WHERE revision OPERATOR(pg_catalog.=) $1"
	"   AND tenant OPERATOR(pg_catalog.=) $2",
	2, {TEXTOID, TEXTOID}, NULL
};

static MigrQuery plan_t_partials = {
	"SELECT p.revision, p.next_statement,"
	"       (SELECT j.id FROM migr.job j"
	"         WHERE j.revision OPERATOR(pg_catalog.=) p.revision"
	"           AND j.tenant OPERATOR(pg_catalog.=) p.tenant"
	"         ORDER BY j.id DESC LIMIT 1),"
	"       (SELECT j.state FROM migr.job j"
	"         WHERE j.revision OPERATOR(pg_catalog.=) p.revision"
	"           AND j.tenant OPERATOR(pg_catalog.=) p.tenant"
	"         ORDER BY j.id DESC LIMIT 1)"
	"  FROM migr.tenant_partial p WHERE p.tenant OPERATOR(pg_catalog.=) $1"
	" ORDER BY p.started_at",
	1, {TEXTOID}, NULL
};

static MigrQuery plan_t_log = {
	"INSERT INTO migr.log (at, role, action, revision, target, ms, outcome,"
	"  tenant)"
	" VALUES (pg_catalog.clock_timestamp(), $1, $2, $3, $4, $5, $6, $7)",
	7, {NAMEOID, TEXTOID, TEXTOID, TEXTOID, FLOAT8OID, TEXTOID, TEXTOID}, NULL
};

static MigrQuery plan_t_getdef = {
	"SELECT r.down_revision, r.depends_on, r.branch_labels, r.message, r.kind,"
	"       r.upgrade, r.downgrade, r.checksum, a.revision IS NOT NULL,"
	"       a.checksum, p.next_statement, p.checksum"
	"  FROM migr.revision r"
	"  LEFT JOIN migr.tenant_applied a ON a.revision OPERATOR(pg_catalog.=) r.id"
	"        AND a.tenant OPERATOR(pg_catalog.=) $2"
	"  LEFT JOIN migr.tenant_partial p ON p.revision OPERATOR(pg_catalog.=) r.id"
	"        AND p.tenant OPERATOR(pg_catalog.=) $2"
	" WHERE r.id OPERATOR(pg_catalog.=) $1",
	2, {TEXTOID, TEXTOID}, NULL
};

static MigrQuery plan_label = {
	"SELECT revision FROM migr.label WHERE label OPERATOR(pg_catalog.=) $1",
	1, {TEXTOID}, NULL
};

static MigrQuery plan_referenced = {
	"SELECT EXISTS (SELECT 1 FROM migr.edge"
	"                WHERE parent OPERATOR(pg_catalog.=) $1)",
	1, {TEXTOID}, NULL
};

static MigrQuery plan_insert = {
	"INSERT INTO migr.revision (id, seq, down_revision, depends_on,"
	"  branch_labels, message, kind, upgrade, downgrade, checksum,"
	"  defined_at, defined_by)"
	" VALUES ($1, pg_catalog.nextval('migr.revision_seq'::pg_catalog.regclass),"
	"  $2, $3, $4, $5, $6, $7, $8, $9, pg_catalog.now(), $10)",
	10, {TEXTOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTOID, TEXTOID,
	TEXTOID, TEXTOID, TEXTOID, NAMEOID}, NULL
};

static MigrQuery plan_update = {
	"UPDATE migr.revision SET down_revision = $2, depends_on = $3,"
	"  branch_labels = $4, message = $5, kind = $6, upgrade = $7,"
	"  downgrade = $8, checksum = $9, defined_at = pg_catalog.now(),"
	"  defined_by = $10"
	" WHERE id OPERATOR(pg_catalog.=) $1",
	10, {TEXTOID, TEXTARRAYOID, TEXTARRAYOID, TEXTARRAYOID, TEXTOID, TEXTOID,
	TEXTOID, TEXTOID, TEXTOID, NAMEOID}, NULL
};

static MigrQuery plan_unhead = {
	"DELETE FROM migr.head WHERE revision OPERATOR(pg_catalog.=) $1",
	1, {TEXTOID}, NULL
};

static MigrQuery plan_rehead = {
	"INSERT INTO migr.head (revision)"
	" SELECT r.id FROM migr.revision r"
	"  WHERE r.id OPERATOR(pg_catalog.=) $1"
	"    AND NOT EXISTS (SELECT 1 FROM migr.edge e"
	"                     WHERE e.parent OPERATOR(pg_catalog.=) $1"
	"                       AND e.kind OPERATOR(pg_catalog.=) 'p')",
	1, {TEXTOID}, NULL
};

static MigrQuery plan_edges_del = {
	"DELETE FROM migr.edge WHERE child OPERATOR(pg_catalog.=) $1",
	1, {TEXTOID}, NULL
};

static MigrQuery plan_edges = {
	"INSERT INTO migr.edge (parent, child, kind)"
	" SELECT p, $1, 'p' FROM pg_catalog.unnest($2) p"
	" UNION ALL"
	" SELECT d, $1, 'd' FROM pg_catalog.unnest($3) d",
	3, {TEXTOID, TEXTARRAYOID, TEXTARRAYOID}, NULL
};

static MigrQuery plan_labels_del = {
	"DELETE FROM migr.label WHERE revision OPERATOR(pg_catalog.=) $1",
	1, {TEXTOID}, NULL
};

static MigrQuery plan_labels = {
	"INSERT INTO migr.label (label, revision)"
	" SELECT l, $1 FROM pg_catalog.unnest($2) l",
	2, {TEXTOID, TEXTARRAYOID}, NULL
};

static Oid	catalog_owner(void);
static char **catalog_text_array(Datum d, bool isnull, int *n,
								  ArrayType **keep);
static int	catalog_rev_cmp(const void *a, const void *b);
static List *catalog_text_list(Datum d, bool isnull);
static Datum catalog_name_datum(Oid roleid);
static bool catalog_has_partial(void);
static bool catalog_lock_tag(uint16 field4, bool wait);
static void catalog_check_caller(const char *fname);
static void catalog_bump_state(void);
static Datum *catalog_tenant_args(Datum *values, int n);
static void catalog_tenant_xact_end(XactEvent event, void *arg);

/*
 * The tenant whose applied set the catalog functions read and write, or
 * NULL for the shared one (src/tenant/tenant.c sets it around a move of a
 * tenant; a worker sets it for its whole session).
 */
static const char *catalog_tenant_name = NULL;

/*
 * catalog_set_tenant
 *		Work on a tenant's applied set (NULL: the shared one) from now on;
 *		returns the previous one, for the caller to put back.
 */
const char *
catalog_set_tenant(const char *tenant)
{
	static bool registered = false;
	const char *prev = catalog_tenant_name;

	if (!registered && !IsBackgroundWorker)
	{
		RegisterXactCallback(catalog_tenant_xact_end, NULL);
		registered = true;
	}
	catalog_tenant_name = tenant;
	return prev;
}

/*
 * catalog_tenant_xact_end
 *		A safety net: in a client's backend no call leaves a tenant set past
 *		its transaction, whatever error went through it.  (A worker sets
 *		its tenant for its whole session.)
 */
static void
catalog_tenant_xact_end(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT ||
		event == XACT_EVENT_PARALLEL_COMMIT ||
		event == XACT_EVENT_PARALLEL_ABORT || event == XACT_EVENT_PREPARE)
		catalog_tenant_name = NULL;
}

const char *
catalog_tenant(void)
{
	return catalog_tenant_name;
}

/*
 * catalog_has_tenants
 *		Whether migr.tenant exists: not before ALTER EXTENSION migr UPDATE
 *		to 1.2, where nothing about tenants is recorded or read.
 */
bool
catalog_has_tenants(void)
{
	Oid			nsp = get_namespace_oid("migr", true);

	return OidIsValid(nsp) && OidIsValid(get_relname_relid("tenant", nsp));
}

/*
 * catalog_tenant_args
 *		values[0..n-1] followed by the tenant's name, for a tenant query.
 */
static Datum *
catalog_tenant_args(Datum *values, int n)
{
	Datum	   *out = palloc(sizeof(Datum) * (n + 1));

	if (n > 0)
		memcpy(out, values, sizeof(Datum) * n);
	out[n] = CStringGetTextDatum(catalog_tenant_name);
	return out;
}

/*
 * catalog_connect / catalog_finish
 *		Bracket a SQL-callable function's use of SPI.
 */
void
catalog_connect(void)
{
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
}

void
catalog_finish(void)
{
	if (SPI_finish() != SPI_OK_FINISH)
		elog(ERROR, "SPI_finish failed");
}

/*
 * The extension owner, cached across transactions: looking it up in
 * pg_extension at every call was a fifth of a no-op migr_upgrade().  The
 * owner changes only with REASSIGN OWNED (which also changes the owner of
 * migr's tables, so a relcache invalidation follows), DROP / CREATE
 * EXTENSION (likewise) or role changes: any relcache or pg_authid
 * invalidation forgets it.
 */
static Oid	owner_cache = InvalidOid;
static bool owner_callbacks = false;

static void
catalog_owner_reset(Datum arg, Oid relid)
{
	owner_cache = InvalidOid;
}

static void
catalog_owner_reset_role(Datum arg, int cacheid, uint32 hashvalue)
{
	owner_cache = InvalidOid;
}

/*
 * catalog_owner
 *		The role that owns the migr extension in this database.
 */
static Oid
catalog_owner(void)
{
	Relation	rel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	Oid			owner = InvalidOid;

	if (!owner_callbacks)
	{
		CacheRegisterRelcacheCallback(catalog_owner_reset, (Datum) 0);
		CacheRegisterSyscacheCallback(AUTHOID, catalog_owner_reset_role,
									  (Datum) 0);
		owner_callbacks = true;
	}
	if (OidIsValid(owner_cache))
		return owner_cache;

	ScanKeyInit(&key, Anum_pg_extension_extname, BTEqualStrategyNumber,
				F_NAMEEQ, CStringGetDatum("migr"));
	rel = table_open(ExtensionRelationId, AccessShareLock);
	scan = systable_beginscan(rel, ExtensionNameIndexId, true, NULL, 1, &key);
	tup = systable_getnext(scan);
	if (HeapTupleIsValid(tup))
		owner = ((Form_pg_extension) GETSTRUCT(tup))->extowner;
	systable_endscan(scan);
	table_close(rel, AccessShareLock);

	if (OidIsValid(owner))
		owner_cache = owner;
	else
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("extension \"migr\" is not installed in this database"),
				 errhint("Run CREATE EXTENSION migr.")));
	return owner;
}

/*
 * catalog_become_owner / catalog_restore_user
 *		Run the enclosed catalog work as the extension's owner.  The switch
 *		is undone by transaction abort if an error escapes in between.
 */
void
catalog_become_owner(MigrCatalogUser *save)
{
	GetUserIdAndSecContext(&save->saved_userid, &save->saved_sec_context);
	SetUserIdAndSecContext(catalog_owner(),
						   save->saved_sec_context |
						   SECURITY_LOCAL_USERID_CHANGE);
}

void
catalog_restore_user(MigrCatalogUser *save)
{
	SetUserIdAndSecContext(save->saved_userid, save->saved_sec_context);
}

/*
 * catalog_run
 *		Execute one of our kept plans, preparing it on first use.  Errors
 *		from SPI itself are raised here; the caller checks which kind of
 *		result it got (or lets catalog_run_expect do it).
 */
int
catalog_run(MigrQuery *cp, Datum *values, const char *nulls)
{
	int			rc;
	int			nest = 0;

	if (cp->plan == NULL)
	{
		SPIPlanPtr	plan = SPI_prepare(cp->sql, cp->nargs, cp->argtypes);

		if (plan == NULL)
			elog(ERROR, "SPI_prepare failed for \"%s\": %s",
				 cp->sql, SPI_result_code_string(SPI_result));
		if (SPI_keepplan(plan) != 0)
			elog(ERROR, "SPI_keepplan failed");
		cp->plan = plan;
	}

	/*
	 * NB: the settings are changed in a GUC nest level of our own, with
	 * GUC_ACTION_SAVE, and the level is popped right after execution.  They
	 * then only ever apply to this one query: the caller's enable_seqscan
	 * and jit, and what its own scripts SET, are untouched, and an error in
	 * between leaves nothing behind either, since transaction (or
	 * subtransaction) abort pops every nest level above its own.  The
	 * settings act at planning time, and a kept plan is replanned whenever
	 * the plan cache invalidates it, so they must be in force on every
	 * execution, not only the first.
	 */
	if (!cp->scan)
	{
		nest = NewGUCNestLevel();
		(void) set_config_option("enable_seqscan", "off", PGC_USERSET,
								 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0,
								 false);

		/*
		 * A disabled sequential scan still costs disable_cost where it is the
		 * only way (the one-row migr.state): never let that cost make the
		 * planner JIT-compile a one-row query.
		 */
		(void) set_config_option("jit", "off", PGC_USERSET,
								 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0,
								 false);
	}

	/*
	 * Always read-write: a VOLATILE caller then gets a fresh snapshot for
	 * each query, so what we read after waiting for the migr lock includes
	 * what the session we waited for committed.
	 */
	rc = SPI_execute_plan(cp->plan, values, nulls, false, 0);
	if (rc < 0)
		elog(ERROR, "SPI_execute_plan failed for \"%s\": %s",
			 cp->sql, SPI_result_code_string(rc));
	if (nest > 0)
		AtEOXact_GUC(true, nest);
	return rc;
}

/*
 * catalog_run_expect
 *		catalog_run, raising an error unless the result is expected_rc.  The
 *		error says what could not be done: "could not <what>: <SPI result>",
 *		with <what> formatted from fmt only on failure.
 */
void
catalog_run_expect(MigrQuery *cp, Datum *values, const char *nulls,
				   int expected_rc, const char *fmt,...)
{
	int			rc = catalog_run(cp, values, nulls);

	if (rc != expected_rc)
	{
		char		what[256];
		va_list		args;

		va_start(args, fmt);
		vsnprintf(what, sizeof(what), fmt, args);
		va_end(args);
		elog(ERROR, "could not %s: %s", what, SPI_result_code_string(rc));
	}
}

/*
 * catalog_lock_tag
 *		Take the migr lock (field4 MIGR_LOCK_FIELD4) or the definition lock
 *		(MIGR_DEFINE_FIELD4) for the rest of the transaction; without wait,
 *		only if nobody holds it (returns whether it is held).
 */
static bool
catalog_lock_tag(uint16 field4, bool wait)
{
	LOCKTAG		tag;
	LOCKMODE	mode = ExclusiveLock;
	uint32		key2 = 0;

	/*
	 * Tenants move side by side: each has a migr lock of its own (a hash of
	 * its name; two names that collide only take turns), and they share
	 * the definition lock, which still keeps definitions out of every move.
	 */
	if (catalog_tenant_name != NULL)
	{
		if (field4 == MIGR_DEFINE_FIELD4)
			mode = ShareLock;
		else
		{
			field4 = MIGR_TENANT_FIELD4;
			key2 = hash_bytes((const unsigned char *) catalog_tenant_name,
							  strlen(catalog_tenant_name));
		}
	}
	SET_LOCKTAG_ADVISORY(tag, MyDatabaseId, MIGR_LOCK_KEY, key2, field4);
	return LockAcquire(&tag, mode, false, !wait) !=
		LOCKACQUIRE_NOT_AVAIL;
}

/*
 * catalog_check_caller
 *		State-changing functions are never called from a migration script,
 *		nor where nothing may be written.
 */
static void
catalog_check_caller(const char *fname)
{
	if (apply_in_script)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot call %s from a migration script", fname),
				 errdetail("A revision's script runs while migr is applying or reverting revisions."),
				 errhint("Express the dependency with down_revision or depends_on instead.")));
	if (RecoveryInProgress())
		ereport(ERROR,
				(errcode(ERRCODE_READ_ONLY_SQL_TRANSACTION),
				 errmsg("cannot execute %s on a standby server", fname),
				 errdetail("A standby replays the primary's changes; migr's tables and the schema change only on the primary."),
				 errhint("Run %s on the primary server; the standby follows it.",
						 fname)));
	PreventCommandIfReadOnly(fname);
	PreventCommandDuringRecovery(fname);
}

/*
 * catalog_lock
 *		Take the migr lock for the rest of the transaction, on behalf of the
 *		SQL function fname (for messages).  When the applied
 *		set is about to change, also bump the state row: under REPEATABLE
 *		READ or SERIALIZABLE that fails with a serialization error if another
 *		migration committed after our snapshot was taken, instead of working
 *		from a stale applied set.
 *
 *		The definition lock is taken first, so that no definition changes
 *		under an in-line move.  Always in this order (definition lock, then
 *		migr lock) and the background worker takes only the migr lock:
 *		nobody holds the migr lock while waiting for the definition lock, so
 *		the two never deadlock, and defining never waits for a worker.
 */
void
catalog_lock(const char *fname, bool moving)
{
	catalog_check_caller(fname);
	catalog_lock_tag(MIGR_DEFINE_FIELD4, true);
	catalog_lock_tag(MIGR_LOCK_FIELD4, true);
	if (moving && catalog_tenant_name == NULL)
		catalog_bump_state();
}

/*
 * catalog_try_lock
 *		catalog_lock(), but return false instead of waiting for the migr
 *		lock (with the definition lock held).  Every in-line holder of the
 *		migr lock holds the definition lock too, and we hold that one now:
 *		so if the migr lock is taken, a background worker has it.  Waiting
 *		for the worker could mean waiting for a whole index build that in
 *		turn waits for our snapshot; the caller looks at the queue instead.
 */
bool
catalog_try_lock(const char *fname, bool moving)
{
	catalog_check_caller(fname);
	catalog_lock_tag(MIGR_DEFINE_FIELD4, true);
	if (!catalog_lock_tag(MIGR_LOCK_FIELD4, false))
		return false;
	if (moving && catalog_tenant_name == NULL)
		catalog_bump_state();
	return true;
}

/*
 * catalog_bump_state
 *		Bump migr.state's generation: the applied set is about to change.
 */
static void
catalog_bump_state(void)
{
	MigrCatalogUser save;

	catalog_become_owner(&save);
	catalog_run_expect(&plan_state, NULL, NULL, SPI_OK_UPDATE,
					   "update migr.state");
	if (SPI_processed != 1)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("table \"migr.state\" must hold exactly one row"),
				 errhint("Reinstall the extension, or restore the row with INSERT INTO migr.state DEFAULT VALUES.")));
	catalog_restore_user(&save);
}

/*
 * catalog_lock_define
 *		The definition lock alone, for migr_define() and its kind.
 *		Definitions serialise with each other and with in-line moves, but
 *		not with a background worker: the worker holds the migr lock for the
 *		whole of an index build, and the build waits for every transaction
 *		whose snapshot is older than its own, so a define waiting for the
 *		migr lock would wait for a build that waits for it (a deadlock,
 *		40P01).  The worker reads only the definitions of revisions it has
 *		jobs for, and those cannot be redefined (define.c).  (Definitions do
 *		not bump migr.state: thousands of them in one transaction would each
 *		have to step over the row versions the others left.)
 */
void
catalog_lock_define(const char *fname)
{
	catalog_check_caller(fname);
	catalog_lock_tag(MIGR_DEFINE_FIELD4, true);
}

/*
 * catalog_lock_session / catalog_unlock_session
 *		The migr lock for a background worker's whole session, so that it
 *		spans the transactions of a concurrent index build.
 */
static void
catalog_session_tag(LOCKTAG *tag)
{
	if (catalog_tenant_name != NULL)
		SET_LOCKTAG_ADVISORY(*tag, MyDatabaseId, MIGR_LOCK_KEY,
							 hash_bytes((const unsigned char *) catalog_tenant_name,
										strlen(catalog_tenant_name)),
							 MIGR_TENANT_FIELD4);
	else
		SET_LOCKTAG_ADVISORY(*tag, MyDatabaseId, MIGR_LOCK_KEY, 0,
							 MIGR_LOCK_FIELD4);
}

void
catalog_lock_session(void)
{
	LOCKTAG		tag;

	catalog_session_tag(&tag);
	(void) LockAcquire(&tag, ExclusiveLock, true, false);
}

void
catalog_unlock_session(void)
{
	LOCKTAG		tag;

	catalog_session_tag(&tag);
	(void) LockRelease(&tag, ExclusiveLock, true);
}

/*
 * The relations catalog_head_is_applied() reads, looked up once per backend
 * and forgotten on any invalidation of one of them (DROP EXTENSION drops
 * them all) or of the whole relation cache.  Looking them up by name in
 * every call cost as much as the scans.
 */
typedef struct HeadRels
{
	bool		valid;
	Oid			head;			/* migr.head */
	Oid			head_pkey;
	Oid			applied;		/* migr.applied */
	Oid			applied_pkey;
	Oid			collation;		/* of applied_pkey's only column */
	bool		watched;		/* both have migr.state_changed() (1.2) */
} HeadRels;

static HeadRels head_rels;

static void
catalog_head_rels_inval(Datum arg, Oid relid)
{
	if (!OidIsValid(relid) || relid == head_rels.head ||
		relid == head_rels.head_pkey || relid == head_rels.applied ||
		relid == head_rels.applied_pkey)
	{
		head_rels.valid = false;
		/* what noop.c remembers was read from these relations */
		noop_forget();
	}
}

/*
 * catalog_state_watched
 *		Whether every write to the table fires migr.state_changed(): the
 *		trigger the 1.2 update script creates, enabled ALWAYS (so even with
 *		session_replication_role = replica).  Disabling it invalidates the
 *		table's relation cache entry, and this is asked again.
 */
static bool
catalog_state_watched(Relation rel)
{
	TriggerDesc *td = rel->trigdesc;
	int16		want = TRIGGER_TYPE_INSERT | TRIGGER_TYPE_UPDATE |
		TRIGGER_TYPE_DELETE | TRIGGER_TYPE_TRUNCATE;
	int			i;

	for (i = 0; td != NULL && i < td->numtriggers; i++)
	{
		Trigger    *tg = &td->triggers[i];

		if (strcmp(tg->tgname, "state_changed") == 0 &&
			tg->tgenabled == TRIGGER_FIRES_ALWAYS &&
			(tg->tgtype & want) == want)
			return true;
	}
	return false;
}

static void
catalog_head_rels(void)
{
	static bool registered = false;
	Oid			nsp;
	Relation	idx;
	Relation	rel;

	if (head_rels.valid)
		return;
	if (!registered)
	{
		CacheRegisterRelcacheCallback(catalog_head_rels_inval, (Datum) 0);
		registered = true;
	}
	nsp = get_namespace_oid("migr", false);
	head_rels.head = get_relname_relid("head", nsp);
	head_rels.head_pkey = get_relname_relid("head_pkey", nsp);
	head_rels.applied = get_relname_relid("applied", nsp);
	head_rels.applied_pkey = get_relname_relid("applied_pkey", nsp);
	if (!OidIsValid(head_rels.head) || !OidIsValid(head_rels.head_pkey) ||
		!OidIsValid(head_rels.applied) || !OidIsValid(head_rels.applied_pkey))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("tables of extension \"migr\" are missing"),
				 errhint("Reinstall the extension.")));

	/*
	 * Valid before opening the index: an invalidation that locking it takes
	 * in (a concurrent DROP EXTENSION) must find it so, to reset it.
	 */
	head_rels.valid = true;
	idx = index_open(head_rels.applied_pkey, AccessShareLock);
	head_rels.collation = idx->rd_indcollation[0];
	index_close(idx, AccessShareLock);
	rel = table_open(head_rels.head, AccessShareLock);
	head_rels.watched = catalog_state_watched(rel);
	table_close(rel, NoLock);
	rel = table_open(head_rels.applied, AccessShareLock);
	head_rels.watched = head_rels.watched && catalog_state_watched(rel);
	table_close(rel, NoLock);
}

/*
 * catalog_head_scan
 *		Read the heads (into *heads) and whether the only one is applied, as
 *		the given snapshot shows them.
 *
 *		It reads migr.head and migr.applied through their primary keys,
 *		with the server's catalog-scan machinery, not through SPI: setting
 *		up an executor for two one-row queries cost more than everything
 *		else in a no-op call.  migr.head is read through its index, not
 *		sequentially, because every migr_define() replaces a head row: the
 *		heap keeps the dead rows' pages until VACUUM and never gives back
 *		the ones before the live row, while VACUUM leaves the index one leaf
 *		page.  Both tables are readable by PUBLIC, so skipping permission
 *		checks here shows nobody anything new.  Only AccessShareLock is
 *		taken, as any SELECT would take it, and held to the end of the
 *		transaction.
 */
static bool
catalog_head_scan(Snapshot snapshot, List **heads)
{
	Relation	rel;
	SysScanDesc scan;
	HeapTuple	tup;
	ScanKeyData key;
	bool		applied = false;
	bool		isnull;

	*heads = NIL;
	rel = table_open(head_rels.head, AccessShareLock);
	scan = systable_beginscan(rel, head_rels.head_pkey, true, snapshot,
							  0, NULL);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
		*heads = lappend(*heads,
						 TextDatumGetCString(heap_getattr(tup, 1,
														  RelationGetDescr(rel),
														  &isnull)));
	systable_endscan(scan);
	/* keep the lock to the end of the transaction, as a SELECT does */
	table_close(rel, NoLock);

	if (list_length(*heads) != 1)
		return false;

	rel = table_open(head_rels.applied, AccessShareLock);
	ScanKeyEntryInitialize(&key, 0, 1, BTEqualStrategyNumber, InvalidOid,
						   head_rels.collation, F_TEXTEQ,
						   CStringGetTextDatum(linitial(*heads)));
	scan = systable_beginscan(rel, head_rels.applied_pkey, true, snapshot,
							  1, &key);
	applied = HeapTupleIsValid(systable_getnext(scan));
	systable_endscan(scan);
	table_close(rel, NoLock);
	return applied;
}

/*
 * catalog_head_is_applied
 *		The fast path of migr_upgrade('head'), at every application start:
 *		is there exactly one head, and is it applied?  (The applied set is
 *		closed under ancestors, so then nothing is pending.)  The ids of all
 *		heads are returned in *heads.
 *
 *		A backend that has found nothing to do, and nothing changed since
 *		(noop.c), answers without looking at the tables at all: true, with
 *		no heads.  Otherwise the tables are read with the statement's
 *		snapshot, which gives the answer; and when that is "nothing to do",
 *		once more with a new snapshot taken after noop_state() read the
 *		shared word, so that what is remembered is known to include every
 *		change the word counts.
 */
bool
catalog_head_is_applied(List **heads)
{
	Snapshot	snapshot;
	uint64		state;
	bool		remember = noop_state(&state);
	bool		applied;

	/*
	 * NB: an invalidation of migr's relations makes noop.c forget, so take
	 * in the pending ones first (a DROP EXTENSION, or a disabled trigger),
	 * as opening the relations would have.  When there are none this costs
	 * one unlocked read.
	 */
	if (remember)
	{
		AcceptInvalidationMessages();
		if (noop_known_at(state))
		{
			*heads = NIL;
			return true;
		}
	}

	catalog_head_rels();
	snapshot = GetActiveSnapshot() ? GetActiveSnapshot() :
		GetTransactionSnapshot();
	applied = catalog_head_scan(snapshot, heads);

	if (remember && head_rels.watched && (applied || *heads == NIL))
	{
		Snapshot	latest = RegisterSnapshot(GetLatestSnapshot());
		List	   *now;

		if (catalog_head_scan(latest, &now) || now == NIL)
			noop_remember(state);
		UnregisterSnapshot(latest);
	}
	return applied;
}

/*
 * catalog_text_array
 *		Deconstruct a text[] datum into C strings.
 */
static char **
catalog_text_array(Datum d, bool isnull, int *n, ArrayType **keep)
{
	ArrayType  *arr;
	Datum	   *elems;
	bool	   *nulls;
	char	  **out;
	int			i;

	*n = 0;
	if (keep)
		*keep = NULL;

	/*
	 * The usual empty list is just an array header: recognise it without
	 * detoasting (copying) it.
	 */
	if (isnull ||
		VARSIZE_ANY_EXHDR(DatumGetPointer(d)) <= sizeof(ArrayType) - VARHDRSZ)
		return NULL;
	arr = DatumGetArrayTypeP(d);
	if (ARR_NDIM(arr) == 0)
		return NULL;
	deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT,
					  &elems, &nulls, n);
	out = palloc(sizeof(char *) * Max(*n, 1));
	for (i = 0; i < *n; i++)
		out[i] = nulls[i] ? pstrdup("") : TextDatumGetCString(elems[i]);
	pfree(elems);
	pfree(nulls);
	if (keep)
		*keep = (arr == (ArrayType *) DatumGetPointer(d)) ?
			DatumGetArrayTypePCopy(d) : arr;
	return out;
}

/*
 * catalog_text_list
 *		Deconstruct a text[] datum into a List of C strings.
 */
static List *
catalog_text_list(Datum d, bool isnull)
{
	List	   *out = NIL;
	char	  **items;
	int			n;
	int			i;

	items = catalog_text_array(d, isnull, &n, NULL);
	for (i = 0; i < n; i++)
		out = lappend(out, items[i]);
	return out;
}

/*
 * catalog_rev_cmp
 *		Definition order.
 */
static int
catalog_rev_cmp(const void *a, const void *b)
{
	int64		sa = ((const MigrRev *) a)->seq;
	int64		sb = ((const MigrRev *) b)->seq;

	return (sa < sb) ? -1 : (sa > sb) ? 1 : 0;
}

/*
 * A DestReceiver that builds the graph straight from the executor's slots,
 * without first copying every row into an SPI tuple table: the whole
 * history is read at each upgrade that has work to do and by the looking
 * functions, so this is the hot path for long histories.
 */
typedef struct GraphReceiver
{
	DestReceiver pub;
	MemoryContext cxt;			/* where the graph lives */
	MigrGraph  *g;
	int			allocated;
	bool		applied_pass;	/* reading migr.applied, not migr.revision */
} GraphReceiver;

static bool
catalog_graph_receive(TupleTableSlot *slot, DestReceiver *self)
{
	GraphReceiver *gr = (GraphReceiver *) self;
	MigrGraph  *g = gr->g;
	MemoryContext old = MemoryContextSwitchTo(gr->cxt);
	Datum	   *v;
	bool	   *n;

	slot_getallattrs(slot);
	v = slot->tts_values;
	n = slot->tts_isnull;
	if (gr->applied_pass)
	{
		text	   *t = DatumGetTextPP(v[0]);
		char		id[MIGR_ID_MAXLEN + 1];
		int			len = VARSIZE_ANY_EXHDR(t);
		int			k = -1;

		/* look the id up without a palloc per row */
		if (len <= MIGR_ID_MAXLEN)
		{
			memcpy(id, VARDATA_ANY(t), len);
			id[len] = '\0';
			k = graph_find(g, id);
		}

		if (k >= 0)				/* always: foreign key */
		{
			g->revs[k].applied = true;
			g->revs[k].has_applied_at = true;
			g->revs[k].applied_at = DatumGetTimestampTz(v[1]);
		}
	}
	else
	{
		MigrRev    *r;

		if (g->nrevs == gr->allocated)
		{
			gr->allocated *= 2;
			g->revs = repalloc(g->revs, sizeof(MigrRev) * gr->allocated);
		}
		r = &g->revs[g->nrevs++];
		memset(r, 0, sizeof(MigrRev));
		r->id = TextDatumGetCString(v[0]);
		r->seq = DatumGetInt64(v[1]);
		r->parents = catalog_text_array(v[2], n[2], &r->nparents,
										&r->parents_array);
		r->deps = catalog_text_array(v[3], n[3], &r->ndeps, NULL);
		r->labels = catalog_text_array(v[4], n[4], &r->nlabels, NULL);
		r->message = DatumGetTextPCopy(v[5]);
		r->reversible = DatumGetBool(v[6]);
	}
	MemoryContextSwitchTo(old);
	return true;
}

static void
catalog_graph_startup(DestReceiver *self, int operation, TupleDesc typeinfo)
{
}

static void
catalog_graph_shutdown(DestReceiver *self)
{
}

/*
 * catalog_stream
 *		Run a kept plan, handing its rows to a receiver.
 */
static void
catalog_stream(MigrQuery *cp, DestReceiver *dest, Datum *values)
{
	SPIExecuteOptions options;
	ParamListInfo params = NULL;
	int			i;

	if (cp->plan == NULL)
	{
		SPIPlanPtr	plan = SPI_prepare(cp->sql, cp->nargs, cp->argtypes);

		if (plan == NULL || SPI_keepplan(plan) != 0)
			elog(ERROR, "could not prepare \"%s\": %s",
				 cp->sql, SPI_result_code_string(SPI_result));
		cp->plan = plan;
	}
	if (cp->nargs > 0)
	{
		params = makeParamList(cp->nargs);
		for (i = 0; i < cp->nargs; i++)
		{
			params->params[i].value = values[i];
			params->params[i].isnull = false;
			params->params[i].pflags = PARAM_FLAG_CONST;
			params->params[i].ptype = cp->argtypes[i];
		}
	}
	memset(&options, 0, sizeof(options));
	options.dest = dest;
	options.params = params;
	/* with a receiver of our own, SPI reports SPI_OK_UTILITY for a SELECT */
	if (SPI_execute_plan_extended(cp->plan, &options) < 0)
		elog(ERROR, "could not run \"%s\"", cp->sql);
}

/*
 * catalog_load_graph
 *		Read every revision (without its scripts) and the applied set, and
 *		link the graph.  Two plain scans, no join and no ORDER BY: sorting
 *		by definition order here is cheaper than asking the executor.  The
 *		graph lives in the current memory context.
 */
MigrGraph *
catalog_load_graph(void)
{
	MigrCatalogUser save;
	GraphReceiver gr;
	int			i;

	memset(&gr, 0, sizeof(gr));
	gr.pub.receiveSlot = catalog_graph_receive;
	gr.pub.rStartup = catalog_graph_startup;
	gr.pub.rShutdown = catalog_graph_shutdown;
	gr.pub.rDestroy = catalog_graph_shutdown;
	gr.pub.mydest = DestNone;
	gr.cxt = CurrentMemoryContext;
	gr.g = palloc0(sizeof(MigrGraph));
	gr.allocated = 64;
	gr.g->revs = palloc(sizeof(MigrRev) * gr.allocated);

	catalog_become_owner(&save);
	catalog_stream(&plan_graph, (DestReceiver *) &gr, NULL);
	for (i = 1; i < gr.g->nrevs; i++)
		if (gr.g->revs[i - 1].seq > gr.g->revs[i].seq)
			break;
	if (i < gr.g->nrevs)		/* a heap scan usually comes in order */
		qsort(gr.g->revs, gr.g->nrevs, sizeof(MigrRev), catalog_rev_cmp);
	graph_link(gr.g);
	gr.applied_pass = true;
	if (catalog_tenant_name != NULL)
		catalog_stream(&plan_t_applied_all, (DestReceiver *) &gr,
					   catalog_tenant_args(NULL, 0));
	else
		catalog_stream(&plan_applied_all, (DestReceiver *) &gr, NULL);
	catalog_restore_user(&save);
	return gr.g;
}

/*
 * catalog_name_datum
 *		A role's name as a "name" datum.
 */
static Datum
catalog_name_datum(Oid roleid)
{
	Name		n = palloc0(NAMEDATALEN);

	namestrcpy(n, GetUserNameFromId(roleid, false));
	return NameGetDatum(n);
}

/*
 * catalog_mark_applied
 *		Add a revision to the applied set.  ms < 0 means "stamped": no script
 *		ran, so no duration is recorded.
 */
void
catalog_mark_applied(const char *id, const char *checksum, double ms)
{
	catalog_mark_applied_ext(id, checksum, ms, true);
}

/*
 * catalog_mark_applied_ext
 *		catalog_mark_applied(), where the caller knows whether the revision
 *		may have a migr.partial row: move.c has just read its definition,
 *		under the migr lock, and skips the DELETE for the usual revision
 *		that has none (a fifth of the bookkeeping of each revision applied).
 */
void
catalog_mark_applied_ext(const char *id, const char *checksum, double ms,
						 bool partial)
{
	MigrCatalogUser save;
	Datum		values[4];
	char		nulls[5] = {' ', ' ', ' ', ' ', ' '};

	values[0] = CStringGetTextDatum(id);
	values[1] = CStringGetTextDatum(checksum);
	values[2] = catalog_name_datum(GetUserId());
	values[3] = Float8GetDatum(ms);
	if (ms < 0)
		nulls[3] = 'n';

	catalog_become_owner(&save);
	if (catalog_tenant_name != NULL)
	{
		Datum	   *tv = catalog_tenant_args(values, 4);

		catalog_run_expect(&plan_t_applied, tv, nulls, SPI_OK_INSERT,
						   "record revision \"%s\" as applied", id);
		tv[1] = tv[4];
		catalog_run_expect(&plan_t_unpartial, tv, NULL, SPI_OK_DELETE,
						   "record revision \"%s\" as applied", id);
		catalog_restore_user(&save);
		return;
	}
	catalog_run_expect(&plan_applied, values, nulls, SPI_OK_INSERT,
					   "record revision \"%s\" as applied", id);
	/* a partially applied revision is now whole */
	if (partial && catalog_has_partial())
		catalog_run_expect(&plan_unpartial, values, NULL, SPI_OK_DELETE,
						   "record revision \"%s\" as applied", id);
	catalog_restore_user(&save);
}

/*
 * catalog_has_partial
 *		Whether migr.partial exists: with the extension still at 1.0 (the
 *		library is newer than the SQL objects until ALTER EXTENSION UPDATE),
 *		there are no partially applied revisions to record, as in 1.0.
 */
static bool
catalog_has_partial(void)
{
	Oid			nsp = get_namespace_oid("migr", true);

	return OidIsValid(nsp) && OidIsValid(get_relname_relid("partial", nsp));
}

/*
 * catalog_mark_partial
 *		Record that a revision's statements before "next" have committed and
 *		the rest have not run.  The first call records the checksum in
 *		effect; later ones only move the progress.
 */
void
catalog_mark_partial(const char *id, const char *checksum, int next)
{
	MigrCatalogUser save;
	Datum		values[4];

	if (!catalog_has_partial())
		return;
	values[0] = CStringGetTextDatum(id);
	values[1] = CStringGetTextDatum(checksum);
	values[2] = Int32GetDatum(next);
	values[3] = catalog_name_datum(GetUserId());
	catalog_become_owner(&save);
	if (catalog_tenant_name != NULL)
		catalog_run_expect(&plan_t_partial, catalog_tenant_args(values, 4),
						   NULL, SPI_OK_INSERT,
						   "record revision \"%s\" as partially applied", id);
	else
		catalog_run_expect(&plan_partial, values, NULL, SPI_OK_INSERT,
						   "record revision \"%s\" as partially applied", id);
	catalog_restore_user(&save);
}

/*
 * catalog_clear_partial
 *		Forget that a revision is partially applied (migr_stamp).
 */
void
catalog_clear_partial(const char *id)
{
	MigrCatalogUser save;
	Datum		values[1];

	if (!catalog_has_partial())
		return;
	values[0] = CStringGetTextDatum(id);
	catalog_become_owner(&save);
	if (catalog_tenant_name != NULL)
		catalog_run_expect(&plan_t_unpartial, catalog_tenant_args(values, 1),
						   NULL, SPI_OK_DELETE, "update migr.tenant_partial");
	else
		catalog_run_expect(&plan_unpartial, values, NULL, SPI_OK_DELETE,
						   "update migr.partial");
	catalog_restore_user(&save);
}

/*
 * catalog_partials
 *		The partially applied revisions, oldest first, each with the latest
 *		of its jobs.
 */
List *
catalog_partials(void)
{
	MigrCatalogUser save;
	List	   *result = NIL;
	uint64		i;

	if (!catalog_has_partial())
		return NIL;
	catalog_become_owner(&save);
	if (catalog_tenant_name != NULL)
		catalog_run_expect(&plan_t_partials, catalog_tenant_args(NULL, 0),
						   NULL, SPI_OK_SELECT, "read migr.tenant_partial");
	else
		catalog_run_expect(&plan_partials, NULL, NULL, SPI_OK_SELECT,
						   "read migr.partial");
	catalog_restore_user(&save);
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		MigrPartial *p = palloc0(sizeof(MigrPartial));
		bool		isnull;

		p->revision = SPI_getvalue(tup, desc, 1);
		p->next_statement = DatumGetInt32(SPI_getbinval(tup, desc, 2, &isnull));
		p->job = SPI_getvalue(tup, desc, 3);
		p->job_state = SPI_getvalue(tup, desc, 4);
		result = lappend(result, p);
	}
	SPI_freetuptable(SPI_tuptable);
	return result;
}


/*
 * catalog_mark_unapplied
 *		Remove a revision from the applied set.
 */
void
catalog_mark_unapplied(const char *id)
{
	MigrCatalogUser save;
	Datum		values[1];

	values[0] = CStringGetTextDatum(id);
	catalog_become_owner(&save);
	if (catalog_tenant_name != NULL)
		catalog_run_expect(&plan_t_unapplied, catalog_tenant_args(values, 1),
						   NULL, SPI_OK_DELETE,
						   "record revision \"%s\" as not applied", id);
	else
		catalog_run_expect(&plan_unapplied, values, NULL, SPI_OK_DELETE,
						   "record revision \"%s\" as not applied", id);
	catalog_restore_user(&save);
}

/*
 * catalog_log
 *		Append a row to migr.log.  ms < 0 records no duration; revision and
 *		target may be NULL.
 */
void
catalog_log(const char *action, const char *revision, const char *target,
			double ms, const char *outcome)
{
	MigrCatalogUser save;
	Datum		values[6];
	char		nulls[7] = {' ', ' ', ' ', ' ', ' ', ' ', ' '};

	values[0] = catalog_name_datum(GetUserId());
	values[1] = CStringGetTextDatum(action);
	if (revision)
		values[2] = CStringGetTextDatum(revision);
	else
		nulls[2] = 'n';
	if (target)
		values[3] = CStringGetTextDatum(target);
	else
		nulls[3] = 'n';
	values[4] = Float8GetDatum(ms);
	if (ms < 0)
		nulls[4] = 'n';
	values[5] = CStringGetTextDatum(outcome);

	catalog_become_owner(&save);
	if (catalog_tenant_name != NULL)
		catalog_run_expect(&plan_t_log, catalog_tenant_args(values, 6), nulls,
						   SPI_OK_INSERT, "write to migr.log");
	else
		catalog_run_expect(&plan_log, values, nulls, SPI_OK_INSERT,
						   "write to migr.log");
	catalog_restore_user(&save);
}

/*
 * catalog_get_def
 *		Read a revision's definition.  Returns false if it does not exist.
 */
bool
catalog_get_def(const char *id, MigrRevDef *def, bool *applied)
{
	MigrCatalogUser save;
	Datum		values[1];
	TupleDesc	desc;
	HeapTuple	tup;
	bool		isnull;
	Datum		d;

	values[0] = CStringGetTextDatum(id);
	catalog_become_owner(&save);
	if (catalog_tenant_name != NULL)
		catalog_run_expect(&plan_t_getdef, catalog_tenant_args(values, 1),
						   NULL, SPI_OK_SELECT, "read revision \"%s\"", id);
	else
		catalog_run_expect(catalog_has_partial() ? &plan_getdef : &plan_getdef_10,
						   values, NULL, SPI_OK_SELECT, "read revision \"%s\"", id);
	catalog_restore_user(&save);

	if (SPI_processed != 1)
	{
		SPI_freetuptable(SPI_tuptable);
		return false;
	}
	desc = SPI_tuptable->tupdesc;
	tup = SPI_tuptable->vals[0];
	def->id = pstrdup(id);
	d = SPI_getbinval(tup, desc, 1, &isnull);
	def->parents = catalog_text_list(d, isnull);
	d = SPI_getbinval(tup, desc, 2, &isnull);
	def->deps = catalog_text_list(d, isnull);
	d = SPI_getbinval(tup, desc, 3, &isnull);
	def->labels = catalog_text_list(d, isnull);
	def->message = SPI_getvalue(tup, desc, 4);
	def->kind = SPI_getvalue(tup, desc, 5);
	def->upgrade = SPI_getvalue(tup, desc, 6);
	def->downgrade = SPI_getvalue(tup, desc, 7);
	def->checksum = SPI_getvalue(tup, desc, 8);
	*applied = DatumGetBool(SPI_getbinval(tup, desc, 9, &isnull));
	def->applied_checksum = SPI_getvalue(tup, desc, 10);
	d = SPI_getbinval(tup, desc, 11, &isnull);
	def->partial_next = isnull ? 0 : DatumGetInt32(d);
	def->partial_checksum = SPI_getvalue(tup, desc, 12);
	SPI_freetuptable(SPI_tuptable);
	return true;
}

/*
 * catalog_label_owner
 *		The revision that carries a branch label, or NULL.
 */
char *
catalog_label_owner(const char *label)
{
	MigrCatalogUser save;
	Datum		values[1];
	char	   *id = NULL;

	values[0] = CStringGetTextDatum(label);
	catalog_become_owner(&save);
	catalog_run_expect(&plan_label, values, NULL, SPI_OK_SELECT,
					   "read label \"%s\"", label);
	catalog_restore_user(&save);
	if (SPI_processed > 0)
		id = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	SPI_freetuptable(SPI_tuptable);
	return id;
}

/*
 * catalog_is_referenced
 *		Whether some revision names this id as a parent or dependency.  Only
 *		then can defining it close a cycle.
 */
bool
catalog_is_referenced(const char *id)
{
	MigrCatalogUser save;
	Datum		values[1];
	bool		isnull;
	bool		result;

	values[0] = CStringGetTextDatum(id);
	catalog_become_owner(&save);
	catalog_run_expect(&plan_referenced, values, NULL, SPI_OK_SELECT,
					   "read the references to revision \"%s\"", id);
	catalog_restore_user(&save);
	result = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0],
										SPI_tuptable->tupdesc, 1, &isnull));
	SPI_freetuptable(SPI_tuptable);
	return result;
}

/*
 * catalog_store_def
 *		Insert a new revision, or replace an unapplied one, then recompute
 *		which of the old and new parents are heads.
 */
void
catalog_store_def(MigrRevDef *def, bool replace, List *old_parents)
{
	MigrCatalogUser save;
	Datum		values[10];
	char		nulls[10];
	List	   *touched = list_concat_copy(def->parents, old_parents);
	ListCell   *lc;

	memset(nulls, ' ', sizeof(nulls));
	values[0] = CStringGetTextDatum(def->id);
	values[1] = PointerGetDatum(migr_text_array(def->parents));
	values[2] = PointerGetDatum(migr_text_array(def->deps));
	values[3] = PointerGetDatum(migr_text_array(def->labels));
	values[4] = CStringGetTextDatum(def->message);
	values[5] = CStringGetTextDatum(def->kind);
	values[6] = CStringGetTextDatum(def->upgrade);
	if (def->downgrade)
		values[7] = CStringGetTextDatum(def->downgrade);
	else
		nulls[7] = 'n';
	values[8] = CStringGetTextDatum(def->checksum);
	values[9] = catalog_name_datum(GetUserId());

	catalog_become_owner(&save);
	if (replace)
		catalog_run_expect(&plan_update, values, nulls, SPI_OK_UPDATE,
						   "store revision \"%s\"", def->id);
	else
		catalog_run_expect(&plan_insert, values, nulls, SPI_OK_INSERT,
						   "store revision \"%s\"", def->id);
	if (SPI_processed != 1)
		elog(ERROR, "could not store revision \"%s\"", def->id);
	if (replace)
	{
		catalog_run_expect(&plan_edges_del, values, NULL, SPI_OK_DELETE,
						   "remove the edges of revision \"%s\"", def->id);
		catalog_run_expect(&plan_labels_del, values, NULL, SPI_OK_DELETE,
						   "remove the edges of revision \"%s\"", def->id);
	}
	catalog_run_expect(&plan_edges, values, NULL, SPI_OK_INSERT,
					   "store the edges of revision \"%s\"", def->id);
	values[1] = values[3];
	/* most revisions have no label: nothing to insert (issue 10) */
	if (def->labels != NIL)
		catalog_run_expect(&plan_labels, values, NULL, SPI_OK_INSERT,
						   "store the labels of revision \"%s\"", def->id);

	/*
	 * The heads: this revision, its old parents and its new ones.  NB: one
	 * pair of statements per revision, each a lookup by key: an ANY($1)
	 * form let the planner pick a hash anti-join over all of migr.edge,
	 * which made 10,000 definitions in one transaction quadratic.
	 */
	touched = lcons(def->id, touched);
	foreach(lc, touched)
	{
		values[0] = CStringGetTextDatum((char *) lfirst(lc));
		catalog_run_expect(&plan_unhead, values, NULL, SPI_OK_DELETE,
						   "update the heads of revision \"%s\"", def->id);
		catalog_run_expect(&plan_rehead, values, NULL, SPI_OK_INSERT,
						   "update the heads of revision \"%s\"", def->id);
	}
	catalog_restore_user(&save);
}

/*
 * catalog_heads
 *		The heads and their messages, in definition order, from the heads
 *		table.  Returns false (and nothing) when branch labels exist: a
 *		head's labels include its ancestors', which takes the whole graph.
 */
bool
catalog_heads(List **ids, List **messages)
{
	MigrCatalogUser save;
	uint64		i;
	bool		isnull;
	bool		labels = false;

	catalog_become_owner(&save);
	catalog_run_expect(&plan_heads_msg, NULL, NULL, SPI_OK_SELECT,
					   "read the heads");
	catalog_restore_user(&save);
	*ids = NIL;
	*messages = NIL;
	for (i = 0; i < SPI_processed && !labels; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];

		labels = DatumGetBool(SPI_getbinval(tup, SPI_tuptable->tupdesc, 3,
											&isnull));
		*ids = lappend(*ids, SPI_getvalue(tup, SPI_tuptable->tupdesc, 1));
		*messages = lappend(*messages,
							SPI_getvalue(tup, SPI_tuptable->tupdesc, 2));
	}
	SPI_freetuptable(SPI_tuptable);
	return !labels;
}

/*-------------------------------------------------------------------------
 *
 * tenant.c
 *	  Tenants: the tenant argument of the moving and looking functions,
 *	  the tenant's row in migr.tenant, and migr_tenants().
 *
 * A tenant is a schema with an applied set of its own (migr.tenant_applied
 * and migr.tenant_partial) over the same revisions.  A call with a tenant
 * runs exactly the code of the shared call (move.c, look.c), with three
 * things changed around it: the catalog layer reads and writes the tenant's
 * applied set (catalog_set_tenant()), the tenant's schema comes first on
 * search_path, and the migr lock is the tenant's own (catalog.c), so that
 * tenants move side by side while each one moves alone.  So the guard on
 * scripts, lint, checksums, partially applied revisions and the job queue
 * for statements that cannot run in a transaction hold per tenant as they
 * hold for the shared set.
 *
 * After each move the tenant's row in migr.tenant is brought up to date
 * (its current revisions, state, error, time), so that migr_tenants() reads
 * that one table, through its primary key, and nothing per tenant.
 *
 * Copyright (c) 2026, migr developers
 *
 * IDENTIFICATION
 *	  src/tenant/tenant.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/tuplestore.h"

#include "migr.h"
#include "tenant/tenant.h"

PG_FUNCTION_INFO_V1(migr_tenants);

/* a tenant's row, after a move */
static MigrQuery q_record = {
	"INSERT INTO migr.tenant (tenant, current, target, state, updated_at)"
	" VALUES ($1, $2, $3, $4, pg_catalog.clock_timestamp())"
	" ON CONFLICT (tenant) DO UPDATE"
	"   SET current = EXCLUDED.current,"
	"       target = COALESCE(EXCLUDED.target, migr.tenant.target),"
	"       state = EXCLUDED.state, error = NULL,"
	"       updated_at = EXCLUDED.updated_at",
	4, {TEXTOID, TEXTARRAYOID, TEXTOID, TEXTOID}, NULL
};

static MigrQuery q_failure = {
	"INSERT INTO migr.tenant (tenant, state, error, updated_at)"
	" VALUES ($1, 'failed', $2, pg_catalog.clock_timestamp())"
	" ON CONFLICT (tenant) DO UPDATE"
	"   SET state = 'failed', error = EXCLUDED.error,"
	"       updated_at = EXCLUDED.updated_at",
	2, {TEXTOID, TEXTOID}, NULL
};

/* the state of a tenant's job queue: a failed job first, else any */
static MigrQuery q_queue = {
	"SELECT state, error FROM migr.job"
	" WHERE tenant OPERATOR(pg_catalog.=) $1"
	"   AND state OPERATOR(pg_catalog.=) ANY (ARRAY['queued', 'running', 'failed'])"
	" ORDER BY state OPERATOR(pg_catalog.=) 'failed' DESC, id LIMIT 1",
	1, {TEXTOID}, NULL
};

/*
 * NB: taken first by tenant_record(), before it reads the applied set and
 * the queue.  Two writers of a tenant's row can race: a rollout whose
 * upgrade found the tenant's build still queued records the tenant without
 * holding its migr lock, while the worker that finishes the build records it
 * too.  Each computes the row from what it reads, and the last to commit
 * wins; reading the applied set before the other commits and the queue
 * after would record "done" with the old current.  Locking the row first
 * makes the second writer wait for the first to commit, then read afresh
 * (READ COMMITTED: each query below takes a new snapshot).
 */
static MigrQuery q_lock_row = {
	"SELECT 1 FROM migr.tenant WHERE tenant OPERATOR(pg_catalog.=) $1 FOR UPDATE",
	1, {TEXTOID}, NULL
};

static MigrQuery q_target = {
	"SELECT target FROM migr.tenant WHERE tenant OPERATOR(pg_catalog.=) $1",
	1, {TEXTOID}, NULL
};

/* a tenant that applied (or partially applied) a revision */
static MigrQuery q_using = {
	"SELECT tenant FROM migr.tenant_applied"
	" WHERE revision OPERATOR(pg_catalog.=) $1"
	" UNION ALL "
	"SELECT tenant FROM migr.tenant_partial"
	" WHERE revision OPERATOR(pg_catalog.=) $1"
	" LIMIT 1",
	1, {TEXTOID}, NULL
};

static MigrQuery q_list = {
	"SELECT tenant, current, target, state, error, updated_at"
	"  FROM migr.tenant ORDER BY tenant",
	0, {0}, NULL
};

/*
 * pending revisions of the tenants that share a current set and target,
 * keyed by the bytes of both as stored (no output functions per row)
 */
#define TENANT_KEY_BYTES 1020

typedef struct PendingKey
{
	int32		len;
	char		bytes[TENANT_KEY_BYTES];
} PendingKey;

typedef struct PendingEntry
{
	PendingKey	key;
	int			pending;		/* -1: unknown */
} PendingEntry;

static int	tenant_pending(MigrGraph *g, Datum current, const char *target);
static int	tenant_pending_try(MigrGraph *g, Datum current, const char *target);

/*
 * tenant_check_name
 *		A tenant is an existing schema other than the system's and migr's.
 */
void
tenant_check_name(const char *tenant)
{
	if (tenant[0] == '\0' || strlen(tenant) >= NAMEDATALEN)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_NAME),
				 errmsg("invalid tenant name \"%s\"", tenant),
				 errdetail("A tenant is a schema, named by 1 to %d bytes.",
						   NAMEDATALEN - 1)));
	if (strcmp(tenant, "migr") == 0 ||
		strcmp(tenant, "information_schema") == 0 ||
		strncmp(tenant, "pg_", 3) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("schema \"%s\" cannot be a tenant", tenant),
				 errdetail("System schemas and migr's own schema have no applied set of their own.")));
	if (!OidIsValid(get_namespace_oid(tenant, true)))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_SCHEMA),
				 errmsg("schema \"%s\" does not exist", tenant),
				 errdetail("A tenant is an existing schema, named exactly (case and all)."),
				 errhint("Create the schema first; its first upgrade with tenant => makes it a tenant.")));
	if (!catalog_has_tenants())
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("tenants need version 1.2 of extension \"migr\""),
				 errhint("Run ALTER EXTENSION migr UPDATE.")));
}

/*
 * tenant_set_search_path
 *		The tenant's schema first on search_path, then what was there, until
 *		the caller's GUC nest level ends.
 */
void
tenant_set_search_path(const char *tenant)
{
	const char *path = GetConfigOption("search_path", false, false);
	char	   *value;

	if (path != NULL && path[0] != '\0')
		value = psprintf("%s, %s", quote_identifier(tenant), path);
	else
		value = pstrdup(quote_identifier(tenant));
	(void) set_config_option("search_path", value,
							 superuser() ? PGC_SUSET : PGC_USERSET,
							 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
}

/*
 * tenant_target_kept
 *		The target a tenant's row keeps after an upgrade: migr_tenants()
 *		counts what is pending toward it.  A relative one ("+1", "x-1")
 *		means nothing later: the row keeps its previous target.
 */
static const char *
tenant_target_kept(FunctionCallInfo fcinfo, TenantCallKind kind)
{
	char	   *target;

	if (kind != TENANT_UPGRADE || PG_ARGISNULL(0))
		return NULL;
	target = text_to_cstring(PG_GETARG_TEXT_PP(0));
	if (target[0] == '-' || strchr(target, '+') != NULL ||
		(strlen(target) > 1 && strrchr(target, '-') != NULL &&
		 strspn(strrchr(target, '-') + 1, "0123456789") ==
		 strlen(strrchr(target, '-') + 1) && strrchr(target, '-')[1] != '\0'))
		return NULL;
	return target;
}

/*
 * tenant_record_needed
 *		Whether a move must bring the tenant's row up to date: when it
 *		returned rows (it applied, queued, reverted or stamped something),
 *		or, on a primary, when the row is missing or keeps another target.
 *		A no-op reads one row and writes nothing, so that upgrading every
 *		tenant at each deploy costs little when nothing is pending, and
 *		works on a standby.
 */
static bool
tenant_record_needed(FunctionCallInfo fcinfo, const char *tenant,
					 const char *target)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MigrCatalogUser save;
	Datum		values[1];
	bool		needed;

	if (rsinfo != NULL && IsA(rsinfo, ReturnSetInfo) &&
		rsinfo->setResult != NULL &&
		tuplestore_tuple_count(rsinfo->setResult) > 0)
		return true;
	if (RecoveryInProgress())
		return false;
	catalog_connect();
	values[0] = CStringGetTextDatum(tenant);
	catalog_become_owner(&save);
	catalog_run_expect(&q_target, values, NULL, SPI_OK_SELECT,
					   "read tenant \"%s\"", tenant);
	catalog_restore_user(&save);
	needed = SPI_processed == 0 ||
		(target != NULL &&
		 (SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1) == NULL ||
		  strcmp(SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1),
				 target) != 0));
	catalog_finish();
	return needed;
}

/*
 * tenant_call
 *		Call impl, the shared version of a SQL function, for the tenant
 *		named by argument argno (absent or NULL: the shared applied set, and
 *		impl is called as it is).
 */
Datum
tenant_call(FunctionCallInfo fcinfo, int argno, TenantCallKind kind,
			PGFunction impl)
{
	char	   *tenant;
	const char *volatile target;
	const char *prev;
	int			nest;
	Datum		result;

	if (PG_NARGS() <= argno || PG_ARGISNULL(argno))
		return impl(fcinfo);
	tenant = text_to_cstring(PG_GETARG_TEXT_PP(argno));
	tenant_check_name(tenant);
	target = tenant_target_kept(fcinfo, kind);

	nest = NewGUCNestLevel();
	tenant_set_search_path(tenant);
	prev = catalog_set_tenant(tenant);
	PG_TRY();
	{
		result = impl(fcinfo);
		if (kind != TENANT_LOOK && tenant_record_needed(fcinfo, tenant, target))
		{
			catalog_connect();
			tenant_record(tenant, target);
			catalog_finish();
		}
	}
	PG_FINALLY();
	{
		catalog_set_tenant(prev);
	}
	PG_END_TRY();
	AtEOXact_GUC(true, nest);
	return result;
}

/*
 * tenant_record
 *		Bring a tenant's row up to date after a move (or a worker's job):
 *		its current revisions, and whether it is done, still has jobs
 *		("running") or has a failed one ("failed", with its error).  With a
 *		target, the row keeps it for migr_tenants()'s pending count.  Must
 *		run inside SPI.
 */
void
tenant_record(const char *tenant, const char *target)
{
	MigrCatalogUser save;
	const char *prev = catalog_set_tenant(tenant);
	MigrGraph  *volatile g = NULL;
	List	   *ids = NIL;
	ListCell   *lc;
	Datum		values[4];
	char		nulls[4] = {' ', ' ', ' ', ' '};
	char	   *state = "done";
	char	   *error = NULL;

	values[0] = CStringGetTextDatum(tenant);
	catalog_become_owner(&save);
	catalog_run_expect(&q_lock_row, values, NULL, SPI_OK_SELECT,
					   "lock the row of tenant \"%s\"", tenant);
	catalog_restore_user(&save);

	PG_TRY();
	{
		g = catalog_load_graph();
	}
	PG_FINALLY();
	{
		catalog_set_tenant(prev);
	}
	PG_END_TRY();
	foreach(lc, graph_current(g))
		ids = lappend(ids, g->revs[lfirst_int(lc)].id);

	values[0] = CStringGetTextDatum(tenant);
	catalog_become_owner(&save);
	catalog_run_expect(&q_queue, values, NULL, SPI_OK_SELECT,
					   "read the job queue of tenant \"%s\"", tenant);
	if (SPI_processed > 0)
	{
		state = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
		error = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
		if (strcmp(state, "failed") != 0)
			state = "running";
	}
	SPI_freetuptable(SPI_tuptable);

	values[1] = PointerGetDatum(migr_text_array(ids));
	if (target)
		values[2] = CStringGetTextDatum(target);
	else
		nulls[2] = 'n';
	values[3] = CStringGetTextDatum(state);
	catalog_run_expect(&q_record, values, nulls, SPI_OK_INSERT,
					   "record tenant \"%s\"", tenant);
	if (strcmp(state, "failed") == 0)
	{
		values[1] = CStringGetTextDatum(error ? error : "unknown error");
		catalog_run_expect(&q_failure, values, NULL, SPI_OK_INSERT,
						   "record tenant \"%s\"", tenant);
	}
	catalog_restore_user(&save);
}

/*
 * tenant_record_failure
 *		A tenant's upgrade failed: record the error on its row.  Must run
 *		inside SPI, in a transaction of its own (the failed one rolled
 *		back).
 */
void
tenant_record_failure(const char *tenant, const char *error)
{
	MigrCatalogUser save;
	Datum		values[2];

	values[0] = CStringGetTextDatum(tenant);
	values[1] = CStringGetTextDatum(error);
	catalog_become_owner(&save);
	catalog_run_expect(&q_failure, values, NULL, SPI_OK_INSERT,
					   "record the failure of tenant \"%s\"", tenant);
	catalog_restore_user(&save);
}

/*
 * tenant_using_revision
 *		Whether some tenant applied a revision, or applied part of it (its
 *		name in *tenant): then the revision is immutable, as one the shared
 *		set applied is (define.c).  Must run inside SPI.
 */
bool
tenant_using_revision(const char *id, char **tenant)
{
	MigrCatalogUser save;
	Datum		values[1];
	bool		found;

	*tenant = NULL;
	if (!catalog_has_tenants())
		return false;
	values[0] = CStringGetTextDatum(id);
	catalog_become_owner(&save);
	catalog_run_expect(&q_using, values, NULL, SPI_OK_SELECT,
					   "read the tenants of revision \"%s\"", id);
	catalog_restore_user(&save);
	found = SPI_processed > 0;
	if (found)
		*tenant = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	SPI_freetuptable(SPI_tuptable);
	return found;
}

/*
 * tenant_pending_try
 *		How many revisions an upgrade to target would apply to a tenant
 *		whose current revisions are current (the applied set is what they
 *		need, as it always is); raises an error if the target does not
 *		resolve (several heads for "head", say).
 */
static int
tenant_pending_try(MigrGraph *g, Datum current, const char *target)
{
	ArrayType  *arr = DatumGetArrayTypeP(current);
	List	   *ids = migr_array_list(arr, "current");
	MigrTarget	cur;
	MigrTarget *t;
	bool	   *applied;
	ListCell   *lc;
	int			n;
	int			i;

	cur.base = false;
	cur.n = 0;
	cur.idx = palloc(sizeof(int) * Max(list_length(ids), 1));
	foreach(lc, ids)
	{
		int			k = graph_find(g, lfirst(lc));

		if (k >= 0)
			cur.idx[cur.n++] = k;
	}
	applied = cur.n > 0 ? graph_ancestors(g, &cur, true, true) :
		palloc0(sizeof(bool) * Max(g->nrevs, 1));
	for (i = 0; i < g->nrevs; i++)
		g->revs[i].applied = applied[i];
	t = target_resolve(g, target);
	if (t->base)
		return 0;
	(void) graph_upgrade_order(g, t, &n);
	return n;
}

/*
 * tenant_pending
 *		tenant_pending_try(), -1 where it fails, in a subtransaction: called
 *		once per distinct (current, target) of the tenants, which in a
 *		fleet is a handful.
 */
static int
tenant_pending(MigrGraph *g, Datum current, const char *target)
{
	MemoryContext oldcxt = CurrentMemoryContext;
	ResourceOwner oldowner = CurrentResourceOwner;
	volatile int n = -1;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(oldcxt);
	PG_TRY();
	{
		n = tenant_pending_try(g, current, target);
		ReleaseCurrentSubTransaction();
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(oldcxt);
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
	}
	PG_END_TRY();
	MemoryContextSwitchTo(oldcxt);
	CurrentResourceOwner = oldowner;
	return n;
}

/* migr_tenants()'s rows, straight from the executor (no SPI tuple table) */
typedef struct TenantReceiver
{
	DestReceiver pub;
	ReturnSetInfo *rsinfo;
	MigrGraph  *g;
	HTAB	   *cache;
	PendingKey *key;
	PendingKey *last;
	int			last_pending;
} TenantReceiver;

/*
 * tenant_row_pending
 *		The pending count of a tenant's row, from the cache when a tenant
 *		with the same current set and target was seen.
 */
static int
tenant_row_pending(TenantReceiver *tr, Datum current, Datum target,
				   bool target_null)
{
	struct varlena *cur = PG_DETOAST_DATUM_PACKED(current);
	struct varlena *tgt = target_null ? NULL : PG_DETOAST_DATUM_PACKED(target);
	int			clen = VARSIZE_ANY_EXHDR(cur);
	int			tlen = tgt ? VARSIZE_ANY_EXHDR(tgt) : 0;
	const char *tname = target_null ? "heads" : NULL;
	PendingKey *key = tr->key;
	PendingEntry *e;
	bool		found;

	if (tlen + 1 + clen > TENANT_KEY_BYTES)
		return tenant_pending(tr->g, current,
							  tname ? tname : TextDatumGetCString(target));

	/* a fleet is mostly alike: the previous row's answer first */
	if (tr->last->len == tlen + 1 + clen &&
		memcmp(tr->last->bytes, tgt ? VARDATA_ANY(tgt) : "", tlen) == 0 &&
		tr->last->bytes[tlen] == (target_null ? '\001' : '\0') &&
		memcmp(tr->last->bytes + tlen + 1, VARDATA_ANY(cur), clen) == 0)
		return tr->last_pending;

	memset(key, 0, sizeof(PendingKey));
	key->len = tlen + 1 + clen;
	if (tlen > 0)
		memcpy(key->bytes, VARDATA_ANY(tgt), tlen);
	key->bytes[tlen] = target_null ? '\001' : '\0';
	memcpy(key->bytes + tlen + 1, VARDATA_ANY(cur), clen);
	e = hash_search(tr->cache, key, HASH_ENTER, &found);
	if (!found)
		e->pending = tenant_pending(tr->g, current,
									tname ? tname : TextDatumGetCString(target));
	memcpy(tr->last, key, sizeof(PendingKey));
	tr->last_pending = e->pending;
	return e->pending;
}

static bool
tenant_receive(TupleTableSlot *slot, DestReceiver *self)
{
	TenantReceiver *tr = (TenantReceiver *) self;
	Datum		values[6];
	bool		nulls[6];
	int			pending;

	CHECK_FOR_INTERRUPTS();
	slot_getallattrs(slot);
	/* tenant, current, target, state, error, updated_at */
	values[0] = slot->tts_values[0];
	nulls[0] = slot->tts_isnull[0];
	values[1] = slot->tts_values[1];
	nulls[1] = slot->tts_isnull[1];
	pending = tenant_row_pending(tr, slot->tts_values[1], slot->tts_values[2],
								 slot->tts_isnull[2]);
	values[2] = Int32GetDatum(pending);
	nulls[2] = (pending < 0);
	memcpy(&values[3], &slot->tts_values[3], sizeof(Datum) * 3);
	memcpy(&nulls[3], &slot->tts_isnull[3], sizeof(bool) * 3);
	tuplestore_putvalues(tr->rsinfo->setResult, tr->rsinfo->setDesc, values,
						 nulls);
	return true;
}

static void
tenant_receiver_startup(DestReceiver *self, int operation, TupleDesc typeinfo)
{
}

static void
tenant_receiver_shutdown(DestReceiver *self)
{
}

/*
 * migr_tenants() returns table (tenant, current, pending, state, error,
 *		updated_at)
 *		Every tenant, from migr.tenant in one scan of its primary key, the
 *		rows handed by the executor straight to the result.  pending counts
 *		the revisions an upgrade to the tenant's latest target ("heads" if
 *		it never had one) would apply; it is computed here, once for each
 *		distinct current set and target, rather than kept on each row: a
 *		new revision would otherwise have to touch every tenant's row.
 */
Datum
migr_tenants(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr plan = NULL;
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MigrCatalogUser save;
	TenantReceiver tr;
	HASHCTL		ctl;
	SPIExecuteOptions options;
	const char *prev;
	int			nest;

	InitMaterializedSRF(fcinfo, 0);
	catalog_connect();
	if (!catalog_has_tenants())
	{
		catalog_finish();
		return (Datum) 0;
	}
	memset(&tr, 0, sizeof(tr));
	prev = catalog_set_tenant(NULL);
	PG_TRY();
	{
		tr.g = catalog_load_graph();
	}
	PG_FINALLY();
	{
		catalog_set_tenant(prev);
	}
	PG_END_TRY();

	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(PendingKey);
	ctl.entrysize = sizeof(PendingEntry);
	ctl.hcxt = CurrentMemoryContext;
	tr.cache = hash_create("migr tenants pending", 64, &ctl,
						   HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	tr.key = palloc(sizeof(PendingKey));
	tr.last = palloc0(sizeof(PendingKey));
	tr.last->len = -1;
	tr.last_pending = -1;
	tr.rsinfo = rsinfo;
	tr.pub.receiveSlot = tenant_receive;
	tr.pub.rStartup = tenant_receiver_startup;
	tr.pub.rShutdown = tenant_receiver_shutdown;
	tr.pub.rDestroy = tenant_receiver_shutdown;
	tr.pub.mydest = DestNone;

	/* through the primary key, however the planner judges the table */
	nest = NewGUCNestLevel();
	(void) set_config_option("enable_seqscan", "off", PGC_USERSET,
							 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	catalog_become_owner(&save);
	if (plan == NULL)
	{
		SPIPlanPtr	p = SPI_prepare(q_list.sql, 0, NULL);

		if (p == NULL || SPI_keepplan(p) != 0)
			elog(ERROR, "could not prepare \"%s\"", q_list.sql);
		plan = p;
	}
	memset(&options, 0, sizeof(options));
	options.dest = (DestReceiver *) &tr;
	options.read_only = false;
	if (SPI_execute_plan_extended(plan, &options) < 0)
		elog(ERROR, "could not read migr.tenant");
	catalog_restore_user(&save);
	AtEOXact_GUC(true, nest);
	catalog_finish();
	return (Datum) 0;
}

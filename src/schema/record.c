/*-------------------------------------------------------------------------
 *
 * record.c
 *	  The schema left by every successful move, kept for migr_drift().
 *
 * Once per move (an upgrade, a downgrade, a stamp that changed something,
 * a worker finishing a job), not once per revision: the description is
 * taken, its fingerprint written on the move's last migr.log row (column
 * schema_fingerprint) and the description itself stored once per
 * fingerprint in migr.schema_snapshot.  Both are written as the extension
 * owner, in the move's transaction, so a move that rolls back records
 * nothing.  A database still at extension version 1.0 or 1.1 has neither
 * the column nor the table: there, nothing is recorded.
 *
 * Copyright (c) 2026, migr developers
 *
 * IDENTIFICATION
 *	  src/schema/record.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/tuplestore.h"

#include "migr.h"
#include "schema/schema.h"

static const char *record_insert_sql =
"INSERT INTO migr.schema_snapshot (fingerprint, description, recorded_at)"
" VALUES ($1, $2, pg_catalog.now()) ON CONFLICT (fingerprint) DO NOTHING";

/*
 * The move's last log row: the one this session's latest nextval() of
 * migr.log_seq numbered.
 */
static const char *record_log_sql =
"UPDATE migr.log SET schema_fingerprint = $1"
" WHERE id OPERATOR(pg_catalog.=) pg_catalog.currval('migr.log_seq'::pg_catalog.regclass)";

static const char *record_last_sql =
"SELECT s.fingerprint, s.description"
"  FROM migr.log l JOIN migr.schema_snapshot s"
"    ON s.fingerprint OPERATOR(pg_catalog.=) l.schema_fingerprint"
" WHERE l.schema_fingerprint IS NOT NULL"
" ORDER BY l.id DESC LIMIT 1";

/*
 * schema_tables_exist
 *		Whether migr.schema_snapshot exists (extension version 1.2 or later;
 *		migr.log.schema_fingerprint comes with it).
 */
bool
schema_tables_exist(void)
{
	Oid			nsp = get_namespace_oid("migr", true);

	return OidIsValid(nsp) &&
		OidIsValid(get_relname_relid("schema_snapshot", nsp));
}

/*
 * schema_record
 *		Record the schema as it is now for the move that just wrote its log
 *		rows.  Called once per move, in its transaction.
 */
void
schema_record(void)
{
	MigrCatalogUser save;
	Jsonb	   *description;
	Datum		values[2];
	Oid			types[2] = {TEXTOID, JSONBOID};

	if (!schema_tables_exist())
		return;
	description = schema_describe_recorded();
	values[0] = CStringGetTextDatum(schema_fingerprint(description));
	values[1] = JsonbPGetDatum(description);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	catalog_become_owner(&save);
	if (SPI_execute_with_args(record_insert_sql, 2, types, values, NULL,
							  false, 0) != SPI_OK_INSERT)
		elog(ERROR, "could not record the schema in migr.schema_snapshot");
	if (SPI_execute_with_args(record_log_sql, 1, types, values, NULL,
							  false, 0) != SPI_OK_UPDATE)
		elog(ERROR, "could not record the schema fingerprint in migr.log");
	catalog_restore_user(&save);
	if (SPI_finish() != SPI_OK_FINISH)
		elog(ERROR, "SPI_finish failed");
}

/*
 * schema_record_move
 *		schema_record() for a move function that returns what it did: a
 *		move that did nothing (no rows) records nothing.
 */
void
schema_record_move(struct ReturnSetInfo *rsinfo)
{
	if (rsinfo != NULL && rsinfo->setResult != NULL &&
		tuplestore_tuple_count(rsinfo->setResult) > 0)
		schema_record();
}

/*
 * schema_last_recorded
 *		The description the last recorded move left, and its fingerprint;
 *		NULL when none was recorded (or the extension is older than 1.2).
 *		Allocated in the caller's memory context.
 */
Jsonb *
schema_last_recorded(char **fingerprint)
{
	MemoryContext caller = CurrentMemoryContext;
	Jsonb	   *out = NULL;

	*fingerprint = NULL;
	if (!schema_tables_exist())
		return NULL;
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute(record_last_sql, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read migr.schema_snapshot");
	if (SPI_processed == 1)
	{
		bool		isnull;
		Datum		fp = SPI_getbinval(SPI_tuptable->vals[0],
									   SPI_tuptable->tupdesc, 1, &isnull);
		Datum		d = SPI_getbinval(SPI_tuptable->vals[0],
									  SPI_tuptable->tupdesc, 2, &isnull);
		MemoryContext spi = MemoryContextSwitchTo(caller);

		*fingerprint = TextDatumGetCString(fp);
		out = DatumGetJsonbPCopy(d);
		MemoryContextSwitchTo(spi);
	}
	if (SPI_finish() != SPI_OK_FINISH)
		elog(ERROR, "SPI_finish failed");
	return out;
}

/*-------------------------------------------------------------------------
 *
 * migr_bench_floor.c
 *	  The floor of a no-op migr_upgrade('head'): an empty set-returning
 *	  function with the same signature and the same return mode.
 *
 * bench/history.sh builds this with PGXS into its temp dir, installs it
 * into the PostgreSQL it benchmarks and creates floor_upgrade() from it.
 * It does what migr_upgrade()'s no-op path does except look at migr's
 * tables: read the target as a C string, check that the caller takes a
 * materialized set, and return the empty set without a tuplestore.  What
 * a call costs beyond this is migr's own.
 *
 * Copyright (c) 2026, migr developers
 *
 * IDENTIFICATION
 *	  bench/floor/migr_bench_floor.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "nodes/execnodes.h"
#include "utils/builtins.h"

PG_MODULE_MAGIC;

PG_FUNCTION_INFO_V1(floor_upgrade);

/*
 * floor_upgrade(target text) returns table (revision, message, ms)
 */
Datum
floor_upgrade(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *target;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("target must not be null")));
	target = text_to_cstring(PG_GETARG_TEXT_PP(0));
	if (rsinfo == NULL || !IsA(rsinfo, ReturnSetInfo) ||
		!(rsinfo->allowedModes & SFRM_Materialize))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("set-valued function called in context that cannot accept a set")));
	if (strcmp(target, "head") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("floor_upgrade() only knows \"head\"")));

	/* the executor reads a NULL setResult as the empty set */
	rsinfo->returnMode = SFRM_Materialize;
	rsinfo->setResult = NULL;
	rsinfo->setDesc = NULL;
	return (Datum) 0;
}

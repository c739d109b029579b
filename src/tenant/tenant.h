/*-------------------------------------------------------------------------
 *
 * tenant.h
 *	  Declarations of migr's tenants: schemas with an applied set of their
 *	  own over the shared revision graph (README, "Tenants and fleets").
 *
 * Copyright (c) 2026, migr developers
 *
 * IDENTIFICATION
 *	  src/tenant/tenant.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGR_TENANT_H
#define MIGR_TENANT_H

#include "fmgr.h"

/* what a SQL function with a tenant argument does with its tenant */
typedef enum TenantCallKind
{
	TENANT_LOOK,				/* reads the tenant's applied set */
	TENANT_MOVE,				/* changes it (downgrade, stamp) */
	TENANT_UPGRADE				/* changes it toward a target it keeps */
} TenantCallKind;

/* tenant.c */
extern Datum tenant_call(FunctionCallInfo fcinfo, int argno,
						 TenantCallKind kind, PGFunction impl);
extern void tenant_check_name(const char *tenant);
extern void tenant_set_search_path(const char *tenant);

/* rollout.c */
PGDLLEXPORT void migr_rollout_main(Datum main_arg);

#endif							/* MIGR_TENANT_H */

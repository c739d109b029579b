/*-------------------------------------------------------------------------
 *
 * revformat.h
 *	  The revision-file format, written once for the extension and the
 *	  migr command-line client: directives, id and label syntax, random
 *	  ids, the checksum's byte layout and the order of a revision graph.
 *
 * Everything here compiles both in the server (postgres.h) and in the
 * client (postgres_fe.h, with FRONTEND defined), as PostgreSQL's own
 * src/common does.  Nothing here reports an error: a function returns a
 * reason, the server turns it into an ereport and the client prints it.
 *
 * Copyright (c) 2026, migr developers
 *
 * IDENTIFICATION
 *	  src/common/revformat.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef REVFORMAT_H
#define REVFORMAT_H

#include "common/cryptohash.h"
#include "revlex.h"

#define MIGR_ID_MAXLEN			64
#define MIGR_MAX_SCRIPT_BYTES	(16 * 1024 * 1024)
#define MIGR_CHECKSUM_LEN		64	/* hex digits of a SHA-256 */
#define MIGR_RANDOM_ID_LEN		12	/* hex digits, as Alembic makes them */

/* revname.c: what is wrong with an id or a label */
typedef enum RevNameProblem
{
	REVNAME_OK,
	REVNAME_LENGTH,				/* not 1 to MIGR_ID_MAXLEN characters */
	REVNAME_CHARS,				/* outside [A-Za-z0-9_.-] */
	REVNAME_SIGN,				/* starts with "+" or "-" */
	REVNAME_RESERVED			/* head, heads, base, current */
} RevNameProblem;

extern RevNameProblem revname_check(const char *name);
extern const char *revname_problem_text(RevNameProblem problem);
extern bool revname_random(char *id);

/* revsum.c: the fields a revision's checksum covers */
typedef struct RevSumFields
{
	const char *id;
	const char *const *parents;
	int			nparents;
	const char *const *deps;
	int			ndeps;
	const char *kind;
	const char *upgrade;
	const char *downgrade;		/* NULL when there is none */
} RevSumFields;

extern const char *revsum_compute(pg_cryptohash_ctx *ctx,
								  const RevSumFields *fields, char *hex);

/* revtopo.c: Kahn's order of a graph given as int arrays */
extern int	revtopo_order(int n, const bool *in, const int *start,
						  const int *need, int *order);

#endif							/* REVFORMAT_H */

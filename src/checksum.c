/*-------------------------------------------------------------------------
 *
 * checksum.c
 *	  The SHA-256 checksum that makes an applied revision immutable.
 *
 * The checksum covers the revision's id, parents, dependencies, kind and
 * both scripts, byte for byte (whitespace included).  Each field is written
 * to the hash with its length first, so that no two different revisions can
 * produce the same byte stream (moving text from one field into the next
 * changes the lengths).  The byte layout is src/common/revsum.c's, shared
 * with the client so that both compute the same checksum; here the
 * definition's lists become the arrays it takes.
 *
 * Copyright (c) 2026, migr developers
 *
 * IDENTIFICATION
 *	  src/checksum.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "migr.h"

static const char **checksum_array(List *items);

/*
 * checksum_array
 *		A list of C strings as an array, for src/common/revsum.c.
 */
static const char **
checksum_array(List *items)
{
	const char **out = palloc(sizeof(char *) * Max(list_length(items), 1));
	ListCell   *lc;

	foreach(lc, items)
		out[foreach_current_index(lc)] = lfirst(lc);
	return out;
}

/*
 * checksum_revision
 *		The checksum of a definition, as 64 lowercase hex digits.
 */
char *
checksum_revision(MigrRevDef *def)
{
	pg_cryptohash_ctx *ctx = pg_cryptohash_create(PG_SHA256);
	char	   *hex = palloc(MIGR_CHECKSUM_LEN + 1);
	RevSumFields fields;
	const char *failure;

	if (ctx == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory")));
	fields.id = def->id;
	fields.parents = checksum_array(def->parents);
	fields.nparents = list_length(def->parents);
	fields.deps = checksum_array(def->deps);
	fields.ndeps = list_length(def->deps);
	fields.kind = def->kind;
	fields.upgrade = def->upgrade;
	fields.downgrade = def->downgrade;

	/* revsum_compute() does not throw: free the context before reporting */
	failure = revsum_compute(ctx, &fields, hex);
	if (failure)
	{
		char	   *reason = pstrdup(failure);

		pg_cryptohash_free(ctx);
		elog(ERROR, "could not compute SHA-256 checksum: %s", reason);
	}
	pg_cryptohash_free(ctx);
	return hex;
}

/*-------------------------------------------------------------------------
 *
 * checksum.c
 *	  The SHA-256 checksum that makes an applied revision immutable.
 *
 * The checksum covers the revision's id, parents, dependencies, kind and
 * both scripts, byte for byte (whitespace included).  Each field is written
 * to the hash with its length first, so that no two different revisions can
 * produce the same byte stream (moving text from one field into the next
 * changes the lengths).  The server's own cryptohash does the hashing.
 *
 * Copyright (c) 2026, migr developers
 *
 * IDENTIFICATION
 *	  src/checksum.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/cryptohash.h"
#include "common/sha2.h"

#include "migr.h"

static void checksum_field(pg_cryptohash_ctx *ctx, const char *s);
static void checksum_list(pg_cryptohash_ctx *ctx, List *items);
static void checksum_update(pg_cryptohash_ctx *ctx, const void *data,
							size_t len);

/*
 * checksum_update
 *		Feed bytes to the hash, turning a library failure into an error.
 */
static void
checksum_update(pg_cryptohash_ctx *ctx, const void *data, size_t len)
{
	if (pg_cryptohash_update(ctx, (const uint8 *) data, len) < 0)
		elog(ERROR, "could not update SHA-256 checksum: %s",
			 pg_cryptohash_error(ctx));
}

/*
 * checksum_field
 *		One length-prefixed field; NULL is written as length -1.
 */
static void
checksum_field(pg_cryptohash_ctx *ctx, const char *s)
{
	int64		len = s ? (int64) strlen(s) : -1;
	char		buf[32];

	snprintf(buf, sizeof(buf), "%lld:", (long long) len);
	checksum_update(ctx, buf, strlen(buf));
	if (s)
		checksum_update(ctx, s, len);
}

/*
 * checksum_list
 *		A count, then each item as a field.
 */
static void
checksum_list(pg_cryptohash_ctx *ctx, List *items)
{
	ListCell   *lc;
	char		buf[32];

	snprintf(buf, sizeof(buf), "[%d]", list_length(items));
	checksum_update(ctx, buf, strlen(buf));
	foreach(lc, items)
		checksum_field(ctx, (const char *) lfirst(lc));
}

/*
 * checksum_revision
 *		The checksum of a definition, as 64 lowercase hex digits.
 */
char *
checksum_revision(MigrRevDef *def)
{
	pg_cryptohash_ctx *ctx = pg_cryptohash_create(PG_SHA256);
	uint8		digest[PG_SHA256_DIGEST_LENGTH];
	char	   *hex = palloc(MIGR_CHECKSUM_LEN + 1);
	int			i;

	if (ctx == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory")));
	PG_TRY();
	{
		if (pg_cryptohash_init(ctx) < 0)
			elog(ERROR, "could not initialize SHA-256 checksum: %s",
				 pg_cryptohash_error(ctx));
		checksum_update(ctx, "migr-revision-v1", 16);
		checksum_field(ctx, def->id);
		checksum_list(ctx, def->parents);
		checksum_list(ctx, def->deps);
		checksum_field(ctx, def->kind);
		checksum_field(ctx, def->upgrade);
		checksum_field(ctx, def->downgrade);
		if (pg_cryptohash_final(ctx, digest, sizeof(digest)) < 0)
			elog(ERROR, "could not finalize SHA-256 checksum: %s",
				 pg_cryptohash_error(ctx));
	}
	PG_FINALLY();
	{
		pg_cryptohash_free(ctx);
	}
	PG_END_TRY();

	for (i = 0; i < PG_SHA256_DIGEST_LENGTH; i++)
		snprintf(hex + 2 * i, 3, "%02x", digest[i]);
	return hex;
}

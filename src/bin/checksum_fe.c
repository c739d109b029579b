/*-------------------------------------------------------------------------
 *
 * checksum_fe.c
 *	  The revision checksum, computed by the client exactly as the server's
 *	  src/checksum.c computes it.
 *
 * migr push compares this with migr.revision.checksum to send only the
 * files that are new or changed, so the two must agree byte for byte:
 * SHA-256 over "migr-revision-v1", then the id, parents, dependencies,
 * kind, upgrade and downgrade, each field written as "<length>:" and its
 * bytes (a NULL downgrade as "-1:"), each list as "[<count>]" and its
 * items as fields.  PostgreSQL's frontend cryptohash (libpgcommon) does the
 * hashing, as the server's own does.
 *
 * Copyright (c) 2026, migr developers
 *
 * IDENTIFICATION
 *	  src/bin/checksum_fe.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include "common/cryptohash.h"
#include "common/sha2.h"

#include "migr_fe.h"

static bool checksum_field(pg_cryptohash_ctx *ctx, const char *s);
static bool checksum_list(pg_cryptohash_ctx *ctx, char **items, int n);

/*
 * checksum_field
 *		One length-prefixed field; NULL is written as length -1.
 */
static bool
checksum_field(pg_cryptohash_ctx *ctx, const char *s)
{
	long long	len = s ? (long long) strlen(s) : -1;
	char		buf[32];

	snprintf(buf, sizeof(buf), "%lld:", len);
	if (pg_cryptohash_update(ctx, (const uint8 *) buf, strlen(buf)) < 0)
		return false;
	return s == NULL ||
		pg_cryptohash_update(ctx, (const uint8 *) s, (size_t) len) == 0;
}

/*
 * checksum_list
 *		A count, then each item as a field.
 */
static bool
checksum_list(pg_cryptohash_ctx *ctx, char **items, int n)
{
	char		buf[32];
	int			i;

	snprintf(buf, sizeof(buf), "[%d]", n);
	if (pg_cryptohash_update(ctx, (const uint8 *) buf, strlen(buf)) < 0)
		return false;
	for (i = 0; i < n; i++)
		if (!checksum_field(ctx, items[i]))
			return false;
	return true;
}

/*
 * checksum_revfile
 *		Fill f->checksum (64 lowercase hex digits); false if the hash
 *		library failed.  One hash context serves every file of a run.
 */
bool
checksum_revfile(RevFile *f)
{
	static pg_cryptohash_ctx *ctx = NULL;
	static const char hex[] = "0123456789abcdef";
	uint8		digest[PG_SHA256_DIGEST_LENGTH];
	int			i;

	if (ctx == NULL && (ctx = pg_cryptohash_create(PG_SHA256)) == NULL)
		return false;
	if (!(pg_cryptohash_init(ctx) == 0 &&
		  pg_cryptohash_update(ctx, (const uint8 *) "migr-revision-v1", 16) == 0 &&
		  checksum_field(ctx, f->id) &&
		  checksum_list(ctx, f->parents, f->nparents) &&
		  checksum_list(ctx, f->deps, f->ndeps) &&
		  checksum_field(ctx, f->kind) &&
		  checksum_field(ctx, f->upgrade) &&
		  checksum_field(ctx, f->downgrade) &&
		  pg_cryptohash_final(ctx, digest, sizeof(digest)) == 0))
	{
		pg_cryptohash_free(ctx);
		ctx = NULL;
		return false;
	}
	for (i = 0; i < PG_SHA256_DIGEST_LENGTH; i++)
	{
		f->checksum[2 * i] = hex[digest[i] >> 4];
		f->checksum[2 * i + 1] = hex[digest[i] & 0x0f];
	}
	f->checksum[2 * PG_SHA256_DIGEST_LENGTH] = '\0';
	return true;
}

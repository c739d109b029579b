/*-------------------------------------------------------------------------
 *
 * revsum.c
 *	  The byte layout of the SHA-256 checksum that makes an applied
 *	  revision immutable.
 *
 * The checksum covers the revision's id, parents, dependencies, kind and
 * both scripts, byte for byte (whitespace included): "migr-revision-v1",
 * then each field as "<length>:" and its bytes (NULL as "-1:"), each list
 * as "[<count>]" and its items as fields.  The lengths come first so that
 * no two different revisions produce the same byte stream (moving text
 * from one field into the next changes the lengths).  migr push compares
 * the client's checksum with the server's to send only changed files, so
 * both compute it here, with PostgreSQL's cryptohash.
 *
 * Copyright (c) 2026, migr developers
 *
 * IDENTIFICATION
 *	  src/common/revsum.c
 *
 *-------------------------------------------------------------------------
 */
#ifndef FRONTEND
#include "postgres.h"
#else
#include "postgres_fe.h"
#endif

#include "common/sha2.h"

#include "revformat.h"

static bool revsum_field(pg_cryptohash_ctx *ctx, const char *s);
static bool revsum_list(pg_cryptohash_ctx *ctx, const char *const *items,
						int n);

/*
 * revsum_field
 *		One length-prefixed field; NULL is written as length -1.
 */
static bool
revsum_field(pg_cryptohash_ctx *ctx, const char *s)
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
 * revsum_list
 *		A count, then each item as a field.
 */
static bool
revsum_list(pg_cryptohash_ctx *ctx, const char *const *items, int n)
{
	char		buf[32];
	int			i;

	snprintf(buf, sizeof(buf), "[%d]", n);
	if (pg_cryptohash_update(ctx, (const uint8 *) buf, strlen(buf)) < 0)
		return false;
	for (i = 0; i < n; i++)
		if (!revsum_field(ctx, items[i]))
			return false;
	return true;
}

/*
 * revsum_compute
 *		Write the checksum of the fields into hex (MIGR_CHECKSUM_LEN digits
 *		and a terminator) using ctx, a SHA-256 context the caller created
 *		and may reuse.  NULL on success, else the hash library's reason.
 */
const char *
revsum_compute(pg_cryptohash_ctx *ctx, const RevSumFields *fields, char *hex)
{
	static const char digits[] = "0123456789abcdef";
	uint8		digest[PG_SHA256_DIGEST_LENGTH];
	int			i;

	if (!(pg_cryptohash_init(ctx) == 0 &&
		  pg_cryptohash_update(ctx, (const uint8 *) "migr-revision-v1", 16) == 0 &&
		  revsum_field(ctx, fields->id) &&
		  revsum_list(ctx, fields->parents, fields->nparents) &&
		  revsum_list(ctx, fields->deps, fields->ndeps) &&
		  revsum_field(ctx, fields->kind) &&
		  revsum_field(ctx, fields->upgrade) &&
		  revsum_field(ctx, fields->downgrade) &&
		  pg_cryptohash_final(ctx, digest, sizeof(digest)) == 0))
		return pg_cryptohash_error(ctx);
	for (i = 0; i < PG_SHA256_DIGEST_LENGTH; i++)
	{
		hex[2 * i] = digits[digest[i] >> 4];
		hex[2 * i + 1] = digits[digest[i] & 0x0f];
	}
	hex[2 * PG_SHA256_DIGEST_LENGTH] = '\0';
	return NULL;
}

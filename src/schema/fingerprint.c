/*-------------------------------------------------------------------------
 *
 * fingerprint.c
 *	  migr_fingerprint(): the SHA-256 of the schema description.
 *
 * The hash covers jsonb's canonical text form of the description (keys in
 * jsonb's order, one space after each colon and comma), so that two
 * descriptions have the same fingerprint exactly when they are equal.
 * The server's cryptohash does the hashing (OpenSSL when built with it).
 *
 * Copyright (c) 2026, migr developers
 *
 * IDENTIFICATION
 *	  src/schema/fingerprint.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/cryptohash.h"
#include "common/sha2.h"
#include "fmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"

#include "migr.h"
#include "schema/schema.h"

PG_FUNCTION_INFO_V1(migr_fingerprint);

/*
 * schema_fingerprint
 *		SHA-256 of a description, as 64 lowercase hex digits.
 */
char *
schema_fingerprint(Jsonb *description)
{
	char	   *text = JsonbToCString(NULL, &description->root,
									  VARSIZE(description));
	pg_cryptohash_ctx *ctx = pg_cryptohash_create(PG_SHA256);
	uint8		digest[PG_SHA256_DIGEST_LENGTH];
	char	   *hex = palloc(SCHEMA_FINGERPRINT_LEN + 1);
	int			i;

	if (ctx == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory")));
	if (pg_cryptohash_init(ctx) < 0 ||
		pg_cryptohash_update(ctx, (uint8 *) text, strlen(text)) < 0 ||
		pg_cryptohash_final(ctx, digest, sizeof(digest)) < 0)
	{
		char	   *reason = pstrdup(pg_cryptohash_error(ctx));

		pg_cryptohash_free(ctx);
		elog(ERROR, "could not compute SHA-256 fingerprint: %s", reason);
	}
	pg_cryptohash_free(ctx);
	for (i = 0; i < PG_SHA256_DIGEST_LENGTH; i++)
		sprintf(hex + 2 * i, "%02x", digest[i]);
	pfree(text);
	return hex;
}

/*
 * migr_fingerprint(schemas text[] DEFAULT NULL) returns text
 */
Datum
migr_fingerprint(PG_FUNCTION_ARGS)
{
	ArrayType  *schemas = PG_ARGISNULL(0) ? NULL : PG_GETARG_ARRAYTYPE_P(0);

	PG_RETURN_TEXT_P(cstring_to_text(schema_fingerprint(schema_describe(schemas))));
}

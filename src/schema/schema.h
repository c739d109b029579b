/*-------------------------------------------------------------------------
 *
 * schema.h
 *	  The schema model: a canonical jsonb description of the objects in the
 *	  managed schemas, its fingerprint, the comparison of two descriptions,
 *	  and the record of the schema left by every move.
 *
 * The description's format (README, "Schema, drift and the guard") is the
 * contract between this folder and its users (drift, the guard, verify,
 * autogenerate): a jsonb object with one key per kind of object ("tables",
 * "indexes", ...), each an object keyed by the object's stable identity
 * (its qualified, quoted name), and "unsupported", an array naming every
 * object of a kind migr does not model.  No OIDs, no attnums.
 *
 * Copyright (c) 2026, migr developers
 *
 * IDENTIFICATION
 *	  src/schema/schema.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGR_SCHEMA_H
#define MIGR_SCHEMA_H

#include "nodes/pg_list.h"
#include "utils/array.h"
#include "utils/jsonb.h"

/* the value of the "format" key: bumped when the layout changes */
#define SCHEMA_FORMAT_VERSION	1

/* length of a fingerprint: SHA-256 in lowercase hex */
#define SCHEMA_FINGERPRINT_LEN	64

/* what happened to an object between two descriptions */
typedef enum SchemaChangeType
{
	SCHEMA_ADDED,
	SCHEMA_DROPPED,
	SCHEMA_CHANGED,
	SCHEMA_RENAMED
} SchemaChangeType;

/*
 * One difference between two descriptions (schema_compare).  "section" is
 * the description's key ("tables"), "kind" the singular name shown to users
 * ("table"), "object" the identity in "from" (in "to" for an added one);
 * a renamed object's new identity is "new_object".  A changed object gives
 * one SchemaChange per difference, each with its own detail.
 */
typedef struct SchemaChange
{
	const char *section;
	const char *kind;
	char	   *object;
	SchemaChangeType type;
	const char *change;			/* "added", "dropped", "changed", "renamed" */
	char	   *detail;
	char	   *new_object;		/* renamed only, else NULL */
} SchemaChange;

/* one key of an object and its value (jsonread.c) */
typedef struct SchemaPair
{
	char	   *key;
	JsonbValue	value;
} SchemaPair;

/* jsonread.c: reading a description, shared by compare.c and diff.c */
extern JsonbValue *schema_json_get(JsonbValue *obj, const char *key);
extern SchemaPair *schema_json_pairs(JsonbValue *obj, int *n);
extern List *schema_json_elements(JsonbValue *arr);
extern char *schema_json_render(JsonbValue *v);
extern bool schema_json_equal(JsonbValue *a, JsonbValue *b);

/* describe.c */
extern char *migr_schemas_setting;	/* migr.schemas */
extern void schema_define_settings(void);
extern Jsonb *schema_describe(ArrayType *schemas);
extern Jsonb *schema_describe_recorded(void);

/* fingerprint.c */
extern char *schema_fingerprint(Jsonb *description);

/* compare.c */
extern List *schema_compare(Jsonb *from, Jsonb *to);

/* record.c */
struct ReturnSetInfo;
extern void schema_record(void);
extern void schema_record_move(struct ReturnSetInfo *rsinfo);
extern Jsonb *schema_last_recorded(char **fingerprint);
extern bool schema_tables_exist(void);

/* drift.c */
extern List *schema_drift_findings(void);

/* diff.c */
extern List *schema_diff(Jsonb *desired, Jsonb *current, List **downgrade);
extern void schema_diff_step(void *step, char **sql, const char **hazard);
extern Jsonb *schema_diff_live(Jsonb *desired);
extern Jsonb *schema_empty(void);
extern void schema_check_description(Jsonb *doc, const char *what);

/* schema_of.c */
extern Jsonb *schema_of(const char *ddl, const char *schema);

#endif							/* MIGR_SCHEMA_H */

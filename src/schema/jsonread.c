/*-------------------------------------------------------------------------
 *
 * jsonread.c
 *	  Reading a schema description: one object's key, an object's pairs
 *	  sorted by key, an array's elements, a value as text, equality.
 *
 * compare.c (drift, verify) and diff.c (autogenerate) walk the same
 * descriptions; they read them through these helpers so that both see a
 * value, a missing key and JSON null alike.
 *
 * Copyright (c) 2026, migr developers
 *
 * IDENTIFICATION
 *	  src/schema/jsonread.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"

#include "schema/schema.h"

/*
 * schema_json_get
 *		The value of a key of an object (jbvBinary), or NULL.
 */
JsonbValue *
schema_json_get(JsonbValue *obj, const char *key)
{
	if (obj == NULL || obj->type != jbvBinary ||
		!JsonContainerIsObject(obj->val.binary.data))
		return NULL;
	return getKeyJsonValueFromContainer(obj->val.binary.data, key,
										strlen(key), NULL);
}

static int
schema_json_pair_cmp(const void *a, const void *b)
{
	return strcmp(((const SchemaPair *) a)->key,
				  ((const SchemaPair *) b)->key);
}

/*
 * schema_json_pairs
 *		The keys and values of an object, sorted by key in C order.  Nested
 *		values come as jbvBinary.  Anything but an object gives no pairs.
 */
SchemaPair *
schema_json_pairs(JsonbValue *obj, int *n)
{
	SchemaPair *pairs;
	JsonbIterator *it;
	JsonbIteratorToken tok;
	JsonbValue	v;
	int			i = 0;

	*n = 0;
	if (obj == NULL || obj->type != jbvBinary ||
		!JsonContainerIsObject(obj->val.binary.data))
		return NULL;
	pairs = palloc0(sizeof(SchemaPair) *
					Max(JsonContainerSize(obj->val.binary.data), 1));
	it = JsonbIteratorInit(obj->val.binary.data);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		if (tok == WJB_KEY)
			pairs[i].key = pnstrdup(v.val.string.val, v.val.string.len);
		else if (tok == WJB_VALUE)
			pairs[i++].value = v;
	}
	qsort(pairs, i, sizeof(SchemaPair), schema_json_pair_cmp);
	*n = i;
	return pairs;
}

/*
 * schema_json_elements
 *		The elements of an array, as a List of palloc'd JsonbValues.
 */
List *
schema_json_elements(JsonbValue *arr)
{
	List	   *out = NIL;
	JsonbIterator *it;
	JsonbIteratorToken tok;
	JsonbValue	v;

	if (arr == NULL || arr->type != jbvBinary ||
		!JsonContainerIsArray(arr->val.binary.data))
		return NIL;
	it = JsonbIteratorInit(arr->val.binary.data);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		if (tok == WJB_ELEM)
		{
			JsonbValue *copy = palloc(sizeof(JsonbValue));

			*copy = v;
			out = lappend(out, copy);
		}
	}
	return out;
}

/*
 * schema_json_render
 *		A value as text: strings as they are, everything else as JSON.
 */
char *
schema_json_render(JsonbValue *v)
{
	switch (v->type)
	{
		case jbvString:
			return pnstrdup(v->val.string.val, v->val.string.len);
		case jbvNumeric:
			return DatumGetCString(DirectFunctionCall1(numeric_out,
													   NumericGetDatum(v->val.numeric)));
		case jbvBool:
			return pstrdup(v->val.boolean ? "true" : "false");
		case jbvNull:
			return pstrdup("null");
		case jbvBinary:
			return JsonbToCString(NULL, v->val.binary.data,
								  v->val.binary.len);
		default:
			elog(ERROR, "unexpected jsonb value type %d", (int) v->type);
	}
	return NULL;				/* keep compiler quiet */
}

/*
 * schema_json_equal
 *		Whether two values (either may be NULL: missing) are equal.
 */
bool
schema_json_equal(JsonbValue *a, JsonbValue *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	if (a->type != b->type)
		return false;
	if (a->type == jbvBinary)
		return compareJsonbContainers(a->val.binary.data,
									  b->val.binary.data) == 0;
	return strcmp(schema_json_render(a), schema_json_render(b)) == 0;
}

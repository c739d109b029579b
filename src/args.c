/*-------------------------------------------------------------------------
 *
 * args.c
 *	  Argument handling shared by migr's SQL-callable functions: required
 *	  text arguments, text[] arguments as lists, lists back to arrays.
 *
 * Copyright (c) 2026, migr developers
 *
 * IDENTIFICATION
 *	  src/args.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"

#include "migr.h"

/*
 * migr_arg_text
 *		A text argument that must not be NULL, as a C string.
 */
char *
migr_arg_text(FunctionCallInfo fcinfo, int argno, const char *argname)
{
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be null", argname)));
	return text_to_cstring(PG_GETARG_TEXT_PP(argno));
}

/*
 * migr_arg_list
 *		A text[] argument that must not be NULL, as a List of C strings.
 */
List *
migr_arg_list(FunctionCallInfo fcinfo, int argno, const char *argname)
{
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be null", argname),
				 errhint("Give an empty array, '{}', for none.")));
	return migr_array_list(PG_GETARG_ARRAYTYPE_P(argno), argname);
}

/*
 * migr_array_list
 *		A one-dimensional text[] argument as a List of C strings.  NULL
 *		elements are refused.
 */
List *
migr_array_list(ArrayType *arr, const char *argname)
{
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	int			i;
	List	   *out = NIL;

	if (ARR_NDIM(arr) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("%s must be a one-dimensional array", argname)));
	deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT,
					  &elems, &nulls, &n);
	for (i = 0; i < n; i++)
	{
		CHECK_FOR_INTERRUPTS();
		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("%s must not contain null elements", argname)));
		out = lappend(out, TextDatumGetCString(elems[i]));
	}
	return out;
}

/*
 * migr_text_array
 *		A List of C strings as a text[] (empty for NIL).
 */
ArrayType *
migr_text_array(List *strings)
{
	Datum	   *elems = palloc(sizeof(Datum) * Max(list_length(strings), 1));
	ListCell   *lc;
	int			n = 0;

	foreach(lc, strings)
		elems[n++] = CStringGetTextDatum((char *) lfirst(lc));
	return construct_array(elems, n, TEXTOID, -1, false, TYPALIGN_INT);
}

/*
 * migr_id_array
 *		The ids of some revisions of a graph as a text[].
 */
ArrayType *
migr_id_array(MigrGraph *g, int n, int *idx)
{
	Datum	   *elems = palloc(sizeof(Datum) * Max(n, 1));
	int			i;

	for (i = 0; i < n; i++)
		elems[i] = CStringGetTextDatum(g->revs[idx[i]].id);
	return construct_array(elems, n, TEXTOID, -1, false, TYPALIGN_INT);
}

/*-------------------------------------------------------------------------
 *
 * diff.c
 *	  migr_diff(): the statements that turn one schema description into
 *	  another, in dependency order, with the safe patterns migr's lint asks
 *	  for on tables that already exist.
 *
 * The generator walks the two descriptions section by section (the format
 * of README "Schema, drift and the guard") and emits each statement with a
 * phase number; the statements are then sorted by phase (stable), so that
 * drops of dependents come before drops of what they depend on, and
 * creations come in the opposite order.  The downgrade is the same
 * generator with the two descriptions swapped.
 *
 * Every difference the generator cannot express as DDL becomes a row with
 * hazard "unsupported" whose statement is a SQL comment saying what was not
 * done: nothing is ever skipped silently.
 *
 * Copyright (c) 2026, migr developers
 *
 * IDENTIFICATION
 *	  src/schema/diff.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"
#include "utils/lsyscache.h"
#include "utils/varlena.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"

#include "migr.h"
#include "schema/schema.h"

PG_FUNCTION_INFO_V1(migr_diff);

/*
 * Phases.  Drops first (dependents before what they depend on), then
 * creations and changes (what is depended on first), then the drops of
 * objects that changed columns may still have used until then.
 */
enum
{
	PH_DROP_PUBLICATION = 1,
	PH_DROP_ON_TABLE,			/* triggers, rules, policies, statistics */
	PH_DROP_VIEW,
	PH_DROP_FKEY,
	PH_DROP_INDEX,				/* and other constraints */
	PH_DROP_COLUMN,
	PH_DROP_TABLE,
	PH_DROP_REPLACED_TYPE,
	PH_CREATE_SCHEMA = 20,
	PH_CREATE_EXTENSION,
	PH_CREATE_COLLATION,
	PH_CREATE_TYPE,
	PH_CREATE_DOMAIN,
	PH_CREATE_COMPOSITE,
	PH_CREATE_FUNCTION,
	PH_CREATE_SEQUENCE,
	PH_CREATE_TABLE,
	PH_ALTER_TABLE,
	PH_SEQUENCE_OWNED,
	PH_CREATE_CONSTRAINT,
	PH_CREATE_FKEY,
	PH_CREATE_INDEX,
	PH_CREATE_VIEW,
	PH_CREATE_ON_TABLE,
	PH_CREATE_PUBLICATION,
	PH_COMMENT,
	PH_DROP_FUNCTION = 45,
	PH_DROP_SEQUENCE,
	PH_DROP_COMPOSITE,
	PH_DROP_DOMAIN,
	PH_DROP_TYPE,
	PH_DROP_COLLATION,
	PH_DROP_EXTENSION,
	PH_DROP_SCHEMA
};

/* hazards: NULL is a statement that is safe as written */
#define HZ_UNSUPPORTED	"unsupported"
#define HZ_DATA_LOSS	"data loss"
#define HZ_REWRITE		"rewrite"
#define HZ_LOCK			"lock"

typedef struct DiffStep
{
	int			phase;
	int			seq;
	char	   *sql;
	const char *hazard;
} DiffStep;

/* one object of a section: identity and value */
typedef SchemaPair DiffPair;

typedef struct DiffCtx
{
	JsonbValue *from;			/* the description we start from */
	JsonbValue *to;				/* the description we want */
	List	   *steps;
	int			seq;
	char	   *me;				/* the role that will run the statements */
	List	   *new_rels;		/* relations created (or re-created) here */
	List	   *dropped_rels;	/* relations dropped here */
	List	   *touched_rels;	/* tables whose columns change */
} DiffCtx;

static char *dj_str(JsonbValue *obj, const char *key);
static bool dj_true(JsonbValue *obj, const char *key);
static bool dj_field_equal(JsonbValue *a, JsonbValue *b, const char *key);
static bool str_eq(const char *a, const char *b);
static bool list_has_str(List *l, const char *s);
static void emit(DiffCtx *cx, int phase, const char *hazard, const char *fmt,...) pg_attribute_printf(4, 5);
static void unsupported(DiffCtx *cx, int phase, const char *fmt,...) pg_attribute_printf(3, 4);
static char *strip_semicolon(const char *s);
static void diff_comment(DiffCtx *cx, const char *kind, const char *ident,
						 JsonbValue *old, JsonbValue *new);
static void diff_owner(DiffCtx *cx, const char *kind, const char *ident,
					   JsonbValue *old, JsonbValue *new);
static void diff_acl(DiffCtx *cx, const char *kind, const char *ident,
					 JsonbValue *old, JsonbValue *new);
static void diff_common(DiffCtx *cx, const char *kind, const char *ident,
						JsonbValue *old, JsonbValue *new);
static char *column_def(JsonbValue *col);
static void diff_schemas(DiffCtx *cx);
static void diff_extensions(DiffCtx *cx);
static void diff_collations(DiffCtx *cx);
static void diff_types(DiffCtx *cx);
static void create_type(DiffCtx *cx, const char *ident, JsonbValue *t);
static void alter_enum(DiffCtx *cx, const char *ident, JsonbValue *old, JsonbValue *new);
static void enum_recreate(DiffCtx *cx, const char *ident, JsonbValue *new);
static void alter_composite(DiffCtx *cx, const char *ident, JsonbValue *old, JsonbValue *new);
static void alter_domain(DiffCtx *cx, const char *ident, JsonbValue *old, JsonbValue *new);
static void diff_functions(DiffCtx *cx);
static void diff_sequences(DiffCtx *cx);
static void diff_tables(DiffCtx *cx);
static int	table_depth(JsonbValue *tables, const char *ident);
static void create_table(DiffCtx *cx, const char *ident, JsonbValue *t);
static void alter_table(DiffCtx *cx, const char *ident, JsonbValue *old, JsonbValue *new);
static void alter_columns(DiffCtx *cx, const char *ident, JsonbValue *old, JsonbValue *new);
static void diff_views(DiffCtx *cx, const char *section, bool materialized);
static void diff_constraints(DiffCtx *cx);
static void create_constraint(DiffCtx *cx, const char *ident, JsonbValue *c);
static void diff_indexes(DiffCtx *cx);
static void diff_on_table(DiffCtx *cx, const char *section, const char *kind);
static void create_on_table(DiffCtx *cx, const char *section, const char *name,
							const char *table, JsonbValue *v);
static void diff_publications(DiffCtx *cx);
static void diff_unsupported(DiffCtx *cx);
static int	step_cmp(const ListCell *a, const ListCell *b);

/* ---------- reading the description ---------- */


/* a scalar field as text, or NULL when absent or JSON null */
static char *
dj_str(JsonbValue *obj, const char *key)
{
	JsonbValue *v = schema_json_get(obj, key);

	if (v == NULL || v->type == jbvNull)
		return NULL;
	return schema_json_render(v);
}

static bool
dj_true(JsonbValue *obj, const char *key)
{
	JsonbValue *v = schema_json_get(obj, key);

	return v != NULL && v->type == jbvBool && v->val.boolean;
}



static bool
dj_field_equal(JsonbValue *a, JsonbValue *b, const char *key)
{
	return schema_json_equal(schema_json_get(a, key), schema_json_get(b, key));
}


/* an object's keys and values, sorted by key */


static bool
str_eq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

static bool
list_has_str(List *l, const char *s)
{
	ListCell   *lc;

	foreach(lc, l)
		if (strcmp(lfirst(lc), s) == 0)
			return true;
	return false;
}

/* ---------- writing statements ---------- */

static void
emit(DiffCtx *cx, int phase, const char *hazard, const char *fmt,...)
{
	DiffStep   *s = palloc(sizeof(DiffStep));
	StringInfoData buf;

	initStringInfo(&buf);
	for (;;)
	{
		va_list		args;
		int			needed;

		va_start(args, fmt);
		needed = appendStringInfoVA(&buf, fmt, args);
		va_end(args);
		if (needed == 0)
			break;
		enlargeStringInfo(&buf, needed);
	}
	s->phase = phase;
	s->seq = cx->seq++;
	s->sql = buf.data;
	s->hazard = hazard;
	cx->steps = lappend(cx->steps, s);
}

/*
 * A difference the generator does not write DDL for: a comment row, so that
 * the reviewer sees it in the revision file.  Newlines are flattened so the
 * comment stays one comment.
 */
static void
unsupported(DiffCtx *cx, int phase, const char *fmt,...)
{
	StringInfoData buf;
	char	   *p;

	initStringInfo(&buf);
	for (;;)
	{
		va_list		args;
		int			needed;

		va_start(args, fmt);
		needed = appendStringInfoVA(&buf, fmt, args);
		va_end(args);
		if (needed == 0)
			break;
		enlargeStringInfo(&buf, needed);
	}
	for (p = buf.data; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	emit(cx, phase, HZ_UNSUPPORTED, "-- UNSUPPORTED, write it by hand: %s", buf.data);
}

/* deparsed definitions end with ";" (rules, views): the script adds its own */
static char *
strip_semicolon(const char *s)
{
	char	   *out = pstrdup(s);
	int			len = strlen(out);

	while (len > 0 && (out[len - 1] == ';' || isspace((unsigned char) out[len - 1])))
		out[--len] = '\0';
	while (*out == ' ' || *out == '\n')
		out++;
	return out;
}

/* COMMENT ON when the comment differs (old NULL: a new object) */
static void
diff_comment(DiffCtx *cx, const char *kind, const char *ident,
			 JsonbValue *old, JsonbValue *new)
{
	char	   *a = dj_str(old, "comment");
	char	   *b = dj_str(new, "comment");

	if (str_eq(a, b))
		return;
	emit(cx, PH_COMMENT, NULL, "COMMENT ON %s %s IS %s", kind, ident,
		 b ? quote_literal_cstr(b) : "NULL");
}

/* ALTER ... OWNER TO when the owner differs (a new object: from the runner) */
static void
diff_owner(DiffCtx *cx, const char *kind, const char *ident,
		   JsonbValue *old, JsonbValue *new)
{
	char	   *a = old ? dj_str(old, "owner") : cx->me;
	char	   *b = dj_str(new, "owner");

	if (b == NULL || str_eq(a, b))
		return;
	emit(cx, PH_COMMENT, NULL, "ALTER %s %s OWNER TO %s", kind, ident,
		 quote_identifier(b));
}

/*
 * Privileges.  An object's acl is its aclitems as text; a new object gets
 * the defaults of its owner, which the description shows, so a new object
 * with the defaults needs nothing.  Anything else is reported, not guessed.
 */
static void
diff_acl(DiffCtx *cx, const char *kind, const char *ident,
		 JsonbValue *old, JsonbValue *new)
{
	JsonbValue *a = schema_json_get(old, "acl");
	JsonbValue *b = schema_json_get(new, "acl");

	if (old == NULL || schema_json_equal(a, b))
		return;
	unsupported(cx, PH_COMMENT, "privileges of %s %s: %s -> %s", kind, ident,
				a ? schema_json_render(a) : "(default)", b ? schema_json_render(b) : "(default)");
}

static void
diff_common(DiffCtx *cx, const char *kind, const char *ident,
			JsonbValue *old, JsonbValue *new)
{
	diff_comment(cx, kind, ident, old, new);
	diff_owner(cx, kind, ident, old, new);
	diff_acl(cx, kind, ident, old, new);
}

/* ---------- schemas, extensions, collations ---------- */

static void
diff_schemas(DiffCtx *cx)
{
	int			na,
				nb,
				i,
				j;
	DiffPair   *a = schema_json_pairs(schema_json_get(cx->from, "schemas"), &na);
	DiffPair   *b = schema_json_pairs(schema_json_get(cx->to, "schemas"), &nb);

	for (i = 0, j = 0; i < na || j < nb;)
	{
		int			c = i >= na ? 1 : j >= nb ? -1 : strcmp(a[i].key, b[j].key);

		if (c < 0)
		{
			emit(cx, PH_DROP_SCHEMA, HZ_DATA_LOSS, "DROP SCHEMA %s", a[i].key);
			i++;
		}
		else if (c > 0)
		{
			emit(cx, PH_CREATE_SCHEMA, NULL, "CREATE SCHEMA %s", b[j].key);
			diff_comment(cx, "SCHEMA", b[j].key, NULL, &b[j].value);
			diff_owner(cx, "SCHEMA", b[j].key, NULL, &b[j].value);
			j++;
		}
		else
		{
			diff_common(cx, "SCHEMA", b[j].key, &a[i].value, &b[j].value);
			i++, j++;
		}
	}
}

static void
diff_extensions(DiffCtx *cx)
{
	int			na,
				nb,
				i,
				j;
	DiffPair   *a = schema_json_pairs(schema_json_get(cx->from, "extensions"), &na);
	DiffPair   *b = schema_json_pairs(schema_json_get(cx->to, "extensions"), &nb);

	for (i = 0, j = 0; i < na || j < nb;)
	{
		int			c = i >= na ? 1 : j >= nb ? -1 : strcmp(a[i].key, b[j].key);

		if (c < 0)
		{
			emit(cx, PH_DROP_EXTENSION, HZ_DATA_LOSS, "DROP EXTENSION %s", a[i].key);
			i++;
		}
		else if (c > 0)
		{
			emit(cx, PH_CREATE_EXTENSION, NULL,
				 "CREATE EXTENSION %s WITH SCHEMA %s VERSION %s", b[j].key,
				 dj_str(&b[j].value, "schema"),
				 quote_literal_cstr(dj_str(&b[j].value, "version")));
			j++;
		}
		else
		{
			if (!dj_field_equal(&a[i].value, &b[j].value, "version"))
				emit(cx, PH_CREATE_EXTENSION, NULL, "ALTER EXTENSION %s UPDATE TO %s",
					 b[j].key, quote_literal_cstr(dj_str(&b[j].value, "version")));
			if (!dj_field_equal(&a[i].value, &b[j].value, "schema"))
				emit(cx, PH_CREATE_EXTENSION, NULL, "ALTER EXTENSION %s SET SCHEMA %s",
					 b[j].key, dj_str(&b[j].value, "schema"));
			i++, j++;
		}
	}
}

static void
diff_collations(DiffCtx *cx)
{
	int			na,
				nb,
				i,
				j;
	DiffPair   *a = schema_json_pairs(schema_json_get(cx->from, "collations"), &na);
	DiffPair   *b = schema_json_pairs(schema_json_get(cx->to, "collations"), &nb);

	for (i = 0, j = 0; i < na || j < nb;)
	{
		int			c = i >= na ? 1 : j >= nb ? -1 : strcmp(a[i].key, b[j].key);

		if (c < 0)
		{
			emit(cx, PH_DROP_COLLATION, NULL, "DROP COLLATION %s", a[i].key);
			i++;
		}
		else if (c > 0)
		{
			JsonbValue *v = &b[j].value;
			char	   *prov = dj_str(v, "provider");
			StringInfoData buf;

			initStringInfo(&buf);
			appendStringInfo(&buf, "CREATE COLLATION %s (provider = %s", b[j].key,
							 str_eq(prov, "icu") ? "icu" : "libc");
			if (str_eq(prov, "icu"))
				appendStringInfo(&buf, ", locale = %s",
								 quote_literal_cstr(dj_str(v, "locale") ? dj_str(v, "locale") : ""));
			else
				appendStringInfo(&buf, ", lc_collate = %s, lc_ctype = %s",
								 quote_literal_cstr(dj_str(v, "collate") ? dj_str(v, "collate") : "C"),
								 quote_literal_cstr(dj_str(v, "ctype") ? dj_str(v, "ctype") : "C"));
			if (!dj_true(v, "deterministic"))
				appendStringInfoString(&buf, ", deterministic = false");
			appendStringInfoChar(&buf, ')');
			emit(cx, PH_CREATE_COLLATION, NULL, "%s", buf.data);
			diff_comment(cx, "COLLATION", b[j].key, NULL, v);
			diff_owner(cx, "COLLATION", b[j].key, NULL, v);
			j++;
		}
		else
		{
			JsonbValue *o = &a[i].value;
			JsonbValue *n = &b[j].value;

			if (!dj_field_equal(o, n, "provider") || !dj_field_equal(o, n, "collate") ||
				!dj_field_equal(o, n, "ctype") || !dj_field_equal(o, n, "locale") ||
				!dj_field_equal(o, n, "deterministic"))
				unsupported(cx, PH_CREATE_COLLATION,
							"collation %s changed its definition: %s -> %s (drop what uses it, re-create it)",
							b[j].key, schema_json_render(o), schema_json_render(n));
			diff_comment(cx, "COLLATION", b[j].key, o, n);
			diff_owner(cx, "COLLATION", b[j].key, o, n);
			i++, j++;
		}
	}
}

/* ---------- types ---------- */

static const char *
type_kind_sql(JsonbValue *t)
{
	return str_eq(dj_str(t, "kind"), "domain") ? "DOMAIN" : "TYPE";
}

static int
type_phase(JsonbValue *t, bool drop)
{
	char	   *k = dj_str(t, "kind");

	if (str_eq(k, "domain"))
		return drop ? PH_DROP_DOMAIN : PH_CREATE_DOMAIN;
	if (str_eq(k, "composite"))
		return drop ? PH_DROP_COMPOSITE : PH_CREATE_COMPOSITE;
	return drop ? PH_DROP_TYPE : PH_CREATE_TYPE;
}

static void
create_type(DiffCtx *cx, const char *ident, JsonbValue *t)
{
	char	   *kind = dj_str(t, "kind");
	StringInfoData buf;
	ListCell   *lc;
	bool		first = true;

	initStringInfo(&buf);
	if (str_eq(kind, "enum"))
	{
		appendStringInfo(&buf, "CREATE TYPE %s AS ENUM (", ident);
		foreach(lc, schema_json_elements(schema_json_get(t, "labels")))
		{
			appendStringInfo(&buf, "%s%s", first ? "" : ", ",
							 quote_literal_cstr(schema_json_render(lfirst(lc))));
			first = false;
		}
		appendStringInfoChar(&buf, ')');
	}
	else if (str_eq(kind, "composite"))
	{
		appendStringInfo(&buf, "CREATE TYPE %s AS (", ident);
		foreach(lc, schema_json_elements(schema_json_get(t, "attributes")))
		{
			appendStringInfo(&buf, "%s%s", first ? "" : ", ", column_def(lfirst(lc)));
			first = false;
		}
		appendStringInfoChar(&buf, ')');
	}
	else if (str_eq(kind, "range"))
	{
		char	   *s;

		appendStringInfo(&buf, "CREATE TYPE %s AS RANGE (SUBTYPE = %s", ident,
						 dj_str(t, "subtype"));
		if ((s = dj_str(t, "subtype_opclass")) != NULL)
			appendStringInfo(&buf, ", SUBTYPE_OPCLASS = %s", s);
		if ((s = dj_str(t, "collation")) != NULL)
			appendStringInfo(&buf, ", COLLATION = %s", s);
		if ((s = dj_str(t, "canonical")) != NULL)
			appendStringInfo(&buf, ", CANONICAL = %s", s);
		if ((s = dj_str(t, "subtype_diff")) != NULL)
			appendStringInfo(&buf, ", SUBTYPE_DIFF = %s", s);
		if ((s = dj_str(t, "multirange")) != NULL)
			appendStringInfo(&buf, ", MULTIRANGE_TYPE_NAME = %s", s);
		appendStringInfoChar(&buf, ')');
	}
	else if (str_eq(kind, "domain"))
	{
		char	   *s;
		int			n,
					i;
		DiffPair   *cons;

		appendStringInfo(&buf, "CREATE DOMAIN %s AS %s", ident, dj_str(t, "base_type"));
		if ((s = dj_str(t, "collation")) != NULL)
			appendStringInfo(&buf, " COLLATE %s", s);
		if ((s = dj_str(t, "default")) != NULL)
			appendStringInfo(&buf, " DEFAULT %s", s);
		if (dj_true(t, "not_null"))
			appendStringInfoString(&buf, " NOT NULL");
		cons = schema_json_pairs(schema_json_get(t, "constraints"), &n);
		for (i = 0; i < n; i++)
			appendStringInfo(&buf, " CONSTRAINT %s %s", cons[i].key,
							 dj_str(&cons[i].value, "definition"));
		emit(cx, PH_CREATE_DOMAIN, NULL, "%s", buf.data);
		for (i = 0; i < n; i++)
			diff_comment(cx, psprintf("CONSTRAINT %s ON DOMAIN", cons[i].key), ident,
						 NULL, &cons[i].value);
		diff_comment(cx, "DOMAIN", ident, NULL, t);
		diff_owner(cx, "DOMAIN", ident, NULL, t);
		return;
	}
	else
	{
		unsupported(cx, PH_CREATE_TYPE, "type %s of kind %s", ident, kind ? kind : "(none)");
		return;
	}
	emit(cx, type_phase(t, false), NULL, "%s", buf.data);
	if (str_eq(kind, "composite"))
	{
		foreach(lc, schema_json_elements(schema_json_get(t, "attributes")))
		{
			char	   *cm = dj_str(lfirst(lc), "comment");

			if (cm)
				emit(cx, PH_COMMENT, NULL, "COMMENT ON COLUMN %s.%s IS %s", ident,
					 quote_identifier(dj_str(lfirst(lc), "name")), quote_literal_cstr(cm));
		}
	}
	diff_comment(cx, "TYPE", ident, NULL, t);
	diff_owner(cx, "TYPE", ident, NULL, t);
}

/*
 * Enum labels can be added (in place, BEFORE/AFTER a kept one) but not
 * removed: the server has no statement for that.
 */
static void
alter_enum(DiffCtx *cx, const char *ident, JsonbValue *old, JsonbValue *new)
{
	List	   *ol = NIL,
			   *nl = NIL;
	ListCell   *lc;
	int			k = 0;
	int			i;

	foreach(lc, schema_json_elements(schema_json_get(old, "labels")))
		ol = lappend(ol, schema_json_render(lfirst(lc)));
	foreach(lc, schema_json_elements(schema_json_get(new, "labels")))
		nl = lappend(nl, schema_json_render(lfirst(lc)));
	/* the old labels must appear in the new list in the same order */
	foreach(lc, nl)
		if (k < list_length(ol) && strcmp(lfirst(lc), list_nth(ol, k)) == 0)
			k++;
	if (k < list_length(ol))
	{
		enum_recreate(cx, ident, new);
		return;
	}
	for (i = 0; i < list_length(nl); i++)
	{
		char	   *l = list_nth(nl, i);

		if (list_has_str(ol, l))
			continue;
		if (i > 0)
			emit(cx, PH_CREATE_TYPE, NULL, "ALTER TYPE %s ADD VALUE %s AFTER %s", ident,
				 quote_literal_cstr(l), quote_literal_cstr(list_nth(nl, i - 1)));
		else if (list_length(nl) > 1)
			emit(cx, PH_CREATE_TYPE, NULL, "ALTER TYPE %s ADD VALUE %s BEFORE %s", ident,
				 quote_literal_cstr(l), quote_literal_cstr(list_nth(nl, 1)));
		else
			emit(cx, PH_CREATE_TYPE, NULL, "ALTER TYPE %s ADD VALUE %s", ident,
				 quote_literal_cstr(l));
	}
}

/*
 * Labels removed or reordered: the server cannot do that in place.  The
 * type is renamed away, made again, the table columns that use it are
 * converted through text (a row holding a removed label makes that fail:
 * nothing is lost silently), and the old type dropped.
 */
static void
enum_recreate(DiffCtx *cx, const char *ident, JsonbValue *new)
{
	List	   *parts;
	char	   *oldname;
	int			n,
				i;
	DiffPair   *tabs = schema_json_pairs(schema_json_get(cx->from, "tables"), &n);
	List	   *redefault = NIL;
	ListCell   *lc;

	if (!SplitIdentifierString(pstrdup(ident), '.', &parts) || list_length(parts) != 2)
	{
		unsupported(cx, PH_CREATE_TYPE, "enum %s loses or reorders labels", ident);
		return;
	}
	oldname = psprintf("%s__migr_old", (char *) llast(parts));
	emit(cx, PH_CREATE_TYPE, NULL, "ALTER TYPE %s RENAME TO %s", ident, quote_identifier(oldname));
	create_type(cx, ident, new);
	for (i = 0; i < n; i++)
	{
		JsonbValue *nt = schema_json_get(schema_json_get(cx->to, "tables"), tabs[i].key);

		if (nt == NULL)
			continue;
		foreach(lc, schema_json_elements(schema_json_get(&tabs[i].value, "columns")))
		{
			JsonbValue *oc = lfirst(lc);
			char	   *name = dj_str(oc, "name");
			JsonbValue *ncol = NULL;
			ListCell   *lc2;
			const char *qn = quote_identifier(name);

			if (!str_eq(dj_str(oc, "type"), ident) || dj_true(oc, "inherited"))
				continue;
			foreach(lc2, schema_json_elements(schema_json_get(nt, "columns")))
				if (str_eq(dj_str(lfirst(lc2), "name"), name))
					ncol = lfirst(lc2);
			if (ncol == NULL || !str_eq(dj_str(ncol, "type"), ident))
				continue;
			if (dj_str(oc, "default"))
				emit(cx, PH_CREATE_TYPE, NULL, "ALTER TABLE %s ALTER COLUMN %s DROP DEFAULT",
					 tabs[i].key, qn);
			emit(cx, PH_CREATE_TYPE, HZ_REWRITE, "ALTER TABLE %s ALTER COLUMN %s TYPE %s USING %s::text::%s",
				 tabs[i].key, qn, ident, qn, ident);
			if (dj_str(ncol, "default") && str_eq(dj_str(ncol, "default"), dj_str(oc, "default")))
				redefault = lappend(redefault, psprintf("ALTER TABLE %s ALTER COLUMN %s SET DEFAULT %s",
														tabs[i].key, qn, dj_str(ncol, "default")));
			cx->touched_rels = lappend(cx->touched_rels, tabs[i].key);
		}
	}
	foreach(lc, redefault)
		emit(cx, PH_CREATE_TYPE, NULL, "%s", (char *) lfirst(lc));
	emit(cx, PH_CREATE_TYPE, NULL, "DROP TYPE %s.%s", quote_identifier(linitial(parts)),
		 quote_identifier(oldname));
}

static void
alter_composite(DiffCtx *cx, const char *ident, JsonbValue *old, JsonbValue *new)
{
	List	   *oa = schema_json_elements(schema_json_get(old, "attributes"));
	List	   *na = schema_json_elements(schema_json_get(new, "attributes"));
	List	   *order = NIL;
	List	   *want = NIL;
	ListCell   *lc,
			   *lc2;

	foreach(lc, oa)
	{
		char	   *name = dj_str(lfirst(lc), "name");
		JsonbValue *match = NULL;

		foreach(lc2, na)
			if (str_eq(dj_str(lfirst(lc2), "name"), name))
				match = lfirst(lc2);
		if (match == NULL)
		{
			emit(cx, PH_CREATE_COMPOSITE, HZ_DATA_LOSS, "ALTER TYPE %s DROP ATTRIBUTE %s",
				 ident, quote_identifier(name));
			continue;
		}
		order = lappend(order, name);
		if (!dj_field_equal(lfirst(lc), match, "type") ||
			!dj_field_equal(lfirst(lc), match, "collation"))
		{
			char	   *coll = dj_str(match, "collation");

			emit(cx, PH_CREATE_COMPOSITE, NULL, "ALTER TYPE %s ALTER ATTRIBUTE %s TYPE %s%s%s",
				 ident, quote_identifier(name), dj_str(match, "type"),
				 coll ? " COLLATE " : "", coll ? coll : "");
		}
		diff_comment(cx, "COLUMN", psprintf("%s.%s", ident, quote_identifier(name)),
					 lfirst(lc), match);
	}
	foreach(lc, na)
	{
		char	   *name = dj_str(lfirst(lc), "name");

		want = lappend(want, name);
		if (list_has_str(order, name))
			continue;
		order = lappend(order, name);
		emit(cx, PH_CREATE_COMPOSITE, NULL, "ALTER TYPE %s ADD ATTRIBUTE %s", ident,
			 column_def(lfirst(lc)));
		diff_comment(cx, "COLUMN", psprintf("%s.%s", ident, quote_identifier(name)),
					 NULL, lfirst(lc));
	}
	forboth(lc, order, lc2, want)
		if (strcmp(lfirst(lc), lfirst(lc2)) != 0)
		{
			unsupported(cx, PH_CREATE_COMPOSITE, "attribute order of type %s", ident);
			break;
		}
}

static void
alter_domain(DiffCtx *cx, const char *ident, JsonbValue *old, JsonbValue *new)
{
	int			na,
				nb,
				i,
				j;
	DiffPair   *a,
			   *b;

	if (!dj_field_equal(old, new, "base_type") || !dj_field_equal(old, new, "collation"))
		unsupported(cx, PH_CREATE_DOMAIN, "domain %s changes its base type or collation: %s %s -> %s %s",
					ident, dj_str(old, "base_type"),
					dj_str(old, "collation") ? dj_str(old, "collation") : "",
					dj_str(new, "base_type"),
					dj_str(new, "collation") ? dj_str(new, "collation") : "");
	if (!dj_field_equal(old, new, "default"))
	{
		if (dj_str(new, "default"))
			emit(cx, PH_CREATE_DOMAIN, NULL, "ALTER DOMAIN %s SET DEFAULT %s", ident,
				 dj_str(new, "default"));
		else
			emit(cx, PH_CREATE_DOMAIN, NULL, "ALTER DOMAIN %s DROP DEFAULT", ident);
	}
	if (dj_true(old, "not_null") != dj_true(new, "not_null"))
		emit(cx, PH_CREATE_DOMAIN, dj_true(new, "not_null") ? HZ_LOCK : NULL,
			 "ALTER DOMAIN %s %s NOT NULL", ident,
			 dj_true(new, "not_null") ? "SET" : "DROP");
	a = schema_json_pairs(schema_json_get(old, "constraints"), &na);
	b = schema_json_pairs(schema_json_get(new, "constraints"), &nb);
	for (i = 0, j = 0; i < na || j < nb;)
	{
		int			c = i >= na ? 1 : j >= nb ? -1 : strcmp(a[i].key, b[j].key);
		bool		add = false;

		if (c < 0)
		{
			emit(cx, PH_DROP_INDEX, NULL, "ALTER DOMAIN %s DROP CONSTRAINT %s", ident, a[i].key);
			i++;
			continue;
		}
		if (c == 0)
		{
			if (!dj_field_equal(&a[i].value, &b[j].value, "definition"))
			{
				emit(cx, PH_DROP_INDEX, NULL, "ALTER DOMAIN %s DROP CONSTRAINT %s", ident, a[i].key);
				add = true;
			}
			else
				diff_comment(cx, psprintf("CONSTRAINT %s ON DOMAIN", b[j].key), ident,
							 &a[i].value, &b[j].value);
			i++;
		}
		else
			add = true;
		if (add)
		{
			char	   *def = dj_str(&b[j].value, "definition");
			bool		valid = !schema_json_get(&b[j].value, "valid");

			/* NOT VALID, then VALIDATE: no long lock while existing values are checked */
			emit(cx, PH_CREATE_DOMAIN, NULL, "ALTER DOMAIN %s ADD CONSTRAINT %s %s%s", ident,
				 b[j].key, def, valid ? " NOT VALID" : "");
			if (valid)
				emit(cx, PH_CREATE_DOMAIN, NULL, "ALTER DOMAIN %s VALIDATE CONSTRAINT %s",
					 ident, b[j].key);
			diff_comment(cx, psprintf("CONSTRAINT %s ON DOMAIN", b[j].key), ident,
						 NULL, &b[j].value);
		}
		j++;
	}
}

static void
diff_types(DiffCtx *cx)
{
	int			na,
				nb,
				i,
				j;
	DiffPair   *a = schema_json_pairs(schema_json_get(cx->from, "types"), &na);
	DiffPair   *b = schema_json_pairs(schema_json_get(cx->to, "types"), &nb);

	for (i = 0, j = 0; i < na || j < nb;)
	{
		int			c = i >= na ? 1 : j >= nb ? -1 : strcmp(a[i].key, b[j].key);

		if (c < 0)
		{
			emit(cx, type_phase(&a[i].value, true), NULL, "DROP %s %s",
				 type_kind_sql(&a[i].value), a[i].key);
			i++;
		}
		else if (c > 0)
		{
			create_type(cx, b[j].key, &b[j].value);
			j++;
		}
		else
		{
			JsonbValue *o = &a[i].value;
			JsonbValue *n = &b[j].value;
			char	   *kind = dj_str(n, "kind");

			if (!schema_json_equal(o, n))
			{
				if (!dj_field_equal(o, n, "kind"))
				{
					emit(cx, PH_DROP_REPLACED_TYPE, HZ_DATA_LOSS, "DROP %s %s",
						 type_kind_sql(o), a[i].key);
					create_type(cx, b[j].key, n);
				}
				else
				{
					if (str_eq(kind, "enum"))
						alter_enum(cx, b[j].key, o, n);
					else if (str_eq(kind, "composite"))
						alter_composite(cx, b[j].key, o, n);
					else if (str_eq(kind, "domain"))
						alter_domain(cx, b[j].key, o, n);
					else if (str_eq(kind, "range") &&
							 (!dj_field_equal(o, n, "subtype") || !dj_field_equal(o, n, "subtype_opclass") ||
							  !dj_field_equal(o, n, "collation") || !dj_field_equal(o, n, "canonical") ||
							  !dj_field_equal(o, n, "subtype_diff") || !dj_field_equal(o, n, "multirange")))
						unsupported(cx, PH_CREATE_TYPE, "range type %s changed its definition: %s -> %s",
									b[j].key, schema_json_render(o), schema_json_render(n));
					diff_common(cx, type_kind_sql(n), b[j].key, o, n);
				}
			}
			i++, j++;
		}
	}
}

/* ---------- functions ---------- */

static void
diff_functions(DiffCtx *cx)
{
	int			na,
				nb,
				i,
				j;
	DiffPair   *a = schema_json_pairs(schema_json_get(cx->from, "functions"), &na);
	DiffPair   *b = schema_json_pairs(schema_json_get(cx->to, "functions"), &nb);

	for (i = 0, j = 0; i < na || j < nb;)
	{
		int			c = i >= na ? 1 : j >= nb ? -1 : strcmp(a[i].key, b[j].key);

		if (c < 0)
		{
			emit(cx, PH_DROP_FUNCTION, NULL, "DROP %s %s",
				 str_eq(dj_str(&a[i].value, "kind"), "procedure") ? "PROCEDURE" : "FUNCTION",
				 a[i].key);
			i++;
		}
		else
		{
			JsonbValue *o = c == 0 ? &a[i].value : NULL;
			JsonbValue *n = &b[j].value;
			const char *k = str_eq(dj_str(n, "kind"), "procedure") ? "PROCEDURE" : "FUNCTION";

			if (o && !dj_field_equal(o, n, "kind"))
			{
				emit(cx, PH_DROP_ON_TABLE, NULL, "DROP %s %s",
					 str_eq(dj_str(o, "kind"), "procedure") ? "PROCEDURE" : "FUNCTION", a[i].key);
				o = NULL;
			}
			/* pg_get_functiondef writes CREATE OR REPLACE: new or changed alike */
			if (o == NULL || !dj_field_equal(o, n, "definition"))
				emit(cx, PH_CREATE_FUNCTION, NULL, "%s",
					 strip_semicolon(dj_str(n, "definition")));
			diff_common(cx, k, b[j].key, o, n);
			if (c == 0)
				i++;
			j++;
		}
	}
}

/* ---------- sequences ---------- */

static char *
sequence_options(JsonbValue *s)
{
	StringInfoData buf;
	char	   *v;

	initStringInfo(&buf);
	if ((v = dj_str(s, "type")) != NULL)
		appendStringInfo(&buf, " AS %s", v);
	if ((v = dj_str(s, "increment")) != NULL)
		appendStringInfo(&buf, " INCREMENT BY %s", v);
	if ((v = dj_str(s, "minimum")) != NULL)
		appendStringInfo(&buf, " MINVALUE %s", v);
	if ((v = dj_str(s, "maximum")) != NULL)
		appendStringInfo(&buf, " MAXVALUE %s", v);
	if ((v = dj_str(s, "start")) != NULL)
		appendStringInfo(&buf, " START WITH %s", v);
	if ((v = dj_str(s, "cache")) != NULL)
		appendStringInfo(&buf, " CACHE %s", v);
	appendStringInfoString(&buf, dj_true(s, "cycle") ? " CYCLE" : " NO CYCLE");
	return buf.data;
}

static void
diff_sequences(DiffCtx *cx)
{
	int			na,
				nb,
				i,
				j;
	DiffPair   *a = schema_json_pairs(schema_json_get(cx->from, "sequences"), &na);
	DiffPair   *b = schema_json_pairs(schema_json_get(cx->to, "sequences"), &nb);

	for (i = 0, j = 0; i < na || j < nb;)
	{
		int			c = i >= na ? 1 : j >= nb ? -1 : strcmp(a[i].key, b[j].key);

		if (c < 0)
		{
			/* a sequence owned by a dropped table is gone with it */
			emit(cx, PH_DROP_SEQUENCE, NULL, "DROP SEQUENCE IF EXISTS %s", a[i].key);
			i++;
		}
		else if (c > 0)
		{
			JsonbValue *n = &b[j].value;

			emit(cx, PH_CREATE_SEQUENCE, NULL, "CREATE SEQUENCE %s%s", b[j].key,
				 sequence_options(n));
			if (dj_str(n, "owned_by"))
				emit(cx, PH_SEQUENCE_OWNED, NULL, "ALTER SEQUENCE %s OWNED BY %s",
					 b[j].key, dj_str(n, "owned_by"));
			diff_comment(cx, "SEQUENCE", b[j].key, NULL, n);
			diff_owner(cx, "SEQUENCE", b[j].key, NULL, n);
			j++;
		}
		else
		{
			JsonbValue *o = &a[i].value;
			JsonbValue *n = &b[j].value;
			char	   *oo = dj_str(o, "owned_by");
			char	   *no = dj_str(n, "owned_by");

			if (strcmp(sequence_options(o), sequence_options(n)) != 0)
				emit(cx, PH_CREATE_SEQUENCE, NULL, "ALTER SEQUENCE %s%s", b[j].key,
					 sequence_options(n));
			if (!str_eq(oo, no))
			{
				/* released before its old table may be dropped, which would drop it */
				if (oo)
					emit(cx, PH_DROP_FKEY, NULL, "ALTER SEQUENCE %s OWNED BY NONE", b[j].key);
				if (no)
					emit(cx, PH_SEQUENCE_OWNED, NULL, "ALTER SEQUENCE %s OWNED BY %s",
						 b[j].key, no);
			}
			diff_common(cx, "SEQUENCE", b[j].key, o, n);
			i++, j++;
		}
	}
}

/* ---------- tables ---------- */

/* a column (or composite attribute) as in CREATE TABLE */
static char *
column_def(JsonbValue *col)
{
	StringInfoData buf;
	char	   *v;

	initStringInfo(&buf);
	appendStringInfo(&buf, "%s %s", quote_identifier(dj_str(col, "name")),
					 dj_str(col, "type"));
	if ((v = dj_str(col, "collation")) != NULL)
		appendStringInfo(&buf, " COLLATE %s", v);
	if ((v = dj_str(col, "generated")) != NULL)
		appendStringInfo(&buf, " GENERATED ALWAYS AS (%s) STORED", v);
	if ((v = dj_str(col, "default")) != NULL)
		appendStringInfo(&buf, " DEFAULT %s", v);
	if (dj_true(col, "not_null"))
		appendStringInfoString(&buf, " NOT NULL");
	if ((v = dj_str(col, "identity")) != NULL)
		appendStringInfo(&buf, " GENERATED %s AS IDENTITY",
						 strcmp(v, "always") == 0 ? "ALWAYS" : "BY DEFAULT");
	return buf.data;
}

/* how many parents up (partition_of, inherits) a table sits */
static int
table_depth(JsonbValue *tables, const char *ident)
{
	int			depth = 0;
	JsonbValue *t = schema_json_get(tables, ident);

	while (t != NULL && depth < 100)
	{
		char	   *parent = dj_str(t, "partition_of");
		List	   *inh = schema_json_elements(schema_json_get(t, "inherits"));

		if (parent == NULL && inh != NIL)
			parent = schema_json_render(linitial(inh));
		if (parent == NULL)
			break;
		t = schema_json_get(tables, parent);
		depth++;
	}
	return depth;
}

static void
create_table(DiffCtx *cx, const char *ident, JsonbValue *t)
{
	StringInfoData buf;
	ListCell   *lc;
	bool		first = true;
	char	   *v;
	List	   *inh = schema_json_elements(schema_json_get(t, "inherits"));
	List	   *opts = schema_json_elements(schema_json_get(t, "options"));

	initStringInfo(&buf);
	appendStringInfo(&buf, "CREATE %sTABLE %s", dj_true(t, "unlogged") ? "UNLOGGED " : "", ident);
	if ((v = dj_str(t, "partition_of")) != NULL)
		appendStringInfo(&buf, " PARTITION OF %s %s", v, dj_str(t, "partition_bound"));
	else
	{
		appendStringInfoString(&buf, " (");
		foreach(lc, schema_json_elements(schema_json_get(t, "columns")))
		{
			if (dj_true(lfirst(lc), "inherited"))
				continue;
			appendStringInfo(&buf, "%s\n    %s", first ? "" : ",", column_def(lfirst(lc)));
			first = false;
		}
		appendStringInfoString(&buf, first ? ")" : "\n)");
		if (inh != NIL)
		{
			appendStringInfoString(&buf, " INHERITS (");
			foreach(lc, inh)
				appendStringInfo(&buf, "%s%s", lc == list_head(inh) ? "" : ", ",
								 schema_json_render(lfirst(lc)));
			appendStringInfoChar(&buf, ')');
		}
	}
	if ((v = dj_str(t, "partition_key")) != NULL)
		appendStringInfo(&buf, " PARTITION BY %s", v);
	if (opts != NIL)
	{
		appendStringInfoString(&buf, " WITH (");
		foreach(lc, opts)
			appendStringInfo(&buf, "%s%s", lc == list_head(opts) ? "" : ", ",
							 schema_json_render(lfirst(lc)));
		appendStringInfoChar(&buf, ')');
	}
	emit(cx, PH_CREATE_TABLE, NULL,
		 "%s", buf.data);

	/* a partition's columns come from its parent; only their extras differ */
	if (dj_str(t, "partition_of"))
		foreach(lc, schema_json_elements(schema_json_get(t, "columns")))
		{
			char	   *d = dj_str(lfirst(lc), "default");

			if (d)
				emit(cx, PH_ALTER_TABLE, NULL, "ALTER TABLE %s ALTER COLUMN %s SET DEFAULT %s",
					 ident, quote_identifier(dj_str(lfirst(lc), "name")), d);
		}
	if (dj_true(t, "row_security"))
		emit(cx, PH_ALTER_TABLE, NULL, "ALTER TABLE %s ENABLE ROW LEVEL SECURITY", ident);
	if (dj_true(t, "force_row_security"))
		emit(cx, PH_ALTER_TABLE, NULL, "ALTER TABLE %s FORCE ROW LEVEL SECURITY", ident);
	if ((v = dj_str(t, "replica_identity")) != NULL)
		emit(cx, PH_CREATE_ON_TABLE, NULL, "ALTER TABLE %s REPLICA IDENTITY %s", ident,
			 strncmp(v, "index ", 6) == 0 ? psprintf("USING INDEX %s", v + 6) : v);
	foreach(lc, schema_json_elements(schema_json_get(t, "columns")))
	{
		char	   *cm = dj_str(lfirst(lc), "comment");

		if (cm)
			emit(cx, PH_COMMENT, NULL, "COMMENT ON COLUMN %s.%s IS %s", ident,
				 quote_identifier(dj_str(lfirst(lc), "name")), quote_literal_cstr(cm));
		if (schema_json_get(lfirst(lc), "acl"))
			unsupported(cx, PH_COMMENT, "column privileges of %s.%s: %s", ident,
						quote_identifier(dj_str(lfirst(lc), "name")),
						schema_json_render(schema_json_get(lfirst(lc), "acl")));
	}
	diff_comment(cx, "TABLE", ident, NULL, t);
	diff_owner(cx, "TABLE", ident, NULL, t);
}

/*
 * The columns of a table in both descriptions.  Columns added go to the
 * end (the server has no other place for them); when the order that
 * results is not the one wanted, that is said, not papered over.
 */
static void
alter_columns(DiffCtx *cx, const char *ident, JsonbValue *old, JsonbValue *new)
{
	List	   *oc = schema_json_elements(schema_json_get(old, "columns"));
	List	   *nc = schema_json_elements(schema_json_get(new, "columns"));
	List	   *order = NIL,
			   *want = NIL;
	ListCell   *lc,
			   *lc2;
	bool		archived = false;

	foreach(lc, oc)
	{
		JsonbValue *o = lfirst(lc);
		char	   *name = dj_str(o, "name");
		const char *qn = quote_identifier(name);
		JsonbValue *n = NULL;

		foreach(lc2, nc)
			if (str_eq(dj_str(lfirst(lc2), "name"), name))
				n = lfirst(lc2);
		if (n == NULL)
		{
			if (dj_true(o, "inherited"))
				continue;		/* goes with its parent's */
			if (!archived)
			{
				/* lint: archive before a destructive change (rows only: nothing else to keep) */
				emit(cx, PH_DROP_COLUMN, NULL,
					 "SELECT migr_archive_table(%s) WHERE EXISTS (SELECT FROM %s)",
					 quote_literal_cstr(ident), ident);
				archived = true;
			}
			emit(cx, PH_DROP_COLUMN, HZ_DATA_LOSS, "ALTER TABLE %s DROP COLUMN %s", ident, qn);
			if (!list_member_ptr(cx->touched_rels, ident))
				cx->touched_rels = lappend(cx->touched_rels, pstrdup(ident));
			continue;
		}
		order = lappend(order, name);
		if (!dj_field_equal(o, n, "generated"))
			unsupported(cx, PH_ALTER_TABLE, "generated expression of column %s.%s: %s -> %s",
						ident, qn, dj_str(o, "generated") ? dj_str(o, "generated") : "(none)",
						dj_str(n, "generated") ? dj_str(n, "generated") : "(none)");
		if (!dj_field_equal(o, n, "type") || !dj_field_equal(o, n, "collation"))
		{
			char	   *coll = dj_str(n, "collation");

			emit(cx, PH_ALTER_TABLE, HZ_REWRITE,
				 "ALTER TABLE %s ALTER COLUMN %s TYPE %s%s%s USING %s::%s", ident, qn,
				 dj_str(n, "type"), coll ? " COLLATE " : "", coll ? coll : "",
				 qn, dj_str(n, "type"));
			cx->touched_rels = lappend(cx->touched_rels, pstrdup(ident));
		}
		if (!dj_field_equal(o, n, "default") && !dj_str(n, "generated"))
		{
			if (dj_str(n, "default"))
				emit(cx, PH_ALTER_TABLE, NULL, "ALTER TABLE %s ALTER COLUMN %s SET DEFAULT %s",
					 ident, qn, dj_str(n, "default"));
			else if (!dj_str(o, "generated"))
				emit(cx, PH_ALTER_TABLE, NULL, "ALTER TABLE %s ALTER COLUMN %s DROP DEFAULT",
					 ident, qn);
		}
		if (!dj_field_equal(o, n, "identity"))
		{
			char	   *oi = dj_str(o, "identity");
			char	   *ni = dj_str(n, "identity");

			if (oi && ni)
				emit(cx, PH_ALTER_TABLE, NULL, "ALTER TABLE %s ALTER COLUMN %s SET GENERATED %s",
					 ident, qn, strcmp(ni, "always") == 0 ? "ALWAYS" : "BY DEFAULT");
			else if (oi)
				emit(cx, PH_ALTER_TABLE, NULL, "ALTER TABLE %s ALTER COLUMN %s DROP IDENTITY",
					 ident, qn);
			else
				emit(cx, PH_ALTER_TABLE, NULL, "ALTER TABLE %s ALTER COLUMN %s ADD GENERATED %s AS IDENTITY",
					 ident, qn, strcmp(ni, "always") == 0 ? "ALWAYS" : "BY DEFAULT");
		}
		if (dj_true(o, "not_null") != dj_true(n, "not_null") &&
			!(dj_str(n, "identity") && !dj_str(o, "identity")))
		{
			if (dj_true(n, "not_null"))
			{
				/*
				 * SET NOT NULL scans the table under an exclusive lock unless a
				 * validated CHECK proves it: add one NOT VALID, validate it
				 * (a weaker lock), set, drop the helper.
				 */
				const char *cn = quote_identifier(psprintf("%s_not_null", name));

				emit(cx, PH_ALTER_TABLE, NULL,
					 "ALTER TABLE %s ADD CONSTRAINT %s CHECK (%s IS NOT NULL) NOT VALID", ident, cn, qn);
				emit(cx, PH_ALTER_TABLE, NULL, "ALTER TABLE %s VALIDATE CONSTRAINT %s", ident, cn);
				emit(cx, PH_ALTER_TABLE, NULL, "ALTER TABLE %s ALTER COLUMN %s SET NOT NULL", ident, qn);
				emit(cx, PH_ALTER_TABLE, NULL, "ALTER TABLE %s DROP CONSTRAINT %s", ident, cn);
			}
			else
				emit(cx, PH_ALTER_TABLE, NULL, "ALTER TABLE %s ALTER COLUMN %s DROP NOT NULL",
					 ident, qn);
		}
		diff_comment(cx, "COLUMN", psprintf("%s.%s", ident, qn), o, n);
		if (!dj_field_equal(o, n, "acl"))
			unsupported(cx, PH_COMMENT, "column privileges of %s.%s: %s -> %s", ident, qn,
						schema_json_get(o, "acl") ? schema_json_render(schema_json_get(o, "acl")) : "(none)",
						schema_json_get(n, "acl") ? schema_json_render(schema_json_get(n, "acl")) : "(none)");
	}
	foreach(lc, nc)
	{
		JsonbValue *n = lfirst(lc);
		char	   *name = dj_str(n, "name");

		want = lappend(want, name);
		if (list_has_str(order, name))
			continue;
		order = lappend(order, name);
		if (dj_true(n, "inherited"))
			continue;			/* comes with its parent's */
		if (dj_true(n, "not_null") && !dj_str(n, "default") && !dj_str(n, "identity") &&
			!dj_str(n, "generated"))
			emit(cx, PH_ALTER_TABLE, HZ_LOCK,
				 "ALTER TABLE %s ADD COLUMN %s -- NOT NULL without a default: fails if the table has rows",
				 ident, column_def(n));
		else
			emit(cx, PH_ALTER_TABLE, dj_str(n, "generated") ? HZ_REWRITE : NULL,
				 "ALTER TABLE %s ADD COLUMN %s", ident, column_def(n));
		if (dj_str(n, "comment"))
			emit(cx, PH_COMMENT, NULL, "COMMENT ON COLUMN %s.%s IS %s", ident,
				 quote_identifier(name), quote_literal_cstr(dj_str(n, "comment")));
	}
	forboth(lc, order, lc2, want)
		if (strcmp(lfirst(lc), lfirst(lc2)) != 0)
		{
			unsupported(cx, PH_ALTER_TABLE, "column order of table %s: wanted %s",
						ident, schema_json_render(schema_json_get(new, "columns")));
			break;
		}
}

static void
alter_table(DiffCtx *cx, const char *ident, JsonbValue *old, JsonbValue *new)
{
	List	   *oo = schema_json_elements(schema_json_get(old, "options"));
	List	   *no = schema_json_elements(schema_json_get(new, "options"));
	ListCell   *lc;

	if (!dj_field_equal(old, new, "kind") || !dj_field_equal(old, new, "partition_key") ||
		!dj_field_equal(old, new, "partition_of") || !dj_field_equal(old, new, "partition_bound") ||
		!dj_field_equal(old, new, "inherits"))
		unsupported(cx, PH_ALTER_TABLE,
					"partitioning or inheritance of table %s: %s %s %s %s -> %s %s %s %s", ident,
					dj_str(old, "partition_key") ? dj_str(old, "partition_key") : "",
					dj_str(old, "partition_of") ? dj_str(old, "partition_of") : "",
					dj_str(old, "partition_bound") ? dj_str(old, "partition_bound") : "",
					schema_json_get(old, "inherits") ? schema_json_render(schema_json_get(old, "inherits")) : "",
					dj_str(new, "partition_key") ? dj_str(new, "partition_key") : "",
					dj_str(new, "partition_of") ? dj_str(new, "partition_of") : "",
					dj_str(new, "partition_bound") ? dj_str(new, "partition_bound") : "",
					schema_json_get(new, "inherits") ? schema_json_render(schema_json_get(new, "inherits")) : "");
	alter_columns(cx, ident, old, new);
	if (dj_true(old, "unlogged") != dj_true(new, "unlogged"))
		emit(cx, PH_ALTER_TABLE, HZ_REWRITE, "ALTER TABLE %s SET %s", ident,
			 dj_true(new, "unlogged") ? "UNLOGGED" : "LOGGED");
	if (dj_true(old, "row_security") != dj_true(new, "row_security"))
		emit(cx, PH_ALTER_TABLE, NULL, "ALTER TABLE %s %s ROW LEVEL SECURITY", ident,
			 dj_true(new, "row_security") ? "ENABLE" : "DISABLE");
	if (dj_true(old, "force_row_security") != dj_true(new, "force_row_security"))
		emit(cx, PH_ALTER_TABLE, NULL, "ALTER TABLE %s %s ROW LEVEL SECURITY", ident,
			 dj_true(new, "force_row_security") ? "FORCE" : "NO FORCE");
	foreach(lc, oo)
	{
		char	   *o = schema_json_render(lfirst(lc));
		char	   *eq = strchr(o, '=');
		bool		kept = false;
		ListCell   *lc2;

		foreach(lc2, no)
		{
			char	   *n = schema_json_render(lfirst(lc2));

			if (eq && strncmp(n, o, eq - o + 1) == 0)
				kept = true;
		}
		if (!kept && eq)
			emit(cx, PH_ALTER_TABLE, NULL, "ALTER TABLE %s RESET (%s)", ident,
				 pnstrdup(o, eq - o));
	}
	foreach(lc, no)
	{
		char	   *n = schema_json_render(lfirst(lc));
		bool		same = false;
		ListCell   *lc2;

		foreach(lc2, oo)
			if (strcmp(schema_json_render(lfirst(lc2)), n) == 0)
				same = true;
		if (!same)
			emit(cx, PH_ALTER_TABLE, NULL, "ALTER TABLE %s SET (%s)", ident, n);
	}
	if (!dj_field_equal(old, new, "replica_identity"))
	{
		char	   *v = dj_str(new, "replica_identity");

		emit(cx, PH_CREATE_ON_TABLE, NULL, "ALTER TABLE %s REPLICA IDENTITY %s", ident,
			 v == NULL ? "DEFAULT" :
			 strncmp(v, "index ", 6) == 0 ? psprintf("USING INDEX %s", v + 6) : v);
	}
	diff_common(cx, "TABLE", ident, old, new);
}

static void
diff_tables(DiffCtx *cx)
{
	int			na,
				nb,
				i,
				j,
				depth;
	JsonbValue *from_tables = schema_json_get(cx->from, "tables");
	JsonbValue *to_tables = schema_json_get(cx->to, "tables");
	DiffPair   *a = schema_json_pairs(from_tables, &na);
	DiffPair   *b = schema_json_pairs(to_tables, &nb);

	/*
	 * Parents before children when creating, children before parents when
	 * dropping (dropping a partitioned table drops its partitions): one
	 * pass per depth.
	 */
	for (depth = 0; depth < 8; depth++)
	{
		for (j = 0; j < nb; j++)
		{
			if (schema_json_get(from_tables, b[j].key) != NULL ||
				table_depth(to_tables, b[j].key) != depth)
				continue;
			create_table(cx, b[j].key, &b[j].value);
			cx->new_rels = lappend(cx->new_rels, b[j].key);
		}
	}
	for (depth = 7; depth >= 0; depth--)
	{
		for (i = 0; i < na; i++)
		{
			if (schema_json_get(to_tables, a[i].key) != NULL ||
				table_depth(from_tables, a[i].key) != depth)
				continue;
			/* a partition of a dropped table goes with it */
			if (dj_str(&a[i].value, "partition_of") &&
				schema_json_get(to_tables, dj_str(&a[i].value, "partition_of")) == NULL &&
				schema_json_get(from_tables, dj_str(&a[i].value, "partition_of")) != NULL)
			{
				cx->dropped_rels = lappend(cx->dropped_rels, a[i].key);
				continue;
			}
			emit(cx, PH_DROP_TABLE, NULL,
				 "SELECT migr_archive_table(%s) WHERE EXISTS (SELECT FROM %s)",
				 quote_literal_cstr(a[i].key), a[i].key);
			emit(cx, PH_DROP_TABLE, HZ_DATA_LOSS, "DROP TABLE %s", a[i].key);
			cx->dropped_rels = lappend(cx->dropped_rels, a[i].key);
		}
	}
	for (i = 0, j = 0; i < na && j < nb;)
	{
		int			c = strcmp(a[i].key, b[j].key);

		if (c < 0)
			i++;
		else if (c > 0)
			j++;
		else
		{
			if (!schema_json_equal(&a[i].value, &b[j].value))
				alter_table(cx, b[j].key, &a[i].value, &b[j].value);
			i++, j++;
		}
	}
}

/* ---------- views ---------- */

static bool
view_mentions(JsonbValue *v, List *rels)
{
	char	   *def = dj_str(v, "definition");
	ListCell   *lc;

	if (def == NULL)
		return false;
	foreach(lc, rels)
		if (strstr(def, (char *) lfirst(lc)) != NULL)
			return true;
	return false;
}

/*
 * Views are dropped and created again when their definition changes, or
 * when something they read changes its columns or is itself re-created
 * (the server refuses to change a column a view uses).  Creation follows
 * the description's dependencies found by name, repeated until no view is
 * left that reads one still to be made.
 */
static void
diff_views(DiffCtx *cx, const char *section, bool materialized)
{
	int			na,
				nb,
				i,
				j;
	JsonbValue *from_v = schema_json_get(cx->from, section);
	JsonbValue *to_v = schema_json_get(cx->to, section);
	DiffPair   *a = schema_json_pairs(from_v, &na);
	DiffPair   *b = schema_json_pairs(to_v, &nb);
	const char *kw = materialized ? "MATERIALIZED VIEW" : "VIEW";
	bool	   *make = palloc0(sizeof(bool) * Max(nb, 1));
	List	   *pending = NIL;
	bool		more = true;
	int			round;

	for (j = 0; j < nb; j++)
	{
		JsonbValue *o = schema_json_get(from_v, b[j].key);

		if (o == NULL)
			make[j] = true;
		else if (!dj_field_equal(o, &b[j].value, "definition") ||
				 !dj_field_equal(o, &b[j].value, "options") ||
				 !dj_field_equal(o, &b[j].value, "columns"))
			make[j] = true;
	}
	/* what reads a re-created or changed relation is re-created too */
	while (more)
	{
		List	   *changed = list_concat(list_copy(cx->touched_rels), cx->dropped_rels);

		more = false;
		for (j = 0; j < nb; j++)
			if (make[j] && schema_json_get(from_v, b[j].key))
				changed = lappend(changed, b[j].key);
		for (j = 0; j < nb; j++)
			if (!make[j] && view_mentions(&b[j].value, changed))
				make[j] = more = true;
	}
	for (i = 0; i < na; i++)
	{
		JsonbValue *n = schema_json_get(to_v, a[i].key);

		if (n == NULL)
			emit(cx, PH_DROP_VIEW, materialized ? HZ_DATA_LOSS : NULL, "DROP %s IF EXISTS %s",
				 kw, a[i].key);
		else
		{
			for (j = 0; j < nb; j++)
				if (strcmp(b[j].key, a[i].key) == 0 && make[j])
				{
					emit(cx, PH_DROP_VIEW, NULL, "DROP %s IF EXISTS %s", kw, a[i].key);
					cx->dropped_rels = lappend(cx->dropped_rels, a[i].key);
				}
		}
	}
	for (j = 0; j < nb; j++)
		if (make[j])
			pending = lappend(pending, b[j].key);
	/* creation: a view before the views that read it */
	for (round = 0; round <= nb && pending != NIL; round++)
	{
		List	   *later = NIL;
		ListCell   *lc;

		foreach(lc, pending)
		{
			char	   *key = lfirst(lc);
			JsonbValue *v = schema_json_get(to_v, key);
			List	   *others = list_copy(pending);
			StringInfoData buf;
			List	   *opts = schema_json_elements(schema_json_get(v, "options"));
			ListCell   *lo;

			others = list_delete_ptr(others, key);
			if (round < nb && view_mentions(v, others))
			{
				later = lappend(later, key);
				continue;
			}
			initStringInfo(&buf);
			appendStringInfo(&buf, "CREATE %s %s", kw, key);
			if (opts != NIL)
			{
				appendStringInfoString(&buf, " WITH (");
				foreach(lo, opts)
					appendStringInfo(&buf, "%s%s", lo == list_head(opts) ? "" : ", ",
									 schema_json_render(lfirst(lo)));
				appendStringInfoChar(&buf, ')');
			}
			appendStringInfo(&buf, " AS\n%s", strip_semicolon(dj_str(v, "definition")));
			emit(cx, PH_CREATE_VIEW, NULL, "%s", buf.data);
			cx->new_rels = lappend(cx->new_rels, key);
			foreach(lo, schema_json_elements(schema_json_get(v, "columns")))
			{
				char	   *cm = dj_str(lfirst(lo), "comment");

				if (cm)
					emit(cx, PH_COMMENT, NULL, "COMMENT ON COLUMN %s.%s IS %s", key,
						 quote_identifier(dj_str(lfirst(lo), "name")), quote_literal_cstr(cm));
				if (dj_str(lfirst(lo), "default"))
					emit(cx, PH_CREATE_VIEW, NULL, "ALTER VIEW %s ALTER COLUMN %s SET DEFAULT %s",
						 key, quote_identifier(dj_str(lfirst(lo), "name")),
						 dj_str(lfirst(lo), "default"));
			}
			diff_comment(cx, kw, key, NULL, v);
			diff_owner(cx, materialized ? "MATERIALIZED VIEW" : "TABLE", key, NULL, v);
		}
		pending = later;
	}
	/* the others: only comments, owners, privileges */
	for (i = 0, j = 0; i < na && j < nb;)
	{
		int			c = strcmp(a[i].key, b[j].key);

		if (c < 0)
			i++;
		else if (c > 0)
			j++;
		else
		{
			if (!make[j])
			{
				diff_comment(cx, kw, b[j].key, &a[i].value, &b[j].value);
				diff_owner(cx, materialized ? "MATERIALIZED VIEW" : "TABLE", b[j].key,
						   &a[i].value, &b[j].value);
				diff_acl(cx, kw, b[j].key, &a[i].value, &b[j].value);
			}
			i++, j++;
		}
	}
}

/* ---------- constraints and indexes ---------- */

static bool
is_new_rel(DiffCtx *cx, const char *rel)
{
	return rel != NULL && list_has_str(cx->new_rels, rel);
}

static bool
is_dropped_rel(DiffCtx *cx, const char *rel)
{
	return rel != NULL && list_has_str(cx->dropped_rels, rel);
}

/* a partitioned table cannot be indexed CONCURRENTLY */
static bool
is_partitioned(DiffCtx *cx, const char *rel)
{
	JsonbValue *t = schema_json_get(schema_json_get(cx->to, "tables"), rel);

	return t != NULL && str_eq(dj_str(t, "kind"), "partitioned table");
}

static void
create_constraint(DiffCtx *cx, const char *ident, JsonbValue *c)
{
	char	   *table = dj_str(c, "table");
	char	   *type = dj_str(c, "type");
	char	   *def = dj_str(c, "definition");
	const char *name = ident + strlen(table) + 1;
	bool		fk = str_eq(type, "foreign key");
	int			phase = fk ? PH_CREATE_FKEY : PH_CREATE_CONSTRAINT;
	bool		valid = !schema_json_get(c, "valid");

	if (dj_true(c, "inherited"))
		return;
	if (is_new_rel(cx, table))
		emit(cx, phase, NULL, "ALTER TABLE %s ADD CONSTRAINT %s %s", table, name, def);
	else if (fk || str_eq(type, "check"))
	{
		/* NOT VALID takes a brief lock; VALIDATE checks the rows under a weaker one */
		emit(cx, phase, NULL, "ALTER TABLE %s ADD CONSTRAINT %s %s%s", table, name, def,
			 valid ? " NOT VALID" : "");
		if (valid)
			emit(cx, phase, NULL, "ALTER TABLE %s VALIDATE CONSTRAINT %s", table, name);
	}
	else if ((str_eq(type, "unique") || str_eq(type, "primary key")) &&
			 !is_partitioned(cx, table))
	{
		/*
		 * The index built CONCURRENTLY first, then the constraint takes it
		 * over (USING INDEX): only a brief lock on the table.
		 */
		const char *cols = strchr(def, '(');
		const char *tail = def + strlen(def);
		const char *attrs = strstr(def, " DEFERRABLE");
		bool		nnd = strncmp(def, "UNIQUE NULLS NOT DISTINCT", 25) == 0;

		if (attrs == NULL)
			attrs = strstr(def, " NOT DEFERRABLE");
		if (attrs != NULL)
			tail = attrs;
		emit(cx, PH_CREATE_INDEX, NULL, "CREATE UNIQUE INDEX CONCURRENTLY %s ON %s %s%s",
			 name, table, nnd ? "NULLS NOT DISTINCT " : "", pnstrdup(cols, tail - cols));
		/* NULLS NOT DISTINCT goes after the columns in CREATE INDEX */
		if (nnd)
		{
			DiffStep   *s = llast(cx->steps);
			const char *close = strchr(cols, ')');

			s->sql = psprintf("CREATE UNIQUE INDEX CONCURRENTLY %s ON %s %s NULLS NOT DISTINCT%s",
							  name, table, pnstrdup(cols, close - cols + 1),
							  pnstrdup(close + 1, tail - close - 1));
		}
		emit(cx, PH_CREATE_ON_TABLE - 1, NULL, "ALTER TABLE %s ADD CONSTRAINT %s %s USING INDEX %s%s",
			 table, name, str_eq(type, "unique") ? "UNIQUE" : "PRIMARY KEY", name,
			 attrs ? attrs : "");
	}
	else
		emit(cx, phase, HZ_LOCK, "ALTER TABLE %s ADD CONSTRAINT %s %s", table, name, def);
	diff_comment(cx, psprintf("CONSTRAINT %s ON", name), table, NULL, c);
}

static void
diff_constraints(DiffCtx *cx)
{
	int			na,
				nb,
				i,
				j;
	DiffPair   *a = schema_json_pairs(schema_json_get(cx->from, "constraints"), &na);
	DiffPair   *b = schema_json_pairs(schema_json_get(cx->to, "constraints"), &nb);

	for (i = 0, j = 0; i < na || j < nb;)
	{
		int			c = i >= na ? 1 : j >= nb ? -1 : strcmp(a[i].key, b[j].key);
		JsonbValue *o = c <= 0 ? &a[i].value : NULL;
		JsonbValue *n = c >= 0 ? &b[j].value : NULL;
		char	   *table = dj_str(o ? o : n, "table");
		const char *name = (o ? a[i].key : b[j].key) + strlen(table) + 1;
		bool		drop = false,
					add = false;

		if (c < 0)
			drop = true;
		else if (c > 0)
			add = true;
		else if (is_new_rel(cx, table))
			add = true;			/* re-created with its table */
		else if (!schema_json_equal(o, n))
		{
			if (dj_field_equal(o, n, "definition") || 
				(schema_json_get(o, "valid") && !schema_json_get(n, "valid") &&
				 strcmp(psprintf("%s NOT VALID", strip_semicolon(dj_str(n, "definition"))),
						dj_str(o, "definition")) == 0))
			{
				if (schema_json_get(o, "valid") && !schema_json_get(n, "valid"))
					emit(cx, PH_CREATE_FKEY, NULL, "ALTER TABLE %s VALIDATE CONSTRAINT %s", table, name);
				diff_comment(cx, psprintf("CONSTRAINT %s ON", name), table, o, n);
			}
			else
				drop = add = true;
		}
		if (drop && !dj_true(o, "inherited") && !is_dropped_rel(cx, table))
			emit(cx, str_eq(dj_str(o, "type"), "foreign key") ? PH_DROP_FKEY : PH_DROP_INDEX,
				 NULL, "ALTER TABLE %s DROP CONSTRAINT %s", table, name);
		else if (drop && str_eq(dj_str(o, "type"), "foreign key") && !dj_true(o, "inherited"))
			/* a foreign key of a dropped table may hold another dropped table */
			emit(cx, PH_DROP_FKEY, NULL, "ALTER TABLE %s DROP CONSTRAINT %s", table, name);
		if (add)
			create_constraint(cx, b[j].key, n);
		if (c <= 0)
			i++;
		if (c >= 0)
			j++;
	}
}

static void
diff_indexes(DiffCtx *cx)
{
	int			na,
				nb,
				i,
				j;
	DiffPair   *a = schema_json_pairs(schema_json_get(cx->from, "indexes"), &na);
	DiffPair   *b = schema_json_pairs(schema_json_get(cx->to, "indexes"), &nb);

	for (i = 0, j = 0; i < na || j < nb;)
	{
		int			c = i >= na ? 1 : j >= nb ? -1 : strcmp(a[i].key, b[j].key);
		JsonbValue *o = c <= 0 ? &a[i].value : NULL;
		JsonbValue *n = c >= 0 ? &b[j].value : NULL;
		bool		drop = false,
					add = false;

		if (c < 0)
			drop = true;
		else if (c > 0)
			add = true;
		else if (is_new_rel(cx, dj_str(n, "table")))
			add = true;
		else if (!dj_field_equal(o, n, "definition") || !dj_field_equal(o, n, "valid") ||
				 !dj_field_equal(o, n, "partition_of"))
			drop = add = true;
		else
			diff_comment(cx, "INDEX", b[j].key, o, n);

		if (drop && !is_dropped_rel(cx, dj_str(o, "table")) && !dj_str(o, "partition_of"))
		{
			if (is_partitioned(cx, dj_str(o, "table")) || !schema_json_get(schema_json_get(cx->to, "tables"), dj_str(o, "table")))
				emit(cx, PH_DROP_INDEX, NULL, "DROP INDEX %s", a[i].key);
			else
				emit(cx, PH_DROP_INDEX, NULL, "DROP INDEX CONCURRENTLY %s", a[i].key);
		}
		if (add && schema_json_get(n, "valid"))
			unsupported(cx, PH_CREATE_INDEX, "invalid index %s (a failed build): not re-created",
						b[j].key);
		else if (add && dj_str(n, "partition_of"))
		{
			/* made by its partitioned index when that is new; else said */
			char	   *parent = dj_str(n, "partition_of");
			JsonbValue *pold = schema_json_get(schema_json_get(cx->from, "indexes"), parent);

			if (pold != NULL && schema_json_equal(pold, schema_json_get(schema_json_get(cx->to, "indexes"), parent)) &&
				!is_new_rel(cx, dj_str(pold, "table")))
				unsupported(cx, PH_CREATE_INDEX, "index %s of a partition, attached to %s",
							b[j].key, parent);
		}
		else if (add)
		{
			char	   *def = dj_str(n, "definition");
			char	   *table = dj_str(n, "table");
			const char *p = strstr(def, "INDEX ");

			if (is_new_rel(cx, table) || p == NULL)
				emit(cx, PH_CREATE_INDEX, NULL, "%s", def);
			else if (is_partitioned(cx, table))
				emit(cx, PH_CREATE_INDEX, HZ_LOCK, "%s", def);
			else
				emit(cx, PH_CREATE_INDEX, NULL, "%.*sINDEX CONCURRENTLY %s",
					 (int) (p - def), def, p + 6);
		}
		if (add)
			diff_comment(cx, "INDEX", b[j].key, NULL, n);
		if (c <= 0)
			i++;
		if (c >= 0)
			j++;
	}
}

/* ---------- triggers, rules, policies, statistics ---------- */

static void
create_on_table(DiffCtx *cx, const char *section, const char *name,
				const char *table, JsonbValue *v)
{
	char	   *en = dj_str(v, "enabled");

	if (strcmp(section, "policies") == 0)
	{
		StringInfoData buf;
		ListCell   *lc;
		List	   *roles = schema_json_elements(schema_json_get(v, "roles"));

		initStringInfo(&buf);
		appendStringInfo(&buf, "CREATE POLICY %s ON %s AS %s FOR %s TO ", name, table,
						 dj_true(v, "permissive") ? "PERMISSIVE" : "RESTRICTIVE",
						 dj_str(v, "command"));
		foreach(lc, roles)
		{
			char	   *r = schema_json_render(lfirst(lc));

			appendStringInfo(&buf, "%s%s", lc == list_head(roles) ? "" : ", ",
							 strcmp(r, "public") == 0 ? "PUBLIC" : r);
		}
		if (roles == NIL)
			appendStringInfoString(&buf, "PUBLIC");
		if (dj_str(v, "using"))
			appendStringInfo(&buf, " USING (%s)", dj_str(v, "using"));
		if (dj_str(v, "with_check"))
			appendStringInfo(&buf, " WITH CHECK (%s)", dj_str(v, "with_check"));
		emit(cx, PH_CREATE_ON_TABLE, NULL, "%s", buf.data);
		diff_comment(cx, psprintf("POLICY %s ON", name), table, NULL, v);
		return;
	}
	if (strcmp(section, "statistics") == 0)
	{
		emit(cx, PH_CREATE_ON_TABLE, NULL, "%s", strip_semicolon(dj_str(v, "definition")));
		if (dj_str(v, "target"))
			emit(cx, PH_CREATE_ON_TABLE, NULL, "ALTER STATISTICS %s SET STATISTICS %s",
				 name, dj_str(v, "target"));
		diff_comment(cx, "STATISTICS", name, NULL, v);
		diff_owner(cx, "STATISTICS", name, NULL, v);
		return;
	}
	emit(cx, PH_CREATE_ON_TABLE, NULL, "%s", strip_semicolon(dj_str(v, "definition")));
	if (en)
		emit(cx, PH_CREATE_ON_TABLE, NULL, "ALTER TABLE %s %s %s %s", table,
			 strcmp(en, "disabled") == 0 ? "DISABLE" :
			 strcmp(en, "replica") == 0 ? "ENABLE REPLICA" : "ENABLE ALWAYS",
			 strcmp(section, "triggers") == 0 ? "TRIGGER" : "RULE", name);
	diff_comment(cx, psprintf("%s %s ON", strcmp(section, "triggers") == 0 ? "TRIGGER" : "RULE",
							  name), table, NULL, v);
}

/*
 * Triggers, rules and policies live on a table and are named within it;
 * statistics objects are named in a schema.  A change is a drop and a
 * create; an object on a re-created relation is created again.
 */
static void
diff_on_table(DiffCtx *cx, const char *section, const char *kind)
{
	int			na,
				nb,
				i,
				j;
	DiffPair   *a = schema_json_pairs(schema_json_get(cx->from, section), &na);
	DiffPair   *b = schema_json_pairs(schema_json_get(cx->to, section), &nb);
	bool		stats = strcmp(section, "statistics") == 0;

	for (i = 0, j = 0; i < na || j < nb;)
	{
		int			c = i >= na ? 1 : j >= nb ? -1 : strcmp(a[i].key, b[j].key);
		JsonbValue *o = c <= 0 ? &a[i].value : NULL;
		JsonbValue *n = c >= 0 ? &b[j].value : NULL;
		char	   *table = dj_str(o ? o : n, "table");
		const char *key = o ? a[i].key : b[j].key;
		const char *name = stats ? key : key + strlen(table) + 1;
		bool		drop = false,
					add = false;

		if (c < 0)
			drop = true;
		else if (c > 0)
			add = true;
		else if (is_new_rel(cx, table))
			add = true;
		else if (!schema_json_equal(o, n))
		{
			JsonbValue *oc = schema_json_get(o, "comment");
			JsonbValue *nc = schema_json_get(n, "comment");

			if (!dj_field_equal(o, n, "definition") || !dj_field_equal(o, n, "command") ||
				!dj_field_equal(o, n, "permissive") || !dj_field_equal(o, n, "roles") ||
				!dj_field_equal(o, n, "using") || !dj_field_equal(o, n, "with_check") ||
				!dj_field_equal(o, n, "target"))
				drop = add = true;
			else
			{
				char	   *en = dj_str(n, "enabled");

				if (!dj_field_equal(o, n, "enabled"))
					emit(cx, PH_CREATE_ON_TABLE, NULL, "ALTER TABLE %s %s %s %s", table,
						 en == NULL ? "ENABLE" :
						 strcmp(en, "disabled") == 0 ? "DISABLE" :
						 strcmp(en, "replica") == 0 ? "ENABLE REPLICA" : "ENABLE ALWAYS",
						 strcmp(section, "triggers") == 0 ? "TRIGGER" : "RULE", name);
				if (!schema_json_equal(oc, nc))
				{
					if (stats)
						diff_comment(cx, "STATISTICS", name, o, n);
					else
						diff_comment(cx, psprintf("%s %s ON", kind, name), table, o, n);
				}
				if (stats)
					diff_owner(cx, "STATISTICS", name, o, n);
			}
		}
		if (drop && !dj_true(o, "inherited") && !is_dropped_rel(cx, table))
		{
			if (stats)
				emit(cx, PH_DROP_ON_TABLE, NULL, "DROP STATISTICS %s", name);
			else
				emit(cx, PH_DROP_ON_TABLE, NULL, "DROP %s %s ON %s", kind, name, table);
		}
		if (add && !dj_true(n, "inherited"))
			create_on_table(cx, section, name, table, n);
		if (c <= 0)
			i++;
		if (c >= 0)
			j++;
	}
}

/* ---------- publications, default privileges, the rest ---------- */

static void
diff_publications(DiffCtx *cx)
{
	int			na,
				nb,
				i,
				j;
	DiffPair   *a = schema_json_pairs(schema_json_get(cx->from, "publications"), &na);
	DiffPair   *b = schema_json_pairs(schema_json_get(cx->to, "publications"), &nb);

	for (i = 0, j = 0; i < na || j < nb;)
	{
		int			c = i >= na ? 1 : j >= nb ? -1 : strcmp(a[i].key, b[j].key);
		JsonbValue *o = c <= 0 ? &a[i].value : NULL;
		JsonbValue *n = c >= 0 ? &b[j].value : NULL;
		bool		remake = c == 0 && !schema_json_equal(o, n) &&
			!(dj_field_equal(o, n, "all_tables") && dj_field_equal(o, n, "publish") &&
			  dj_field_equal(o, n, "via_root") && dj_field_equal(o, n, "tables") &&
			  dj_field_equal(o, n, "schemas"));

		if (c < 0 || remake)
			emit(cx, PH_DROP_PUBLICATION, NULL, "DROP PUBLICATION %s", a[i].key);
		if (c > 0 || remake)
		{
			StringInfoData buf;
			List	   *tabs = schema_json_elements(schema_json_get(n, "tables"));
			List	   *nsps = schema_json_elements(schema_json_get(n, "schemas"));
			List	   *pub = schema_json_elements(schema_json_get(n, "publish"));
			ListCell   *lc;
			bool		first = true;

			initStringInfo(&buf);
			appendStringInfo(&buf, "CREATE PUBLICATION %s", b[j].key);
			if (dj_true(n, "all_tables"))
				appendStringInfoString(&buf, " FOR ALL TABLES");
			foreach(lc, tabs)
			{
				appendStringInfo(&buf, "%s%s", first ? " FOR TABLE " : ", ",
								 schema_json_render(lfirst(lc)));
				first = false;
			}
			foreach(lc, nsps)
			{
				appendStringInfo(&buf, "%s%s", first ? " FOR TABLES IN SCHEMA " :
								 lc == list_head(nsps) ? ", TABLES IN SCHEMA " : ", ",
								 schema_json_render(lfirst(lc)));
				first = false;
			}
			appendStringInfoString(&buf, " WITH (publish = '");
			foreach(lc, pub)
				appendStringInfo(&buf, "%s%s", lc == list_head(pub) ? "" : ", ",
								 schema_json_render(lfirst(lc)));
			appendStringInfo(&buf, "', publish_via_partition_root = %s)",
							 dj_true(n, "via_root") ? "true" : "false");
			emit(cx, PH_CREATE_PUBLICATION, NULL, "%s", buf.data);
			diff_comment(cx, "PUBLICATION", b[j].key, NULL, n);
			diff_owner(cx, "PUBLICATION", b[j].key, NULL, n);
		}
		else if (c == 0)
		{
			diff_comment(cx, "PUBLICATION", b[j].key, o, n);
			diff_owner(cx, "PUBLICATION", b[j].key, o, n);
		}
		if (c <= 0)
			i++;
		if (c >= 0)
			j++;
	}
}

/* default privileges and objects of unmodelled kinds: said, not written */
static void
diff_unsupported(DiffCtx *cx)
{
	int			na,
				nb,
				i,
				j;
	DiffPair   *a = schema_json_pairs(schema_json_get(cx->from, "default_privileges"), &na);
	DiffPair   *b = schema_json_pairs(schema_json_get(cx->to, "default_privileges"), &nb);
	List	   *ou = schema_json_elements(schema_json_get(cx->from, "unsupported"));
	List	   *nu = schema_json_elements(schema_json_get(cx->to, "unsupported"));
	List	   *os = NIL,
			   *ns = NIL;
	ListCell   *lc;

	for (i = 0, j = 0; i < na || j < nb;)
	{
		int			c = i >= na ? 1 : j >= nb ? -1 : strcmp(a[i].key, b[j].key);

		if (c < 0)
			unsupported(cx, PH_COMMENT, "default privileges of %s: %s -> (none)", a[i].key,
						schema_json_render(&a[i].value));
		else if (c > 0)
			unsupported(cx, PH_COMMENT, "default privileges of %s: (none) -> %s", b[j].key,
						schema_json_render(&b[j].value));
		else if (!schema_json_equal(&a[i].value, &b[j].value))
			unsupported(cx, PH_COMMENT, "default privileges of %s: %s -> %s", b[j].key,
						schema_json_render(&a[i].value), schema_json_render(&b[j].value));
		if (c <= 0)
			i++;
		if (c >= 0)
			j++;
	}
	foreach(lc, ou)
		os = lappend(os, schema_json_render(lfirst(lc)));
	foreach(lc, nu)
		ns = lappend(ns, schema_json_render(lfirst(lc)));
	foreach(lc, os)
		if (!list_has_str(ns, lfirst(lc)))
			unsupported(cx, PH_COMMENT, "drop %s (a kind migr does not model)", (char *) lfirst(lc));
	foreach(lc, ns)
		if (!list_has_str(os, lfirst(lc)))
			unsupported(cx, PH_COMMENT, "create %s (a kind migr does not model)", (char *) lfirst(lc));
}

static int
step_cmp(const ListCell *a, const ListCell *b)
{
	const DiffStep *x = lfirst(a);
	const DiffStep *y = lfirst(b);

	if (x->phase != y->phase)
		return x->phase < y->phase ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq ? 1 : 0;
}

/*
 * schema_diff
 *		The statements that turn "from" into "to", in order (DiffStep *).
 */
static List *
schema_diff_steps(Jsonb *from, Jsonb *to)
{
	DiffCtx		cx;
	JsonbValue	f,
				t;

	memset(&cx, 0, sizeof(cx));
	f.type = jbvBinary;
	f.val.binary.data = &from->root;
	f.val.binary.len = VARSIZE(from) - VARHDRSZ;
	t.type = jbvBinary;
	t.val.binary.data = &to->root;
	t.val.binary.len = VARSIZE(to) - VARHDRSZ;
	cx.from = &f;
	cx.to = &t;
	cx.me = GetUserNameFromId(GetUserId(), false);

	diff_schemas(&cx);
	diff_extensions(&cx);
	diff_collations(&cx);
	diff_types(&cx);
	diff_functions(&cx);
	diff_sequences(&cx);
	diff_tables(&cx);
	diff_views(&cx, "views", false);
	diff_views(&cx, "materialized_views", true);
	diff_constraints(&cx);
	diff_indexes(&cx);
	diff_on_table(&cx, "triggers", "TRIGGER");
	diff_on_table(&cx, "rules", "RULE");
	diff_on_table(&cx, "policies", "POLICY");
	diff_on_table(&cx, "statistics", "STATISTICS");
	diff_publications(&cx);
	diff_unsupported(&cx);

	list_sort(cx.steps, step_cmp);
	return cx.steps;
}

/*
 * schema_diff_live
 *		The live description to compare "desired" with: the schemas that
 *		"desired" names (a description made by migr_schema_of names one),
 *		those of them that exist.
 */
Jsonb *
schema_diff_live(Jsonb *desired)
{
	JsonbValue	root;
	int			n,
				i;
	DiffPair   *p;
	Datum	   *names;
	int			k = 0;

	root.type = jbvBinary;
	root.val.binary.data = &desired->root;
	root.val.binary.len = VARSIZE(desired) - VARHDRSZ;
	p = schema_json_pairs(schema_json_get(&root, "schemas"), &n);
	if (n == 0)
		return schema_describe(NULL);
	names = palloc(sizeof(Datum) * n);
	for (i = 0; i < n; i++)
	{
		List	   *parts;
		char	   *nsp;

		if (!SplitIdentifierString(pstrdup(p[i].key), '.', &parts) || list_length(parts) != 1)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid schema name %s in the desired schema's \"schemas\"", p[i].key)));
		nsp = linitial(parts);

		if (OidIsValid(get_namespace_oid(nsp, true)))
			names[k++] = CStringGetTextDatum(nsp);
	}
	if (k == 0)
		return schema_empty();	/* none exists yet: nothing to start from */
	return schema_describe(construct_array(names, k, TEXTOID, -1, false, TYPALIGN_INT));
}

/*
 * schema_diff_rows
 *		Upgrade then downgrade steps as (step, direction, statement, hazard)
 *		tuples into a tuplestore.
 */
List *
schema_diff(Jsonb *desired, Jsonb *current, List **downgrade)
{
	if (downgrade)
		*downgrade = schema_diff_steps(desired, current);
	return schema_diff_steps(current, desired);
}

/* the text of a step and its hazard, for autogen.c */
void
schema_diff_step(void *step, char **sql, const char **hazard)
{
	*sql = ((DiffStep *) step)->sql;
	*hazard = ((DiffStep *) step)->hazard;
}

/*
 * migr_diff(desired jsonb, current jsonb DEFAULT NULL)
 *		RETURNS TABLE (step int, direction text, statement text, hazard text)
 */
Datum
migr_diff(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Jsonb	   *desired;
	Jsonb	   *current;
	List	   *up,
			   *down;
	ListCell   *lc;
	int			pass;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the desired schema must not be null"),
				 errhint("Pass a description made by migr_schema() or migr_schema_of().")));
	desired = PG_GETARG_JSONB_P(0);
	schema_check_description(desired, "desired");
	if (PG_ARGISNULL(1))
		current = schema_diff_live(desired);
	else
	{
		current = PG_GETARG_JSONB_P(1);
		schema_check_description(current, "current");
	}

	InitMaterializedSRF(fcinfo, 0);
	up = schema_diff(desired, current, &down);
	for (pass = 0; pass < 2; pass++)
	{
		int			step = 1;

		foreach(lc, pass == 0 ? up : down)
		{
			DiffStep   *s = lfirst(lc);
			Datum		values[4];
			bool		nulls[4] = {false, false, false, false};

			values[0] = Int32GetDatum(step++);
			values[1] = CStringGetTextDatum(pass == 0 ? "upgrade" : "downgrade");
			values[2] = CStringGetTextDatum(s->sql);
			if (s->hazard)
				values[3] = CStringGetTextDatum(s->hazard);
			else
				nulls[3] = true;
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		}
	}
	return (Datum) 0;
}

/*
 * schema_empty
 *		The description of nothing: no schema, no object.
 */
Jsonb *
schema_empty(void)
{
	return DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum("{\"format\": 1}")));
}

/*
 * schema_check_description
 *		A description given by a caller must be one: an object of the format
 *		this library writes.
 */
void
schema_check_description(Jsonb *doc, const char *what)
{
	JsonbValue	root;
	JsonbValue *fmt;

	root.type = jbvBinary;
	root.val.binary.data = &doc->root;
	root.val.binary.len = VARSIZE(doc) - VARHDRSZ;
	if (!JB_ROOT_IS_OBJECT(doc) || JB_ROOT_IS_SCALAR(doc))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the %s schema is not a schema description", what),
				 errdetail("A description is a JSON object, as migr_schema() returns."),
				 errhint("Pass the output of migr_schema() or migr_schema_of().")));
	fmt = schema_json_get(&root, "format");
	if (fmt == NULL || fmt->type != jbvNumeric ||
		strcmp(schema_json_render(fmt), CppAsString2(SCHEMA_FORMAT_VERSION)) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the %s schema is not a description of format %d", what,
						SCHEMA_FORMAT_VERSION),
				 errdetail("Its \"format\" key is %s.", fmt ? schema_json_render(fmt) : "missing"),
				 errhint("Describe the schema again with this version of migr.")));
}

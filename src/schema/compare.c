/*-------------------------------------------------------------------------
 *
 * compare.c
 *	  schema_compare(): what differs between two schema descriptions.
 *
 * Sections are compared in a fixed order (schemas and types before the
 * tables that use them), objects within a section by their identity in C
 * order.  An object in both descriptions whose value differs is "changed",
 * with one SchemaChange per difference: a column, a nested constraint, a
 * field.  An object only in "from" is "dropped", one only in "to" "added",
 * except where a dropped and an added object of the same section are the
 * same but for their names: that pair is "renamed".  The test replaces,
 * in each candidate's text, every part of its identity (schema, table,
 * name) by a placeholder, and compares what is left; so a renamed table
 * whose columns did not change is found, and so is an index, a function
 * or a trigger whose definition names it.
 *
 * Copyright (c) 2026, migr developers
 *
 * IDENTIFICATION
 *	  src/schema/compare.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"

#include "migr.h"
#include "schema/schema.h"

/* a section of the description and the name of its kind for users */
typedef struct CompareSection
{
	const char *section;
	const char *kind;
} CompareSection;

static const CompareSection compare_sections[] = {
	{"schemas", "schema"},
	{"extensions", "extension"},
	{"collations", "collation"},
	{"types", "type"},
	{"sequences", "sequence"},
	{"functions", "function"},
	{"tables", "table"},
	{"views", "view"},
	{"materialized_views", "materialized view"},
	{"constraints", "constraint"},
	{"indexes", "index"},
	{"triggers", "trigger"},
	{"rules", "rule"},
	{"policies", "policy"},
	{"statistics", "statistics"},
	{"publications", "publication"},
	{"default_privileges", "default privileges"},
};

/* one key and its value, from an object container */
typedef struct ComparePair
{
	char	   *key;
	JsonbValue	value;
	char	   *normal;			/* rename test text, made on demand */
	bool		used;
} ComparePair;

static ComparePair *compare_pairs(JsonbValue *obj, int *n);
static char *compare_render(JsonbValue *v);
static char *compare_render_short(JsonbValue *v, JsonbValue *other);
static List *compare_section(List *out, const char *section, const char *kind,
							 JsonbValue *from, JsonbValue *to);
static List *compare_object(List *out, const char *section, const char *kind,
							const char *object, JsonbValue *from,
							JsonbValue *to, const char *prefix);
static List *compare_columns(List *out, const char *section, const char *kind,
							 const char *object, JsonbValue *from,
							 JsonbValue *to);
static List *compare_unsupported(List *out, JsonbValue *from, JsonbValue *to);
static List *compare_add(List *out, const char *section, const char *kind,
						 const char *object, SchemaChangeType type,
						 char *detail, char *new_object);
static List *compare_key_parts(const char *key);
static char *compare_normal(ComparePair *p);
static bool compare_ident_char(char c);
static bool compare_has(List *strings, const char *s);
static List *compare_drop_followers(List *changes);

static const char *const compare_change_names[] = {
	"added", "dropped", "changed", "renamed"
};

/*
 * compare_pairs
 *		The keys and values of an object, sorted by key.  Nested values come
 *		as jbvBinary.  Anything but an object gives no pairs.
 */
static ComparePair *
compare_pairs(JsonbValue *obj, int *n)
{
	SchemaPair *sp = schema_json_pairs(obj, n);
	ComparePair *pairs;
	int			i;

	if (sp == NULL)
		return NULL;
	pairs = palloc0(sizeof(ComparePair) * Max(*n, 1));
	for (i = 0; i < *n; i++)
	{
		pairs[i].key = sp[i].key;
		pairs[i].value = sp[i].value;
	}
	return pairs;
}

/*
 * compare_render
 *		A value as text: strings as they are, everything else as JSON.
 */
static char *
compare_render(JsonbValue *v)
{
	return v == NULL ? pstrdup("(none)") : schema_json_render(v);
}

/*
 * compare_render_short
 *		A value for a detail line: a missing flag whose counterpart is a
 *		boolean reads as the opposite of that (a flag is only written when
 *		it is not the default: "valid": false, "unlogged": true), a long or
 *		multi-line text reads NULL (the caller then says only that it
 *		changed).
 */
static char *
compare_render_short(JsonbValue *v, JsonbValue *other)
{
	char	   *s;

	if (v == NULL && other != NULL && other->type == jbvBool)
		return pstrdup(other->val.boolean ? "false" : "true");
	s = compare_render(v);
	if (strlen(s) > 120 || strchr(s, '\n') != NULL)
		return NULL;
	return s;
}

/*
 * compare_has
 *		Whether a List of C strings holds s.
 */
static bool
compare_has(List *strings, const char *s)
{
	ListCell   *lc;

	foreach(lc, strings)
		if (strcmp(lfirst(lc), s) == 0)
			return true;
	return false;
}

/*
 * compare_add
 *		Append one change.
 */
static List *
compare_add(List *out, const char *section, const char *kind,
			const char *object, SchemaChangeType type, char *detail,
			char *new_object)
{
	SchemaChange *c = palloc0(sizeof(SchemaChange));

	c->section = section;
	c->kind = kind;
	c->object = pstrdup(object);
	c->type = type;
	c->change = compare_change_names[type];
	c->detail = detail;
	c->new_object = new_object;
	return lappend(out, c);
}

/*
 * compare_columns
 *		The differences between two ordered arrays of columns (or a
 *		composite type's attributes), matched by name.  A column dropped
 *		and one added at the same position, alike but for the name, is a
 *		rename.
 */
static List *
compare_columns(List *out, const char *section, const char *kind,
				const char *object, JsonbValue *from, JsonbValue *to)
{
	List	   *a = schema_json_elements(from);
	List	   *b = schema_json_elements(to);
	List	   *names_a = NIL;
	List	   *names_b = NIL;
	ListCell   *lc;
	int			i;

	foreach(lc, a)
		names_a = lappend(names_a, compare_render(schema_json_get(lfirst(lc), "name")));
	foreach(lc, b)
		names_b = lappend(names_b, compare_render(schema_json_get(lfirst(lc), "name")));

	/* in "from": dropped, renamed or changed */
	for (i = 0; i < list_length(a); i++)
	{
		char	   *name = list_nth(names_a, i);
		JsonbValue *col = list_nth(a, i);
		int			j;
		int			found = -1;

		for (j = 0; j < list_length(b) && found < 0; j++)
			if (strcmp(name, list_nth(names_b, j)) == 0)
				found = j;
		if (found >= 0)
		{
			char	   *prefix = psprintf("column \"%s\"", name);

			out = compare_object(out, section, kind, object, col,
								 list_nth(b, found), prefix);
			continue;
		}
		/* a rename keeps the position and everything but the name */
		if (i < list_length(b) && !compare_has(names_a, list_nth(names_b, i)))
		{
			JsonbValue *other = list_nth(b, i);
			int			na,
						nb,
						k;
			ComparePair *pa = compare_pairs(col, &na);
			ComparePair *pb = compare_pairs(other, &nb);
			bool		same = (na == nb);

			for (k = 0; same && k < na; k++)
				same = strcmp(pa[k].key, pb[k].key) == 0 &&
					(strcmp(pa[k].key, "name") == 0 ||
					 schema_json_equal(&pa[k].value, &pb[k].value));
			if (same)
			{
				char	   *newname = list_nth(names_b, i);

				out = compare_add(out, section, kind, object, SCHEMA_CHANGED,
								  psprintf("column \"%s\" renamed to \"%s\"",
										   name, newname),
								  NULL);
				/* mark it matched so it is not reported as added */
				names_b = list_copy(names_b);
				list_nth_cell(names_b, i)->ptr_value = pstrdup("");
				continue;
			}
		}
		out = compare_add(out, section, kind, object, SCHEMA_CHANGED,
						  psprintf("column \"%s\" dropped", name),
						  NULL);
	}

	/* only in "to": added */
	for (i = 0; i < list_length(b); i++)
	{
		char	   *name = list_nth(names_b, i);

		if (name[0] == '\0' || compare_has(names_a, name))
			continue;
		out = compare_add(out, section, kind, object, SCHEMA_CHANGED,
						  psprintf("column \"%s\" added: %s", name,
								   compare_render(schema_json_get(list_nth(b, i), "type"))),
						  NULL);
	}

	/* the same columns in another order */
	if (list_length(a) == list_length(b))
	{
		bool		same_set = true;
		bool		same_order = true;

		for (i = 0; i < list_length(a); i++)
		{
			same_set = same_set && compare_has(names_b, list_nth(names_a, i));
			same_order = same_order &&
				strcmp(list_nth(names_a, i), list_nth(names_b, i)) == 0;
		}
		if (same_set && !same_order)
			out = compare_add(out, section, kind, object, SCHEMA_CHANGED,
							  pstrdup("column order changed"), NULL);
	}
	return out;
}

/*
 * compare_object
 *		The differences between two values of one object, field by field:
 *		a detail line "prefix: field: old -> new" for each.  Columns are
 *		matched by name; nested objects (a domain's constraints) key by key.
 */
static List *
compare_object(List *out, const char *section, const char *kind,
			   const char *object, JsonbValue *from, JsonbValue *to,
			   const char *prefix)
{
	int			na,
				nb,
				i = 0,
				j = 0;
	ComparePair *pa = compare_pairs(from, &na);
	ComparePair *pb = compare_pairs(to, &nb);

	while (i < na || j < nb)
	{
		int			cmp;
		const char *key;
		JsonbValue *va = NULL;
		JsonbValue *vb = NULL;

		CHECK_FOR_INTERRUPTS();
		if (i >= na)
			cmp = 1;
		else if (j >= nb)
			cmp = -1;
		else
			cmp = strcmp(pa[i].key, pb[j].key);
		if (cmp <= 0)
			va = &pa[i].value;
		if (cmp >= 0)
			vb = &pb[j].value;
		key = cmp <= 0 ? pa[i].key : pb[j].key;
		i += (cmp <= 0);
		j += (cmp >= 0);

		if (schema_json_equal(va, vb))
			continue;
		if (strcmp(key, "columns") == 0 || strcmp(key, "attributes") == 0)
			out = compare_columns(out, section, kind, object, va, vb);
		else if (strcmp(key, "constraints") == 0 && va && vb &&
				 va->type == jbvBinary && vb->type == jbvBinary)
		{
			int			nca,
						ncb,
						x = 0,
						y = 0;
			ComparePair *ca = compare_pairs(va, &nca);
			ComparePair *cb = compare_pairs(vb, &ncb);

			while (x < nca || y < ncb)
			{
				int			c2 = x >= nca ? 1 : y >= ncb ? -1 :
				strcmp(ca[x].key, cb[y].key);
				const char *name = c2 <= 0 ? ca[x].key : cb[y].key;
				char	   *p2 = psprintf("%s%sconstraint \"%s\"",
										  prefix ? prefix : "",
										  prefix ? ": " : "", name);

				if (c2 < 0)
					out = compare_add(out, section, kind, object,
									  SCHEMA_CHANGED,
									  psprintf("%s dropped", p2), NULL);
				else if (c2 > 0)
					out = compare_add(out, section, kind, object,
									  SCHEMA_CHANGED,
									  psprintf("%s added: %s", p2,
											   compare_render(schema_json_get(&cb[y].value, "definition"))),
									  NULL);
				else
					out = compare_object(out, section, kind, object,
										 &ca[x].value, &cb[y].value, p2);
				x += (c2 <= 0);
				y += (c2 >= 0);
			}
		}
		else
		{
			char	   *ra = compare_render_short(va, vb);
			char	   *rb = compare_render_short(vb, va);
			const char *lead = prefix ? psprintf("%s: ", prefix) : "";
			char	   *detail;

			if (ra && rb)
				detail = psprintf("%s%s %s -> %s", lead, key, ra, rb);
			else
				detail = psprintf("%s%s changed", lead, key);
			out = compare_add(out, section, kind, object, SCHEMA_CHANGED,
							  detail, NULL);
		}
	}
	return out;
}

/*
 * compare_ident_char
 *		Whether c may be part of an unquoted identifier.
 */
static bool
compare_ident_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		(c >= '0' && c <= '9') || c == '_' || c == '$' ||
		IS_HIGHBIT_SET(c);
}

/*
 * compare_key_parts
 *		The names an identity is made of ("s.t.c", "s.f(args)"), dequoted;
 *		a function's argument list is not a part.
 */
static List *
compare_key_parts(const char *key)
{
	List	   *parts = NIL;
	StringInfoData buf;
	const char *p = key;

	initStringInfo(&buf);
	while (*p && *p != '(' && *p != ' ')
	{
		if (*p == '"')
		{
			for (p++; *p; p++)
			{
				if (*p == '"' && p[1] == '"')
					appendStringInfoChar(&buf, *p++);
				else if (*p == '"')
					break;
				else
					appendStringInfoChar(&buf, *p);
			}
			if (*p)
				p++;
		}
		else if (*p == '.')
		{
			parts = lappend(parts, pstrdup(buf.data));
			resetStringInfo(&buf);
			p++;
		}
		else
			appendStringInfoChar(&buf, *p++);
	}
	parts = lappend(parts, pstrdup(buf.data));
	return parts;
}

/*
 * compare_normal
 *		The rename test's text of an object: its value as JSON with every
 *		whole-word occurrence of each part of its identity replaced by a
 *		placeholder naming the part's position.  Two objects with the same
 *		text differ only in their names.
 */
static char *
compare_normal(ComparePair *p)
{
	List	   *parts;
	char	   *text;
	ListCell   *lc;

	if (p->normal)
		return p->normal;
	parts = compare_key_parts(p->key);
	text = compare_render(&p->value);
	foreach(lc, parts)
	{
		const char *name = lfirst(lc);
		size_t		len = strlen(name);
		StringInfoData buf;
		const char *s = text;

		if (len == 0)
			continue;
		initStringInfo(&buf);
		while (*s)
		{
			if (strncmp(s, name, len) == 0 &&
				(s == text || !compare_ident_char(s[-1])) &&
				!compare_ident_char(s[len]))
			{
				appendStringInfo(&buf, "\x01%d\x01",
								 foreach_current_index(lc));
				s += len;
			}
			else
				appendStringInfoChar(&buf, *s++);
		}
		text = buf.data;
	}
	p->normal = psprintf("%d:%s", list_length(parts), text);
	return p->normal;
}

/*
 * compare_section
 *		The differences within one section (an object of objects).
 */
static List *
compare_section(List *out, const char *section, const char *kind,
				JsonbValue *from, JsonbValue *to)
{
	int			na,
				nb,
				i = 0,
				j = 0;
	ComparePair *pa = compare_pairs(from, &na);
	ComparePair *pb = compare_pairs(to, &nb);
	List	   *dropped = NIL;
	List	   *added = NIL;
	ListCell   *lc;
	ListCell   *lc2;

	while (i < na || j < nb)
	{
		int			cmp;

		CHECK_FOR_INTERRUPTS();
		if (i >= na)
			cmp = 1;
		else if (j >= nb)
			cmp = -1;
		else
			cmp = strcmp(pa[i].key, pb[j].key);
		if (cmp < 0)
			dropped = lappend(dropped, &pa[i++]);
		else if (cmp > 0)
			added = lappend(added, &pb[j++]);
		else
		{
			if (!schema_json_equal(&pa[i].value, &pb[j].value))
				out = compare_object(out, section, kind, pa[i].key,
									 &pa[i].value, &pb[j].value, NULL);
			i++;
			j++;
		}
	}

	/* renames: a dropped and an added object alike but for their names */
	foreach(lc, dropped)
	{
		ComparePair *d = lfirst(lc);

		foreach(lc2, added)
		{
			ComparePair *a = lfirst(lc2);

			CHECK_FOR_INTERRUPTS();
			if (a->used || strcmp(compare_normal(d), compare_normal(a)) != 0)
				continue;
			a->used = d->used = true;
			out = compare_add(out, section, kind, d->key, SCHEMA_RENAMED,
							  psprintf("renamed to %s", a->key),
							  pstrdup(a->key));
			break;
		}
	}
	foreach(lc, dropped)
	{
		ComparePair *d = lfirst(lc);

		if (!d->used)
			out = compare_add(out, section, kind, d->key, SCHEMA_DROPPED,
							  NULL, NULL);
	}
	foreach(lc, added)
	{
		ComparePair *a = lfirst(lc);

		if (!a->used)
			out = compare_add(out, section, kind, a->key, SCHEMA_ADDED,
							  NULL, NULL);
	}
	return out;
}

/*
 * compare_unsupported
 *		The objects migr does not model: only their coming and going.
 */
static List *
compare_unsupported(List *out, JsonbValue *from, JsonbValue *to)
{
	List	   *a = NIL;
	List	   *b = NIL;
	ListCell   *lc;

	foreach(lc, schema_json_elements(from))
		a = lappend(a, compare_render(lfirst(lc)));
	foreach(lc, schema_json_elements(to))
		b = lappend(b, compare_render(lfirst(lc)));
	foreach(lc, a)
		if (!compare_has(b, lfirst(lc)))
			out = compare_add(out, "unsupported", "unsupported", lfirst(lc),
							  SCHEMA_DROPPED, NULL, NULL);
	foreach(lc, b)
		if (!compare_has(a, lfirst(lc)))
			out = compare_add(out, "unsupported", "unsupported", lfirst(lc),
							  SCHEMA_ADDED, NULL, NULL);
	return out;
}

/*
 * compare_drop_followers
 *		Leave out the renames that only follow a renamed table: a
 *		constraint, trigger, rule or policy whose identity changed with its
 *		table's and not otherwise.  ALTER TABLE ... RENAME takes them along.
 */
static List *
compare_drop_followers(List *changes)
{
	List	   *out = NIL;
	ListCell   *lc;

	foreach(lc, changes)
	{
		SchemaChange *c = lfirst(lc);
		bool		follows = false;
		ListCell   *lc2;

		if (c->type == SCHEMA_RENAMED && strcmp(c->section, "tables") != 0)
		{
			foreach(lc2, changes)
			{
				SchemaChange *t = lfirst(lc2);
				size_t		lo = strlen(t->object);
				size_t		ln;

				if (t->type != SCHEMA_RENAMED ||
					strcmp(t->section, "tables") != 0)
					continue;
				ln = strlen(t->new_object);
				if (strncmp(c->object, t->object, lo) == 0 &&
					c->object[lo] == '.' &&
					strncmp(c->new_object, t->new_object, ln) == 0 &&
					c->new_object[ln] == '.' &&
					strcmp(c->object + lo, c->new_object + ln) == 0)
					follows = true;
			}
		}
		if (!follows)
			out = lappend(out, c);
	}
	return out;
}

/*
 * schema_compare
 *		What changed from one description to another, as a List of
 *		SchemaChange.  NIL: the same schema.
 */
List *
schema_compare(Jsonb *from, Jsonb *to)
{
	JsonbValue	jf;
	JsonbValue	jt;
	List	   *out = NIL;
	size_t		i;

	if (!JB_ROOT_IS_OBJECT(from) || !JB_ROOT_IS_OBJECT(to))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a schema description must be a jsonb object"),
				 errhint("Use the result of migr_schema().")));
	jf.type = jbvBinary;
	jf.val.binary.data = &from->root;
	jf.val.binary.len = VARSIZE(from) - VARHDRSZ;
	jt.type = jbvBinary;
	jt.val.binary.data = &to->root;
	jt.val.binary.len = VARSIZE(to) - VARHDRSZ;

	for (i = 0; i < lengthof(compare_sections); i++)
		out = compare_section(out, compare_sections[i].section,
							  compare_sections[i].kind,
							  schema_json_get(&jf, compare_sections[i].section),
							  schema_json_get(&jt, compare_sections[i].section));
	out = compare_unsupported(out, schema_json_get(&jf, "unsupported"),
							  schema_json_get(&jt, "unsupported"));
	return compare_drop_followers(out);
}

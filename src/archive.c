/*-------------------------------------------------------------------------
 *
 * archive.c
 *	  Archiving a table before a destructive change: migr_archive_table()
 *	  and migr_archives(), and what migr_check() and lint.c ask about
 *	  archives.
 *
 * The archive is a new table built by the server's own machinery, CREATE
 * TABLE ... (LIKE source INCLUDING ALL): columns, defaults, NOT NULL,
 * identity and generated columns, indexes (with their UNIQUE, PRIMARY KEY
 * and EXCLUDE constraints), storage, compression, comments and extended
 * statistics.  CHECK constraints are added after the rows, as the source
 * has them (NOT VALID ones stay NOT VALID, so rows the source tolerates are
 * copied).  Then the source's owner, its table and column privileges (and
 * nothing else: default privileges that the new table picked up are taken
 * away), its row-level security and its policies, so that the archive
 * exposes nothing the source did not.  Foreign keys and triggers are not
 * copied: an archive refers to nothing and reacts to nothing.
 *
 * The source is locked in SHARE mode first, so writers wait until the
 * caller's transaction ends and the row counts (source, rows inserted,
 * archive) are taken from one unchanging table.  Every identifier goes
 * through quote_identifier; values are $n parameters.  The archive is
 * recorded in migr.archive as the extension owner, with the revision whose
 * script called it (NULL outside a migration).
 *
 * Copyright (c) 2026, migr developers
 *
 * IDENTIFICATION
 *	  src/archive.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>

#include "access/htup_details.h"
#include "access/relation.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_type.h"
#include "common/cryptohash.h"
#include "common/sha2.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "parser/scansup.h"
#include "storage/lmgr.h"
#include "tcop/utility.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/rls.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "migr.h"

PG_FUNCTION_INFO_V1(migr_archive_table);
PG_FUNCTION_INFO_V1(migr_archives);

#define ARCHIVE_PREFIX		"archive_"
#define ARCHIVE_HASH_HEX	8

/* The table being archived, or the archive. */
typedef struct ArchiveRel
{
	Oid			relid;
	Oid			nspid;
	char	   *nspname;
	char	   *relname;
	char	   *qname;			/* quote_qualified_identifier */
	Oid			owner;
	char		relkind;
} ArchiveRel;

static void archive_sql(const char *sql, int expected);
static void archive_describe(Oid relid, ArchiveRel *rel);
static void archive_open_source(Oid relid, ArchiveRel *src);
static char *archive_default_name(const char *relname);
static bool archive_split_name(const char *s, List **names);
static void archive_target(ArchiveRel *src, const char *given,
						   ArchiveRel *tgt);
static char *archive_columns(ArchiveRel *src);
static int64 archive_count(const char *qname, bool only);
static void archive_copy_rows(ArchiveRel *src, ArchiveRel *tgt, int64 *rows);
static char *archive_role(Oid roleid);
static void archive_copy_definition(ArchiveRel *src, ArchiveRel *tgt);
static void archive_record(ArchiveRel *src, ArchiveRel *tgt, int64 rows);
static int	archive_days(TimestampTz at);

/*
 * archive_sql
 *		Run one statement we built, as the caller (past migr.guard: it is
 *		migr's own DDL).
 */
static void
archive_sql(const char *sql, int expected)
{
	int			rc = guard_spi_execute(sql, false, 0);

	if (rc != expected)
		elog(ERROR, "unexpected result %s from \"%s\"",
			 SPI_result_code_string(rc), sql);
}

/*
 * archive_describe
 *		Names, owner and kind of a relation, from the syscache.
 */
static void
archive_describe(Oid relid, ArchiveRel *rel)
{
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Form_pg_class form;

	if (!HeapTupleIsValid(tup))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid)));
	form = (Form_pg_class) GETSTRUCT(tup);
	rel->relid = relid;
	rel->nspid = form->relnamespace;
	rel->relname = pstrdup(NameStr(form->relname));
	rel->owner = form->relowner;
	rel->relkind = form->relkind;
	ReleaseSysCache(tup);
	rel->nspname = get_namespace_name(rel->nspid);
	rel->qname = quote_qualified_identifier(rel->nspname, rel->relname);
}

/*
 * archive_open_source
 *		Check that the caller may archive the table (owner, or a member of
 *		the owning role; every row visible to it), then lock it in SHARE
 *		mode, partitions included, before anything is read.
 */
static void
archive_open_source(Oid relid, ArchiveRel *src)
{
	archive_describe(relid, src);
	if (src->relkind != RELKIND_RELATION &&
		src->relkind != RELKIND_PARTITIONED_TABLE)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a table", src->relname),
				 errhint("migr_archive_table() archives tables and partitioned tables.")));
	if (isAnyTempNamespace(src->nspid))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot archive temporary table \"%s\"", src->relname),
				 errdetail("The archive would disappear with the session.")));
	if (!pg_class_ownercheck(relid, GetUserId()))
		aclcheck_error(ACLCHECK_NOT_OWNER, OBJECT_TABLE, src->relname);

	if (src->relkind == RELKIND_PARTITIONED_TABLE)
		(void) find_all_inheritors(relid, ShareLock, NULL);
	else
		LockRelationOid(relid, ShareLock);
	archive_describe(relid, src);	/* as it is now that it is locked */

	if (check_enable_rls(relid, InvalidOid, true) == RLS_ENABLED)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("cannot archive table \"%s\": row-level security hides rows from role \"%s\"",
						src->relname, GetUserNameFromId(GetUserId(), false)),
				 errdetail("An archive must hold every row."),
				 errhint("Archive as a role that bypasses row-level security (BYPASSRLS), or as the owner without FORCE ROW LEVEL SECURITY.")));
}

/*
 * archive_default_name
 *		"archive_" + the table's name.  When that is longer than an
 *		identifier may be (63 bytes), the name is cut at a character
 *		boundary to 54 bytes and "_" and the first 8 hex digits of the
 *		SHA-256 of the whole name are appended: never a silent truncation
 *		that two long names could share.
 */
static char *
archive_default_name(const char *relname)
{
	char	   *full = psprintf(ARCHIVE_PREFIX "%s", relname);
	int			len = strlen(full);
	pg_cryptohash_ctx *ctx;
	uint8		digest[PG_SHA256_DIGEST_LENGTH];
	char		hex[ARCHIVE_HASH_HEX + 1];
	int			keep;
	int			i;

	if (len < NAMEDATALEN)
		return full;
	ctx = pg_cryptohash_create(PG_SHA256);
	if (pg_cryptohash_init(ctx) < 0 ||
		pg_cryptohash_update(ctx, (uint8 *) full, len) < 0 ||
		pg_cryptohash_final(ctx, digest, sizeof(digest)) < 0)
		elog(ERROR, "could not compute SHA-256: %s", pg_cryptohash_error(ctx));
	pg_cryptohash_free(ctx);
	for (i = 0; i < ARCHIVE_HASH_HEX / 2; i++)
		snprintf(hex + 2 * i, 3, "%02x", digest[i]);
	keep = pg_mbcliplen(full, len, NAMEDATALEN - 1 - 1 - ARCHIVE_HASH_HEX);
	return psprintf("%.*s_%s", keep, full, hex);
}

/*
 * archive_split_name
 *		A possibly qualified name, as regclass input reads it (unquoted
 *		parts folded to lower case, "quoted" parts taken as written), but
 *		without truncating long parts: the caller refuses those.  False if
 *		it is not a name.
 */
static bool
archive_split_name(const char *s, List **names)
{
	*names = NIL;
	for (;;)
	{
		StringInfoData part;

		initStringInfo(&part);
		while (isspace((unsigned char) *s))
			s++;
		if (*s == '"')
		{
			for (s++; *s && !(s[0] == '"' && s[1] != '"'); s++)
			{
				if (*s == '"')
					s++;		/* "" is one quote */
				appendStringInfoChar(&part, *s);
			}
			if (*s++ != '"' || part.len == 0)
				return false;
		}
		else
		{
			const char *start = s;

			while (*s && !isspace((unsigned char) *s) && *s != '.' && *s != '"')
				s++;
			if (s == start)
				return false;
			appendStringInfoString(&part,
								   downcase_identifier(start, s - start, false, false));
		}
		*names = lappend(*names, part.data);
		while (isspace((unsigned char) *s))
			s++;
		if (*s == '\0')
			return list_length(*names) <= 2;
		if (*s++ != '.')
			return false;
	}
}

/*
 * archive_target
 *		Where the archive goes: the given name (qualified or not; unqualified
 *		means the source's schema), or the default.  It must not exist.
 */
static void
archive_target(ArchiveRel *src, const char *given, ArchiveRel *tgt)
{
	List	   *names;
	ListCell   *lc;

	memset(tgt, 0, sizeof(*tgt));
	tgt->nspid = src->nspid;
	tgt->nspname = src->nspname;
	if (given == NULL)
		tgt->relname = archive_default_name(src->relname);
	else
	{
		if (!archive_split_name(given, &names))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_NAME),
					 errmsg("invalid archive name \"%s\"", given),
					 errhint("Give a table name, optionally qualified by a schema, as in a regclass literal: archive_users, history.users or \"Users Archive\".")));
		foreach(lc, names)
			if (strlen(lfirst(lc)) >= NAMEDATALEN)
				ereport(ERROR,
						(errcode(ERRCODE_NAME_TOO_LONG),
						 errmsg("archive name \"%s\" is too long", (char *) lfirst(lc)),
						 errdetail("Names are at most %d bytes; PostgreSQL would truncate it.",
								   NAMEDATALEN - 1),
						 errhint("Give a shorter archive_name.")));
		tgt->relname = llast(names);
		if (list_length(names) == 2)
		{
			tgt->nspname = linitial(names);
			tgt->nspid = get_namespace_oid(tgt->nspname, false);
		}
	}
	tgt->qname = quote_qualified_identifier(tgt->nspname, tgt->relname);
	if (OidIsValid(get_relname_relid(tgt->relname, tgt->nspid)))
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_TABLE),
				 errmsg("relation \"%s\" already exists", tgt->relname),
				 errdetail("It is in schema \"%s\"; migr_archive_table() never overwrites a table.",
						   tgt->nspname),
				 errhint("Drop or rename the old archive, or give another archive_name.")));
}

/*
 * archive_columns
 *		The source's stored columns, quoted, in order: generated columns
 *		are computed again in the archive, dropped ones are gone.
 */
static char *
archive_columns(ArchiveRel *src)
{
	Relation	rel = relation_open(src->relid, NoLock);
	TupleDesc	desc = RelationGetDescr(rel);
	StringInfoData buf;
	int			i;

	initStringInfo(&buf);
	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (att->attisdropped || att->attgenerated != '\0')
			continue;
		appendStringInfo(&buf, "%s%s", buf.len ? ", " : "",
						 quote_identifier(NameStr(att->attname)));
	}
	relation_close(rel, NoLock);
	return buf.data;
}

/*
 * archive_count
 *		Rows in a table (ONLY: not its inheritance children).
 */
static int64
archive_count(const char *qname, bool only)
{
	bool		isnull;
	Datum		d;

	archive_sql(psprintf("SELECT pg_catalog.count(*) FROM %s%s",
						 only ? "ONLY " : "", qname), SPI_OK_SELECT);
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1,
					  &isnull);
	return DatumGetInt64(d);
}

/*
 * archive_copy_rows
 *		Create the archive and copy the rows; the three counts must agree.
 */
static void
archive_copy_rows(ArchiveRel *src, ArchiveRel *tgt, int64 *rows)
{
	bool		only = (src->relkind != RELKIND_PARTITIONED_TABLE);
	char	   *cols = archive_columns(src);
	int64		before = archive_count(src->qname, only);
	int64		inserted;
	int64		after;

	archive_sql(psprintf("CREATE TABLE %s (LIKE %s INCLUDING ALL EXCLUDING CONSTRAINTS)",
						 tgt->qname, src->qname), SPI_OK_UTILITY);
	tgt->relid = get_relname_relid(tgt->relname, tgt->nspid);
	if (cols[0] != '\0')
		archive_sql(psprintf("INSERT INTO %s (%s) OVERRIDING SYSTEM VALUE SELECT %s FROM %s%s",
							 tgt->qname, cols, cols, only ? "ONLY " : "",
							 src->qname), SPI_OK_INSERT);
	else						/* a table without columns can have rows */
		archive_sql(psprintf("INSERT INTO %s SELECT FROM %s%s", tgt->qname,
							 only ? "ONLY " : "", src->qname), SPI_OK_INSERT);
	inserted = (int64) SPI_processed;
	after = archive_count(tgt->qname, true);
	if (before != inserted || after != inserted)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("row counts of table \"%s\" and its archive \"%s\" differ",
						src->relname, tgt->relname),
				 errdetail("The table had " INT64_FORMAT " rows, " INT64_FORMAT " were copied and the archive holds " INT64_FORMAT ".",
						   before, inserted, after)));
	*rows = inserted;
}

/*
 * archive_role
 *		A grantee as GRANT and REVOKE write it: PUBLIC for 0.
 */
static char *
archive_role(Oid roleid)
{
	if (roleid == InvalidOid)
		return "PUBLIC";
	return pstrdup(quote_identifier(GetUserNameFromId(roleid, false)));
}

/*
 * archive_set_owner
 *		The archive's owner becomes the source's, before its privileges are
 *		made the source's.
 */
static void
archive_set_owner(ArchiveRel *src, ArchiveRel *tgt)
{
	if (tgt->owner != src->owner)
		archive_sql(psprintf("ALTER TABLE %s OWNER TO %s", tgt->qname,
							 archive_role(src->owner)), SPI_OK_UTILITY);
}

/*
 * archive_set_rls
 *		Row-level security enabled and forced as on the source, before its
 *		policies are copied.
 */
static void
archive_set_rls(ArchiveRel *src, ArchiveRel *tgt)
{
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(src->relid));
	bool		enable;
	bool		force;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for relation %u", src->relid);
	enable = ((Form_pg_class) GETSTRUCT(tup))->relrowsecurity;
	force = ((Form_pg_class) GETSTRUCT(tup))->relforcerowsecurity;
	ReleaseSysCache(tup);
	if (enable)
		archive_sql(psprintf("ALTER TABLE %s ENABLE ROW LEVEL SECURITY",
							 tgt->qname), SPI_OK_UTILITY);
	if (force)
		archive_sql(psprintf("ALTER TABLE %s FORCE ROW LEVEL SECURITY",
							 tgt->qname), SPI_OK_UTILITY);
}

/* a CHECK constraint of the source, valid or NOT VALID as there */
static char *
archive_build_check(ArchiveRel *tgt, HeapTuple tup, TupleDesc desc)
{
	return psprintf("ALTER TABLE %s ADD CONSTRAINT %s %s", tgt->qname,
					quote_identifier(SPI_getvalue(tup, desc, 1)),
					SPI_getvalue(tup, desc, 2));
}

/*
 * A default copied from the source that uses a sequence the source owns (a
 * serial column) is dropped: it would tie the archive to the source, and
 * DROP TABLE of the source would fail.
 */
static char *
archive_build_drop_default(ArchiveRel *tgt, HeapTuple tup, TupleDesc desc)
{
	return psprintf("ALTER TABLE %s ALTER COLUMN %s DROP DEFAULT",
					tgt->qname, quote_identifier(SPI_getvalue(tup, desc, 1)));
}

/*
 * Everything the new table got (including default privileges) is revoked,
 * before the source's grants are repeated.
 */
static char *
archive_build_revoke(ArchiveRel *tgt, HeapTuple tup, TupleDesc desc)
{
	bool		isnull;

	return psprintf("REVOKE ALL ON TABLE %s FROM %s", tgt->qname,
					archive_role(DatumGetObjectId(SPI_getbinval(tup, desc, 1, &isnull))));
}

/* a table privilege of the source */
static char *
archive_build_grant(ArchiveRel *tgt, HeapTuple tup, TupleDesc desc)
{
	bool		isnull;

	return psprintf("GRANT %s ON TABLE %s TO %s%s",
					SPI_getvalue(tup, desc, 3), tgt->qname,
					archive_role(DatumGetObjectId(SPI_getbinval(tup, desc, 1, &isnull))),
					DatumGetBool(SPI_getbinval(tup, desc, 2, &isnull)) ?
					" WITH GRANT OPTION" : "");
}

/* a column privilege of the source, on the same column of the archive */
static char *
archive_build_column_grant(ArchiveRel *tgt, HeapTuple tup, TupleDesc desc)
{
	bool		isnull;

	return psprintf("GRANT %s (%s) ON TABLE %s TO %s%s",
					SPI_getvalue(tup, desc, 4),
					quote_identifier(SPI_getvalue(tup, desc, 1)),
					tgt->qname,
					archive_role(DatumGetObjectId(SPI_getbinval(tup, desc, 2, &isnull))),
					DatumGetBool(SPI_getbinval(tup, desc, 3, &isnull)) ?
					" WITH GRANT OPTION" : "");
}

/*
 * A policy of the source, with its roles, command, USING and WITH CHECK
 * expressions.
 */
static char *
archive_build_policy(ArchiveRel *tgt, HeapTuple tup, TupleDesc desc)
{
	bool		isnull;
	char		cmd = DatumGetChar(SPI_getbinval(tup, desc, 3, &isnull));
	ArrayType  *roles = DatumGetArrayTypeP(SPI_getbinval(tup, desc, 4, &isnull));
	char	   *qual = SPI_getvalue(tup, desc, 5);
	char	   *check = SPI_getvalue(tup, desc, 6);
	Datum	   *elems;
	int			nelems;
	StringInfoData buf;
	int			i;

	initStringInfo(&buf);
	appendStringInfo(&buf, "CREATE POLICY %s ON %s AS %s FOR %s TO ",
					 quote_identifier(SPI_getvalue(tup, desc, 1)), tgt->qname,
					 DatumGetBool(SPI_getbinval(tup, desc, 2, &isnull)) ?
					 "PERMISSIVE" : "RESTRICTIVE",
					 cmd == 'r' ? "SELECT" : cmd == 'a' ? "INSERT" :
					 cmd == 'w' ? "UPDATE" : cmd == 'd' ? "DELETE" : "ALL");
	deconstruct_array(roles, OIDOID, sizeof(Oid), true, TYPALIGN_INT,
					  &elems, NULL, &nelems);
	for (i = 0; i < nelems; i++)
		appendStringInfo(&buf, "%s%s", i ? ", " : "",
						 archive_role(DatumGetObjectId(elems[i])));
	if (qual)
		appendStringInfo(&buf, " USING (%s)", qual);
	if (check)
		appendStringInfo(&buf, " WITH CHECK (%s)", check);
	return buf.data;
}

#define ARCHIVE_ACL_SQL \
	"SELECT x.grantee, x.is_grantable," \
	"       pg_catalog.string_agg(x.privilege_type, ', ' ORDER BY x.privilege_type)" \
	"  FROM pg_catalog.pg_class c," \
	"       pg_catalog.aclexplode(COALESCE(c.relacl," \
	"                             pg_catalog.acldefault('r', c.relowner))) x" \
	" WHERE c.oid OPERATOR(pg_catalog.=) $1" \
	" GROUP BY 1, 2 ORDER BY 1, 2"

/*
 * What the archive takes over from the source after the rows, in order:
 * for each step, a catalog query by OID ($1 the archive's or the source's,
 * $2 always the source's), and one statement on the archive per row.
 */
typedef struct ArchiveStep
{
	const char *what;			/* for the error: "could not read the ..." */
	bool		of_archive;		/* $1 is the archive's OID, not the source's */
	void		(*prepare) (ArchiveRel *src, ArchiveRel *tgt);	/* or NULL */
	const char *sql;
	char	   *(*build) (ArchiveRel *tgt, HeapTuple tup, TupleDesc desc);
} ArchiveStep;

static const ArchiveStep archive_steps[] = {
	{"CHECK constraints", false, NULL,
		"SELECT conname, pg_catalog.pg_get_constraintdef(oid)"
		"  FROM pg_catalog.pg_constraint"
		" WHERE conrelid OPERATOR(pg_catalog.=) $1"
		"   AND contype OPERATOR(pg_catalog.=) 'c'"
		" ORDER BY conname",
	archive_build_check},
	{"defaults", true, NULL,
		"SELECT DISTINCT a.attname"
		"  FROM pg_catalog.pg_attrdef d"
		"  JOIN pg_catalog.pg_attribute a"
		"    ON a.attrelid OPERATOR(pg_catalog.=) d.adrelid"
		"   AND a.attnum OPERATOR(pg_catalog.=) d.adnum"
		"  JOIN pg_catalog.pg_depend dd"
		"    ON dd.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_attrdef'::pg_catalog.regclass"
		"   AND dd.objid OPERATOR(pg_catalog.=) d.oid"
		"   AND dd.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass"
		"  JOIN pg_catalog.pg_depend sd"
		"    ON sd.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass"
		"   AND sd.objid OPERATOR(pg_catalog.=) dd.refobjid"
		"   AND sd.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass"
		"   AND sd.refobjid OPERATOR(pg_catalog.=) $2"
		" WHERE d.adrelid OPERATOR(pg_catalog.=) $1"
		" ORDER BY 1",
	archive_build_drop_default},
	{"privileges", true, archive_set_owner, ARCHIVE_ACL_SQL,
	archive_build_revoke},
	{"privileges", false, NULL, ARCHIVE_ACL_SQL,
	archive_build_grant},
	{"column privileges", false, NULL,
		"SELECT a.attname, x.grantee, x.is_grantable,"
		"       pg_catalog.string_agg(x.privilege_type, ', ' ORDER BY x.privilege_type)"
		"  FROM pg_catalog.pg_attribute a,"
		"       pg_catalog.aclexplode(a.attacl) x"
		" WHERE a.attrelid OPERATOR(pg_catalog.=) $1"
		"   AND a.attnum OPERATOR(pg_catalog.>) 0"
		"   AND NOT a.attisdropped"
		" GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
	archive_build_column_grant},
	{"policies", false, archive_set_rls,
		"SELECT polname, polpermissive, polcmd, polroles,"
		"       pg_catalog.pg_get_expr(polqual, polrelid),"
		"       pg_catalog.pg_get_expr(polwithcheck, polrelid)"
		"  FROM pg_catalog.pg_policy"
		" WHERE polrelid OPERATOR(pg_catalog.=) $1"
		" ORDER BY polname",
	archive_build_policy},
};

/*
 * archive_copy_definition
 *		Make the archive's constraints, defaults, owner, privileges and
 *		row-level security the source's (archive_steps).  Each query's rows
 *		are read whole before the first statement built from them runs.
 */
static void
archive_copy_definition(ArchiveRel *src, ArchiveRel *tgt)
{
	Oid			types[2] = {OIDOID, OIDOID};
	size_t		s;

	for (s = 0; s < lengthof(archive_steps); s++)
	{
		const ArchiveStep *step = &archive_steps[s];
		ArchiveRel *rel = step->of_archive ? tgt : src;
		Datum		values[2];
		SPITupleTable *tt;
		uint64		n;
		uint64		i;

		if (step->prepare)
			step->prepare(src, tgt);
		values[0] = ObjectIdGetDatum(rel->relid);
		values[1] = ObjectIdGetDatum(src->relid);
		if (SPI_execute_with_args(step->sql, 2, types, values, NULL,
								  false, 0) != SPI_OK_SELECT)
			elog(ERROR, "could not read the %s of \"%s\"", step->what,
				 rel->qname);
		tt = SPI_tuptable;
		n = SPI_processed;
		for (i = 0; i < n; i++)
			archive_sql(step->build(tgt, tt->vals[i], tt->tupdesc),
						SPI_OK_UTILITY);
	}
}

/*
 * archive_record
 *		A row in migr.archive, written as the extension owner.
 */
static void
archive_record(ArchiveRel *src, ArchiveRel *tgt, int64 rows)
{
	Oid			types[7] = {NAMEOID, NAMEOID, NAMEOID, NAMEOID, INT8OID,
	TEXTOID, NAMEOID};
	Datum		values[7];
	char		nulls[7] = {' ', ' ', ' ', ' ', ' ', ' ', ' '};
	MigrCatalogUser save;
	int			rc;

	values[0] = DirectFunctionCall1(namein, CStringGetDatum(src->nspname));
	values[1] = DirectFunctionCall1(namein, CStringGetDatum(src->relname));
	values[2] = DirectFunctionCall1(namein, CStringGetDatum(tgt->nspname));
	values[3] = DirectFunctionCall1(namein, CStringGetDatum(tgt->relname));
	values[4] = Int64GetDatum(rows);
	if (apply_current_revision)
		values[5] = CStringGetTextDatum(apply_current_revision);
	else
		nulls[5] = 'n';
	values[6] = DirectFunctionCall1(namein,
									CStringGetDatum(GetUserNameFromId(GetUserId(), false)));

	catalog_become_owner(&save);
	rc = SPI_execute_with_args("INSERT INTO migr.archive (source_schema, source_table,"
							   "  archive_schema, archive_table, rows, revision,"
							   "  archived_by, archived_at)"
							   " VALUES ($1, $2, $3, $4, $5, $6, $7,"
							   "  pg_catalog.clock_timestamp())",
							   7, types, values, nulls, false, 0);
	catalog_restore_user(&save);
	if (rc != SPI_OK_INSERT)
		elog(ERROR, "could not record the archive: %s",
			 SPI_result_code_string(rc));
}

/*
 * migr_archive_table(tbl regclass, archive_name text) returns regclass
 */
Datum
migr_archive_table(PG_FUNCTION_ARGS)
{
	Oid			relid;
	char	   *given;
	ArchiveRel	src;
	ArchiveRel	tgt;
	int64		rows;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("argument \"tbl\" must not be null")));
	relid = PG_GETARG_OID(0);
	given = PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1));
	PreventCommandIfReadOnly("migr_archive_table()");
	PreventCommandDuringRecovery("migr_archive_table()");

	catalog_connect();
	archive_open_source(relid, &src);
	archive_target(&src, given, &tgt);
	tgt.owner = GetUserId();
	archive_copy_rows(&src, &tgt, &rows);
	archive_copy_definition(&src, &tgt);
	archive_record(&src, &tgt, rows);
	catalog_finish();
	PG_RETURN_OID(tgt.relid);
}

/*
 * archive_days
 *		Whole days since a time.
 */
static int
archive_days(TimestampTz at)
{
	long		secs;
	int			usecs;

	TimestampDifference(at, GetCurrentTimestamp(), &secs, &usecs);
	return (int) (secs / SECS_PER_DAY);
}

#define ARCHIVE_LIST_SQL \
	"SELECT id, source_schema, source_table, archive_schema, archive_table," \
	"       rows, revision, archived_by, archived_at," \
	"       EXISTS (SELECT 1 FROM pg_catalog.pg_class c" \
	"                 JOIN pg_catalog.pg_namespace n" \
	"                   ON n.oid OPERATOR(pg_catalog.=) c.relnamespace" \
	"                WHERE n.nspname OPERATOR(pg_catalog.=) a.archive_schema" \
	"                  AND c.relname OPERATOR(pg_catalog.=) a.archive_table)" \
	"       AS archive_exists" \
	"  FROM migr.archive a"

/*
 * archive_find
 *		The latest archive of a table that still exists: its qualified name
 *		and age in days.  Must run inside SPI.
 */
bool
archive_find(Oid relid, char **archive, int *days)
{
	Oid			types[2] = {NAMEOID, NAMEOID};
	Datum		values[2];
	HeapTuple	tup;
	TupleDesc	desc;
	bool		isnull;

	values[0] = DirectFunctionCall1(namein,
									CStringGetDatum(get_namespace_name(get_rel_namespace(relid))));
	values[1] = DirectFunctionCall1(namein, CStringGetDatum(get_rel_name(relid)));
	if (SPI_execute_with_args("SELECT * FROM (" ARCHIVE_LIST_SQL
							  " WHERE source_schema OPERATOR(pg_catalog.=) $1"
							  "   AND source_table OPERATOR(pg_catalog.=) $2) s"
							  " WHERE s.archive_exists ORDER BY s.id DESC LIMIT 1",
							  2, types, values, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read migr.archive");
	if (SPI_processed == 0)
		return false;
	tup = SPI_tuptable->vals[0];
	desc = SPI_tuptable->tupdesc;
	*archive = quote_qualified_identifier(SPI_getvalue(tup, desc, 4),
										  SPI_getvalue(tup, desc, 5));
	*days = archive_days(DatumGetTimestampTz(SPI_getbinval(tup, desc, 9, &isnull)));
	return true;
}

/*
 * archive_check_findings
 *		For migr_check(): each archive that still exists, with its age.
 *		Must run inside SPI.
 */
List *
archive_check_findings(void)
{
	List	   *out = NIL;
	SPITupleTable *tt;
	uint64		n;
	uint64		i;
	bool		isnull;

	if (SPI_execute(ARCHIVE_LIST_SQL " ORDER BY id", true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read migr.archive");
	tt = SPI_tuptable;
	n = SPI_processed;
	for (i = 0; i < n; i++)
	{
		HeapTuple	tup = tt->vals[i];
		MigrFinding *f;
		char	   *archive;
		int			days;

		if (!DatumGetBool(SPI_getbinval(tup, tt->tupdesc, 10, &isnull)))
			continue;
		archive = quote_qualified_identifier(SPI_getvalue(tup, tt->tupdesc, 4),
											 SPI_getvalue(tup, tt->tupdesc, 5));
		days = archive_days(DatumGetTimestampTz(SPI_getbinval(tup, tt->tupdesc, 9, &isnull)));
		f = palloc0(sizeof(MigrFinding));
		f->revision = SPI_getvalue(tup, tt->tupdesc, 7);
		f->severity = MIGR_SEV_INFO;
		f->code = "archive_age";
		f->message = psprintf("table %s was archived as %s %d day%s ago (" INT64_FORMAT " rows)",
							  quote_qualified_identifier(SPI_getvalue(tup, tt->tupdesc, 2),
														 SPI_getvalue(tup, tt->tupdesc, 3)),
							  archive, days, days == 1 ? "" : "s",
							  DatumGetInt64(SPI_getbinval(tup, tt->tupdesc, 6, &isnull)));
		f->hint = psprintf("Drop the archive (DROP TABLE %s) when it is no longer needed: it is not kept in step with the table.",
						   archive);
		out = lappend(out, f);
	}
	return out;
}

/*
 * migr_archives() returns table (id, source_schema, source_table,
 *		archive_schema, archive_table, rows, revision, archived_by,
 *		archived_at, archive_exists)
 */
Datum
migr_archives(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	SPITupleTable *tt;
	uint64		i;

	InitMaterializedSRF(fcinfo, 0);
	catalog_connect();
	if (SPI_execute(ARCHIVE_LIST_SQL " ORDER BY id", true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read migr.archive");
	tt = SPI_tuptable;
	for (i = 0; i < SPI_processed; i++)
	{
		Datum		values[10];
		bool		nulls[10];
		int			j;

		for (j = 0; j < 10; j++)
			values[j] = SPI_getbinval(tt->vals[i], tt->tupdesc, j + 1, &nulls[j]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	catalog_finish();
	return (Datum) 0;
}

/*-------------------------------------------------------------------------
 *
 * describe.c
 *	  migr_schema(): the canonical description of the managed schemas.
 *
 * One query reads the catalogs set-wise (a handful of joins per kind, never
 * a query per object) and builds the whole document: as json text, cheap to
 * nest and aggregate, turned into jsonb once at the end (which sorts the
 * keys), null fields stripped in the same pass.  The text of
 * every definition comes from the server's own deparsers (pg_get_indexdef,
 * pg_get_constraintdef, pg_get_viewdef, pg_get_functiondef,
 * pg_get_triggerdef, pg_get_ruledef, pg_get_statisticsobjdef, format_type,
 * pg_get_expr), never from hand-written imitations.
 *
 * Determinism: the deparsers qualify a name unless its schema is on
 * search_path, and print constants according to DateStyle, TimeZone and
 * the like, so the query runs with those settings fixed (schema_fix_gucs):
 * the same schema then gives the same bytes in any database and session,
 * and after pg_dump/pg_restore.  Arrays are sorted in C collation; object
 * keys are sorted by jsonb itself.  Objects the server made for another
 * object (array and multirange types, identity sequences, a range's
 * constructors) and extension members are left out: extensions appear by
 * name, version and schema.
 *
 * Copyright (c) 2026, migr developers
 *
 * IDENTIFICATION
 *	  src/schema/describe.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/varlena.h"

#include "migr.h"
#include "schema/schema.h"

PG_FUNCTION_INFO_V1(migr_schema);

/* migr.schemas: the schemas described by default ("" = all user schemas) */
char	   *migr_schemas_setting = NULL;

static bool schema_check_setting(char **newval, void **extra, GucSource source);
static ArrayType *schema_namespaces(ArrayType *schemas, bool missing_ok);
static Oid	schema_lookup(const char *name, bool from_setting, bool missing_ok);
static Jsonb *schema_describe_oids(ArrayType *nsps);
static int	schema_fix_gucs(void);

/*
 * The description, one statement.  $1 is the oid[] of the schemas to
 * describe, or NULL for the default set: every schema but pg_*,
 * information_schema, migr and extension members.  It runs under
 * schema_fix_gucs(), so names without a schema resolve in pg_catalog only
 * (immune to objects planted on the caller's search_path).
 */
static const char *schema_query =
	"WITH\n"
	"nsp AS (\n"
	"  SELECT n.oid, n.nspname, n.nspowner, n.nspacl, quote_ident(n.nspname) AS qn\n"
	"    FROM pg_namespace n\n"
	"   WHERE CASE WHEN $1 IS NULL\n"
	"              THEN n.nspname !~ '^pg_' AND n.nspname <> ALL ('{information_schema,migr}')\n"
	"                   AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_namespace'::regclass\n"
	"                                      AND d.objid = n.oid AND d.deptype = 'e')\n"
	"              ELSE n.oid = ANY ($1) END),\n"
	"extm AS NOT MATERIALIZED (SELECT d.classid, d.objid FROM pg_depend d\n"
	"          WHERE d.deptype = 'e'\n"
	"             OR (d.deptype = 'i' AND NOT (d.refclassid = d.classid AND d.refobjid = d.objid))),\n"
	"rel AS (\n"
	"  SELECT c.oid, c.relname, c.relkind, c.relowner, c.relacl, c.relpersistence,\n"
	"         c.relrowsecurity, c.relforcerowsecurity, c.reloptions, c.relreplident,\n"
	"         c.relispartition, c.relpartbound, c.reltype,\n"
	"         n.qn || '.' || quote_ident(c.relname) AS qname\n"
	"    FROM pg_class c JOIN nsp n ON n.oid = c.relnamespace\n"
	"   WHERE c.relkind = ANY ('{r,p,v,m,S,c}'::\"char\"[])\n"
	"     AND NOT EXISTS (SELECT FROM pg_depend e WHERE e.classid = 'pg_class'::regclass AND e.objid = c.oid\n"
	"                        AND (e.deptype = 'e' OR (e.deptype = 'i' AND c.relkind = 'S')))),\n"
	"cols AS (\n"
	"  SELECT a.attrelid,\n"
	"         json_agg(json_build_object(\n"
	"           'name', a.attname,\n"
	"           'type', format_type(a.atttypid, a.atttypmod),\n"
	"           'collation', CASE WHEN a.attcollation <> t.typcollation THEN\n"
	"                 (SELECT quote_ident(cn.nspname) || '.' || quote_ident(co.collname)\n"
	"                    FROM pg_collation co JOIN pg_namespace cn ON cn.oid = co.collnamespace\n"
	"                   WHERE co.oid = a.attcollation) END,\n"
	"           'default', CASE WHEN a.attgenerated = '' THEN pg_get_expr(ad.adbin, ad.adrelid) END,\n"
	"           'generated', CASE WHEN a.attgenerated = 's' THEN pg_get_expr(ad.adbin, ad.adrelid) END,\n"
	"           'not_null', CASE WHEN a.attnotnull THEN true END,\n"
	"           'identity', CASE a.attidentity WHEN 'a' THEN 'always' WHEN 'd' THEN 'by default' END,\n"
	"           'inherited', CASE WHEN NOT a.attislocal THEN true END,\n"
	"           'comment', ds.description,\n"
	"           'acl', CASE WHEN a.attacl IS NOT NULL THEN\n"
	"                 (SELECT json_agg(x::text ORDER BY x::text COLLATE \"C\") FROM unnest(a.attacl) x) END\n"
	"         ) ORDER BY a.attnum) AS columns\n"
	"    FROM pg_attribute a\n"
	"    JOIN rel r ON r.oid = a.attrelid\n"
	"    JOIN pg_type t ON t.oid = a.atttypid\n"
	"    LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum\n"
	"    LEFT JOIN pg_description ds ON ds.objoid = a.attrelid AND ds.classoid = 'pg_class'::regclass\n"
	"                      AND ds.objsubid = a.attnum\n"
	"   WHERE a.attnum > 0 AND NOT a.attisdropped\n"
	"   GROUP BY a.attrelid),\n"
	"rels AS (\n"
	"  SELECT r.*, cols.columns,\n"
	"         pg_get_userbyid(r.relowner) AS owner,\n"
	"         (SELECT json_agg(x::text ORDER BY x::text COLLATE \"C\")\n"
	"            FROM unnest(COALESCE(r.relacl, acldefault(CASE WHEN r.relkind = 'S' THEN 's' ELSE 'r' END::\"char\", r.relowner))) x) AS acl,\n"
	"         ds.description AS comment,\n"
	"         (SELECT json_agg(x ORDER BY x COLLATE \"C\") FROM unnest(r.reloptions) x) AS options\n"
	"    FROM rel r\n"
	"    LEFT JOIN cols ON cols.attrelid = r.oid\n"
	"    LEFT JOIN pg_description ds ON ds.objoid = r.oid AND ds.classoid = 'pg_class'::regclass AND ds.objsubid = 0),\n"
	"typ AS (\n"
	"  SELECT t.oid, t.typname, t.typtype, t.typowner, t.typacl, t.typrelid, t.typbasetype,\n"
	"         t.typtypmod, t.typnotnull, t.typdefault, t.typcollation,\n"
	"         n.qn || '.' || quote_ident(t.typname) AS qname\n"
	"    FROM pg_type t JOIN nsp n ON n.oid = t.typnamespace\n"
	"   WHERE NOT EXISTS (SELECT FROM extm e WHERE e.classid = 'pg_type'::regclass AND e.objid = t.oid)\n"
	"     AND t.typtype <> 'm'\n"
	"     AND NOT (t.typtype = 'c' AND (SELECT c.relkind FROM pg_class c WHERE c.oid = t.typrelid) <> 'c')\n"
	"     AND NOT (t.typelem <> 0 AND EXISTS (SELECT FROM pg_type e WHERE e.typarray = t.oid))),\n"
	"fun AS (\n"
	"  SELECT p.oid, p.prokind, p.proowner, p.proacl,\n"
	"         n.qn || '.' || quote_ident(p.proname) || '(' || pg_get_function_identity_arguments(p.oid) || ')' AS qname\n"
	"    FROM pg_proc p JOIN nsp n ON n.oid = p.pronamespace\n"
	"   WHERE NOT EXISTS (SELECT FROM extm e WHERE e.classid = 'pg_proc'::regclass AND e.objid = p.oid)),\n"
	"unsup AS (\n"
	"  SELECT 'pg_class'::regclass AS classid, c.oid AS objid FROM pg_class c JOIN nsp n ON n.oid = c.relnamespace\n"
	"   WHERE c.relkind = 'f'\n"
	"  UNION ALL SELECT 'pg_proc'::regclass, f.oid FROM fun f WHERE f.prokind = 'a'\n"
	"  UNION ALL SELECT 'pg_type'::regclass, t.oid FROM typ t WHERE t.typtype IN ('b', 'p')\n"
	"  UNION ALL SELECT 'pg_operator'::regclass, o.oid FROM pg_operator o JOIN nsp n ON n.oid = o.oprnamespace\n"
	"  UNION ALL SELECT 'pg_opclass'::regclass, o.oid FROM pg_opclass o JOIN nsp n ON n.oid = o.opcnamespace\n"
	"  UNION ALL SELECT 'pg_opfamily'::regclass, o.oid FROM pg_opfamily o JOIN nsp n ON n.oid = o.opfnamespace\n"
	"  UNION ALL SELECT 'pg_conversion'::regclass, o.oid FROM pg_conversion o JOIN nsp n ON n.oid = o.connamespace\n"
	"  UNION ALL SELECT 'pg_ts_config'::regclass, o.oid FROM pg_ts_config o JOIN nsp n ON n.oid = o.cfgnamespace\n"
	"  UNION ALL SELECT 'pg_ts_dict'::regclass, o.oid FROM pg_ts_dict o JOIN nsp n ON n.oid = o.dictnamespace\n"
	"  UNION ALL SELECT 'pg_ts_parser'::regclass, o.oid FROM pg_ts_parser o JOIN nsp n ON n.oid = o.prsnamespace\n"
	"  UNION ALL SELECT 'pg_ts_template'::regclass, o.oid FROM pg_ts_template o JOIN nsp n ON n.oid = o.tmplnamespace\n"
	"  UNION ALL SELECT 'pg_event_trigger'::regclass, o.oid FROM pg_event_trigger o\n"
	"  UNION ALL SELECT 'pg_foreign_data_wrapper'::regclass, o.oid FROM pg_foreign_data_wrapper o\n"
	"  UNION ALL SELECT 'pg_foreign_server'::regclass, o.oid FROM pg_foreign_server o\n"
	"  UNION ALL SELECT 'pg_cast'::regclass, o.oid FROM pg_cast o WHERE o.oid >= 16384\n"
	"  UNION ALL SELECT 'pg_transform'::regclass, o.oid FROM pg_transform o\n"
	"  UNION ALL SELECT 'pg_am'::regclass, o.oid FROM pg_am o WHERE o.oid >= 16384\n"
	"  UNION ALL SELECT 'pg_language'::regclass, o.oid FROM pg_language o WHERE o.oid >= 16384)\n"
	"SELECT jsonb_strip_nulls(json_build_object(\n"
	" 'format', 1,\n"
	" 'schemas', (SELECT COALESCE(json_object_agg(n.qn, json_build_object(\n"
	"      'owner', pg_get_userbyid(n.nspowner),\n"
	"      'acl', (SELECT json_agg(x::text ORDER BY x::text COLLATE \"C\")\n"
	"                FROM unnest(COALESCE(n.nspacl, acldefault('n', n.nspowner))) x),\n"
	"      'comment', ds.description)), '{}')\n"
	"    FROM nsp n LEFT JOIN pg_description ds ON ds.objoid = n.oid AND ds.classoid = 'pg_namespace'::regclass),\n"
	" 'extensions', (SELECT COALESCE(json_object_agg(quote_ident(x.extname), json_build_object(\n"
	"      'version', x.extversion, 'schema', quote_ident(xn.nspname))), '{}')\n"
	"    FROM pg_extension x JOIN pg_namespace xn ON xn.oid = x.extnamespace WHERE x.extname <> 'migr'),\n"
	" 'tables', (SELECT COALESCE(json_object_agg(r.qname, json_build_object(\n"
	"      'kind', CASE r.relkind WHEN 'p' THEN 'partitioned table' ELSE 'table' END,\n"
	"      'columns', COALESCE(r.columns, '[]'),\n"
	"      'unlogged', CASE WHEN r.relpersistence = 'u' THEN true END,\n"
	"      'partition_key', CASE WHEN r.relkind = 'p' THEN pg_get_partkeydef(r.oid) END,\n"
	"      'partition_of', CASE WHEN r.relispartition THEN\n"
	"            (SELECT i.inhparent::regclass::text FROM pg_inherits i WHERE i.inhrelid = r.oid) END,\n"
	"      'partition_bound', CASE WHEN r.relispartition THEN pg_get_expr(r.relpartbound, r.oid) END,\n"
	"      'inherits', CASE WHEN NOT r.relispartition THEN\n"
	"            (SELECT json_agg(i.inhparent::regclass::text ORDER BY i.inhseqno)\n"
	"               FROM pg_inherits i WHERE i.inhrelid = r.oid) END,\n"
	"      'row_security', CASE WHEN r.relrowsecurity THEN true END,\n"
	"      'force_row_security', CASE WHEN r.relforcerowsecurity THEN true END,\n"
	"      'options', r.options,\n"
	"      'replica_identity', CASE r.relreplident WHEN 'd' THEN NULL WHEN 'n' THEN 'nothing'\n"
	"            WHEN 'f' THEN 'full'\n"
	"            ELSE (SELECT 'index ' || quote_ident(ic.relname) FROM pg_index x\n"
	"                    JOIN pg_class ic ON ic.oid = x.indexrelid\n"
	"                   WHERE x.indrelid = r.oid AND x.indisreplident) END,\n"
	"      'owner', r.owner, 'acl', r.acl, 'comment', r.comment)), '{}')\n"
	"    FROM rels r WHERE r.relkind IN ('r', 'p')),\n"
	" 'views', (SELECT COALESCE(json_object_agg(r.qname, json_build_object(\n"
	"      'definition', pg_get_viewdef(r.oid), 'columns', r.columns, 'options', r.options,\n"
	"      'owner', r.owner, 'acl', r.acl, 'comment', r.comment)), '{}')\n"
	"    FROM rels r WHERE r.relkind = 'v'),\n"
	" 'materialized_views', (SELECT COALESCE(json_object_agg(r.qname, json_build_object(\n"
	"      'definition', pg_get_viewdef(r.oid), 'columns', r.columns, 'options', r.options,\n"
	"      'owner', r.owner, 'acl', r.acl, 'comment', r.comment)), '{}')\n"
	"    FROM rels r WHERE r.relkind = 'm'),\n"
	" 'sequences', (SELECT COALESCE(json_object_agg(r.qname, json_build_object(\n"
	"      'type', format_type(s.seqtypid, NULL), 'start', s.seqstart, 'increment', s.seqincrement,\n"
	"      'minimum', s.seqmin, 'maximum', s.seqmax, 'cache', s.seqcache,\n"
	"      'cycle', CASE WHEN s.seqcycle THEN true END,\n"
	"      'owned_by', (SELECT d.refobjid::regclass::text || '.' || quote_ident(a.attname)\n"
	"                     FROM pg_depend d JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid\n"
	"                    WHERE d.classid = 'pg_class'::regclass AND d.objid = r.oid\n"
	"                      AND d.refclassid = 'pg_class'::regclass AND d.deptype = 'a'),\n"
	"      'owner', r.owner, 'acl', r.acl, 'comment', r.comment)), '{}')\n"
	"    FROM rels r JOIN pg_sequence s ON s.seqrelid = r.oid\n"
	"   WHERE r.relkind = 'S'\n"
	"     AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_class'::regclass\n"
	"                        AND d.objid = r.oid AND d.deptype = 'i')),\n"
	" 'indexes', (SELECT COALESCE(json_object_agg(n.qn || '.' || quote_ident(ic.relname), json_build_object(\n"
	"      'table', r.qname,\n"
	"      'definition', pg_get_indexdef(x.indexrelid),\n"
	"      'valid', CASE WHEN NOT x.indisvalid THEN false END,\n"
	"      'partition_of', (SELECT quote_ident(pn.nspname) || '.' || quote_ident(pc.relname)\n"
	"                         FROM pg_inherits i JOIN pg_class pc ON pc.oid = i.inhparent\n"
	"                         JOIN pg_namespace pn ON pn.oid = pc.relnamespace\n"
	"                        WHERE i.inhrelid = x.indexrelid),\n"
	"      'comment', ds.description)), '{}')\n"
	"    FROM pg_index x JOIN rel r ON r.oid = x.indrelid AND r.relkind IN ('r', 'p', 'm')\n"
	"    JOIN pg_class ic ON ic.oid = x.indexrelid\n"
	"    JOIN nsp n ON n.oid = ic.relnamespace\n"
	"    LEFT JOIN pg_description ds ON ds.objoid = x.indexrelid AND ds.classoid = 'pg_class'::regclass AND ds.objsubid = 0\n"
	"   WHERE NOT EXISTS (SELECT FROM pg_constraint co WHERE co.conindid = x.indexrelid\n"
	"                        AND co.conrelid = x.indrelid AND co.contype IN ('p', 'u', 'x'))),\n"
	" 'constraints', (SELECT COALESCE(json_object_agg(r.qname || '.' || quote_ident(co.conname), json_build_object(\n"
	"      'table', r.qname,\n"
	"      'type', CASE co.contype WHEN 'p' THEN 'primary key' WHEN 'u' THEN 'unique'\n"
	"            WHEN 'f' THEN 'foreign key' WHEN 'c' THEN 'check' WHEN 'x' THEN 'exclusion' END,\n"
	"      'definition', pg_get_constraintdef(co.oid),\n"
	"      'deferrable', CASE WHEN co.condeferrable THEN true END,\n"
	"      'deferred', CASE WHEN co.condeferred THEN true END,\n"
	"      'valid', CASE WHEN NOT co.convalidated THEN false END,\n"
	"      'inherited', CASE WHEN NOT co.conislocal THEN true END,\n"
	"      'comment', ds.description)), '{}')\n"
	"    FROM pg_constraint co JOIN rel r ON r.oid = co.conrelid\n"
	"    LEFT JOIN pg_description ds ON ds.objoid = co.oid AND ds.classoid = 'pg_constraint'::regclass\n"
	"   WHERE co.contype IN ('p', 'u', 'f', 'c', 'x')),\n"
	" 'triggers', (SELECT COALESCE(json_object_agg(r.qname || '.' || quote_ident(tg.tgname), json_build_object(\n"
	"      'table', r.qname,\n"
	"      'definition', pg_get_triggerdef(tg.oid),\n"
	"      'enabled', CASE tg.tgenabled WHEN 'D' THEN 'disabled' WHEN 'R' THEN 'replica'\n"
	"            WHEN 'A' THEN 'always' END,\n"
	"      'inherited', CASE WHEN tg.tgparentid <> 0 THEN true END,\n"
	"      'comment', ds.description)), '{}')\n"
	"    FROM pg_trigger tg JOIN rel r ON r.oid = tg.tgrelid\n"
	"    LEFT JOIN pg_description ds ON ds.objoid = tg.oid AND ds.classoid = 'pg_trigger'::regclass\n"
	"   WHERE NOT tg.tgisinternal),\n"
	" 'rules', (SELECT COALESCE(json_object_agg(r.qname || '.' || quote_ident(rw.rulename), json_build_object(\n"
	"      'table', r.qname,\n"
	"      'definition', pg_get_ruledef(rw.oid),\n"
	"      'enabled', CASE rw.ev_enabled WHEN 'D' THEN 'disabled' WHEN 'R' THEN 'replica'\n"
	"            WHEN 'A' THEN 'always' END,\n"
	"      'comment', ds.description)), '{}')\n"
	"    FROM pg_rewrite rw JOIN rel r ON r.oid = rw.ev_class\n"
	"    LEFT JOIN pg_description ds ON ds.objoid = rw.oid AND ds.classoid = 'pg_rewrite'::regclass\n"
	"   WHERE rw.rulename <> '_RETURN'),\n"
	" 'policies', (SELECT COALESCE(json_object_agg(r.qname || '.' || quote_ident(pol.polname), json_build_object(\n"
	"      'table', r.qname,\n"
	"      'command', CASE pol.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE'\n"
	"            WHEN 'd' THEN 'DELETE' ELSE 'ALL' END,\n"
	"      'permissive', pol.polpermissive,\n"
	"      'roles', (SELECT json_agg(CASE WHEN x = 0 THEN 'public' ELSE quote_ident(pg_get_userbyid(x)) END\n"
	"                                 ORDER BY CASE WHEN x = 0 THEN 'public' ELSE quote_ident(pg_get_userbyid(x)) END COLLATE \"C\")\n"
	"                  FROM unnest(pol.polroles) x),\n"
	"      'using', pg_get_expr(pol.polqual, pol.polrelid),\n"
	"      'with_check', pg_get_expr(pol.polwithcheck, pol.polrelid),\n"
	"      'comment', ds.description)), '{}')\n"
	"    FROM pg_policy pol JOIN rel r ON r.oid = pol.polrelid\n"
	"    LEFT JOIN pg_description ds ON ds.objoid = pol.oid AND ds.classoid = 'pg_policy'::regclass),\n"
	" 'types', (SELECT COALESCE(json_object_agg(t.qname, json_build_object(\n"
	"      'kind', CASE t.typtype WHEN 'e' THEN 'enum' WHEN 'c' THEN 'composite' WHEN 'r' THEN 'range'\n"
	"            WHEN 'd' THEN 'domain' END,\n"
	"      'labels', CASE WHEN t.typtype = 'e' THEN\n"
	"            (SELECT json_agg(e.enumlabel ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid) END,\n"
	"      'attributes', CASE WHEN t.typtype = 'c' THEN COALESCE(r.columns, '[]') END,\n"
	"      'subtype', CASE WHEN t.typtype = 'r' THEN format_type(rg.rngsubtype, NULL) END,\n"
	"      'subtype_opclass', CASE WHEN t.typtype = 'r' THEN\n"
	"            (SELECT quote_ident(ocn.nspname) || '.' || quote_ident(oc.opcname) FROM pg_opclass oc\n"
	"               JOIN pg_namespace ocn ON ocn.oid = oc.opcnamespace WHERE oc.oid = rg.rngsubopc) END,\n"
	"      'canonical', CASE WHEN rg.rngcanonical <> 0 THEN rg.rngcanonical::regproc::text END,\n"
	"      'subtype_diff', CASE WHEN rg.rngsubdiff <> 0 THEN rg.rngsubdiff::regproc::text END,\n"
	"      'multirange', CASE WHEN t.typtype = 'r' THEN format_type(rg.rngmultitypid, NULL) END,\n"
	"      'base_type', CASE WHEN t.typtype = 'd' THEN format_type(t.typbasetype, t.typtypmod) END,\n"
	"      'not_null', CASE WHEN t.typnotnull THEN true END,\n"
	"      'default', t.typdefault,\n"
	"      'collation', CASE WHEN (t.typtype = 'd' AND t.typcollation <> (SELECT bt.typcollation FROM pg_type bt WHERE bt.oid = t.typbasetype))\n"
	"                          OR (t.typtype = 'r' AND rg.rngcollation <> 0) THEN\n"
	"            (SELECT quote_ident(cn.nspname) || '.' || quote_ident(co.collname)\n"
	"               FROM pg_collation co JOIN pg_namespace cn ON cn.oid = co.collnamespace\n"
	"              WHERE co.oid = CASE WHEN t.typtype = 'r' THEN rg.rngcollation ELSE t.typcollation END) END,\n"
	"      'constraints', CASE WHEN t.typtype = 'd' THEN\n"
	"            (SELECT COALESCE(json_object_agg(quote_ident(co.conname), json_build_object(\n"
	"                 'definition', pg_get_constraintdef(co.oid),\n"
	"                 'valid', CASE WHEN NOT co.convalidated THEN false END,\n"
	"                 'comment', cds.description)), '{}')\n"
	"               FROM pg_constraint co\n"
	"               LEFT JOIN pg_description cds ON cds.objoid = co.oid AND cds.classoid = 'pg_constraint'::regclass\n"
	"              WHERE co.contypid = t.oid) END,\n"
	"      'owner', pg_get_userbyid(t.typowner),\n"
	"      'acl', (SELECT json_agg(x::text ORDER BY x::text COLLATE \"C\")\n"
	"                FROM unnest(COALESCE(t.typacl, acldefault('T', t.typowner))) x),\n"
	"      'comment', ds.description)), '{}')\n"
	"    FROM typ t\n"
	"    LEFT JOIN rels r ON r.oid = t.typrelid AND t.typtype = 'c'\n"
	"    LEFT JOIN pg_range rg ON rg.rngtypid = t.oid\n"
	"    LEFT JOIN pg_description ds ON ds.objoid = t.oid AND ds.classoid = 'pg_type'::regclass\n"
	"   WHERE t.typtype IN ('e', 'c', 'r', 'd')),\n"
	" 'collations', (SELECT COALESCE(json_object_agg(n.qn || '.' || quote_ident(co.collname), json_build_object(\n"
	"      'provider', CASE co.collprovider WHEN 'c' THEN 'libc' WHEN 'i' THEN 'icu' ELSE 'default' END,\n"
	"      'collate', co.collcollate, 'ctype', co.collctype, 'locale', co.colliculocale,\n"
	"      'deterministic', co.collisdeterministic,\n"
	"      'owner', pg_get_userbyid(co.collowner),\n"
	"      'comment', ds.description)), '{}')\n"
	"    FROM pg_collation co JOIN nsp n ON n.oid = co.collnamespace\n"
	"    LEFT JOIN pg_description ds ON ds.objoid = co.oid AND ds.classoid = 'pg_collation'::regclass\n"
	"   WHERE NOT EXISTS (SELECT FROM extm e WHERE e.classid = 'pg_collation'::regclass AND e.objid = co.oid)),\n"
	" 'functions', (SELECT COALESCE(json_object_agg(f.qname, json_build_object(\n"
	"      'kind', CASE f.prokind WHEN 'p' THEN 'procedure' WHEN 'w' THEN 'window function' ELSE 'function' END,\n"
	"      'definition', pg_get_functiondef(f.oid),\n"
	"      'owner', pg_get_userbyid(f.proowner),\n"
	"      'acl', (SELECT json_agg(x::text ORDER BY x::text COLLATE \"C\")\n"
	"                FROM unnest(COALESCE(f.proacl, acldefault('f', f.proowner))) x),\n"
	"      'comment', ds.description)), '{}')\n"
	"    FROM fun f\n"
	"    LEFT JOIN pg_description ds ON ds.objoid = f.oid AND ds.classoid = 'pg_proc'::regclass\n"
	"   WHERE f.prokind <> 'a'),\n"
	" 'statistics', (SELECT COALESCE(json_object_agg(n.qn || '.' || quote_ident(s.stxname), json_build_object(\n"
	"      'table', s.stxrelid::regclass::text,\n"
	"      'definition', pg_get_statisticsobjdef(s.oid),\n"
	"      'target', CASE WHEN s.stxstattarget <> -1 THEN s.stxstattarget END,\n"
	"      'owner', pg_get_userbyid(s.stxowner),\n"
	"      'comment', ds.description)), '{}')\n"
	"    FROM pg_statistic_ext s JOIN nsp n ON n.oid = s.stxnamespace\n"
	"    LEFT JOIN pg_description ds ON ds.objoid = s.oid AND ds.classoid = 'pg_statistic_ext'::regclass\n"
	"   WHERE NOT EXISTS (SELECT FROM extm e WHERE e.classid = 'pg_statistic_ext'::regclass AND e.objid = s.oid)),\n"
	" 'publications', (SELECT COALESCE(json_object_agg(quote_ident(p.pubname), json_build_object(\n"
	"      'all_tables', p.puballtables,\n"
	"      'publish', (SELECT json_agg(a) FROM unnest(ARRAY[CASE WHEN p.pubinsert THEN 'insert' END,\n"
	"            CASE WHEN p.pubupdate THEN 'update' END, CASE WHEN p.pubdelete THEN 'delete' END,\n"
	"            CASE WHEN p.pubtruncate THEN 'truncate' END]) a WHERE a IS NOT NULL),\n"
	"      'via_root', p.pubviaroot,\n"
	"      'tables', (SELECT json_agg(e ORDER BY e COLLATE \"C\") FROM (\n"
	"            SELECT pr.prrelid::regclass::text\n"
	"                   || COALESCE(' (' || (SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY k.i)\n"
	"                                          FROM unnest(pr.prattrs::int2[]) WITH ORDINALITY k(n, i)\n"
	"                                          JOIN pg_attribute a ON a.attrelid = pr.prrelid AND a.attnum = k.n) || ')', '')\n"
	"                   || COALESCE(' WHERE (' || pg_get_expr(pr.prqual, pr.prrelid) || ')', '') AS e\n"
	"              FROM pg_publication_rel pr WHERE pr.prpubid = p.oid) q),\n"
	"      'schemas', (SELECT json_agg(quote_ident(pnn.nspname) ORDER BY quote_ident(pnn.nspname) COLLATE \"C\")\n"
	"                    FROM pg_publication_namespace pn JOIN pg_namespace pnn ON pnn.oid = pn.pnnspid\n"
	"                   WHERE pn.pnpubid = p.oid),\n"
	"      'owner', pg_get_userbyid(p.pubowner),\n"
	"      'comment', ds.description)), '{}')\n"
	"    FROM pg_publication p\n"
	"    LEFT JOIN pg_description ds ON ds.objoid = p.oid AND ds.classoid = 'pg_publication'::regclass),\n"
	" 'default_privileges', (SELECT COALESCE(json_object_agg(\n"
	"      quote_ident(pg_get_userbyid(d.defaclrole))\n"
	"        || CASE WHEN d.defaclnamespace <> 0 THEN ' in schema ' || (SELECT quote_ident(dn.nspname) FROM pg_namespace dn WHERE dn.oid = d.defaclnamespace) ELSE '' END\n"
	"        || ' on ' || CASE d.defaclobjtype WHEN 'r' THEN 'tables' WHEN 'S' THEN 'sequences' WHEN 'f' THEN 'functions'\n"
	"                     WHEN 'T' THEN 'types' WHEN 'n' THEN 'schemas' END,\n"
	"      json_build_object('acl', (SELECT COALESCE(json_agg(x::text ORDER BY x::text COLLATE \"C\"), '[]') FROM unnest(d.defaclacl) x))), '{}')\n"
	"    FROM pg_default_acl d\n"
	"   WHERE d.defaclnamespace = 0 OR d.defaclnamespace IN (SELECT oid FROM nsp)),\n"
	" 'unsupported', (SELECT COALESCE(json_agg(DISTINCT pg_describe_object(u.classid, u.objid, 0)), '[]')\n"
	"    FROM unsup u\n"
	"   WHERE NOT EXISTS (SELECT FROM extm e WHERE e.classid = u.classid AND e.objid = u.objid))\n"
	")::jsonb)\n";

static SPIPlanPtr schema_plan = NULL;

/*
 * schema_check_setting
 *		migr.schemas must be a list of identifiers, as search_path is.
 */
static bool
schema_check_setting(char **newval, void **extra, GucSource source)
{
	char	   *raw = pstrdup(*newval);
	List	   *names;

	if (!SplitIdentifierString(raw, ',', &names))
	{
		GUC_check_errdetail("List syntax is invalid.");
		pfree(raw);
		list_free(names);
		return false;
	}
	pfree(raw);
	list_free(names);
	return true;
}

/*
 * schema_define_settings
 *		Called from _PG_init.
 */
void
schema_define_settings(void)
{
	DefineCustomStringVariable("migr.schemas",
							   "Schemas that migr_schema(), migr_drift() and the recorded schema describe.",
							   "Empty means every schema but the system ones, temporary ones, extension schemas and migr.",
							   &migr_schemas_setting,
							   "",
							   PGC_USERSET,
							   GUC_LIST_INPUT,
							   schema_check_setting, NULL, NULL);
}

/*
 * schema_lookup
 *		A schema's OID, with an error naming where the name came from
 *		(InvalidOid if it does not exist and missing_ok).
 */
static Oid
schema_lookup(const char *name, bool from_setting, bool missing_ok)
{
	Oid			nsp = get_namespace_oid(name, true);

	if (!OidIsValid(nsp) && !missing_ok)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_SCHEMA),
				 errmsg("schema \"%s\" does not exist", name),
				 from_setting ?
				 errhint("Correct the setting \"migr.schemas\", or create the schema.") : 0));
	return nsp;
}

/*
 * schema_namespaces
 *		The oid[] of the schemas to describe: those given, else those of
 *		migr.schemas (without those that do not exist, if missing_ok), else
 *		NULL (the query's default set).
 */
static ArrayType *
schema_namespaces(ArrayType *schemas, bool missing_ok)
{
	List	   *oids = NIL;
	Datum	   *d;
	ListCell   *lc;
	int			i = 0;

	if (schemas != NULL)
	{
		ListCell   *lc2;

		foreach(lc2, migr_array_list(schemas, "schemas"))
			oids = lappend_oid(oids, schema_lookup(lfirst(lc2), false, false));
	}
	else if (migr_schemas_setting != NULL && migr_schemas_setting[0] != '\0')
	{
		char	   *raw = pstrdup(migr_schemas_setting);
		List	   *names;
		ListCell   *lc2;

		if (!SplitIdentifierString(raw, ',', &names))
			elog(ERROR, "invalid list syntax in \"migr.schemas\"");
		foreach(lc2, names)
		{
			Oid			nsp = schema_lookup(lfirst(lc2), true, missing_ok);

			if (OidIsValid(nsp))
				oids = lappend_oid(oids, nsp);
		}
	}
	else
		return NULL;

	d = palloc(sizeof(Datum) * Max(list_length(oids), 1));
	foreach(lc, oids)
		d[i++] = ObjectIdGetDatum(lfirst_oid(lc));
	return construct_array(d, i, OIDOID, sizeof(Oid), true, TYPALIGN_INT);
}

/*
 * schema_fix_gucs
 *		Fix, until AtEOXact_GUC(nestlevel), every setting that changes what
 *		the deparsers print.  Returns the GUC nest level to pop.
 */
static int
schema_fix_gucs(void)
{
	static const char *const fixed[][2] = {
		{"search_path", "pg_catalog, pg_temp"},
		{"jit", "off"},			/* compiling this statement costs seconds */
		{"quote_all_identifiers", "off"},
		{"datestyle", "ISO, MDY"},
		{"intervalstyle", "postgres"},
		{"timezone", "UTC"},
		{"extra_float_digits", "1"},
		{"bytea_output", "hex"},
		{"standard_conforming_strings", "on"},
	};
	int			nestlevel = NewGUCNestLevel();
	size_t		i;

	for (i = 0; i < lengthof(fixed); i++)
		(void) set_config_option(fixed[i][0], fixed[i][1], PGC_USERSET,
								 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0,
								 false);
	return nestlevel;
}

/*
 * schema_describe
 *		The description of the given schemas (a text[]; NULL: migr.schemas,
 *		or the default set), allocated in the caller's memory context.
 */
Jsonb *
schema_describe(ArrayType *schemas)
{
	return schema_describe_oids(schema_namespaces(schemas, false));
}

/*
 * schema_describe_recorded
 *		schema_describe(NULL) for the record a move leaves: a schema named
 *		in migr.schemas that does not exist (a revision dropped it) is left
 *		out rather than failing the move.
 */
Jsonb *
schema_describe_recorded(void)
{
	return schema_describe_oids(schema_namespaces(NULL, true));
}

/*
 * schema_describe_oids
 *		The description of the schemas of an oid[] (NULL: the default set).
 */
static Jsonb *
schema_describe_oids(ArrayType *nsps)
{
	MemoryContext caller = CurrentMemoryContext;
	Datum		values[1];
	char		nulls[1];
	int			nestlevel;
	bool		isnull;
	Datum		result;
	Jsonb	   *out;

	values[0] = PointerGetDatum(nsps);
	nulls[0] = nsps ? ' ' : 'n';

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	nestlevel = schema_fix_gucs();
	if (schema_plan == NULL)
	{
		Oid			argtypes[1] = {OIDARRAYOID};
		/*
		 * A generic plan, kept for the session: planning this statement
		 * costs more than running it on a small schema, and the custom
		 * plans of the first executions would replan it every time.
		 */
		SPIPlanPtr	plan = SPI_prepare_cursor(schema_query, 1, argtypes,
											  CURSOR_OPT_GENERIC_PLAN);

		if (plan == NULL)
			elog(ERROR, "SPI_prepare failed for the schema description: %s",
				 SPI_result_code_string(SPI_result));
		if (SPI_keepplan(plan) != 0)
			elog(ERROR, "SPI_keepplan failed");
		schema_plan = plan;
	}
	/* not read-only: a fresh snapshot sees what the caller just did */
	if (SPI_execute_plan(schema_plan, values, nulls, false, 1) != SPI_OK_SELECT ||
		SPI_processed != 1)
		elog(ERROR, "could not read the schema description");
	result = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1,
						   &isnull);
	if (isnull)
		elog(ERROR, "the schema description is null");

	/* copy it out of SPI's memory before SPI_finish frees that */
	MemoryContextSwitchTo(caller);
	out = DatumGetJsonbPCopy(result);
	AtEOXact_GUC(true, nestlevel);
	if (SPI_finish() != SPI_OK_FINISH)
		elog(ERROR, "SPI_finish failed");
	return out;
}

/*
 * migr_schema(schemas text[] DEFAULT NULL) returns jsonb
 */
Datum
migr_schema(PG_FUNCTION_ARGS)
{
	ArrayType  *schemas = PG_ARGISNULL(0) ? NULL : PG_GETARG_ARRAYTYPE_P(0);

	PG_RETURN_JSONB_P(schema_describe(schemas));
}

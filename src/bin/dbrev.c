/*-------------------------------------------------------------------------
 *
 * dbrev.c
 *	  The database's revisions beside the folder's: one query for all of
 *	  them, and the graph they form with the files.
 *
 * The folder is the source of truth, and the database is where it is
 * applied; several verbs need both at once.  push compares them (what is
 * new, changed, only in the database) and looks at the heads the push
 * would leave; pull writes the revisions only the database has; rm
 * looks a revision up in both.  The database's revisions are read with one
 * query (scripts only when asked: a no-op push stays cheap), and
 * dbrev_dir() builds a RevDir of them, files taking the place of the
 * database's definition where both have a revision, so that revgraph.c
 * finds the heads of "what the database would hold after a push".
 *
 * Copyright (c) 2026, migr developers
 *
 * IDENTIFICATION
 *	  src/bin/dbrev.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include "common/logging.h"

#include "migr_fe.h"

static char **dbrev_split(const char *s, int *n);
static int	dbrev_cmp(const void *a, const void *b);

/*
 * dbrev_split
 *		A space-separated list (array_to_string(..., ' ')) as an array.
 *		Ids and labels hold no spaces.
 */
static char **
dbrev_split(const char *s, int *n)
{
	char	   *copy = pg_strdup(s);
	char	  **out = pg_malloc(sizeof(char *) * (strlen(s) / 2 + 2));
	char	   *save;
	char	   *tok;

	*n = 0;
	for (tok = strtok_r(copy, " ", &save); tok; tok = strtok_r(NULL, " ", &save))
		out[(*n)++] = tok;
	return out;
}

static int
dbrev_cmp(const void *a, const void *b)
{
	return strcmp(((const DbRev *) a)->id, ((const DbRev *) b)->id);
}

/*
 * dbrev_fetch
 *		Every revision of the database in one query, in definition order;
 *		with full, their scripts too.  NULL (after printing why) on failure.
 *		The partially applied state needs migr.partial (extension 1.1).
 */
DbRevs *
dbrev_fetch(PGconn *conn, bool full)
{
	DbRevs	   *db;
	PGresult   *res;
	bool		partial = false;
	char	   *sql;
	int			i;

	/* a push needs no partial state (the server refuses changes): spare it a round trip */
	if (full)
	{
		res = conn_exec(conn, "SELECT pg_catalog.to_regclass('migr.partial') IS NOT NULL",
						0, NULL);
		if (res == NULL)
			return NULL;
		partial = PQgetvalue(res, 0, 0)[0] == 't';
		PQclear(res);
	}
	sql = psprintf("SELECT r.id, r.checksum, r.message, "
				   "pg_catalog.array_to_string(r.branch_labels, ' '), "
				   "a.revision IS NOT NULL, "
				   "pg_catalog.array_to_string(r.down_revision, ' '), "
				   "pg_catalog.array_to_string(r.depends_on, ' '), r.kind, "
				   "%s, %s, %s "
				   "FROM migr.revision r "
				   "LEFT JOIN migr.applied a ON a.revision OPERATOR(pg_catalog.=) r.id "
				   "ORDER BY r.seq",
				   full ? "r.upgrade" : "NULL",
				   full ? "r.downgrade" : "NULL",
				   partial ?
				   "EXISTS (SELECT 1 FROM migr.partial p WHERE p.revision OPERATOR(pg_catalog.=) r.id)" :
				   "false");
	res = conn_exec(conn, sql, 0, NULL);
	pg_free(sql);
	if (res == NULL)
		return NULL;
	db = pg_malloc0(sizeof(DbRevs));
	db->res = res;
	db->n = PQntuples(res);
	db->revs = pg_malloc0(sizeof(DbRev) * Max(db->n, 1));
	for (i = 0; i < db->n; i++)
	{
		DbRev	   *r = &db->revs[i];

		r->seq = i;
		r->id = PQgetvalue(res, i, 0);
		r->checksum = PQgetvalue(res, i, 1);
		r->message = PQgetvalue(res, i, 2);
		r->labels = PQgetvalue(res, i, 3);
		r->applied = PQgetvalue(res, i, 4)[0] == 't';
		r->parents = dbrev_split(PQgetvalue(res, i, 5), &r->nparents);
		r->deps = dbrev_split(PQgetvalue(res, i, 6), &r->ndeps);
		r->kind = PQgetvalue(res, i, 7);
		r->upgrade = PQgetisnull(res, i, 8) ? NULL : PQgetvalue(res, i, 8);
		r->downgrade = PQgetisnull(res, i, 9) ? NULL : PQgetvalue(res, i, 9);
		r->partial = PQgetvalue(res, i, 10)[0] == 't';
	}
	/* a copy sorted by id, for lookups */
	db->by_id = pg_malloc(sizeof(DbRev) * Max(db->n, 1));
	memcpy(db->by_id, db->revs, sizeof(DbRev) * db->n);
	qsort(db->by_id, db->n, sizeof(DbRev), dbrev_cmp);
	return db;
}

/*
 * dbrev_find
 *		The database's revision of an id, or NULL.
 */
DbRev *
dbrev_find(DbRevs *db, const char *id)
{
	DbRev		key;

	key.id = id;
	return bsearch(&key, db->by_id, db->n, sizeof(DbRev), dbrev_cmp);
}

/*
 * dbrev_dir
 *		A RevDir of the database's revisions, linked.  With files, the
 *		folder's usable files come first and take the place of the
 *		database's definition of the same id: the graph a push would leave.
 *		Files only in the database are marked from_db, with path NULL.
 */
RevDir *
dbrev_dir(DbRevs *db, const RevDir *files)
{
	RevDir	   *rd = pg_malloc0(sizeof(RevDir));
	int		   *map = NULL;		/* files' index -> rd's */
	int			n = 0;
	int			i;

	rd->dir = files ? files->dir : pg_strdup("(database)");
	rd->files = pg_malloc0(sizeof(RevFile) * (db->n + (files ? files->nfiles : 0) + 1));
	if (files)
		map = pg_malloc(sizeof(int) * Max(files->nfiles, 1));
	if (files)
		for (i = 0; i < files->nfiles; i++)
		{
			RevFile    *f = &rd->files[n];

			map[i] = -1;
			if (!files->files[i].ok || !files->files[i].usable)
				continue;
			map[i] = n;
			*f = files->files[i];
			f->parent_idx = f->dep_idx = NULL;
			f->nchildren = 0;
			f->usable = false;
			f->applied = false;
			n++;
		}
	for (i = 0; i < db->n; i++)
	{
		DbRev	   *r = &db->revs[i];
		RevFile    *f;

		if (files && revgraph_find(files, r->id) >= 0)
		{
			int			k = map[revgraph_find(files, r->id)];

			/* the file's entry: note what the database says of it */
			if (k >= 0)
				rd->files[k].applied = r->applied || r->partial;
			continue;
		}
		f = &rd->files[n++];
		f->from_db = true;
		f->ok = true;
		f->id = (char *) r->id;
		f->name = psprintf("(database) %s", r->id);
		f->path = NULL;
		f->parents = r->parents;
		f->nparents = r->nparents;
		f->deps = r->deps;
		f->ndeps = r->ndeps;
		f->labels = dbrev_split(r->labels, &f->nlabels);
		f->message = (char *) r->message;
		f->kind = (char *) r->kind;
		f->upgrade = (char *) r->upgrade;
		f->downgrade = (char *) r->downgrade;
		f->applied = r->applied || r->partial;
	}
	rd->nfiles = n;
	pg_free(map);
	revgraph_link(rd);
	return rd;
}

/*
 * dbrev_heads_broken
 *		Whether "head" is ambiguous in a linked RevDir: several heads that
 *		are not each the head of their own labelled branch.
 */
bool
dbrev_heads_broken(const RevDir *rd)
{
	return rd->nheads > 1 && !rd->heads_labelled;
}

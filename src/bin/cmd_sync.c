/*-------------------------------------------------------------------------
 *
 * cmd_sync.c
 *	  Keeping the folder and the database in step: "migr pull" writes the
 *	  revisions that exist only in the database to files, "migr rm" removes
 *	  an unapplied revision from both.
 *
 * The folder is the source of truth.  A revision defined in the database
 * alone (by migr_merge() in psql, by another branch's push, by an older
 * client) is pulled into a file so that it is reviewed and versioned like
 * the others; the file's checksum is the database's, so the next push
 * finds it unchanged.  A revision that should never have been written is
 * removed with "migr rm": the server's migr_undefine() refuses an applied
 * or partially applied revision and one that others build on, and the
 * file goes only when the definition went (one transaction; the file is
 * written back if the commit fails).
 *
 * Copyright (c) 2026, migr developers
 *
 * IDENTIFICATION
 *	  src/bin/cmd_sync.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/logging.h"

#include "migr_fe.h"

static RevDir *sync_read_folder(const char *dir, bool create);
static bool sync_pull_one(const char *dir, DbRev *r);
static int	sync_find(RevDir *rd, DbRevs *db, const char *name, char **id);
static bool sync_restore(const char *path, const char *text, size_t len);

/*
 * sync_read_folder
 *		The folder, parsed and linked; NULL (after saying why) when a file
 *		cannot be read or parsed, or two files share an id: the ids the
 *		folder defines are then unknown.
 */
static RevDir *
sync_read_folder(const char *dir, bool create)
{
	struct stat st;
	RevDir	   *rd;
	int			bad = 0;
	int			i;

	if (create && stat(dir, &st) < 0 && errno == ENOENT)
	{
		if (mkdir(dir, 0777) < 0)
		{
			pg_log_error("could not create directory \"%s\": %m", dir);
			return NULL;
		}
		output_say("created folder %s\n", dir);
	}
	else if (!create && stat(dir, &st) < 0 && errno == ENOENT)
	{
		/* no folder: no file, which is not a problem here */
		rd = pg_malloc0(sizeof(RevDir));
		rd->dir = pg_strdup(dir);
		rd->files = pg_malloc0(sizeof(RevFile));
		revgraph_link(rd);
		return rd;
	}
	rd = revdir_read(dir);
	revdir_parse(rd, true);
	revgraph_link(rd);
	for (i = 0; i < rd->nfindings; i++)
	{
		const char *code = rd->findings[i].code;

		if (strcmp(code, "format") == 0 || strcmp(code, "unreadable") == 0 ||
			strcmp(code, "duplicate_id") == 0 ||
			strcmp(code, "invalid_name") == 0)
			bad++;
	}
	if (bad > 0)
	{
		fflush(stdout);
		revdir_print_findings(rd, stderr, true);
		pg_log_error("the folder \"%s\" has %d file%s that cannot be read; nothing was done",
					 dir, bad, bad == 1 ? "" : "s");
		pg_log_error_hint("Correct them; \"migr check --dir %s\" lists them.", dir);
		return NULL;
	}
	return rd;
}

/*
 * sync_pull_one
 *		Write one database revision to a file of the folder.
 */
static bool
sync_pull_one(const char *dir, DbRev *r)
{
	NewRev		nr;

	memset(&nr, 0, sizeof(nr));
	nr.id = (char *) r->id;
	nr.message = new_one_line(r->message);
	nr.nparents = r->nparents;
	nr.parents = (const char **) r->parents;
	nr.ndeps = r->ndeps;
	nr.deps = (const char **) r->deps;
	nr.label = r->labels[0] ? r->labels : NULL;
	nr.kind = r->kind;
	nr.upgrade = r->upgrade ? r->upgrade : "";
	nr.downgrade = r->downgrade;
	nr.quiet = true;
	if (!new_write(dir, &nr))
		return false;
	output_say("pulled %s  %s%s\n", r->id, nr.path,
			   r->applied ? " (applied)" : "");
	return true;
}

/*
 * cmd_pull
 *		migr pull [--dir DIR] [--dry-run]
 */
int
cmd_pull(int argc, char **argv)
{
	const char *dir = migr_dir();
	PGconn	   *conn = conn_open();
	DbRevs	   *db;
	RevDir	   *rd;
	int			n = 0;
	int			i;

	if (conn == NULL)
		return MIGR_EXIT_FAILED;
	db = dbrev_fetch(conn, true);
	conn_close(conn);
	if (db == NULL)
		return MIGR_EXIT_FAILED;
	rd = sync_read_folder(dir, !opts.dry_run);
	if (rd == NULL)
		return MIGR_EXIT_FAILED;
	for (i = 0; i < db->n; i++)
	{
		DbRev	   *r = &db->revs[i];

		if (revgraph_find(rd, r->id) >= 0)
			continue;
		n++;
		if (opts.dry_run)
			output_say("would pull %s  %s\n", r->id, r->message);
		else if (!sync_pull_one(dir, r))
		{
			pg_log_error("pulled %d revision%s before the failure", n - 1,
						 n - 1 == 1 ? "" : "s");
			return MIGR_EXIT_FAILED;
		}
	}
	if (n == 0)
	{
		output_say("nothing to pull: every revision of the database has a file in %s\n",
				   dir);
		return MIGR_EXIT_NOTHING;
	}
	output_say("%s %d revision%s into %s\n", opts.dry_run ? "would pull" : "pulled",
			   n, n == 1 ? "" : "s", dir);
	return MIGR_EXIT_DONE;
}

/*
 * sync_find
 *		The index of the file of a revision (id or unique prefix of an id of
 *		the folder or the database), -1 if no file; *id gets the full id.
 *		-2 after printing why when the name is unknown or ambiguous.
 */
static int
sync_find(RevDir *rd, DbRevs *db, const char *name, char **id)
{
	size_t		len = strlen(name);
	char	   *found = NULL;
	int			nfound = 0;
	int			i;

	if (revgraph_find(rd, name) >= 0 || (db && dbrev_find(db, name)))
	{
		*id = pg_strdup(name);
		return revgraph_find(rd, name);
	}
	for (i = 0; i < rd->nfiles; i++)
		if (rd->files[i].usable && strncmp(rd->files[i].id, name, len) == 0)
		{
			found = rd->files[i].id;
			nfound++;
		}
	for (i = 0; db && i < db->n; i++)
		if (strncmp(db->revs[i].id, name, len) == 0 &&
			revgraph_find(rd, db->revs[i].id) < 0)
		{
			found = (char *) db->revs[i].id;
			nfound++;
		}
	if (nfound == 1)
	{
		*id = pg_strdup(found);
		return revgraph_find(rd, found);
	}
	if (nfound > 1)
		pg_log_error("\"%s\" is the prefix of %d revisions", name, nfound);
	else
		pg_log_error("revision \"%s\" is defined neither by a file of \"%s\" nor in the database",
					 name, rd->dir);
	return -2;
}

/*
 * sync_restore
 *		Write a removed file back.
 */
static bool
sync_restore(const char *path, const char *text, size_t len)
{
	int			fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0666);
	bool		ok;

	if (fd < 0)
		return false;
	ok = write(fd, text, len) == (ssize_t) len;
	return close(fd) == 0 && ok;
}

/*
 * cmd_rm
 *		migr rm REV [--dir DIR]: delete the revision's file and undefine it
 *		in the database, both or neither.
 */
int
cmd_rm(int argc, char **argv)
{
	const char *dir = migr_dir();
	PGconn	   *conn = conn_open();
	DbRevs	   *db;
	RevDir	   *rd;
	RevFile    *f = NULL;
	DbRev	   *r;
	char	   *id = NULL;
	int			k;
	int			i,
				j;
	const char *params[1];
	PGresult   *res;

	if (conn == NULL)
		return MIGR_EXIT_FAILED;
	db = dbrev_fetch(conn, true);
	rd = db ? sync_read_folder(dir, false) : NULL;
	if (rd == NULL || (k = sync_find(rd, db, argv[0], &id)) == -2)
	{
		conn_close(conn);
		return MIGR_EXIT_FAILED;
	}
	if (k >= 0)
		f = &rd->files[k];
	r = dbrev_find(db, id);

	/* the folder's own children: the server would not see them */
	for (i = 0; f && i < rd->nfiles; i++)
	{
		RevFile    *c = &rd->files[i];

		for (j = 0; c->usable && j < c->nparents + c->ndeps; j++)
			if ((j < c->nparents ? c->parent_idx[j] : c->dep_idx[j - c->nparents]) == k)
			{
				pg_log_error("cannot remove revision \"%s\": %s (%s) %s it",
							 id, c->id, c->path,
							 j < c->nparents ? "builds on" : "depends on");
				pg_log_error_hint("Remove or change the revisions that build on it first.");
				conn_close(conn);
				return MIGR_EXIT_FAILED;
			}
	}

	if (!conn_command(conn, "BEGIN"))
	{
		conn_close(conn);
		return MIGR_EXIT_FAILED;
	}
	if (r != NULL)
	{
		char	   *sql = psprintf("SELECT %s.migr_undefine($1)", conn_schema());

		params[0] = id;
		res = conn_run(conn, sql, 1, params);
		pg_free(sql);
		if (conn_failed(res))
		{
			if (strcmp(conn_sqlstate(res), "42883") == 0)
			{
				pg_log_error("the server's migr has no migr_undefine(): the extension is older than 1.2");
				pg_log_error_hint("Run ALTER EXTENSION migr UPDATE in the database.");
			}
			else
				conn_report_error(conn, res);
			pg_log_error("nothing was removed");
			PQclear(res);
			conn_close(conn);
			return MIGR_EXIT_FAILED;
		}
		PQclear(res);
	}
	if (f != NULL && unlink(f->path) != 0)
	{
		pg_log_error("could not remove file \"%s\": %m; nothing was removed", f->path);
		conn_close(conn);
		return MIGR_EXIT_FAILED;
	}
	if (!conn_command(conn, "COMMIT"))
	{
		if (f != NULL && !sync_restore(f->path, f->text, f->len))
			pg_log_error("could not write \"%s\" back: %m", f->path);
		pg_log_error("nothing was removed");
		conn_close(conn);
		return MIGR_EXIT_FAILED;
	}
	conn_close(conn);
	if (f && r)
		output_say("removed revision %s: deleted %s and undefined it in the database\n",
				   id, f->path);
	else if (f)
		output_say("removed revision %s: deleted %s (it was not defined in the database)\n",
				   id, f->path);
	else
		output_say("removed revision %s: undefined it in the database (it had no file in %s)\n",
				   id, dir);
	return MIGR_EXIT_DONE;
}

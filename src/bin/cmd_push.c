/*-------------------------------------------------------------------------
 *
 * cmd_push.c
 *	  "migr push": define the revisions of a folder in the database,
 *	  sending only what is new or changed.
 *
 * The folder is read and checked first; a folder with errors pushes
 * nothing.  Then one query fetches the id, checksum, message, branch labels
 * and applied state of every revision in the database, and each file is
 * compared with its row by the checksum the client computes exactly as the
 * server does (src/common/revsum.c), by message and by labels.  A file whose
 * applied revision changed is reported by name and nothing is pushed: the
 * server would refuse it with MG002 anyway, naming only the id.  What is
 * new or changed goes in one statement, migr_load() over an array of file
 * texts, parents before children: one round trip and one transaction
 * whatever the number of files, so that pushing a thousand unchanged files
 * costs one query and pushing a thousand new ones costs two.
 *
 * Copyright (c) 2026, migr developers
 *
 * IDENTIFICATION
 *	  src/bin/cmd_push.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include "common/logging.h"
#include "pqexpbuffer.h"

#include "migr_fe.h"

typedef enum PushState
{
	PUSH_UNCHANGED,
	PUSH_NEW,
	PUSH_CHANGED,
	PUSH_APPLIED_CHANGED
} PushState;

static bool push_fatal_finding(const RevFinding *fd);
static char *push_labels(const RevFile *f);
static PushState push_compare(const RevFile *f, const DbRev *db, char *what,
							  size_t size);
static void push_warn_undefined(RevDir *rd, DbRevs *db);
static int	push_db_only(RevDir *rd, DbRevs *db);
static bool push_check_heads(RevDir *rd, DbRevs *db);
static int	push_str_cmp(const void *a, const void *b);
static char **push_db_labels(DbRev *revs, int nrevs, int *n);
static const char *push_blame(RevDir *rd, int *idx, int n,
							  const PGresult *res);
static int	push_send(PGconn *conn, RevDir *rd, int *idx, int n);

/*
 * push_fatal_finding
 *		Everything wrong with a folder stops a push, except parents and
 *		dependencies without a file (they may be defined in the database
 *		already) and several heads (a warning).
 */
static bool
push_fatal_finding(const RevFinding *fd)
{
	return strcmp(fd->severity, "error") == 0 &&
		strcmp(fd->code, "missing_parent") != 0 &&
		strcmp(fd->code, "missing_dependency") != 0;
}

/*
 * push_labels
 *		A file's branch labels as array_to_string(branch_labels, ' ').
 */
static char *
push_labels(const RevFile *f)
{
	PQExpBufferData buf;
	int			i;

	initPQExpBuffer(&buf);
	for (i = 0; i < f->nlabels; i++)
		appendPQExpBuffer(&buf, "%s%s", i ? " " : "", f->labels[i]);
	return buf.data;
}

/*
 * push_compare
 *		How a file stands against the database's row; *what says what
 *		differs, as the server's define_differences() would group it.
 */
static PushState
push_compare(const RevFile *f, const DbRev *db, char *what, size_t size)
{
	char	   *labels;
	bool		same_sum,
				same_msg,
				same_labels;

	what[0] = '\0';
	if (db == NULL)
		return PUSH_NEW;
	labels = push_labels(f);
	same_sum = strcmp(f->checksum, db->checksum) == 0;
	same_msg = strcmp(f->message, db->message) == 0;
	same_labels = strcmp(labels, db->labels) == 0;
	pg_free(labels);
	if (same_sum && same_msg && same_labels)
		return PUSH_UNCHANGED;
	snprintf(what, size, "%s%s%s%s%s",
			 same_sum ? "" : "scripts, parents, dependencies or kind",
			 !same_sum && (!same_msg || !same_labels) ? ", " : "",
			 same_msg ? "" : "message",
			 !same_msg && !same_labels ? ", " : "",
			 same_labels ? "" : "branch_labels");
	return db->applied ? PUSH_APPLIED_CHANGED : PUSH_CHANGED;
}

static int
push_str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

/*
 * push_db_labels
 *		The database's branch labels, sorted for lookups.
 */
static char **
push_db_labels(DbRev *revs, int nrevs, int *n)
{
	char	  **labels = NULL;
	int			max = 0;
	int			i;

	*n = 0;
	for (i = 0; i < nrevs; i++)
	{
		char	   *copy = pg_strdup(revs[i].labels);
		char	   *label;
		char	   *save;

		for (label = strtok_r(copy, " ", &save); label != NULL;
			 label = strtok_r(NULL, " ", &save))
		{
			if (*n == max)
			{
				max = max ? 2 * max : 16;
				labels = pg_realloc(labels, sizeof(char *) * max);
			}
			labels[(*n)++] = label;
		}
	}
	if (*n > 0)
		qsort(labels, *n, sizeof(char *), push_str_cmp);
	return labels;
}

/*
 * push_warn_undefined
 *		Parents and dependencies that neither a file nor the database
 *		defines: upgrading through them will fail.  A dependency may name
 *		a branch label of the database's.
 */
static void
push_warn_undefined(RevDir *rd, DbRevs *db)
{
	DbRev	   *revs = db->by_id;
	int			nrevs = db->n;

	char	  **labels = NULL;
	int			nlabels = -1;	/* not read yet */
	int			i,
				j;

	for (i = 0; i < rd->nfiles; i++)
	{
		RevFile    *f = &rd->files[i];

		if (!f->ok || f->parent_idx == NULL)
			continue;
		for (j = 0; j < f->nparents; j++)
			if (f->parent_idx[j] < 0 && !dbrev_find(db, f->parents[j]))
				pg_log_warning("%s: parent \"%s\" of revision \"%s\" is defined neither by a file nor in the database",
							   f->path, f->parents[j], f->id);
		for (j = 0; j < f->ndeps; j++)
		{
			if (f->dep_idx[j] >= 0 || dbrev_find(db, f->deps[j]))
				continue;
			if (nlabels < 0)
				labels = push_db_labels(revs, nrevs, &nlabels);
			if (nlabels > 0 &&
				bsearch(&f->deps[j], labels, nlabels, sizeof(char *),
						push_str_cmp))
				continue;
			pg_log_warning("%s: dependency \"%s\" of revision \"%s\" is defined neither by a file nor in the database",
						   f->path, f->deps[j], f->id);
		}
	}
}

/*
 * push_array_literal
 *		The texts of the files to send as one text[] literal (also used by
 *		the fleet's --push, cmd_fleet.c).
 */
void
push_array_literal(PQExpBuffer buf, RevDir *rd, int *idx, int n)
{
	int			i;

	appendPQExpBufferChar(buf, '{');
	for (i = 0; i < n; i++)
	{
		const char *c;

		if (i > 0)
			appendPQExpBufferChar(buf, ',');
		appendPQExpBufferChar(buf, '"');
		for (c = rd->files[idx[i]].text; *c; c++)
		{
			if (*c == '"' || *c == '\\')
				appendPQExpBufferChar(buf, '\\');
			appendPQExpBufferChar(buf, *c);
		}
		appendPQExpBufferChar(buf, '"');
	}
	appendPQExpBufferChar(buf, '}');
}

/*
 * push_blame
 *		The file a failed push is about: the first file sent whose id the
 *		server's message, detail or context names in quotes.
 */
static const char *
push_blame(RevDir *rd, int *idx, int n, const PGresult *res)
{
	const int	fields[] = {PG_DIAG_MESSAGE_PRIMARY, PG_DIAG_CONTEXT,
	PG_DIAG_MESSAGE_DETAIL};
	unsigned	k;
	int			i;

	for (k = 0; k < lengthof(fields); k++)
	{
		const char *text = PQresultErrorField(res, fields[k]);

		if (text == NULL)
			continue;
		for (i = 0; i < n; i++)
		{
			char	   *quoted = psprintf("\"%s\"", rd->files[idx[i]].id);
			bool		hit = strstr(text, quoted) != NULL;

			pg_free(quoted);
			if (hit)
				return rd->files[idx[i]].path;
		}
	}
	return NULL;
}

/*
 * push_send
 *		Define the files in one statement (one transaction).
 */
static int
push_send(PGconn *conn, RevDir *rd, int *idx, int n)
{
	PQExpBufferData arr;
	char	   *sql;
	const char *params[1];
	PGresult   *res;
	double		t0 = output_now_ms();
	char		took[32];

	initPQExpBuffer(&arr);
	push_array_literal(&arr, rd, idx, n);
	params[0] = arr.data;
	sql = psprintf("SELECT u.n, %s.migr_load(u.s) "
				   "FROM pg_catalog.unnest($1::pg_catalog.text[]) "
				   "WITH ORDINALITY AS u(s, n)", conn_schema());
	output_progress("migr: pushing %d revision%s...\n", n, n == 1 ? "" : "s");
	res = conn_run(conn, sql, 1, params);
	termPQExpBuffer(&arr);
	pg_free(sql);
	if (conn_failed(res))
	{
		const char *file = push_blame(rd, idx, n, res);

		conn_report_error(conn, res);
		revdir_report_line(rd, res);
		if (file)
			pg_log_error("push failed on %s; nothing was pushed", file);
		else
			pg_log_error("push failed; nothing was pushed");
		if (strcmp(conn_sqlstate(res), "MG002") == 0)
			pg_log_error_hint("An applied revision never changes: restore the file as it was applied, and write the change as a new revision (migr new).");
		PQclear(res);
		return MIGR_EXIT_FAILED;
	}
	PQclear(res);
	output_ms(took, sizeof(took), output_now_ms() - t0);
	output_progress("migr: pushed in %s\n", took);
	return MIGR_EXIT_DONE;
}

/*
 * push_db_only
 *		Report the revisions that the database defines and the folder has no
 *		file for (a merge made in the database, another branch's push): the
 *		folder is the source of truth, so they are worth knowing about.
 *		With -v each is listed.  Returns how many there are.
 */
static int
push_db_only(RevDir *rd, DbRevs *db)
{
	int			n = 0;
	int			i;

	for (i = 0; i < db->n; i++)
	{
		DbRev	   *r = &db->revs[i];

		if (revgraph_find(rd, r->id) >= 0)
			continue;
		n++;
		if (opts.verbose)
			output_say("only in db %s  %s%s\n", r->id,
					   r->applied ? "(applied) " : "", r->message);
	}
	if (n > 0 && !opts.quiet)
	{
		fflush(stdout);
		pg_log_info("%d revision%s of the database %s no file in \"%s\"; \"migr pull\" writes %s to files",
					n, n == 1 ? "" : "s", n == 1 ? "has" : "have", rd->dir,
					n == 1 ? "it" : "them");
	}
	return n;
}

/*
 * push_check_heads
 *		A push that leaves the database with several heads, not each the
 *		head of its own labelled branch, where "head" named one revision
 *		before, breaks every migr_upgrade('head') in the database.  Refuse
 *		it (false) unless --allow-heads; a database whose "head" was
 *		already ambiguous only gets a warning.
 */
static bool
push_check_heads(RevDir *rd, DbRevs *db)
{
	RevDir	   *before = dbrev_dir(db, NULL);
	RevDir	   *after = dbrev_dir(db, rd);
	PQExpBufferData list;
	int			i;

	if (!dbrev_heads_broken(after))
		return true;
	initPQExpBuffer(&list);
	for (i = 0; i < after->nheads; i++)
	{
		RevFile    *h = &after->files[after->heads[i]];

		appendPQExpBuffer(&list, "%s%s (%s)", i ? ", " : "", h->id,
						  h->from_db ? "only in the database" : h->path);
	}
	fflush(stdout);
	if (dbrev_heads_broken(before) || opts.allow_heads || opts.dry_run)
	{
		pg_log_warning("after this push the database has %d heads: %s",
					   after->nheads, list.data);
		if (!dbrev_heads_broken(before) && !opts.allow_heads)
			pg_log_warning_detail("The push will be refused without --allow-heads.");
		pg_log_warning_hint("Until they are merged (\"migr merge heads\", then push), migr_upgrade('head') fails with MG001.");
		termPQExpBuffer(&list);
		return true;
	}
	pg_log_error("this push would leave the database with %d heads: %s",
				 after->nheads, list.data);
	pg_log_error_detail("The database has %s; with several unlabelled heads every migr_upgrade('head') fails (MG001).",
						before->nheads == 0 ? "no revision yet" : "one head");
	pg_log_error_hint("Merge them first (\"migr merge heads --dir %s\", then push), or push anyway with --allow-heads.",
					  rd->dir);
	pg_log_error("nothing was pushed");
	termPQExpBuffer(&list);
	return false;
}

/*
 * push_folder
 *		The work of "migr push", also done by "migr upgrade --push", on a
 *		folder read (not yet parsed) by revdir_read().  Returns an exit
 *		code; *pushed says whether anything was defined.
 */
int
push_folder(PGconn *conn, RevDir *rd, bool *pushed)
{
	const char *dir = rd->dir;
	const char *scs = PQparameterStatus(conn, "standard_conforming_strings");
	DbRevs	   *db;
	int		   *order;
	int			norder;
	int		   *send;
	int			nsend = 0;
	int			nnew = 0;
	int			nrefused = 0;
	int			fatal = 0;
	int			i;

	*pushed = false;
	revdir_parse(rd, scs == NULL || strcmp(scs, "on") == 0);
	revgraph_link(rd);
	for (i = 0; i < rd->nfindings; i++)
		if (push_fatal_finding(&rd->findings[i]))
			fatal++;
	if (fatal > 0)
	{
		fflush(stdout);
		revdir_print_findings(rd, stderr, true);
		pg_log_error("the folder \"%s\" has %d problem%s; nothing was pushed",
					 dir, fatal, fatal == 1 ? "" : "s");
		return MIGR_EXIT_FAILED;
	}

	/* every revision of the database, in one query */
	db = dbrev_fetch(conn, false);
	if (db == NULL)
		return MIGR_EXIT_FAILED;
	if (rd->nfiles == 0)
	{
		pg_log_warning("the folder \"%s\" holds no revision file (*.sql)", dir);
		push_db_only(rd, db);
		output_say("nothing to push\n");
		return MIGR_EXIT_NOTHING;
	}

	/* compare, parents first */
	order = revgraph_order(rd, &norder);
	send = pg_malloc(sizeof(int) * Max(norder, 1));
	for (i = 0; i < norder; i++)
	{
		RevFile    *f = &rd->files[order[i]];
		DbRev	   *r = dbrev_find(db, f->id);
		char		what[128];

		switch (push_compare(f, r, what, sizeof(what)))
		{
			case PUSH_UNCHANGED:
				if (opts.verbose)
					output_say("unchanged  %s  %s\n", f->id, f->path);
				break;
			case PUSH_NEW:
				nnew++;
				send[nsend++] = order[i];
				if (opts.verbose || opts.dry_run)
					output_say("new        %s  %s\n", f->id, f->path);
				break;
			case PUSH_CHANGED:
				send[nsend++] = order[i];
				if (opts.verbose || opts.dry_run)
					output_say("changed    %s  %s (%s)\n", f->id, f->path, what);
				break;
			case PUSH_APPLIED_CHANGED:
				nrefused++;
				fflush(stdout);
				pg_log_error("%s: revision \"%s\" is %s and cannot be changed (MG002)",
							 f->path, f->id,
							 r->applied ? "applied" : "partially applied");
				pg_log_error_detail("The file differs from the applied definition in: %s.",
									what);
				break;
		}
	}
	if (nrefused > 0)
	{
		pg_log_error_hint("An applied revision never changes: restore %s as applied (for example with git checkout), and write the change as a new revision (migr new).",
						  nrefused == 1 ? "the file" : "the files");
		pg_log_error("nothing was pushed");
		return MIGR_EXIT_FAILED;
	}
	push_warn_undefined(rd, db);
	push_db_only(rd, db);

	if (nsend == 0)
	{
		output_say("nothing to push: the %d revision%s of %s %s already defined\n",
				   norder, norder == 1 ? "" : "s", dir,
				   norder == 1 ? "is" : "are");
		return MIGR_EXIT_NOTHING;
	}
	if (!push_check_heads(rd, db))
		return MIGR_EXIT_FAILED;
	if (opts.dry_run)
	{
		output_say("would push %d revision%s (%d new, %d changed); %d unchanged\n",
				   nsend, nsend == 1 ? "" : "s", nnew, nsend - nnew,
				   norder - nsend);
		return MIGR_EXIT_DONE;
	}
	if (push_send(conn, rd, send, nsend) != MIGR_EXIT_DONE)
		return MIGR_EXIT_FAILED;
	*pushed = true;
	output_say("pushed %d revision%s (%d new, %d changed); %d unchanged\n",
			   nsend, nsend == 1 ? "" : "s", nnew, nsend - nnew,
			   norder - nsend);
	return MIGR_EXIT_DONE;
}

/*
 * cmd_push
 *		migr push [--dir DIR] [--dry-run]
 */
int
cmd_push(int argc, char **argv)
{
	PGconn	   *conn = conn_start();
	RevDir	   *rd = revdir_read(migr_dir());	/* while the server starts */
	bool		pushed;
	int			rc;

	conn = conn_complete(conn);
	if (conn == NULL)
		return MIGR_EXIT_FAILED;
	rc = push_folder(conn, rd, &pushed);
	conn_close(conn);
	return rc;
}

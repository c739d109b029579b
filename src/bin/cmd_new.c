/*-------------------------------------------------------------------------
 *
 * cmd_new.c
 *	  Writing revision files: "migr new" (alembic revision) and
 *	  "migr merge --dir" (alembic merge).
 *
 * Both work on the folder alone, like Alembic: the new revision's
 * down_revision is the head of the files, not of any database.  A folder
 * with several heads is refused unless --head says which to build on; a
 * merge takes every head (or the revisions named).  The new file is
 * "<id>_<slug of the message>.sql", in the format the README describes
 * under "Revision files".
 *
 * Copyright (c) 2026, migr developers
 *
 * IDENTIFICATION
 *	  src/bin/cmd_new.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include <ctype.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/logging.h"
#include "pqexpbuffer.h"

#include "migr_fe.h"

#define NEW_SLUG_MAX	40		/* as Alembic's truncate_slug_length */

static RevDir *new_read_folder(const char *dir, bool create);
static bool new_fatal_finding(const RevFinding *fd);
static char *new_random_id(void);
static char *new_slug(const char *message);
static bool new_pick_id(RevDir *rd, NewRev *nr);

/*
 * new_fatal_finding
 *		Problems that make the folder's heads unknowable: a file that cannot
 *		be read or parsed, two files with one id, a cycle.  A parent with no
 *		file (an old revision removed from the folder) or an empty upgrade
 *		(a file just written by "migr new") does not stop another "new".
 */
static bool
new_fatal_finding(const RevFinding *fd)
{
	return strcmp(fd->severity, "error") == 0 &&
		strcmp(fd->code, "missing_parent") != 0 &&
		strcmp(fd->code, "missing_dependency") != 0 &&
		strcmp(fd->code, "empty_upgrade") != 0;
}

/*
 * new_read_folder
 *		Read and check the folder; NULL (after printing why) if it is not
 *		usable.  With create, a missing folder is made.
 */
static RevDir *
new_read_folder(const char *dir, bool create)
{
	RevDir	   *rd;
	struct stat st;
	int			i;
	int			fatal = 0;

	if (create && stat(dir, &st) < 0 && errno == ENOENT)
	{
		if (mkdir(dir, 0777) < 0)
		{
			pg_log_error("could not create directory \"%s\": %m", dir);
			return NULL;
		}
		output_say("created folder %s\n", dir);
	}
	rd = revdir_read(dir);
	revdir_parse(rd, true);
	revgraph_link(rd);
	for (i = 0; i < rd->nfindings; i++)
		if (new_fatal_finding(&rd->findings[i]))
			fatal++;
	if (fatal > 0)
	{
		fflush(stdout);
		revdir_print_findings(rd, stderr, true);
		pg_log_error("the folder \"%s\" has %d problem%s; no file was written",
					 dir, fatal, fatal == 1 ? "" : "s");
		pg_log_error_hint("Correct them; \"migr check --dir %s\" lists them.",
						  dir);
		return NULL;
	}
	return rd;
}

/*
 * new_resolve
 *		A revision of the folder by id, unique id prefix, branch label, or
 *		"label@head"; -1 (after printing why, unless quiet) if none.
 */
int
new_resolve(RevDir *rd, const char *name, bool quiet)
{
	int			found = -1;
	int			nfound = 0;
	size_t		len = strlen(name);
	int			i,
				j;
	const char *at = strstr(name, "@head");

	if ((i = revgraph_find(rd, name)) >= 0)
		return i;
	if (at != NULL && at[5] == '\0')
	{
		char	   *label = pnstrdup(name, at - name);

		/* the head of a branch: a head that the labelled file leads to */
		for (i = 0; i < rd->nfiles && found < 0; i++)
			for (j = 0; j < rd->files[i].nlabels; j++)
				if (rd->files[i].ok && strcmp(rd->files[i].labels[j], label) == 0)
					found = i;
		if (found >= 0)
		{
			int			cur = found;
			bool		moved = true;

			/* follow the only child while there is one */
			while (moved && rd->files[cur].nchildren == 1)
			{
				moved = false;
				for (i = 0; i < rd->nfiles && !moved; i++)
				{
					RevFile    *f = &rd->files[i];

					if (!f->ok || f->parent_idx == NULL)
						continue;
					for (j = 0; j < f->nparents; j++)
						if (f->parent_idx[j] == cur)
						{
							cur = i;
							moved = true;
							break;
						}
				}
			}
			if (rd->files[cur].nchildren == 0)
				return cur;
			if (!quiet)
				pg_log_error("the branch \"%s\" has several heads", label);
			return -1;
		}
		if (!quiet)
			pg_log_error("no file of \"%s\" carries the branch label \"%s\"",
						 rd->dir, label);
		return -1;
	}
	for (i = 0; i < rd->nfiles; i++)
	{
		RevFile    *f = &rd->files[i];

		if (!f->ok)
			continue;
		for (j = 0; j < f->nlabels; j++)
			if (strcmp(f->labels[j], name) == 0)
				return i;
		if (strncmp(f->id, name, len) == 0 && revgraph_find(rd, f->id) == i)
		{
			found = i;
			nfound++;
		}
	}
	if (nfound == 1)
		return found;
	if (!quiet)
	{
		if (nfound > 1)
			pg_log_error("\"%s\" is the prefix of %d revisions in \"%s\"",
						 name, nfound, rd->dir);
		else
			pg_log_error("no file of \"%s\" defines revision \"%s\"",
						 rd->dir, name);
	}
	return -1;
}

/*
 * new_random_id
 *		12 random lowercase hex digits, as Alembic and migr_define() make.
 */
static char *
new_random_id(void)
{
	char	   *id = pg_malloc(MIGR_RANDOM_ID_LEN + 1);

	if (!revname_random(id))
	{
		pg_log_error("could not generate a random revision id");
		exit(MIGR_EXIT_FAILED);
	}
	return id;
}

/*
 * new_one_line
 *		A message fit for a directive line: newlines become spaces, outer
 *		white space goes.
 */
char *
new_one_line(const char *message)
{
	char	   *m = pg_strdup(message ? message : "");
	char	   *c;
	char	   *end;

	for (c = m; *c; c++)
		if (*c == '\n' || *c == '\r' || *c == '\t')
			*c = ' ';
	for (c = m; *c == ' '; c++)
		;
	end = c + strlen(c);
	while (end > c && end[-1] == ' ')
		end--;
	*end = '\0';
	return c;
}

/*
 * new_slug
 *		The message as a file-name part: lowercase letters and digits joined
 *		by "_", cut at a word boundary near 40 characters.
 */
static char *
new_slug(const char *message)
{
	size_t		len = strlen(message);
	char	   *slug = pg_malloc(len + 1);
	size_t		n = 0;
	const char *c;

	for (c = message; *c; c++)
	{
		unsigned char ch = (unsigned char) *c;

		if (isascii(ch) && isalnum(ch))
			slug[n++] = tolower(ch);
		else if (n > 0 && slug[n - 1] != '_')
			slug[n++] = '_';
	}
	while (n > 0 && slug[n - 1] == '_')
		n--;
	slug[n] = '\0';
	if (n > NEW_SLUG_MAX)
	{
		char	   *cut = slug + NEW_SLUG_MAX;

		*cut = '\0';
		cut = strrchr(slug, '_');
		if (cut != NULL && cut > slug + NEW_SLUG_MAX / 2)
			*cut = '\0';
	}
	return slug;
}

/*
 * new_pick_id
 *		--rev-id, checked, or a fresh random id unused in the folder.
 */
static bool
new_pick_id(RevDir *rd, NewRev *nr)
{
	const char *why;

	if (opts.rev_id)
	{
		if (!revdir_check_name(opts.rev_id, &why))
			return migr_usage_error("invalid revision id \"%s\": %s",
									opts.rev_id, why);
		if (revgraph_find(rd, opts.rev_id) >= 0)
		{
			pg_log_error("revision \"%s\" is already defined by %s",
						 opts.rev_id,
						 rd->files[revgraph_find(rd, opts.rev_id)].path);
			return false;
		}
		nr->id = pg_strdup(opts.rev_id);
		return true;
	}
	do
		nr->id = new_random_id();
	while (revgraph_find(rd, nr->id) >= 0);
	return true;
}

/*
 * new_write
 *		Write the file; never overwrite one.  A revision from "migr new" gets
 *		an empty upgrade and a downgrade template to fill in; a merge, empty
 *		scripts; one pulled from the database (nr->upgrade set), its scripts.
 */
bool
new_write(const char *dir, NewRev *nr)
{
	PQExpBufferData buf;
	char	   *slug = new_slug(nr->message);
	char	   *path;
	int			fd;
	int			i;

	path = slug[0] ? psprintf("%s/%s_%s.sql", dir, nr->id, slug) :
		psprintf("%s/%s.sql", dir, nr->id);

	initPQExpBuffer(&buf);
	appendPQExpBuffer(&buf, "-- migr:revision %s\n", nr->id);
	appendPQExpBufferStr(&buf, "-- migr:down_revision");
	if (nr->nparents == 0)
		appendPQExpBufferStr(&buf, " base");
	for (i = 0; i < nr->nparents; i++)
		appendPQExpBuffer(&buf, " %s", nr->parents[i]);
	appendPQExpBufferChar(&buf, '\n');
	if (nr->ndeps > 0)
	{
		appendPQExpBufferStr(&buf, "-- migr:depends_on");
		for (i = 0; i < nr->ndeps; i++)
			appendPQExpBuffer(&buf, " %s", nr->deps[i]);
		appendPQExpBufferChar(&buf, '\n');
	}
	if (nr->label)
		appendPQExpBuffer(&buf, "-- migr:branch_labels %s\n", nr->label);
	if (nr->kind && strcmp(nr->kind, "schema") != 0)
		appendPQExpBuffer(&buf, "-- migr:kind %s\n", nr->kind);
	appendPQExpBuffer(&buf, "-- migr:message %s\n", nr->message);
	if (nr->upgrade)
	{
		appendPQExpBuffer(&buf, "-- migr:upgrade\n%s", nr->upgrade);
		if (nr->upgrade[0] && nr->upgrade[strlen(nr->upgrade) - 1] != '\n')
			appendPQExpBufferChar(&buf, '\n');
		if (nr->downgrade)
		{
			appendPQExpBuffer(&buf, "-- migr:downgrade\n%s", nr->downgrade);
			if (nr->downgrade[0] &&
				nr->downgrade[strlen(nr->downgrade) - 1] != '\n')
				appendPQExpBufferChar(&buf, '\n');
		}
	}
	else if (nr->merge)
		appendPQExpBufferStr(&buf,
							 "-- migr:upgrade\n"
							 "-- migr:downgrade\n");
	else
		appendPQExpBufferStr(&buf,
							 "-- migr:upgrade\n"
							 "\n"
							 "-- migr:downgrade\n"
							 NEW_DOWNGRADE_TEMPLATE);

	nr->path = path;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0666);
	if (fd < 0)
	{
		pg_log_error("could not create file \"%s\": %m", path);
		return false;
	}
	if (write(fd, buf.data, buf.len) != (ssize_t) buf.len || close(fd) != 0)
	{
		pg_log_error("could not write file \"%s\": %m", path);
		unlink(path);
		return false;
	}
	if (nr->quiet)
		;
	else if (nr->nparents == 0)
		output_say("created %s: revision %s, a root\n", path, nr->id);
	else
	{
		PQExpBufferData list;

		initPQExpBuffer(&list);
		for (i = 0; i < nr->nparents; i++)
			appendPQExpBuffer(&list, "%s%s", i ? " " : "", nr->parents[i]);
		output_say("created %s: revision %s on %s\n", path, nr->id, list.data);
		termPQExpBuffer(&list);
	}
	termPQExpBuffer(&buf);
	return true;
}

/*
 * cmd_new
 *		migr new -m MESSAGE [--dir DIR] [--head REV] [--branch LABEL]
 *				 [--depends-on REV]... [--rev-id ID]
 */
int
cmd_new(int argc, char **argv)
{
	const char *dir = migr_dir();
	RevDir	   *rd;
	NewRev		nr;
	const char *why;
	int			i,
				j;

	memset(&nr, 0, sizeof(nr));
	if (opts.message == NULL)
	{
		migr_usage_error("\"new\" needs a message: migr new -m \"what it does\"");
		return MIGR_EXIT_USAGE;
	}
	nr.message = new_one_line(opts.message);
	if (opts.branch && !revdir_check_name(opts.branch, &why))
	{
		migr_usage_error("invalid branch label \"%s\": %s", opts.branch, why);
		return MIGR_EXIT_USAGE;
	}

	rd = new_read_folder(dir, true);
	if (rd == NULL)
		return MIGR_EXIT_FAILED;
	if (!new_pick_id(rd, &nr))
		return opts.rev_id && !revdir_check_name(opts.rev_id, &why) ?
			MIGR_EXIT_USAGE : MIGR_EXIT_FAILED;

	/* the parent: --head, else the folder's only head */
	nr.parents = pg_malloc(sizeof(char *));
	if (opts.head && strcmp(opts.head, "base") == 0)
		nr.nparents = 0;
	else if (opts.head)
	{
		int			k = new_resolve(rd, opts.head, false);

		if (k < 0)
			return MIGR_EXIT_FAILED;
		if (rd->files[k].nchildren > 0)
			pg_log_warning("revision \"%s\" is not a head: the new revision starts a branch beside its children",
						   rd->files[k].id);
		nr.parents[nr.nparents++] = rd->files[k].id;
	}
	else if (rd->nheads > 1)
	{
		fflush(stdout);
		pg_log_error("the folder \"%s\" has %d heads; which one should the new revision follow?",
					 dir, rd->nheads);
		for (i = 0; i < rd->nheads; i++)
			fprintf(stderr, "  %s  %s\n", rd->files[rd->heads[i]].id,
					rd->files[rd->heads[i]].name);
		pg_log_error_hint("Give one with --head REV, or merge them first with \"migr merge -m MESSAGE --dir %s\".",
						  dir);
		return MIGR_EXIT_FAILED;
	}
	else if (rd->nheads == 1)
		nr.parents[nr.nparents++] = rd->files[rd->heads[0]].id;

	/* dependencies: ids of files when they resolve, else as given */
	nr.deps = pg_malloc(sizeof(char *) * Max(opts.ndepends_on, 1));
	for (i = 0; i < opts.ndepends_on; i++)
	{
		int			k = new_resolve(rd, opts.depends_on[i], true);

		if (k >= 0)
			nr.deps[nr.ndeps++] = rd->files[k].id;
		else if (!revdir_check_name(opts.depends_on[i], &why))
		{
			migr_usage_error("invalid revision id \"%s\" in --depends-on: %s",
							 opts.depends_on[i], why);
			return MIGR_EXIT_USAGE;
		}
		else
		{
			pg_log_warning("no file of \"%s\" defines revision \"%s\"; it must be defined in the database",
						   dir, opts.depends_on[i]);
			nr.deps[nr.ndeps++] = opts.depends_on[i];
		}
	}

	/* a label names one branch */
	if (opts.branch)
	{
		for (i = 0; i < rd->nfiles; i++)
			for (j = 0; j < rd->files[i].nlabels; j++)
				if (rd->files[i].ok &&
					strcmp(rd->files[i].labels[j], opts.branch) == 0)
				{
					pg_log_error("branch label \"%s\" is already used by revision \"%s\" (%s)",
								 opts.branch, rd->files[i].id,
								 rd->files[i].path);
					return MIGR_EXIT_FAILED;
				}
		nr.label = opts.branch;
	}

	return new_write(dir, &nr) ? MIGR_EXIT_DONE : MIGR_EXIT_FAILED;
}

/*
 * cmd_merge_files
 *		migr merge -m MESSAGE --dir DIR [REV...]: a merge revision file whose
 *		parents are the folder's heads, or the revisions named.
 */
int
cmd_merge_files(int argc, char **argv)
{
	const char *dir = migr_dir();
	RevDir	   *rd;
	NewRev		nr;
	int			i,
				j;

	memset(&nr, 0, sizeof(nr));
	nr.merge = true;
	nr.message = new_one_line(opts.message ? opts.message : "merge heads");
	rd = new_read_folder(dir, false);
	if (rd == NULL)
		return MIGR_EXIT_FAILED;

	nr.parents = pg_malloc(sizeof(char *) * Max(Max(argc, rd->nheads), 1));
	if (argc > 0)
	{
		for (i = 0; i < argc; i++)
		{
			int			k = new_resolve(rd, argv[i], false);
			bool		dup = false;

			if (k < 0)
				return MIGR_EXIT_FAILED;
			for (j = 0; j < nr.nparents; j++)
				dup |= strcmp(nr.parents[j], rd->files[k].id) == 0;
			if (!dup)
				nr.parents[nr.nparents++] = rd->files[k].id;
		}
	}
	else
		for (i = 0; i < rd->nheads; i++)
			nr.parents[nr.nparents++] = rd->files[rd->heads[i]].id;

	if (nr.nparents < 2)
	{
		output_say("nothing to merge: %s\n", argc > 0 ?
				   "a merge needs at least two different revisions" :
				   rd->nheads == 1 ? "the folder has one head" :
				   "the folder has no revision");
		return argc > 0 ? MIGR_EXIT_FAILED : MIGR_EXIT_NOTHING;
	}
	if (!new_pick_id(rd, &nr))
		return MIGR_EXIT_FAILED;
	return new_write(dir, &nr) ? MIGR_EXIT_DONE : MIGR_EXIT_FAILED;
}

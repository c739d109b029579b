/*-------------------------------------------------------------------------
 *
 * revdir.c
 *	  Reading a folder of revision files (README, "Revision files") the way the
 *	  server's migr_load() reads one, and checking the graph they form.
 *
 * Each file is read line by line by src/common/revparse.c, as the server's
 * src/revfile.c reads it, so a line that only looks like a directive
 * because it sits in a string, a quoted identifier, a dollar-quoted body or
 * a block comment is script text here exactly as it is there.  Problems are collected as findings (file, line, code, message,
 * hint) instead of stopping at the first one, so that "migr check --dir"
 * reports everything wrong with a folder in one run.  revgraph.c then
 * looks at the graph the files form.
 *
 * Copyright (c) 2026, migr developers
 *
 * IDENTIFICATION
 *	  src/bin/revdir.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/logging.h"
#include "pqexpbuffer.h"

#include "migr_fe.h"

/* The state of one file's checks after it is read. */
typedef struct RevParse
{
	RevDir	   *rd;
	RevFile    *f;
	bool		upgrade_has_sql;
	bool		failed;
} RevParse;

static char *revdir_vformat(const char *fmt, va_list args)
			pg_attribute_printf(1, 0);
static int	revdir_name_cmp(const void *a, const void *b);
static bool revdir_checksum(RevFile *f);
static void revdir_take_fields(RevFile *f, const RevFields *fields);
static bool revdir_read_file(RevDir *rd, RevFile *f, int dfd);
static void revdir_check_def(RevParse *p);
static void revdir_check_names(RevParse *p, char **names, int n,
							   const char *what);

/*
 * revdir_vformat
 *		vpsprintf(): a formatted string in a new allocation.
 */
static char *
revdir_vformat(const char *fmt, va_list args)
{
	size_t		len = 128;

	for (;;)
	{
		char	   *buf = pg_malloc(len);
		va_list		copy;
		size_t		needed;

		va_copy(copy, args);
		needed = pvsnprintf(buf, len, fmt, copy);
		va_end(copy);
		if (needed <= len)
			return buf;
		pg_free(buf);
		len = needed;
	}
}

/*
 * revdir_add_finding
 *		Record one problem.  Errors make the folder unusable for pushing.
 */
void
revdir_add_finding(RevDir *rd, const char *file, int line,
				   const char *revision, const char *severity,
				   const char *code, const char *hint, const char *fmt,...)
{
	RevFinding *fd;
	va_list		args;
	char	   *message;

	if (rd->nfindings == rd->maxfindings)
	{
		rd->maxfindings = rd->maxfindings ? rd->maxfindings * 2 : 16;
		rd->findings = pg_realloc(rd->findings,
								  sizeof(RevFinding) * rd->maxfindings);
	}
	va_start(args, fmt);
	message = revdir_vformat(fmt, args);
	va_end(args);

	fd = &rd->findings[rd->nfindings++];
	fd->file = file ? pg_strdup(file) : NULL;
	fd->line = line;
	fd->revision = revision ? pg_strdup(revision) : NULL;
	fd->severity = severity;
	fd->code = code;
	fd->message = message;
	fd->hint = hint ? pg_strdup(hint) : NULL;
	if (strcmp(severity, "error") == 0)
		rd->nerrors++;
	else if (strcmp(severity, "warning") == 0)
		rd->nwarnings++;
	else
		rd->ninfos++;
}

/*
 * revdir_print_findings
 *		Print findings as a compiler does ("file:line: error: message"), so
 *		that editors and CI logs link to the line.
 */
void
revdir_print_findings(const RevDir *rd, FILE *out, bool errors_only)
{
	int			i;

	for (i = 0; i < rd->nfindings; i++)
	{
		const RevFinding *fd = &rd->findings[i];

		char	   *prefix;
		char	   *text;

		if (errors_only && strcmp(fd->severity, "error") != 0)
			continue;
		if (fd->file && fd->line > 0)
			prefix = psprintf("%s:%d: %s: ", fd->file, fd->line, fd->severity);
		else
			prefix = psprintf("%s: %s: ", fd->file ? fd->file : rd->dir,
							  fd->severity);
		text = psprintf("%s [%s]", fd->message, fd->code);
		help_wrap(out, prefix, text);
		if (fd->hint)
			help_wrap(out, "  hint: ", fd->hint);
		pg_free(prefix);
		pg_free(text);
	}
}

/*
 * revdir_check_name
 *		The id and label syntax (src/common/revname.c, which the server's
 *		target_check_name() enforces too).  On failure *why says what is
 *		wrong.
 */
bool
revdir_check_name(const char *name, const char **why)
{
	*why = revname_problem_text(revname_check(name));
	return *why == NULL;
}

/*
 * revdir_checksum
 *		Fill f->checksum with src/common/revsum.c, as the server computes
 *		it; false if the hash library failed.  One hash context serves
 *		every file of a run.
 */
static bool
revdir_checksum(RevFile *f)
{
	static pg_cryptohash_ctx *ctx = NULL;
	RevSumFields fields;

	if (ctx == NULL && (ctx = pg_cryptohash_create(PG_SHA256)) == NULL)
		return false;
	fields.id = f->id;
	fields.parents = (const char *const *) f->parents;
	fields.nparents = f->nparents;
	fields.deps = (const char *const *) f->deps;
	fields.ndeps = f->ndeps;
	fields.kind = f->kind;
	fields.upgrade = f->upgrade;
	fields.downgrade = f->downgrade;
	if (revsum_compute(ctx, &fields, f->checksum) != NULL)
	{
		pg_cryptohash_free(ctx);
		ctx = NULL;
		return false;
	}
	return true;
}

static int
revdir_name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

/*
 * revdir_read
 *		Read every "*.sql" file of a folder, in file name order; the files
 *		are parsed by revdir_parse().  A folder that cannot be listed is an
 *		error finding, not a crash.
 */
RevDir *
revdir_read(const char *dir)
{
	RevDir	   *rd = pg_malloc0(sizeof(RevDir));
	DIR		   *d;
	struct dirent *de;
	char	  **names = NULL;
	int			nnames = 0;
	int			maxnames = 0;
	int			dfd;
	int			i;

	rd->dir = pg_strdup(dir);
	d = opendir(dir);
	if (d == NULL)
	{
		revdir_add_finding(rd, NULL, 0, NULL, "error", "unreadable",
						   errno == ENOENT ?
						   "Create it, or give the folder of revision files with --dir." :
						   NULL,
						   "could not open directory \"%s\": %s", dir,
						   strerror(errno));
		return rd;
	}
	dfd = dirfd(d);
	while (errno = 0, (de = readdir(d)) != NULL)
	{
		size_t		len = strlen(de->d_name);
		struct stat st;

		if (de->d_name[0] == '.' || len < 5 ||
			strcmp(de->d_name + len - 4, ".sql") != 0)
			continue;
		/* skip folders named *.sql; d_type spares a stat per file */
		if (de->d_type == DT_DIR ||
			(de->d_type != DT_REG &&
			 fstatat(dfd, de->d_name, &st, 0) == 0 && S_ISDIR(st.st_mode)))
			continue;
		if (nnames == maxnames)
		{
			maxnames = maxnames ? maxnames * 2 : 64;
			names = pg_realloc(names, sizeof(char *) * maxnames);
		}
		names[nnames++] = pg_strdup(de->d_name);
	}
	if (errno != 0)
		revdir_add_finding(rd, NULL, 0, NULL, "error", "unreadable", NULL,
						   "could not read directory \"%s\": %s", dir,
						   strerror(errno));

	if (nnames > 0)
		qsort(names, nnames, sizeof(char *), revdir_name_cmp);
	rd->nfiles = nnames;
	rd->files = pg_malloc0(sizeof(RevFile) * Max(nnames, 1));
	for (i = 0; i < nnames; i++)
	{
		RevFile    *f = &rd->files[i];

		f->name = names[i];
		f->path = psprintf("%s/%s", dir, names[i]);
		f->ok = revdir_read_file(rd, f, dfd);
	}
	closedir(d);
	pg_free(names);
	return rd;
}

/*
 * revdir_parse
 *		Parse every file that was read, with the server's setting of
 *		standard_conforming_strings (on when there is no server).
 */
void
revdir_parse(RevDir *rd, bool std_strings)
{
	int			i;

	for (i = 0; i < rd->nfiles; i++)
		if (rd->files[i].ok)
			rd->files[i].ok = revdir_parse_text(rd, &rd->files[i], std_strings);
}

/*
 * revdir_read_file
 *		The whole file into f->text; dfd is the folder's descriptor.
 */
static bool
revdir_read_file(RevDir *rd, RevFile *f, int dfd)
{
	int			fd = openat(dfd, f->name, O_RDONLY, 0);
	struct stat st;
	size_t		done = 0;

	if (fd < 0 || fstat(fd, &st) < 0)
	{
		revdir_add_finding(rd, f->path, 0, NULL, "error", "unreadable", NULL,
						   "could not read file: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return false;
	}
	if (st.st_size > 2 * (off_t) MIGR_MAX_SCRIPT_BYTES)
	{
		revdir_add_finding(rd, f->path, 0, NULL, "error", "format", NULL,
						   "revision file is too large (the limit is %d bytes for each script)",
						   MIGR_MAX_SCRIPT_BYTES);
		close(fd);
		return false;
	}
	f->text = pg_malloc(st.st_size + 1);
	while (done < (size_t) st.st_size)
	{
		ssize_t		r = read(fd, f->text + done, st.st_size - done);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
		{
			revdir_add_finding(rd, f->path, 0, NULL, "error", "unreadable",
							   NULL, "could not read file: %s",
							   r < 0 ? strerror(errno) : "file shrank while it was read");
			close(fd);
			return false;
		}
		done += r;
	}
	close(fd);
	f->text[done] = '\0';
	f->len = done;
	if (strlen(f->text) != done)
	{
		revdir_add_finding(rd, f->path, 0, NULL, "error", "format", NULL,
						   "file contains a zero byte, which SQL text cannot hold");
		return false;
	}
	return true;
}

/*
 * revdir_take_fields
 *		What the directives read so far say, into the file's description
 *		(findings name the revision once its id is known).
 */
static void
revdir_take_fields(RevFile *f, const RevFields *fields)
{
	f->id = fields->id;
	f->parents = fields->parents;
	f->nparents = fields->nparents;
	f->deps = fields->deps;
	f->ndeps = fields->ndeps;
	f->labels = fields->labels;
	f->nlabels = fields->nlabels;
	f->message = fields->message;
	f->kind = fields->kind;
}

/*
 * revdir_parse_text
 *		Parse f->text as migr_load() would; false (with findings) if it is
 *		not a valid revision file.  Also computes the checksum.
 */
bool
revdir_parse_text(RevDir *rd, RevFile *f, bool std_strings)
{
	RevParse	p = {.rd = rd,.f = f};
	RevParser	rp;
	RevParseLine ln;
	RevLineKind kind;
	PQExpBufferData upgrade;
	PQExpBufferData downgrade;

	initPQExpBuffer(&upgrade);
	initPQExpBuffer(&downgrade);
	revparse_init(&rp, f->text, std_strings);

	while ((kind = revparse_next(&rp, &ln)) != REVLINE_END)
	{
		revdir_take_fields(f, &rp.fields);
		if (rp.section == REVSEC_UPGRADE && f->upgrade_line == 0)
			f->upgrade_line = rp.lineno;
		else if (rp.section == REVSEC_DOWNGRADE && f->downgrade_line == 0)
			f->downgrade_line = rp.lineno;
		if (kind == REVLINE_PROBLEM)
		{
			char	   *message = revparse_message(&rp, false);

			revdir_add_finding(rd, f->path, rp.lineno, f->id, "error",
							   "format", revparse_hint(rp.problem), "%s",
							   message);
			pg_free(message);
			termPQExpBuffer(&upgrade);
			termPQExpBuffer(&downgrade);
			return false;
		}
		if (kind == REVLINE_SCRIPT && rp.section == REVSEC_UPGRADE)
		{
			p.upgrade_has_sql |= ln.sql;
			appendBinaryPQExpBuffer(&upgrade, ln.line, ln.full);
		}
		else if (kind == REVLINE_SCRIPT)
			appendBinaryPQExpBuffer(&downgrade, ln.line, ln.full);
	}

	revdir_take_fields(f, &rp.fields);
	if (f->message == NULL)
		f->message = pg_strdup("");
	if (f->kind == NULL)
		f->kind = pg_strdup("schema");
	upgrade.data[revlex_script_length(upgrade.data, upgrade.len)] = '\0';
	downgrade.data[revlex_script_length(downgrade.data, downgrade.len)] = '\0';
	f->upgrade = upgrade.data;
	if (rp.seen[REVDIR_DOWNGRADE])
		f->downgrade = downgrade.data;
	else
		termPQExpBuffer(&downgrade);
	revdir_check_def(&p);
	if (!revdir_checksum(f))
	{
		revdir_add_finding(rd, f->path, 0, f->id, "error", "checksum", NULL,
						   "could not compute the SHA-256 checksum");
		return false;
	}
	return !p.failed;
}

/*
 * revdir_check_names
 *		Syntax of parents, dependencies or labels; no duplicates; not the
 *		revision itself (define_check_names() in the server).  Duplicates
 *		are found by sorting a copy: n log n for a list of any length.
 */
static void
revdir_check_names(RevParse *p, char **names, int n, const char *what)
{
	char	  **sorted;
	int			i;
	const char *why;

	for (i = 0; i < n; i++)
	{
		if (!revdir_check_name(names[i], &why))
		{
			revdir_add_finding(p->rd, p->f->path, 0, p->f->id, "error",
							   "invalid_name", NULL, "invalid %s \"%s\": %s",
							   what, names[i], why);
			p->failed = true;
		}
		if (strcmp(names[i], p->f->id) == 0 && strcmp(what, "branch label") != 0)
		{
			revdir_add_finding(p->rd, p->f->path, 0, p->f->id, "error", "cycle",
							   "A revision's parents and dependencies are other revisions, applied before it.",
							   "revision \"%s\" cannot be its own %s",
							   p->f->id, what);
			p->failed = true;
		}
	}
	if (n < 2)
		return;
	sorted = pg_malloc(sizeof(char *) * n);
	memcpy(sorted, names, sizeof(char *) * n);
	qsort(sorted, n, sizeof(char *), revdir_name_cmp);
	for (i = 1; i < n; i++)
		if (strcmp(sorted[i - 1], sorted[i]) == 0 &&
			(i < 2 || strcmp(sorted[i - 2], sorted[i]) != 0))
		{
			revdir_add_finding(p->rd, p->f->path, 0, p->f->id, "error",
							   "invalid_name", NULL,
							   "%s \"%s\" is given twice", what, sorted[i]);
			p->failed = true;
		}
	pg_free(sorted);
}

/*
 * revdir_check_def
 *		What the server's define_validate() checks without the parser: the
 *		names, the kind, and an upgrade that holds some SQL.
 */
static void
revdir_check_def(RevParse *p)
{
	RevFile    *f = p->f;
	const char *why;

	if (!revdir_check_name(f->id, &why))
	{
		revdir_add_finding(p->rd, f->path, 0, f->id, "error", "invalid_name",
						   NULL, "invalid revision id \"%s\": %s", f->id, why);
		p->failed = true;
	}
	revdir_check_names(p, f->parents, f->nparents, "parent");
	revdir_check_names(p, f->deps, f->ndeps, "dependency");
	revdir_check_names(p, f->labels, f->nlabels, "branch label");
	if (strcmp(f->kind, "schema") != 0 && strcmp(f->kind, "data") != 0)
	{
		revdir_add_finding(p->rd, f->path, 0, f->id, "error", "invalid_kind",
						   "The kind is \"schema\" (the default) or \"data\".",
						   "invalid kind \"%s\"", f->kind);
		p->failed = true;
	}
	/*
	 * A marker revision (a branch's root, a release point) may have an empty
	 * upgrade, as the server accepts; it is worth a look, not an error: a
	 * file just written by "migr new" is one too.  A merge is empty by
	 * nature.
	 */
	if (!p->upgrade_has_sql && f->nparents < 2)
		revdir_add_finding(p->rd, f->path, 0, f->id, "info", "empty_upgrade",
						   "Nothing to do if the revision only marks a point in the history; otherwise write the SQL it applies.",
						   "upgrade script of revision \"%s\" is empty", f->id);
}

/*
 * revdir_report_line
 *		The server counts a script's lines from the script's first line
 *		("upgrade script of revision "x", statement 2 at line 3"); people
 *		look at files.  Say where that is in the folder's file, counted from
 *		its top (push, upgrade --push).
 */
void
revdir_report_line(RevDir *rd, const PGresult *res)
{
	const char *ctx = PQresultErrorField(res, PG_DIAG_CONTEXT);
	const char *at;
	char		section[16];
	char		id[MIGR_ID_MAXLEN + 1];
	int			stmt;
	int			line;

	if (ctx == NULL)
		return;
	for (at = ctx; (at = strstr(at, "script of revision \"")) != NULL; at++)
	{
		const char *start = at;

		/* back over the space, then the word before it */
		if (start > ctx && start[-1] == ' ')
			start--;
		while (start > ctx && start[-1] != '\n' && start[-1] != ' ')
			start--;
		stmt = 0;
		if (sscanf(start, "%15s script of revision \"%64[^\"]\", statement %d at line %d",
				   section, id, &stmt, &line) != 4 &&
			sscanf(start, "%15s script of revision \"%64[^\"]\", line %d",
				   section, id, &line) != 3)
			continue;
		if (rd != NULL && rd->linked && revgraph_find(rd, id) >= 0)
		{
			RevFile    *f = &rd->files[revgraph_find(rd, id)];
			int			base = strcmp(section, "downgrade") == 0 ?
				f->downgrade_line : f->upgrade_line;

			if (base > 0)
				pg_log_error("at %s:%d (line %d of the %s script)",
							 f->path, base + line, line, section);
			return;
		}
	}
}

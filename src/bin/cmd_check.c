/*-------------------------------------------------------------------------
 *
 * cmd_check.c
 *	  "migr check --dir DIR": check a folder of revision files without a
 *	  database, for CI before a merge.
 *
 * Every file is parsed as the server would parse it, and the graph the
 * files form is checked: format errors (with file and line), duplicate
 * ids, parents and dependencies without a file, cycles, several heads, a
 * downgrade left as "migr new" wrote it.  The SQL itself needs the
 * server's parser: when a server with migr is reachable (and --offline was
 * not given), each script is sent to migr_lint(), which parses and lints
 * it and defines nothing; its line numbers, counted from the script's
 * first line, are turned into the file's.  Without one, the check says
 * what it could not check.
 * Findings are printed as a compiler prints them, "file:line: error: ...",
 * with the codes migr_check() uses where the two meet, wrapped to the
 * terminal.  Any error or warning fails the check (exit 1); with
 * --errors-only warnings are printed but pass; information (a marker
 * revision, several heads each the head of its own labelled branch)
 * always passes.
 * With --verbose every revision is listed with its checksum, the one push
 * compares with the database's.
 *
 * Copyright (c) 2026, migr developers
 *
 * IDENTIFICATION
 *	  src/bin/cmd_check.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include "mb/pg_wchar.h"

#include "migr_fe.h"

static void check_list(RevDir *rd);
static void check_template(RevDir *rd);
static int	check_lint(RevDir *rd, PGconn *conn);
static void check_lint_script(RevDir *rd, PGconn *conn, RevFile *f,
							  bool down);

/*
 * check_list
 *		Every usable revision in push order, with its checksum.
 */
static void
check_list(RevDir *rd)
{
	static const char *const headers[] = {"file", "revision", "down_revision",
	"checksum"};
	int			n;
	int		   *order = revgraph_order(rd, &n);
	char	  **cells = pg_malloc(sizeof(char *) * 4 * Max(n, 1));
	int			i,
				j;

	for (i = 0; i < n; i++)
	{
		RevFile    *f = &rd->files[order[i]];
		char	   *parents = pg_strdup("");

		for (j = 0; j < f->nparents; j++)
			parents = psprintf("%s%s%s", parents, j ? " " : "", f->parents[j]);
		cells[4 * i] = f->name;
		cells[4 * i + 1] = f->id;
		cells[4 * i + 2] = parents;
		cells[4 * i + 3] = f->checksum;
	}
	if (n > 0)
		output_cells(4, headers, n, cells, PG_UTF8);
}

/*
 * check_template
 *		A downgrade that still holds only the comment "migr new" wrote is
 *		a downgrade nobody wrote: reverting would do nothing and say it
 *		worked.
 */
static void
check_template(RevDir *rd)
{
	char	   *tmpl = pg_strdup(NEW_DOWNGRADE_TEMPLATE);
	int			i;

	tmpl[strlen(tmpl) - 1] = '\0';	/* scripts are kept without the last newline */
	for (i = 0; i < rd->nfiles; i++)
	{
		RevFile    *f = &rd->files[i];

		if (f->ok && f->downgrade && strcmp(f->downgrade, tmpl) == 0)
			revdir_add_finding(rd, f->path, f->downgrade_line + 1, f->id,
							   "warning", "downgrade_template",
							   "Write the SQL that reverts the upgrade, or delete the downgrade section if the revision cannot be reverted.",
							   "the downgrade script of revision \"%s\" is still the template \"migr new\" wrote",
							   f->id);
	}
	pg_free(tmpl);
}

/*
 * check_lint_script
 *		One script through the server's migr_lint(): its findings, or the
 *		parse error, as findings on the file's lines.  A downgrade is only
 *		parsed (its errors kept): it drops what the upgrade made, which is
 *		no hazard.
 */
static void
check_lint_script(RevDir *rd, PGconn *conn, RevFile *f, bool down)
{
	const char *params[2];
	PGresult   *res;
	char	   *sql;
	int			base = down ? f->downgrade_line : f->upgrade_line;
	int			i;

	params[0] = down ? f->downgrade : f->upgrade;
	params[1] = f->kind;
	sql = psprintf("SELECT line, severity, code, message, hint "
				   "FROM %s.migr_lint($1, $2)", conn_schema());
	res = conn_run(conn, sql, 2, params);
	pg_free(sql);
	if (conn_failed(res))
	{
		const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
		const char *ctx = PQresultErrorField(res, PG_DIAG_CONTEXT);
		const char *at = ctx ? strstr(ctx, "\", line ") : NULL;
		int			line = at ? atoi(at + 8) : 0;

		revdir_add_finding(rd, f->path, line > 0 ? base + line : base, f->id,
						   "error", "sql",
						   PQresultErrorField(res, PG_DIAG_MESSAGE_HINT),
						   "%s script: %s (SQLSTATE %s)",
						   down ? "downgrade" : "upgrade",
						   msg ? msg : PQerrorMessage(conn),
						   conn_sqlstate(res));
		PQclear(res);
		return;
	}
	for (i = 0; i < PQntuples(res); i++)
	{
		const char *sev = PQgetvalue(res, i, 1);
		int			line = atoi(PQgetvalue(res, i, 0));

		/* the client reports empty upgrades itself */
		if (strcmp(PQgetvalue(res, i, 2), "empty_upgrade") == 0)
			continue;
		if (down && strcmp(sev, "error") != 0)
			continue;
		revdir_add_finding(rd, f->path, base + Max(line, 1), f->id,
						   strcmp(sev, "error") == 0 ? "error" :
						   strcmp(sev, "warning") == 0 ? "warning" : "info",
						   pg_strdup(PQgetvalue(res, i, 2)),
						   PQgetisnull(res, i, 4) ? NULL : PQgetvalue(res, i, 4),
						   "%s", PQgetvalue(res, i, 3));
	}
	PQclear(res);
}

/*
 * check_lint
 *		Every usable file's scripts through migr_lint(); how many scripts
 *		were checked.
 */
static int
check_lint(RevDir *rd, PGconn *conn)
{
	int			n = 0;
	int			i;

	for (i = 0; i < rd->nfiles; i++)
	{
		RevFile    *f = &rd->files[i];

		if (!f->ok)
			continue;
		check_lint_script(rd, conn, f, false);
		n++;
		if (f->downgrade && f->downgrade[0])
		{
			check_lint_script(rd, conn, f, true);
			n++;
		}
	}
	return n;
}

/*
 * cmd_check_files
 *		migr check --dir DIR [--errors-only] [--verbose]
 */
int
cmd_check_files(int argc, char **argv)
{
	RevDir	   *rd = revdir_read(migr_dir());
	PGconn	   *conn = NULL;
	char	   *why = NULL;
	int			usable = 0;
	int			nscripts = 0;
	int			linted = 0;
	int			i;

	revdir_parse(rd, true);
	revgraph_link(rd);
	check_template(rd);
	if (!opts.offline)
		conn = conn_open_quiet(&why);
	if (conn != NULL)
	{
		linted = check_lint(rd, conn);
		conn_close(conn);
	}
	if (opts.verbose)
		check_list(rd);
	revdir_print_findings(rd, stdout, false);
	for (i = 0; i < rd->nfiles; i++)
	{
		usable += rd->files[i].ok;
		nscripts += rd->files[i].ok +
			(rd->files[i].ok && rd->files[i].downgrade && rd->files[i].downgrade[0]);
	}
	if (conn == NULL && nscripts > 0)
		output_say("not checked: the SQL of %d script%s (their syntax and lint need the server's parser: %s)\n",
				   nscripts, nscripts == 1 ? "" : "s",
				   opts.offline ? "--offline was given" :
				   psprintf("no server with migr was reachable: %s", why));
	else if (conn != NULL && opts.verbose)
		output_say("checked the SQL of %d script%s with the server's migr_lint()\n",
				   linted, linted == 1 ? "" : "s");

	/* information (marker revisions, heads of labelled branches) passes */
	if (rd->nerrors == 0 && rd->nwarnings == 0)
	{
		if (rd->nheads == 1)
			output_say("all clear: %d revision%s in %s, head %s\n", usable,
					   usable == 1 ? "" : "s", rd->dir,
					   rd->files[rd->heads[0]].id);
		else if (rd->nheads > 1)
			output_say("all clear: %d revisions in %s, %d heads\n", usable,
					   rd->dir, rd->nheads);
		else
			output_say("all clear: no revision file in %s\n", rd->dir);
		return MIGR_EXIT_DONE;
	}
	output_say("%s: %d file%s, %d error%s, %d warning%s, %d info\n", rd->dir,
			   rd->nfiles, rd->nfiles == 1 ? "" : "s",
			   rd->nerrors, rd->nerrors == 1 ? "" : "s",
			   rd->nwarnings, rd->nwarnings == 1 ? "" : "s", rd->ninfos);
	if (rd->nerrors > 0 || !opts.errors_only)
		return MIGR_EXIT_FAILED;
	return MIGR_EXIT_DONE;
}

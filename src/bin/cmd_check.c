/*-------------------------------------------------------------------------
 *
 * cmd_check.c
 *	  "migr check --dir DIR": check a folder of revision files without a
 *	  database, for CI before a merge.
 *
 * Every file is parsed as the server would parse it, and the graph the
 * files form is checked: format errors (with file and line), duplicate
 * ids, parents and dependencies without a file, cycles, several heads.
 * Findings are printed as a compiler prints them, "file:line: error: ...",
 * with the codes migr_check() uses where the two meet.  Any error or
 * warning fails the check (exit 1); with --errors-only warnings are
 * printed but pass; information (several heads, each the head of its own
 * labelled branch) always passes.
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
 * cmd_check_files
 *		migr check --dir DIR [--errors-only] [--verbose]
 */
int
cmd_check_files(int argc, char **argv)
{
	RevDir	   *rd = revdir_read(opts.dir);
	int			usable = 0;
	int			i;

	revdir_parse(rd, true);
	revgraph_link(rd);
	if (opts.verbose)
		check_list(rd);
	revdir_print_findings(rd, stdout, false);
	for (i = 0; i < rd->nfiles; i++)
		usable += rd->files[i].ok;

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
	output_say("%s: %d file%s, %d error%s, %d warning%s\n", rd->dir,
			   rd->nfiles, rd->nfiles == 1 ? "" : "s",
			   rd->nerrors, rd->nerrors == 1 ? "" : "s",
			   rd->nwarnings, rd->nwarnings == 1 ? "" : "s");
	if (rd->nerrors > 0 || !opts.errors_only)
		return MIGR_EXIT_FAILED;
	return MIGR_EXIT_DONE;
}

/*-------------------------------------------------------------------------
 *
 * output.c
 *	  What the client prints: psql-style aligned tables, one-line results,
 *	  and progress on a terminal.
 *
 * Tables are printed by psql's own printer (fe_utils/print.c in
 * libpgfeutils), so they look exactly like psql's: aligned columns, one
 * dividing line, multi-line cells marked with "+", a "(N rows)" footer.
 * Results go to stdout; progress (revision by revision, with timings) goes
 * to stderr, and only when stderr is a terminal, unless --progress or
 * --no-progress says otherwise, so that scripts and CI logs stay quiet.
 *
 * Copyright (c) 2026, migr developers
 *
 * IDENTIFICATION
 *	  src/bin/output.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include <time.h>
#include <unistd.h>

#include "fe_utils/print.h"

#include "migr_fe.h"

/*
 * output_progress_on
 *		Whether progress lines are shown: --progress, --no-progress, or by
 *		default when stderr is a terminal and --quiet was not given.
 */
bool
output_progress_on(void)
{
	if (opts.progress >= 0)
		return opts.progress == 1;
	return !opts.quiet && isatty(fileno(stderr));
}

/*
 * output_progress
 *		One line of progress on stderr, if progress is on.
 */
void
output_progress(const char *fmt,...)
{
	va_list		args;

	if (!output_progress_on())
		return;
	fflush(stdout);
	va_start(args, fmt);
	vfprintf(stderr, fmt, args);
	va_end(args);
	fflush(stderr);
}

/*
 * output_say
 *		A one-line result on stdout, unless --quiet.
 */
void
output_say(const char *fmt,...)
{
	va_list		args;

	if (opts.quiet)
		return;
	va_start(args, fmt);
	vfprintf(stdout, fmt, args);
	va_end(args);
	fflush(stdout);
}

/*
 * output_table
 *		A query result as psql prints it, with a "(N rows)" footer if asked.
 */
void
output_table(PGconn *conn, const PGresult *res, const char *title,
			 bool footer)
{
	printQueryOpt popt;

	memset(&popt, 0, sizeof(popt));
	popt.topt.format = PRINT_ALIGNED;
	popt.topt.border = 1;
	popt.topt.pager = 0;
	popt.topt.start_table = true;
	popt.topt.stop_table = true;
	popt.topt.default_footer = footer;
	popt.topt.encoding = PQclientEncoding(conn);
	popt.nullPrint = "";
	popt.title = (char *) title;
	printQuery(res, &popt, stdout, false, NULL);
	fflush(stdout);
}

/*
 * output_cells
 *		A table built by the client, printed as output_table() prints a
 *		query result.  cells holds nrows * ncols strings, row by row.
 */
void
output_cells(int ncols, const char *const *headers, int nrows,
			 char *const *cells, int encoding)
{
	printTableOpt topt;
	printTableContent cont;
	int			i;

	memset(&topt, 0, sizeof(topt));
	topt.format = PRINT_ALIGNED;
	topt.border = 1;
	topt.start_table = true;
	topt.stop_table = true;
	topt.encoding = encoding;
	printTableInit(&cont, &topt, NULL, ncols, nrows);
	for (i = 0; i < ncols; i++)
		printTableAddHeader(&cont, (char *) headers[i], false, 'l');
	for (i = 0; i < ncols * nrows; i++)
		printTableAddCell(&cont, cells[i], false, false);
	printTable(&cont, stdout, false, NULL);
	printTableCleanup(&cont);
	fflush(stdout);
}

/*
 * output_ms
 *		A duration for people: "12.3 ms", "4.56 s".
 */
void
output_ms(char *buf, size_t size, double ms)
{
	if (ms < 1000.0)
		snprintf(buf, size, "%.1f ms", ms);
	else
		snprintf(buf, size, "%.2f s", ms / 1000.0);
}

/*
 * output_now_ms
 *		A monotonic clock, in milliseconds.
 */
double
output_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

/*-------------------------------------------------------------------------
 *
 * cmd_verify.c
 *	  "migr verify [TARGET]": migr_verify() in the database, the stairway
 *	  test of every revision up to TARGET, for CI.
 *
 * The server upgrades, downgrades and upgrades again each revision above
 * the current state toward TARGET (default: heads), compares the schemas,
 * and rolls everything back; the client prints its rows, one per step or
 * per difference, and a summary.  Any failing row fails the command (exit
 * 1); every revision already applied is nothing to verify (exit 3).  With
 * --quiet only the failing rows are printed.
 *
 * Copyright (c) 2026, migr developers
 *
 * IDENTIFICATION
 *	  src/bin/cmd_verify.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include "common/logging.h"

#include "migr_fe.h"

/* SQLSTATE undefined_function: a database still at extension 1.0 or 1.1 */
#define VERIFY_UNDEFINED_FUNCTION "42883"

static PGresult *verify_run(PGconn *conn, const char *target);
static void verify_print_failures(PGconn *conn, const PGresult *res);

/*
 * verify_run
 *		The rows of migr_verify(target); NULL after printing the error.
 */
static PGresult *
verify_run(PGconn *conn, const char *target)
{
	const char *params[1] = {target};
	char	   *sql;
	PGresult   *res;

	sql = psprintf("SELECT revision, step,"
				   " CASE WHEN ok THEN 'ok' ELSE 'FAILED' END AS result,"
				   " coalesce(detail, '') AS detail"
				   " FROM %s.migr_verify($1)", conn_schema());
	res = conn_run(conn, sql, 1, params);
	pg_free(sql);
	if (!conn_failed(res))
		return res;
	conn_report_error(conn, res);
	if (strcmp(conn_sqlstate(res), VERIFY_UNDEFINED_FUNCTION) == 0)
		pg_log_error_hint("migr_verify() comes with version 1.2 of the extension: ALTER EXTENSION migr UPDATE.");
	PQclear(res);
	return NULL;
}

/*
 * verify_print_failures
 *		Only the failing rows (--quiet), as a table.
 */
static void
verify_print_failures(PGconn *conn, const PGresult *res)
{
	static const char *const headers[] = {"revision", "step", "result",
	"detail"};
	int			n = PQntuples(res);
	char	  **cells = pg_malloc(sizeof(char *) * 4 * Max(n, 1));
	int			rows = 0;
	int			i,
				j;

	for (i = 0; i < n; i++)
	{
		if (strcmp(PQgetvalue(res, i, 2), "FAILED") != 0)
			continue;
		for (j = 0; j < 4; j++)
			cells[4 * rows + j] = PQgetvalue(res, i, j);
		rows++;
	}
	if (rows > 0)
		output_cells(4, headers, rows, cells, PQclientEncoding(conn));
	pg_free(cells);
}

/*
 * cmd_verify
 *		migr verify [TARGET]
 */
int
cmd_verify(int argc, char **argv)
{
	const char *target = argc > 0 ? argv[0] : "heads";
	PGconn	   *conn = conn_open();
	PGresult   *res;
	int			n;
	int			i;
	int			failed = 0;
	int			revisions = 0;
	const char *last = "";

	if (conn == NULL)
		return MIGR_EXIT_FAILED;
	res = verify_run(conn, target);
	if (res == NULL)
	{
		conn_close(conn);
		return MIGR_EXIT_FAILED;
	}
	n = PQntuples(res);
	for (i = 0; i < n; i++)
	{
		/* rows come revision by revision */
		if (strcmp(PQgetvalue(res, i, 0), last) != 0)
			revisions++;
		last = PQgetvalue(res, i, 0);
		if (strcmp(PQgetvalue(res, i, 2), "FAILED") == 0)
			failed++;
	}
	if (opts.quiet)
		verify_print_failures(conn, res);
	else if (n > 0)
		output_table(conn, res, NULL, false);
	if (n == 0)
		output_say("nothing to verify: every revision up to %s is applied\n",
				   target);
	else if (failed == 0)
		output_say("all clear: %d revision%s verified up to %s\n", revisions,
				   revisions == 1 ? "" : "s", target);
	else
		output_say("%d failure%s in %d revision%s up to %s\n", failed,
				   failed == 1 ? "" : "s", revisions,
				   revisions == 1 ? "" : "s", target);
	PQclear(res);
	conn_close(conn);
	if (failed > 0)
		return MIGR_EXIT_FAILED;
	return n == 0 ? MIGR_EXIT_NOTHING : MIGR_EXIT_DONE;
}

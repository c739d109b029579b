/*-------------------------------------------------------------------------
 *
 * cmd_look.c
 *	  The verbs that look at the database's revisions (current, heads,
 *	  history, show, check), and the two small ones that define or wait
 *	  (merge, wait).
 *
 * Each is one call of the SQL function of the same name, printed as a
 * psql-style table; arrays are shown space-separated, as in revision
 * files, and times to the second.
 *
 * Copyright (c) 2026, migr developers
 *
 * IDENTIFICATION
 *	  src/bin/cmd_look.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include "common/logging.h"
#include "pqexpbuffer.h"

#include "migr_fe.h"

static int	look_table(const char *query, int nparams, const char *const *params,
					   const char *empty);
static void look_field(const char *label, const char *value);

/*
 * look_table
 *		Connect, run one query, print its rows as a table, or the line
 *		"empty" when there are none.  The query's one "%s" is replaced by
 *		the schema of migr's functions.
 */
static int
look_table(const char *query, int nparams, const char *const *params,
		   const char *empty)
{
	PGconn	   *conn = conn_open();
	PGresult   *res;
	char	   *sql;

	if (conn == NULL)
		return MIGR_EXIT_FAILED;
	sql = psprintf(query, conn_schema());
	res = conn_exec(conn, sql, nparams, params);
	pg_free(sql);
	if (res == NULL)
	{
		conn_close(conn);
		return MIGR_EXIT_FAILED;
	}
	if (PQntuples(res) == 0)
		output_say("%s\n", empty);
	else
		output_table(conn, res, NULL, true);
	PQclear(res);
	conn_close(conn);
	return MIGR_EXIT_DONE;
}

/*
 * cmd_current
 *		migr current: applied revisions that no other applied revision needs
 *		(through parents or depends_on), as migr_current() gives them.
 */
int
cmd_current(int argc, char **argv)
{
	return look_table("SELECT c.revision, c.message, "
					  "pg_catalog.date_trunc('second', c.applied_at) AS applied_at "
					  "FROM %s.migr_current() c",
					  0, NULL, "nothing is applied: the database is at base");
}

/*
 * cmd_heads
 *		migr heads: revisions that are no other revision's parent.
 */
int
cmd_heads(int argc, char **argv)
{
	return look_table("SELECT h.revision, "
					  "pg_catalog.array_to_string(h.branch_labels, ' ') AS branch_labels, "
					  "CASE WHEN a.revision IS NULL THEN 'no' ELSE 'yes' END AS applied, "
					  "h.message "
					  "FROM %s.migr_heads() h "
					  "LEFT JOIN migr.applied a ON a.revision OPERATOR(pg_catalog.=) h.revision",
					  0, NULL, "no revision is defined");
}

/*
 * cmd_branches
 *		migr branches: revisions with more than one child (alembic branches).
 */
int
cmd_branches(int argc, char **argv)
{
	return look_table("SELECT b.revision, "
					  "pg_catalog.array_to_string(b.children, ' ') AS children, "
					  "r.message "
					  "FROM %s.migr_branches() b "
					  "JOIN migr.revision r ON r.id OPERATOR(pg_catalog.=) b.revision",
					  0, NULL, "no branch point: every revision has at most one child");
}

/*
 * cmd_history
 *		migr history [RANGE]: every revision, roots first.
 */
int
cmd_history(int argc, char **argv)
{
	const char *params[1];

	params[0] = argc > 0 ? argv[0] : NULL;
	if (opts.indicate_current)
		return look_table("SELECT h.revision, "
						  "pg_catalog.array_to_string(h.down_revision, ' ') AS down_revision, "
						  "CASE WHEN h.applied THEN 'yes' WHEN h.applied IS NULL THEN 'partial' ELSE '' END AS applied, "
						  "CASE WHEN h.is_head THEN 'yes' ELSE '' END AS head, "
						  "CASE WHEN c.revision IS NOT NULL THEN '(current)' ELSE '' END AS current, "
						  "pg_catalog.date_trunc('second', h.applied_at) AS applied_at, "
						  "h.message "
						  "FROM %1$s.migr_history($1) h "
						  "LEFT JOIN %1$s.migr_current() c ON c.revision OPERATOR(pg_catalog.=) h.revision",
						  1, params, "no revision is defined");
	return look_table("SELECT h.revision, "
					  "pg_catalog.array_to_string(h.down_revision, ' ') AS down_revision, "
					  "CASE WHEN h.applied THEN 'yes' WHEN h.applied IS NULL THEN 'partial' ELSE '' END AS applied, "
					  "CASE WHEN h.is_head THEN 'yes' ELSE '' END AS head, "
					  "pg_catalog.date_trunc('second', h.applied_at) AS applied_at, "
					  "h.message "
					  "FROM %s.migr_history($1) h",
					  1, params, "no revision is defined");
}

/*
 * look_field
 *		One "Label: value" line of show.
 */
static void
look_field(const char *label, const char *value)
{
	printf("%-15s%s\n", label, value);
}

/*
 * cmd_show
 *		migr show REV: one revision whole, its scripts as in its file.
 */
int
cmd_show(int argc, char **argv)
{
	PGconn	   *conn = conn_open();
	PGresult   *res;
	const char *params[1];
	char	   *sql;
	char	   *applied;

	if (conn == NULL)
		return MIGR_EXIT_FAILED;
	params[0] = argv[0];
	sql = psprintf("SELECT revision, "
				   "pg_catalog.array_to_string(down_revision, ' '), "
				   "pg_catalog.array_to_string(depends_on, ' '), "
				   "pg_catalog.array_to_string(branch_labels, ' '), "
				   "message, kind, upgrade, downgrade, checksum, applied, "
				   "pg_catalog.date_trunc('second', applied_at), is_head, "
				   "pg_catalog.array_to_string(children, ' ') "
				   "FROM %s.migr_show($1)", conn_schema());
	res = conn_exec(conn, sql, 1, params);
	pg_free(sql);
	if (res == NULL)
	{
		conn_close(conn);
		return MIGR_EXIT_FAILED;
	}
	if (PQntuples(res) != 1)
	{
		pg_log_error("revision \"%s\" was not found", argv[0]);
		PQclear(res);
		conn_close(conn);
		return MIGR_EXIT_FAILED;
	}
	applied = PQgetvalue(res, 0, 9)[0] == 't' ?
		psprintf("yes, at %s", PQgetvalue(res, 0, 10)) : pg_strdup("no");
	look_field("Revision:", psprintf("%s%s", PQgetvalue(res, 0, 0),
									 PQgetvalue(res, 0, 11)[0] == 't' ? " (head)" : ""));
	look_field("Parents:", PQgetvalue(res, 0, 1)[0] ? PQgetvalue(res, 0, 1) : "(base)");
	if (PQgetvalue(res, 0, 2)[0])
		look_field("Depends on:", PQgetvalue(res, 0, 2));
	if (PQgetvalue(res, 0, 3)[0])
		look_field("Branch labels:", PQgetvalue(res, 0, 3));
	if (PQgetvalue(res, 0, 12)[0])
		look_field("Children:", PQgetvalue(res, 0, 12));
	look_field("Message:", PQgetvalue(res, 0, 4));
	look_field("Kind:", PQgetvalue(res, 0, 5));
	look_field("Applied:", applied);
	look_field("Checksum:", PQgetvalue(res, 0, 8));
	printf("\n-- migr:upgrade\n%s", PQgetvalue(res, 0, 6));
	if (PQgetvalue(res, 0, 6)[0] &&
		PQgetvalue(res, 0, 6)[strlen(PQgetvalue(res, 0, 6)) - 1] != '\n')
		printf("\n");
	if (PQgetisnull(res, 0, 7))
		printf("-- (no downgrade: the revision is irreversible)\n");
	else
	{
		const char *down = PQgetvalue(res, 0, 7);

		printf("-- migr:downgrade\n%s", down);
		if (down[0] && down[strlen(down) - 1] != '\n')
			printf("\n");
	}
	PQclear(res);
	conn_close(conn);
	return MIGR_EXIT_DONE;
}

/*
 * cmd_check
 *		migr check [--errors-only]: migr_check(), one finding per entry as
 *		"revision: severity: message [code]" with its hint below, wrapped to
 *		the terminal (a table of hints was hundreds of characters wide).
 *		Errors and warnings fail (exit 1; with --errors-only warnings
 *		pass); information never does.
 */
int
cmd_check(int argc, char **argv)
{
	PGconn	   *conn = conn_open();
	PGresult   *res;
	int			n;
	int			i;
	int			errors = 0;
	int			warnings = 0;
	int			infos = 0;
	char	   *sql;

	if (conn == NULL)
		return MIGR_EXIT_FAILED;
	sql = psprintf("SELECT coalesce(revision, '') AS revision, severity, "
				   "code, message, hint FROM %s.migr_check()", conn_schema());
	res = conn_exec(conn, sql, 0, NULL);
	pg_free(sql);
	if (res == NULL)
	{
		conn_close(conn);
		return MIGR_EXIT_FAILED;
	}
	n = PQntuples(res);
	for (i = 0; i < n; i++)
	{
		const char *sev = PQgetvalue(res, i, 1);
		char	   *prefix;

		if (strcmp(sev, "error") == 0)
			errors++;
		else if (strcmp(sev, "warning") == 0)
			warnings++;
		else
			infos++;
		prefix = psprintf("%s%s%s: ", PQgetvalue(res, i, 0),
						  PQgetvalue(res, i, 0)[0] ? ": " : "", sev);
		if (!opts.quiet || strcmp(sev, "info") != 0)
		{
			help_wrap(stdout, prefix, psprintf("%s [%s]", PQgetvalue(res, i, 3),
											   PQgetvalue(res, i, 2)));
			if (!PQgetisnull(res, i, 4) && PQgetvalue(res, i, 4)[0])
				help_wrap(stdout, "  hint: ", PQgetvalue(res, i, 4));
		}
		pg_free(prefix);
	}
	if (errors + warnings == 0)
		output_say("all clear: migr_check() found nothing wrong%s\n",
				   infos ? psprintf(" (%d info)", infos) : "");
	else
		output_say("%d error%s, %d warning%s, %d info\n", errors,
				   errors == 1 ? "" : "s", warnings,
				   warnings == 1 ? "" : "s", infos);
	PQclear(res);
	conn_close(conn);
	if (errors > 0 || (warnings > 0 && !opts.errors_only))
		return MIGR_EXIT_FAILED;
	return MIGR_EXIT_DONE;
}

/*
 * cmd_wait
 *		migr wait [--timeout INTERVAL]: migr_wait(), which a server without
 *		background jobs does not have.
 *
 * migr_wait() also returns false, before its timeout, when a build waits for
 * the waiting transaction itself (its snapshot would hold the build back):
 * it returns so that the transaction ends.  So we call it again, in a new
 * transaction, with what is left of the timeout, counted from the server's
 * clock when we started.
 */
int
cmd_wait(int argc, char **argv)
{
	PGconn	   *conn = conn_open();
	PGresult   *res;
	const char *params[2];
	char	   *sql;
	char	   *started;
	int			rc;

	if (conn == NULL)
		return MIGR_EXIT_FAILED;
	res = conn_run(conn, "SELECT pg_catalog.clock_timestamp()::pg_catalog.text",
				   0, NULL);
	if (conn_failed(res))
	{
		conn_report_error(conn, res);
		PQclear(res);
		conn_close(conn);
		return MIGR_EXIT_FAILED;
	}
	started = pg_strdup(PQgetvalue(res, 0, 0));
	PQclear(res);

	params[0] = opts.timeout;
	params[1] = started;
	sql = psprintf("SELECT %s.migr_wait(CASE WHEN $1::pg_catalog.interval IS NOT NULL"
				   " THEN GREATEST($1::pg_catalog.interval"
				   " OPERATOR(pg_catalog.-) (pg_catalog.clock_timestamp() OPERATOR(pg_catalog.-) $2::pg_catalog.timestamptz),"
				   " '0'::pg_catalog.interval) END),"
				   " $1::pg_catalog.interval IS NULL OR pg_catalog.clock_timestamp() OPERATOR(pg_catalog.<)"
				   " ($2::pg_catalog.timestamptz OPERATOR(pg_catalog.+) $1::pg_catalog.interval)",
				   conn_schema());
	output_progress("migr: waiting for background jobs...\n");
	for (;;)
	{
		res = conn_run(conn, sql, 2, params);
		if (conn_failed(res) || PQgetvalue(res, 0, 0)[0] == 't' ||
			PQgetvalue(res, 0, 1)[0] != 't')
			break;
		PQclear(res);			/* returned early: wait on, in a new transaction */
	}
	pg_free(sql);
	pg_free(started);
	if (conn_failed(res))
	{
		if (strcmp(conn_sqlstate(res), "42883") == 0 &&
			strstr(PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY), "migr_wait") != NULL)
		{
			pg_log_error("the server's migr has no migr_wait(): its version of the extension runs no background jobs");
			pg_log_error_detail("The server said: %s",
								PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY));
			pg_log_error_hint("There is nothing to wait for. Once a version of migr with background jobs is installed, run ALTER EXTENSION migr UPDATE in the database.");
		}
		else
			conn_report_error(conn, res);
		rc = MIGR_EXIT_FAILED;
	}
	else if (PQgetvalue(res, 0, 0)[0] == 't')
	{
		output_say("no background job is queued or running\n");
		rc = MIGR_EXIT_DONE;
	}
	else
	{
		pg_log_error("timed out after %s: background jobs are still queued or running",
					 opts.timeout);
		jobs_explain_stuck(conn);
		pg_log_error_hint("\"migr jobs\" lists them; \"migr cancel JOB\" cancels one.");
		rc = MIGR_EXIT_FAILED;
	}
	PQclear(res);
	conn_close(conn);
	return rc;
}

/*-------------------------------------------------------------------------
 *
 * cmd_move.c
 *	  The verbs that move the database: upgrade, downgrade, stamp, and plan
 *	  (what a move would run).
 *
 * Each is a thin call of the SQL function of the same name.  An upgrade
 * shown on a terminal goes revision by revision so that progress can be
 * printed as it happens: in one transaction, migr_plan() gives the order
 * and migr_upgrade() is called for each revision in turn, which applies
 * exactly that revision (its ancestors are applied by then), then COMMIT.
 * The result is the same as one migr_upgrade(target) call, all or nothing.
 * When the plan holds a statement for the background worker, or progress
 * is off (not a terminal, --no-progress, --quiet), the client makes the
 * single call.
 *
 * Copyright (c) 2026, migr developers
 *
 * IDENTIFICATION
 *	  src/bin/cmd_move.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include <unistd.h>

#include "common/logging.h"

#include "migr_fe.h"

static int	move_upgrade_once(PGconn *conn, const char *target);
static int	move_upgrade_stepwise(PGconn *conn, const char *target);
static int	move_rows(PGconn *conn, const char *verb, const char *target,
					  const char *sql, const char *did, bool table_too);
static void move_rollback(PGconn *conn);
static int	move_count_queued(const PGresult *res);

/* the folder pushed by "upgrade --push", for line numbers in errors */
static RevDir *move_rd = NULL;

/*
 * move_rollback
 *		End a failed transaction; its error was printed already.
 */
static void
move_rollback(PGconn *conn)
{
	PGresult   *res = PQexec(conn, "ROLLBACK");

	PQclear(res);
}

/*
 * move_rows
 *		Run a moving function whose rows are (revision, message, ms) or
 *		(revision, action), print them as a table and a summary line.
 *		Returns DONE, NOTHING (no rows) or FAILED.
 */
static int
move_rows(PGconn *conn, const char *verb, const char *target,
		  const char *sql, const char *did, bool table_too)
{
	const char *params[1];
	PGresult   *res;
	double		t0 = output_now_ms();
	char		took[32];
	int			n;
	int			queued;

	params[0] = target;
	res = conn_run(conn, sql, 1, params);
	if (conn_failed(res))
	{
		conn_report_error(conn, res);
		revdir_report_line(move_rd, res);
		pg_log_error("%s to \"%s\" failed; %s", verb, target,
					 strcmp(verb, "stamp") == 0 ? "nothing was marked" :
					 strcmp(verb, "downgrade") == 0 ? "no revision was reverted" :
					 "no revision was applied");
		PQclear(res);
		return MIGR_EXIT_FAILED;
	}
	output_ms(took, sizeof(took), output_now_ms() - t0);
	n = PQntuples(res);
	if (n == 0)
	{
		output_say("nothing to do: the database is already at \"%s\"\n",
				   target);
		PQclear(res);
		return MIGR_EXIT_NOTHING;
	}
	if (table_too && !opts.quiet)
		output_table(conn, res, NULL, false);
	queued = move_count_queued(res);
	if (queued == 0)
		output_say("%s to \"%s\": %d revision%s %s in %s\n", verb, target, n,
				   n == 1 ? "" : "s", did, took);
	else
		output_say("%s to \"%s\": %d revision%s %s, %d queued for the background worker, in %s\n"
				   "\"migr wait\" waits until the queued revisions are applied\n",
				   verb, target, n - queued, n - queued == 1 ? "" : "s", did,
				   queued, took);
	PQclear(res);
	return MIGR_EXIT_DONE;
}

/*
 * move_count_queued
 *		Revisions handed to the background worker: upgrade rows whose time
 *		is "queued".
 */
static int
move_count_queued(const PGresult *res)
{
	int			queued = 0;
	int			i;

	if (PQnfields(res) < 3)
		return 0;
	for (i = 0; i < PQntuples(res); i++)
		if (strcmp(PQgetvalue(res, i, 2), "queued") == 0)
			queued++;
	return queued;
}

/*
 * move_upgrade_once
 *		One migr_upgrade(target) call.
 */
static int
move_upgrade_once(PGconn *conn, const char *target)
{
	char	   *sql;
	int			rc;

	sql = psprintf("SELECT revision, message, "
				   "CASE WHEN ms IS NULL THEN 'queued' "
				   "ELSE pg_catalog.to_char(ms, 'FM9999999990.0') OPERATOR(pg_catalog.||) ' ms' END AS time "
				   "FROM %s.migr_upgrade($1)", conn_schema());
	output_progress("migr: upgrading to \"%s\"...\n", target);
	rc = move_rows(conn, "upgrade", target, sql, "applied", true);
	pg_free(sql);
	return rc;
}

/*
 * move_upgrade_stepwise
 *		The same upgrade, one revision per call inside one transaction,
 *		with a progress line for each.
 */
static int
move_upgrade_stepwise(PGconn *conn, const char *target)
{
	const char *params[1];
	PGresult   *plan;
	char	   *sql;
	int			n;
	int			i;
	int			applied = 0;
	double		t0 = output_now_ms();
	char		took[32];
	bool		show_rows = !isatty(fileno(stdout)) && !opts.quiet;
	char	  **cells = NULL;
	int			width;

	if (!conn_command(conn, "BEGIN"))
		return MIGR_EXIT_FAILED;
	params[0] = target;
	sql = psprintf("SELECT revision, pg_catalog.bool_or(deferred) "
				   "FROM %s.migr_plan($1) GROUP BY revision "
				   "ORDER BY pg_catalog.min(step)", conn_schema());
	plan = conn_exec(conn, sql, 1, params);
	pg_free(sql);
	if (plan == NULL)
	{
		move_rollback(conn);
		pg_log_error("upgrade to \"%s\" failed; no revision was applied", target);
		return MIGR_EXIT_FAILED;
	}
	n = PQntuples(plan);
	for (i = 0; i < n; i++)
		if (PQgetvalue(plan, i, 1)[0] == 't')
		{
			/* the background worker is involved: leave it to the server */
			PQclear(plan);
			move_rollback(conn);
			return move_upgrade_once(conn, target);
		}
	if (n == 0)
	{
		PQclear(plan);
		move_rollback(conn);
		output_say("nothing to do: the database is already at \"%s\"\n",
				   target);
		return MIGR_EXIT_NOTHING;
	}

	output_progress("migr: upgrading to \"%s\": %d revision%s\n", target, n,
					n == 1 ? "" : "s");
	width = snprintf(took, sizeof(took), "%d", n);
	sql = psprintf("SELECT revision, message, ms FROM %s.migr_upgrade($1)",
				   conn_schema());
	for (i = 0; i < n; i++)
	{
		PGresult   *res;
		int			r;

		params[0] = PQgetvalue(plan, i, 0);
		res = conn_run(conn, sql, 1, params);
		if (conn_failed(res))
		{
			conn_report_error(conn, res);
			revdir_report_line(move_rd, res);
			PQclear(res);
			move_rollback(conn);
			pg_log_error("upgrade to \"%s\" failed at revision \"%s\"; no revision was applied",
						 target, params[0]);
			PQclear(plan);
			return MIGR_EXIT_FAILED;
		}
		for (r = 0; r < PQntuples(res); r++)
		{
			char		ms[32];

			if (PQgetisnull(res, r, 2))
				snprintf(ms, sizeof(ms), "queued");
			else
				output_ms(ms, sizeof(ms), atof(PQgetvalue(res, r, 2)));
			applied++;
			output_progress("  [%*d/%d] %-14s %-40.40s %10s\n", width,
							applied, n, PQgetvalue(res, r, 0),
							PQgetvalue(res, r, 1), ms);
			cells = pg_realloc(cells, sizeof(char *) * 3 * applied);
			cells[3 * applied - 3] = pg_strdup(PQgetvalue(res, r, 0));
			cells[3 * applied - 2] = pg_strdup(PQgetvalue(res, r, 1));
			cells[3 * applied - 1] = pg_strdup(ms);
		}
		PQclear(res);
	}
	pg_free(sql);
	PQclear(plan);
	if (!conn_command(conn, "COMMIT"))
	{
		pg_log_error("upgrade to \"%s\" failed at commit; no revision was applied",
					 target);
		return MIGR_EXIT_FAILED;
	}
	output_ms(took, sizeof(took), output_now_ms() - t0);

	/* progress went to a terminal; a redirected stdout still gets the rows */
	if (show_rows && applied > 0)
	{
		static const char *const headers[] = {"revision", "message", "time"};

		output_cells(3, headers, applied, cells, PQclientEncoding(conn));
	}
	if (applied == 0)
	{
		output_say("nothing to do: the database is already at \"%s\"\n",
				   target);
		return MIGR_EXIT_NOTHING;
	}
	output_say("upgrade to \"%s\": %d revision%s applied in %s\n", target,
			   applied, applied == 1 ? "" : "s", took);
	return MIGR_EXIT_DONE;
}

/*
 * cmd_upgrade
 *		migr upgrade [TARGET] [--push [--dir DIR]]
 */
int
cmd_upgrade(int argc, char **argv)
{
	const char *target = argc > 0 ? argv[0] : "head";
	PGconn	   *conn;
	RevDir	   *rd = NULL;
	bool		pushed = false;
	int			rc;

	if (opts.dir && !opts.push)
	{
		migr_usage_error("--dir is used by \"upgrade\" only with --push");
		return MIGR_EXIT_USAGE;
	}
	conn = conn_start();
	if (opts.push)
		rd = revdir_read(migr_dir());	/* while the server starts */
	conn = conn_complete(conn);
	if (conn == NULL)
		return MIGR_EXIT_FAILED;
	if (opts.push)
	{
		rc = push_folder(conn, rd, &pushed);
		move_rd = rd;
		if (rc == MIGR_EXIT_FAILED)
		{
			conn_close(conn);
			return rc;
		}
	}
	if (output_progress_on())
		rc = move_upgrade_stepwise(conn, target);
	else
		rc = move_upgrade_once(conn, target);
	conn_close(conn);
	if (rc == MIGR_EXIT_NOTHING && pushed)
		rc = MIGR_EXIT_DONE;
	return rc;
}

/*
 * cmd_downgrade
 *		migr downgrade TARGET
 */
int
cmd_downgrade(int argc, char **argv)
{
	PGconn	   *conn = conn_open();
	char	   *sql;
	int			rc;

	if (conn == NULL)
		return MIGR_EXIT_FAILED;
	sql = psprintf("SELECT revision, message, "
				   "pg_catalog.to_char(ms, 'FM9999999990.0') OPERATOR(pg_catalog.||) ' ms' AS time "
				   "FROM %s.migr_downgrade($1)", conn_schema());
	output_progress("migr: downgrading to \"%s\"...\n", argv[0]);
	rc = move_rows(conn, "downgrade", argv[0], sql, "reverted", true);
	pg_free(sql);
	conn_close(conn);
	return rc;
}

/*
 * cmd_stamp
 *		migr stamp TARGET
 */
int
cmd_stamp(int argc, char **argv)
{
	PGconn	   *conn = conn_open();
	char	   *sql;
	int			rc;

	if (conn == NULL)
		return MIGR_EXIT_FAILED;
	sql = psprintf("SELECT revision, action FROM %s.migr_stamp($1)",
				   conn_schema());
	rc = move_rows(conn, "stamp", argv[0], sql, "marked", true);
	pg_free(sql);
	conn_close(conn);
	return rc;
}

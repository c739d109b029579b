/*-------------------------------------------------------------------------
 *
 * cmd_jobs.c
 *	  Background jobs from the command line: "migr jobs", "migr retry N",
 *	  "migr cancel N", and what a stuck job waits for (shown by "jobs" and
 *	  by "wait" when its timeout passes).
 *
 * A job that does not finish is almost always waiting for somebody else:
 * CREATE INDEX CONCURRENTLY waits for every transaction older than its
 * snapshot, and any statement may wait for a lock.  The server knows who:
 * pg_blocking_pids() of the worker's process, and pg_stat_activity for
 * what those processes run.  A queued job waits for the transaction that
 * queued it to commit.  Saying so turns "the deploy hangs" into "process
 * 4711 has been idle in transaction since 10:02, running SELECT ...".
 *
 * Copyright (c) 2026, migr developers
 *
 * IDENTIFICATION
 *	  src/bin/cmd_jobs.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include "common/logging.h"

#include "migr_fe.h"

static int	jobs_call(const char *fname, const char *job, const char *did);

/*
 * What each unfinished job waits for: one row per job and blocking
 * process (or one row with no blocker).  Columns: job, revision, state,
 * worker pid, wait event, blocking pid, its state, since when, its query,
 * whether the transaction that queued a queued job is still in progress.
 */
static const char jobs_stuck_sql[] =
"SELECT j.id, j.revision, j.state, j.worker_pid, "
"       pg_catalog.concat_ws(':', w.wait_event_type, w.wait_event), "
"       b.pid, b.state, "
"       pg_catalog.to_char(b.state_change, 'YYYY-MM-DD HH24:MI:SS'), "
"       pg_catalog.left(pg_catalog.regexp_replace(b.query, '\\s+', ' ', 'g'), 200), "
"       j.state OPERATOR(pg_catalog.=) 'queued' AND "
"         pg_catalog.pg_xact_status(j.queued_xid) OPERATOR(pg_catalog.=) 'in progress', "
"       (SELECT q.pid FROM pg_catalog.pg_stat_activity q "
"         WHERE q.backend_xid::pg_catalog.text OPERATOR(pg_catalog.=) "
"               (j.queued_xid::pg_catalog.text::pg_catalog.int8 OPERATOR(pg_catalog.%) 4294967296)::pg_catalog.text "
"         LIMIT 1) "
"  FROM migr.job j "
"  LEFT JOIN pg_catalog.pg_stat_activity w ON w.pid OPERATOR(pg_catalog.=) j.worker_pid "
"       AND j.state OPERATOR(pg_catalog.=) 'running' "
"  LEFT JOIN LATERAL pg_catalog.unnest(pg_catalog.pg_blocking_pids(w.pid)) AS bp(pid) ON true "
"  LEFT JOIN pg_catalog.pg_stat_activity b ON b.pid OPERATOR(pg_catalog.=) bp.pid "
" WHERE j.state OPERATOR(pg_catalog.=) ANY (ARRAY['queued', 'running']) "
" ORDER BY j.id, b.pid";

/*
 * jobs_explain_stuck
 *		Say, for each queued or running job, what it waits for.
 */
void
jobs_explain_stuck(PGconn *conn)
{
	PGresult   *res = conn_run(conn, jobs_stuck_sql, 0, NULL);
	int			i;

	if (conn_failed(res))
	{
		/* only an explanation: never turn it into the command's failure */
		PQclear(res);
		return;
	}
	for (i = 0; i < PQntuples(res); i++)
	{
		const char *job = PQgetvalue(res, i, 0);
		const char *rev = PQgetvalue(res, i, 1);
		const char *state = PQgetvalue(res, i, 2);
		char	   *line;

		if (strcmp(state, "queued") == 0)
		{
			if (PQgetvalue(res, i, 9)[0] == 't')
				line = psprintf("job %s (revision %s) is queued: it waits for the transaction that queued it to commit%s%s%s",
								job, rev,
								PQgetisnull(res, i, 10) ? "" : " (process ",
								PQgetvalue(res, i, 10),
								PQgetisnull(res, i, 10) ? "" : ")");
			else
				line = psprintf("job %s (revision %s) is queued behind the jobs before it, or for a worker to start",
								job, rev);
		}
		else if (!PQgetisnull(res, i, 5))
			line = psprintf("job %s (revision %s), running in process %s, waits for process %s (%s since %s): %s",
							job, rev, PQgetvalue(res, i, 3),
							PQgetvalue(res, i, 5), PQgetvalue(res, i, 6),
							PQgetvalue(res, i, 7), PQgetvalue(res, i, 8));
		else if (PQgetvalue(res, i, 4)[0])
			line = psprintf("job %s (revision %s), running in process %s, waits on %s",
							job, rev, PQgetvalue(res, i, 3),
							PQgetvalue(res, i, 4));
		else
			line = psprintf("job %s (revision %s) is running in process %s%s",
							job, rev,
							PQgetisnull(res, i, 3) ? "(not started yet)" : PQgetvalue(res, i, 3),
							"");
		fflush(stdout);
		help_wrap(stderr, "", line);
		pg_free(line);
	}
	PQclear(res);
}

/*
 * cmd_jobs
 *		migr jobs: migr_jobs() as a table, statements and errors on one
 *		short line each; then what unfinished jobs wait for.
 */
int
cmd_jobs(int argc, char **argv)
{
	PGconn	   *conn = conn_open();
	PGresult   *res;
	char	   *sql;

	if (conn == NULL)
		return MIGR_EXIT_FAILED;
	sql = psprintf("SELECT j.id AS job, j.revision, j.state, j.attempts, "
				   "pg_catalog.left(pg_catalog.regexp_replace(coalesce(j.statement, ''), '\\s+', ' ', 'g'), 40) AS statement, "
				   "pg_catalog.date_trunc('second', j.queued_at) AS queued_at, "
				   "pg_catalog.left(pg_catalog.regexp_replace(coalesce(j.error, ''), '\\s+', ' ', 'g'), 40) AS error "
				   "FROM %s.migr_jobs() j ORDER BY j.id", conn_schema());
	res = conn_exec(conn, sql, 0, NULL);
	pg_free(sql);
	if (res == NULL)
	{
		conn_close(conn);
		return MIGR_EXIT_FAILED;
	}
	if (PQntuples(res) == 0)
		output_say("no background job\n");
	else
		output_table(conn, res, NULL, true);
	PQclear(res);
	jobs_explain_stuck(conn);
	conn_close(conn);
	return MIGR_EXIT_DONE;
}

/*
 * jobs_call
 *		SELECT fname(job), then say what was done.
 */
static int
jobs_call(const char *fname, const char *job, const char *did)
{
	PGconn	   *conn;
	PGresult   *res;
	const char *params[1];
	char	   *sql;
	char	   *end;

	if (strtoll(job, &end, 10) <= 0 || *end != '\0')
	{
		migr_usage_error("invalid job number \"%s\"", job);
		return MIGR_EXIT_USAGE;
	}
	conn = conn_open();
	if (conn == NULL)
		return MIGR_EXIT_FAILED;
	params[0] = job;
	sql = psprintf("SELECT %s.%s($1::pg_catalog.int8)", conn_schema(), fname);
	res = conn_exec(conn, sql, 1, params);
	pg_free(sql);
	conn_close(conn);
	if (res == NULL)
		return MIGR_EXIT_FAILED;
	PQclear(res);
	output_say("job %s %s\n", job, did);
	return MIGR_EXIT_DONE;
}

/*
 * cmd_retry
 *		migr retry JOB
 */
int
cmd_retry(int argc, char **argv)
{
	return jobs_call("migr_retry", argv[0],
					 "queued again; \"migr wait\" waits for it");
}

/*
 * cmd_cancel
 *		migr cancel JOB
 */
int
cmd_cancel(int argc, char **argv)
{
	return jobs_call("migr_cancel", argv[0],
					 "cancelled, with every job queued after it");
}

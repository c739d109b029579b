/*-------------------------------------------------------------------------
 *
 * conn.c
 *	  The client's connection: connecting as pg_dump and psql do, finding
 *	  the extension, running queries, and printing the server's errors and
 *	  notices whole.
 *
 * Connecting is split in two (conn_start, conn_complete) so that the
 * client reads its revision files while the server starts a backend.
 * Connection parameters come from -d (a database name or a full connection
 * string, expanded by libpq), -h, -p, -U, and otherwise from the PG*
 * environment variables and defaults that libpq applies itself.  A server
 * error is printed with every field a user needs to act on it: severity,
 * SQLSTATE, message, DETAIL, HINT, QUERY and CONTEXT.
 *
 * Copyright (c) 2026, migr developers
 *
 * IDENTIFICATION
 *	  src/bin/conn.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include <poll.h>

#include "common/logging.h"
#include "common/string.h"

#include "migr_fe.h"

static char *conn_extschema = NULL;

static void conn_notice(void *arg, const PGresult *res);
static void conn_print_fields(const PGresult *res, FILE *out);
static void conn_params(const char **keywords, const char **values,
						const char *password);
static PGconn *conn_try(const char *password);
static void conn_wait(PGconn *conn, PostgresPollingStatusType st);
static bool conn_find_extension(PGconn *conn);

/*
 * conn_print_fields
 *		A server message as psql prints it with VERBOSITY default, plus its
 *		SQLSTATE: "ERROR:  MG002: message", then DETAIL, HINT, QUERY and
 *		CONTEXT lines.
 */
static void
conn_print_fields(const PGresult *res, FILE *out)
{
	const char *sev = PQresultErrorField(res, PG_DIAG_SEVERITY);
	const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	const char *detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
	const char *hint = PQresultErrorField(res, PG_DIAG_MESSAGE_HINT);
	const char *query = PQresultErrorField(res, PG_DIAG_INTERNAL_QUERY);
	const char *context = PQresultErrorField(res, PG_DIAG_CONTEXT);

	if (msg == NULL)
	{
		/* not from the server: libpq's own text */
		fprintf(out, "%s", PQresultErrorMessage(res));
		return;
	}
	fprintf(out, "%s:  ", sev ? sev : "ERROR");
	if (state && strcmp(state, "00000") != 0)
		fprintf(out, "%s: ", state);
	fprintf(out, "%s\n", msg);
	if (detail)
		fprintf(out, "DETAIL:  %s\n", detail);
	if (hint)
		fprintf(out, "HINT:  %s\n", hint);
	if (query)
		fprintf(out, "QUERY:  %s\n", query);
	if (context)
		fprintf(out, "CONTEXT:  %s\n", context);
}

/*
 * conn_notice
 *		Notices and warnings (lint findings, "replacing revision") go to
 *		stderr in the same layout as errors; --quiet keeps only warnings.
 */
static void
conn_notice(void *arg, const PGresult *res)
{
	const char *sev = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);

	if (opts.quiet && sev && (strcmp(sev, "NOTICE") == 0 ||
							  strcmp(sev, "INFO") == 0 ||
							  strcmp(sev, "DEBUG") == 0 ||
							  strcmp(sev, "LOG") == 0))
		return;
	fflush(stdout);
	conn_print_fields(res, stderr);
}

/*
 * conn_report_error
 *		Print a failed query's error; without a result, the connection's.
 */
void
conn_report_error(PGconn *conn, const PGresult *res)
{
	fflush(stdout);
	if (res != NULL && PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY))
		conn_print_fields(res, stderr);
	else
		pg_log_error("%s", conn ? PQerrorMessage(conn) : "out of memory");
}

/*
 * conn_sqlstate
 *		A result's SQLSTATE, or "" if there is none.
 */
const char *
conn_sqlstate(const PGresult *res)
{
	const char *s = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

	return s ? s : "";
}

/*
 * conn_params
 *		The command line's connection parameters, for libpq.  PG*
 *		environment variables fill in what is not given (libpq does that).
 */
static void
conn_params(const char **keywords, const char **values, const char *password)
{
	int			i = 0;

	keywords[i] = "host";
	values[i++] = opts.host;
	keywords[i] = "port";
	values[i++] = opts.port;
	keywords[i] = "user";
	values[i++] = opts.username;
	keywords[i] = "password";
	values[i++] = password;
	keywords[i] = "dbname";
	values[i++] = opts.dbname;
	keywords[i] = "fallback_application_name";
	values[i++] = "migr";
	keywords[i] = NULL;
	values[i] = NULL;
}

/*
 * conn_try
 *		One blocking connection attempt.
 */
static PGconn *
conn_try(const char *password)
{
	const char *keywords[8];
	const char *values[8];

	conn_params(keywords, values, password);
	return PQconnectdbParams(keywords, values, true);
}

/*
 * conn_wait
 *		Wait until the connection's socket is ready for what libpq asked.
 */
static void
conn_wait(PGconn *conn, PostgresPollingStatusType st)
{
	struct pollfd pfd;

	pfd.fd = PQsocket(conn);
	pfd.events = (st == PGRES_POLLING_READING) ? POLLIN : POLLOUT;
	pfd.revents = 0;
	if (pfd.fd >= 0)
		(void) poll(&pfd, 1, -1);
}

/*
 * conn_start
 *		Begin connecting without waiting for the server: return once the
 *		startup packet is sent, so that the caller can read its revision
 *		files while the server starts the backend.  conn_complete()
 *		finishes.  With -W (a password prompt first) this just connects.
 */
PGconn *
conn_start(void)
{
	const char *keywords[8];
	const char *values[8];
	PGconn	   *conn;
	PostgresPollingStatusType st = PGRES_POLLING_WRITING;

	if (opts.prompt_password == 2)
		return NULL;			/* conn_complete() prompts and connects */
	conn_params(keywords, values, NULL);
	conn = PQconnectStartParams(keywords, values, true);
	if (conn == NULL || PQstatus(conn) == CONNECTION_BAD)
		return conn;
	while (st == PGRES_POLLING_WRITING)
	{
		conn_wait(conn, st);
		st = PQconnectPoll(conn);
	}
	return conn;
}

/*
 * conn_complete
 *		Finish what conn_start() began, asking for a password when the server
 *		wants one and -w was not given (as pg_dump does), and find the
 *		extension's schema.  Returns NULL after printing why it failed.
 */
PGconn *
conn_complete(PGconn *conn)
{
	char	   *password = NULL;
	PostgresPollingStatusType st = PGRES_POLLING_READING;

	if (conn != NULL && PQstatus(conn) != CONNECTION_BAD)
	{
		for (;;)
		{
			st = PQconnectPoll(conn);
			if (st == PGRES_POLLING_OK || st == PGRES_POLLING_FAILED)
				break;
			conn_wait(conn, st);
		}
	}
	if (conn == NULL && opts.prompt_password != 2)
	{
		pg_log_error("could not connect to the server: out of memory");
		return NULL;
	}
	if (conn == NULL ||
		(PQstatus(conn) == CONNECTION_BAD && PQconnectionNeedsPassword(conn) &&
		 opts.prompt_password != 1))
	{
		/* (again) with a password */
		if (conn)
			PQfinish(conn);
		password = simple_prompt("Password: ", false);
		conn = conn_try(password);
		free(password);
	}
	if (conn == NULL)
	{
		pg_log_error("could not connect to the server: out of memory");
		return NULL;
	}
	if (PQstatus(conn) == CONNECTION_BAD)
	{
		pg_log_error("%s", PQerrorMessage(conn));
		PQfinish(conn);
		return NULL;
	}
	PQsetNoticeReceiver(conn, conn_notice, NULL);
	if (!conn_find_extension(conn))
	{
		PQfinish(conn);
		return NULL;
	}
	return conn;
}

/*
 * conn_open
 *		Connect (see conn_complete).
 */
PGconn *
conn_open(void)
{
	return conn_complete(conn_start());
}

/*
 * conn_open_quiet
 *		Connect if a server is there, without a password prompt and without
 *		printing anything: for verbs that work without a server and do more
 *		with one ("check --dir").  NULL with *why set when there is none.
 */
PGconn *
conn_open_quiet(char **why)
{
	const char *keywords[8];
	const char *values[8];
	PGconn	   *conn;
	PGresult   *res;

	conn_params(keywords, values, NULL);
	conn = PQconnectdbParams(keywords, values, true);
	if (conn == NULL || PQstatus(conn) == CONNECTION_BAD)
	{
		*why = pg_strdup(conn ? PQerrorMessage(conn) : "out of memory");
		(*why)[strcspn(*why, "\n")] = '\0';
		if (conn)
			PQfinish(conn);
		return NULL;
	}
	res = PQexec(conn,
				 "SELECT pg_catalog.quote_ident(n.nspname) "
				 "FROM pg_catalog.pg_extension e "
				 "JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace "
				 "WHERE e.extname = 'migr'");
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) == 0)
	{
		*why = psprintf("the extension \"migr\" is not installed in database \"%s\"",
						PQdb(conn));
		PQclear(res);
		PQfinish(conn);
		return NULL;
	}
	pg_free(conn_extschema);
	conn_extschema = pg_strdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	PQsetNoticeReceiver(conn, conn_notice, NULL);
	return conn;
}

/*
 * conn_find_extension
 *		The schema migr's functions live in, quoted, so that every call is
 *		qualified and immune to the caller's search_path.
 */
static bool
conn_find_extension(PGconn *conn)
{
	PGresult   *res;

	res = PQexec(conn,
				 "SELECT pg_catalog.quote_ident(n.nspname) "
				 "FROM pg_catalog.pg_extension e "
				 "JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace "
				 "WHERE e.extname = 'migr'");
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
	{
		conn_report_error(conn, res);
		PQclear(res);
		return false;
	}
	if (PQntuples(res) == 0)
	{
		pg_log_error("the extension \"migr\" is not installed in database \"%s\"",
					 PQdb(conn));
		pg_log_error_hint("Run CREATE EXTENSION migr; in that database as a role that may create it.");
		PQclear(res);
		return false;
	}
	pg_free(conn_extschema);
	conn_extschema = pg_strdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	return true;
}

/*
 * conn_schema
 *		The quoted schema of migr's functions (after conn_open).
 */
const char *
conn_schema(void)
{
	return conn_extschema ? conn_extschema : "public";
}

void
conn_close(PGconn *conn)
{
	if (conn)
		PQfinish(conn);
}

/*
 * conn_run
 *		Run a query with text parameters and return its result whatever it
 *		is (never NULL), for callers that look at a failure's SQLSTATE.
 */
PGresult *
conn_run(PGconn *conn, const char *sql, int nparams,
		 const char *const *params)
{
	PGresult   *res = PQexecParams(conn, sql, nparams, NULL, params, NULL,
								   NULL, 0);

	if (res == NULL)
		res = PQmakeEmptyPGresult(conn, PGRES_FATAL_ERROR);
	return res;
}

/*
 * conn_failed
 *		Whether a result is an error.
 */
bool
conn_failed(const PGresult *res)
{
	ExecStatusType st = PQresultStatus(res);

	return st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK;
}

/*
 * conn_exec
 *		Run a query with text parameters.  On failure print the error and
 *		return NULL; the caller only checks for NULL.
 */
PGresult *
conn_exec(PGconn *conn, const char *sql, int nparams,
		  const char *const *params)
{
	PGresult   *res = conn_run(conn, sql, nparams, params);

	if (conn_failed(res))
	{
		conn_report_error(conn, res);
		PQclear(res);
		return NULL;
	}
	return res;
}

/*
 * conn_command
 *		Run a statement without parameters or result (BEGIN, COMMIT).
 */
bool
conn_command(PGconn *conn, const char *sql)
{
	PGresult   *res = conn_exec(conn, sql, 0, NULL);

	if (res == NULL)
		return false;
	PQclear(res);
	return true;
}

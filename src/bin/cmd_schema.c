/*-------------------------------------------------------------------------
 *
 * cmd_schema.c
 *	  migr schema and migr drift: the database's schema description, and
 *	  how it differs from the last recorded move or from a saved one.
 *
 * "migr schema -d staging > staging.json; migr drift --against
 * staging.json -d prod" compares two databases: the description is read
 * from the file and handed to migr_drift() as its reference.
 *
 * Copyright (c) 2026, migr developers
 *
 * IDENTIFICATION
 *	  src/bin/cmd_schema.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include <sys/stat.h>

#include "common/logging.h"
#include "pqexpbuffer.h"

#include "migr_fe.h"

static char *schema_read_file(const char *path);

/*
 * cmd_schema
 *		migr schema: migr_schema() as indented JSON on stdout.
 */
int
cmd_schema(int argc, char **argv)
{
	PGconn	   *conn = conn_open();
	PGresult   *res;
	char	   *sql;

	if (conn == NULL)
		return MIGR_EXIT_FAILED;
	sql = psprintf("SELECT pg_catalog.jsonb_pretty(%s.migr_schema())",
				   conn_schema());
	res = conn_exec(conn, sql, 0, NULL);
	pg_free(sql);
	if (res == NULL)
	{
		conn_close(conn);
		return MIGR_EXIT_FAILED;
	}
	printf("%s\n", PQgetvalue(res, 0, 0));
	PQclear(res);
	conn_close(conn);
	return MIGR_EXIT_DONE;
}

/*
 * schema_read_file
 *		The whole of a file, NUL-terminated, or NULL after an error message.
 */
static char *
schema_read_file(const char *path)
{
	FILE	   *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	PQExpBufferData buf;
	char		chunk[8192];
	size_t		n;

	if (f == NULL)
	{
		pg_log_error("could not open file \"%s\": %m", path);
		return NULL;
	}
	initPQExpBuffer(&buf);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		appendBinaryPQExpBuffer(&buf, chunk, n);
	if (ferror(f))
	{
		pg_log_error("could not read file \"%s\": %m", path);
		if (f != stdin)
			fclose(f);
		termPQExpBuffer(&buf);
		return NULL;
	}
	if (f != stdin)
		fclose(f);
	return buf.data;
}

/*
 * cmd_drift
 *		migr drift [--against FILE]: migr_drift() as a table.  Any
 *		difference fails (exit 1), so that CI can gate on it.
 */
int
cmd_drift(int argc, char **argv)
{
	PGconn	   *conn;
	PGresult   *res;
	char	   *sql;
	const char *params[1] = {NULL};
	int			n;

	if (opts.against)
	{
		params[0] = schema_read_file(opts.against);
		if (params[0] == NULL)
			return MIGR_EXIT_FAILED;
	}
	conn = conn_open();
	if (conn == NULL)
		return MIGR_EXIT_FAILED;
	sql = psprintf("SELECT kind, object, change, coalesce(detail, '') AS detail "
				   "FROM %s.migr_drift($1::pg_catalog.jsonb)", conn_schema());
	res = conn_exec(conn, sql, 1, params);
	pg_free(sql);
	if (res == NULL)
	{
		conn_close(conn);
		return MIGR_EXIT_FAILED;
	}
	n = PQntuples(res);
	if (n == 0)
		output_say("no drift: the schema is the one %s\n",
				   opts.against ? "the file describes" : "the last move left");
	else
	{
		output_table(conn, res, NULL, false);
		output_say("%d difference%s\n", n, n == 1 ? "" : "s");
	}
	PQclear(res);
	conn_close(conn);
	return n > 0 ? MIGR_EXIT_FAILED : MIGR_EXIT_DONE;
}

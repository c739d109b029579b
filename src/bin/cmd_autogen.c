/*-------------------------------------------------------------------------
 *
 * cmd_autogen.c
 *	  migr new --autogenerate, migr diff and migr baseline: revision files
 *	  written from the schema the project wants.
 *
 * The schema wanted comes from a schema file (--from FILE.sql, described
 * by the target database's migr_schema_of(), which runs it in a scratch
 * schema it always rolls back) or from a database where the models were
 * created (--from-db DSN, e.g. by SQLAlchemy's metadata.create_all(); migr
 * must be installed there, since the description is the extension's
 * migr_schema()).  The statements come from the target database's
 * migr_diff(); the file from migr_autogenerate(), written into the folder
 * for review.  Nothing is defined or applied, except by "baseline", which
 * loads the root revision it writes and stamps it.
 *
 * These verbs parse their own options (the hook in migr.c hands them the
 * command line whole).
 *
 * Copyright (c) 2026, migr developers
 *
 * IDENTIFICATION
 *	  src/bin/cmd_autogen.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/logging.h"
#include "getopt_long.h"
#include "pqexpbuffer.h"

#include "migr_fe.h"

typedef enum AutogenVerb
{
	AG_NEW,
	AG_DIFF,
	AG_BASELINE
} AutogenVerb;

typedef struct AutogenOpts
{
	AutogenVerb verb;
	const char *from;			/* --from FILE */
	const char *from_db;		/* --from-db DSN */
	const char *schema;			/* --schema (default public) */
	bool		exit_code;		/* diff --exit-code */
} AutogenOpts;

static char *autogen_read_file(const char *path);
static char *autogen_desired(PGconn *conn, const AutogenOpts *ao);
static bool autogen_write(const char *dir, const char *text, char **id_out);
static char *autogen_slug(const char *message);
static void autogen_usage(const char *verb);
static int	autogen_new(PGconn *conn, const AutogenOpts *ao);
static int	autogen_diff(PGconn *conn, const AutogenOpts *ao);
static int	autogen_baseline(PGconn *conn);

/*
 * autogen_wants
 *		Whether the command line is one of ours: "diff", "baseline", or
 *		"new" with --autogenerate.
 */
bool
autogen_wants(int argc, char **argv)
{
	int			i;
	const char *verb = NULL;

	for (i = 1; i < argc && verb == NULL; i++)
		if (argv[i][0] != '-')
			verb = argv[i];
		else if (strchr(argv[i], '=') == NULL &&
				 (strcmp(argv[i], "-d") == 0 ||
				  strcmp(argv[i], "-p") == 0 || strcmp(argv[i], "-U") == 0 ||
				  strcmp(argv[i], "-m") == 0 || strcmp(argv[i], "-H") == 0 ||
				  strncmp(argv[i], "--", 2) == 0))
		{
			/* a long option's value is the next word unless it is a flag */
			if (strcmp(argv[i], "--autogenerate") != 0 &&
				strcmp(argv[i], "--exit-code") != 0 &&
				strcmp(argv[i], "--quiet") != 0 &&
				strcmp(argv[i], "--verbose") != 0 &&
				strcmp(argv[i], "--no-password") != 0 &&
				strcmp(argv[i], "--password") != 0 &&
				strcmp(argv[i], "--help") != 0)
				i++;
		}
	if (verb == NULL)
		return false;
	if (strcmp(verb, "diff") == 0 || strcmp(verb, "baseline") == 0)
		return true;
	if (strcmp(verb, "new") == 0 || strcmp(verb, "revision") == 0)
		for (i = 1; i < argc; i++)
			if (strcmp(argv[i], "--autogenerate") == 0)
				return true;
	return false;
}

static void
autogen_usage(const char *verb)
{
	printf("Usage:\n");
	if (strcmp(verb, "baseline") == 0)
	{
		printf("  migr baseline [-m MESSAGE] [--dir DIR] [--rev-id ID] [CONNECTION]\n\n");
		printf("Writes a root revision that creates the database's present schema, loads it\n"
			   "and stamps it applied: how a database that had tables before migr starts.\n");
	}
	else if (strcmp(verb, "diff") == 0)
	{
		printf("  migr diff --from FILE.sql | --from-db DSN [--schema NAME] [--exit-code] [CONNECTION]\n\n");
		printf("Prints the statements that would turn the database's schema into the one\n"
			   "wanted.  --exit-code: exit 1 when there are any (CI: models changed without\n"
			   "a migration), 0 when there are none.\n");
	}
	else
	{
		printf("  migr new --autogenerate -m MESSAGE --from FILE.sql | --from-db DSN\n"
			   "           [--schema NAME] [--dir DIR] [--rev-id ID] [CONNECTION]\n\n");
		printf("Writes a revision file whose scripts turn the database's schema into the one\n"
			   "wanted, on top of the current head, into the folder for review.\n");
	}
	printf("\nThe schema wanted: --from FILE.sql, a schema file (run in a scratch schema that\n"
		   "is always rolled back); or --from-db DSN, a database where the models were\n"
		   "created (migr must be installed there).  --schema: the schema it describes\n"
		   "(default public).\n");
	printf("\nConnection: -d DBNAME, --host HOST (or -H), -p PORT, -U USER, -w, -W; -h is --help.\n");
}

/* the whole of a file, NUL-terminated, or NULL after an error message */
static char *
autogen_read_file(const char *path)
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
 * autogen_desired
 *		The description wanted, as JSON text, or NULL after an error.
 */
static char *
autogen_desired(PGconn *conn, const AutogenOpts *ao)
{
	PGresult   *res;
	char	   *sql;
	char	   *out;

	if (ao->from)
	{
		const char *params[2];

		params[0] = autogen_read_file(ao->from);
		params[1] = ao->schema;
		if (params[0] == NULL)
			return NULL;
		sql = psprintf("SELECT %s.migr_schema_of($1, $2)::text", conn_schema());
		res = conn_exec(conn, sql, 2, params);
	}
	else
	{
		const char *save = opts.dbname;
		const char *params[1];
		PGconn	   *src;

		/* the model database: same host options, its own DSN */
		opts.dbname = ao->from_db;
		src = conn_open();
		opts.dbname = save;
		if (src == NULL)
		{
			pg_log_error_hint("--from-db needs migr installed in that database too: its description is migr_schema().");
			return NULL;
		}
		params[0] = ao->schema;
		sql = psprintf("SELECT %s.migr_schema(ARRAY[$1])::text", conn_schema());
		res = conn_exec(src, sql, 1, params);
		if (res == NULL)
		{
			conn_close(src);
			return NULL;
		}
		out = pg_strdup(PQgetvalue(res, 0, 0));
		PQclear(res);
		conn_close(src);

		/*
		 * The schema's own owner, privileges and comment are the model
		 * database's, not the project's: take the target's where it has the
		 * schema (as migr_schema_of() does).
		 */
		{
			const char *p2[2];

			p2[0] = out;
			p2[1] = ao->schema;
			sql = psprintf("SELECT CASE WHEN pg_catalog.to_regnamespace(pg_catalog.quote_ident($2)) IS NULL"
						   " THEN $1::pg_catalog.jsonb"
						   " ELSE $1::pg_catalog.jsonb OPERATOR(pg_catalog.||) pg_catalog.jsonb_build_object('schemas',"
						   " %s.migr_schema(ARRAY[$2]) OPERATOR(pg_catalog.->) 'schemas') END::text",
						   conn_schema());
			res = conn_exec(conn, sql, 2, p2);
		}
	}
	pg_free(sql);
	if (res == NULL)
		return NULL;
	out = pg_strdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	return out;
}

/* the file name's words: lowercase letters, digits and underscores */
static char *
autogen_slug(const char *message)
{
	char	   *s = pg_malloc(Min(strlen(message), 40) + 1);
	int			n = 0;
	const char *p;

	for (p = message; *p && n < 40; p++)
	{
		if (isalnum((unsigned char) *p))
			s[n++] = tolower((unsigned char) *p);
		else if (n > 0 && s[n - 1] != '_')
			s[n++] = '_';
	}
	while (n > 0 && s[n - 1] == '_')
		n--;
	s[n] = '\0';
	return s;
}

/*
 * autogen_write
 *		The file into the folder as ID_slug.sql, never over an existing one.
 */
static bool
autogen_write(const char *dir, const char *text, char **id_out)
{
	const char *p = strstr(text, "-- migr:revision ");
	const char *m = strstr(text, "-- migr:message ");
	char	   *id;
	char	   *slug;
	char	   *path;
	int			fd;
	size_t		len = strlen(text);

	if (p == NULL)
	{
		pg_log_error("the server returned a revision file without a revision id");
		return false;
	}
	p += strlen("-- migr:revision ");
	id = pnstrdup(p, strcspn(p, "\n"));
	slug = m ? autogen_slug(pnstrdup(m + 16, strcspn(m + 16, "\n"))) : pg_strdup("");
	if (mkdir(dir, 0777) != 0 && errno != EEXIST)
	{
		pg_log_error("could not create directory \"%s\": %m", dir);
		return false;
	}
	path = slug[0] ? psprintf("%s/%s_%s.sql", dir, id, slug) : psprintf("%s/%s.sql", dir, id);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0666);
	if (fd < 0)
	{
		pg_log_error("could not create file \"%s\": %m", path);
		return false;
	}
	if (write(fd, text, len) != (ssize_t) len || close(fd) != 0)
	{
		pg_log_error("could not write file \"%s\": %m", path);
		unlink(path);
		return false;
	}
	output_say("created %s: revision %s (review it, then migr push)\n", path, id);
	if (strstr(text, "THE DESIRED SCHEMA IS EMPTY"))
		pg_log_warning("the desired schema is empty: %s drops everything; read its header", path);
	if (strstr(text, "-- UNSUPPORTED"))
		pg_log_warning("%s has differences migr could not write (lines \"-- UNSUPPORTED\"): write them by hand",
					   path);
	*id_out = id;
	return true;
}

static int
autogen_new(PGconn *conn, const AutogenOpts *ao)
{
	char	   *desired = autogen_desired(conn, ao);
	const char *params[3];
	PGresult   *res;
	char	   *sql;
	char	   *id;

	if (desired == NULL)
		return MIGR_EXIT_FAILED;
	params[0] = desired;
	params[1] = opts.message;
	params[2] = opts.rev_id;
	sql = psprintf("SELECT %s.migr_autogenerate($1::pg_catalog.jsonb, $2, $3)", conn_schema());
	res = conn_exec(conn, sql, 3, params);
	if (res == NULL)
		return MIGR_EXIT_FAILED;
	if (!autogen_write(migr_dir(), PQgetvalue(res, 0, 0), &id))
		return MIGR_EXIT_FAILED;
	PQclear(res);
	return MIGR_EXIT_DONE;
}

static int
autogen_diff(PGconn *conn, const AutogenOpts *ao)
{
	char	   *desired = autogen_desired(conn, ao);
	const char *params[1];
	PGresult   *res;
	char	   *sql;
	int			n,
				i;

	if (desired == NULL)
		return MIGR_EXIT_FAILED;
	params[0] = desired;
	sql = psprintf("SELECT statement, hazard FROM %s.migr_diff($1::pg_catalog.jsonb) "
				   "WHERE direction OPERATOR(pg_catalog.=) 'upgrade' ORDER BY step", conn_schema());
	res = conn_exec(conn, sql, 1, params);
	if (res == NULL)
		return MIGR_EXIT_FAILED;
	n = PQntuples(res);
	for (i = 0; i < n; i++)
	{
		if (!PQgetisnull(res, i, 1) && strcmp(PQgetvalue(res, i, 1), "unsupported") != 0)
			printf("-- hazard: %s\n", PQgetvalue(res, i, 1));
		printf("%s%s\n", PQgetvalue(res, i, 0),
			   !PQgetisnull(res, i, 1) && strcmp(PQgetvalue(res, i, 1), "unsupported") == 0 ? "" : ";");
	}
	if (n == 0)
		output_say("no changes: the database's schema is the one wanted\n");
	else
		output_say("%d statement%s: the schema wanted differs from the database's%s\n", n,
				   n == 1 ? "" : "s",
				   ao->exit_code ? " (a migration is missing)" : "");
	PQclear(res);
	return (ao->exit_code && n > 0) ? MIGR_EXIT_FAILED : MIGR_EXIT_DONE;
}

static int
autogen_baseline(PGconn *conn)
{
	const char *params[2];
	PGresult   *res;
	char	   *sql;
	char	   *id;
	char	   *text;

	params[0] = opts.message ? opts.message : "baseline";
	params[1] = opts.rev_id;
	sql = psprintf("SELECT %s.migr_baseline($1, $2)", conn_schema());
	res = conn_exec(conn, sql, 2, params);
	if (res == NULL)
		return MIGR_EXIT_FAILED;
	text = pg_strdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	if (!autogen_write(migr_dir(), text, &id))
		return MIGR_EXIT_FAILED;
	/* defined and stamped in one transaction: both or neither */
	if (!conn_command(conn, "BEGIN"))
		return MIGR_EXIT_FAILED;
	params[0] = text;
	res = conn_exec(conn, psprintf("SELECT %s.migr_load($1)", conn_schema()), 1, params);
	if (res == NULL)
		return MIGR_EXIT_FAILED;
	PQclear(res);
	params[0] = id;
	res = conn_exec(conn, psprintf("SELECT * FROM %s.migr_stamp($1)", conn_schema()), 1, params);
	if (res == NULL)
		return MIGR_EXIT_FAILED;
	PQclear(res);
	if (!conn_command(conn, "COMMIT"))
		return MIGR_EXIT_FAILED;
	output_say("stamped %s: the database is at its baseline\n", id);
	return MIGR_EXIT_DONE;
}

/*
 * cmd_autogen
 *		The command line whole (argv[0] the program).
 */
int
cmd_autogen(int argc, char **argv)
{
	static const struct option lo[] = {
		{"dbname", required_argument, NULL, 'd'},
		{"host", required_argument, NULL, 'H'},
		{"port", required_argument, NULL, 'p'},
		{"username", required_argument, NULL, 'U'},
		{"no-password", no_argument, NULL, 'w'},
		{"password", no_argument, NULL, 'W'},
		{"message", required_argument, NULL, 'm'},
		{"dir", required_argument, NULL, 1},
		{"rev-id", required_argument, NULL, 2},
		{"from", required_argument, NULL, 3},
		{"from-db", required_argument, NULL, 4},
		{"schema", required_argument, NULL, 5},
		{"exit-code", no_argument, NULL, 6},
		{"autogenerate", no_argument, NULL, 7},
		{"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0}
	};
	AutogenOpts ao;
	const char *verbname = NULL;
	PGconn	   *conn;
	int			c,
				rc;

	memset(&ao, 0, sizeof(ao));
	ao.schema = "public";
	while ((c = getopt_long(argc, argv, "d:H:p:U:wWm:qh?", lo, NULL)) != -1)
	{
		switch (c)
		{
			case 'd':
				opts.dbname = optarg;
				break;
			case 'H':
				opts.host = optarg;
				break;
			case 'p':
				opts.port = optarg;
				break;
			case 'U':
				opts.username = optarg;
				break;
			case 'w':
				opts.prompt_password = 1;
				break;
			case 'W':
				opts.prompt_password = 2;
				break;
			case 'm':
				opts.message = optarg;
				break;
			case 'q':
				opts.quiet = true;
				break;
			case 1:
				opts.dir = optarg;
				break;
			case 2:
				opts.rev_id = optarg;
				break;
			case 3:
				ao.from = optarg;
				break;
			case 4:
				ao.from_db = optarg;
				break;
			case 5:
				ao.schema = optarg;
				break;
			case 6:
				ao.exit_code = true;
				break;
			case 7:
				break;
			case 'h':
				/* -h, --help: usage of the verb named on the line */
				for (c = 1; c < argc; c++)
					if (argv[c][0] != '-')
						break;
				autogen_usage(c < argc ? argv[c] : "new");
				return MIGR_EXIT_DONE;
			case '?':
				pg_log_error_hint("Try \"migr diff --help\", \"migr new --autogenerate --help\" or \"migr baseline --help\".");
				return MIGR_EXIT_USAGE;
			default:
				return MIGR_EXIT_USAGE;
		}
	}
	if (optind < argc)
		verbname = argv[optind];
	if (verbname == NULL || optind + 1 < argc)
	{
		pg_log_error("%s", verbname ? psprintf("unexpected argument \"%s\"", argv[optind + 1]) :
					 "no verb given");
		return MIGR_EXIT_USAGE;
	}
	ao.verb = strcmp(verbname, "diff") == 0 ? AG_DIFF :
		strcmp(verbname, "baseline") == 0 ? AG_BASELINE : AG_NEW;
	if (ao.verb != AG_BASELINE && (ao.from == NULL) == (ao.from_db == NULL))
	{
		pg_log_error("\"%s\" needs the schema wanted: --from FILE.sql or --from-db DSN (one of them)",
					 ao.verb == AG_DIFF ? "diff" : "new --autogenerate");
		return MIGR_EXIT_USAGE;
	}
	if (ao.verb == AG_NEW && opts.message == NULL)
	{
		pg_log_error("\"new\" needs a message: migr new --autogenerate -m \"what it does\" --from ...");
		return MIGR_EXIT_USAGE;
	}
	if (ao.exit_code && ao.verb != AG_DIFF)
	{
		pg_log_error("--exit-code is an option of \"diff\"");
		return MIGR_EXIT_USAGE;
	}
	conn = conn_open();
	if (conn == NULL)
		return MIGR_EXIT_FAILED;
	rc = ao.verb == AG_DIFF ? autogen_diff(conn, &ao) :
		ao.verb == AG_BASELINE ? autogen_baseline(conn) : autogen_new(conn, &ao);
	conn_close(conn);
	return rc;
}

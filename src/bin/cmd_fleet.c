/*-------------------------------------------------------------------------
 *
 * cmd_fleet.c
 *	  Fleets of databases: "migr upgrade", "downgrade" and "current" over
 *	  every database of a server that has migr (--each-database) or over
 *	  the databases of a file of connection strings (--dsn-file), several
 *	  at a time (--jobs N).
 *
 * One process, one thread: an event loop over libpq's asynchronous API.
 * Each database goes through the same short chain of steps, one query
 * each: connect (PQconnectStartParams, PQconnectPoll), find the extension's
 * schema, read the current revisions, push the folder (--push), move
 * (migr_upgrade or migr_downgrade, one call: all or nothing in that
 * database), read the current revisions again.  The loop keeps N databases
 * in flight, polls their sockets, and advances whichever is ready; a
 * database that fails (unreachable, no extension, a revision that fails on
 * its data) is recorded and the others go on.  Nothing is remembered
 * between runs: every move is idempotent, so a second run finishes what
 * the first left and shows the rest "already at" the target.
 *
 * What is printed: a progress line on a terminal, rewritten in place; else
 * one line per database as it finishes; then a table with one row per
 * database (name, before, after, revisions, time, outcome); the exit code
 * is 1 when any database failed.  Passwords in connection strings are
 * never printed.
 *
 * Copyright (c) 2026, migr developers
 *
 * IDENTIFICATION
 *	  src/bin/cmd_fleet.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include "common/logging.h"
#include "common/string.h"

#include "migr_fe.h"

/* Where one database is in the chain of steps. */
typedef enum FleetStep
{
	FLEET_WAITING,				/* not started */
	FLEET_CONNECTING,
	FLEET_FIND,					/* the extension's schema */
	FLEET_BEFORE,				/* migr_current() */
	FLEET_PUSH,					/* --push: migr_load() of the folder */
	FLEET_MOVE,					/* migr_upgrade() or migr_downgrade() */
	FLEET_AFTER,				/* migr_current() again */
	FLEET_DONE
} FleetStep;

typedef enum FleetOutcome
{
	FLEET_MOVED,
	FLEET_NOTHING,				/* already at the target */
	FLEET_SHOWN,				/* current */
	FLEET_SKIPPED,				/* --each-database: no migr there */
	FLEET_FAILED
} FleetOutcome;

/* One database of the fleet. */
typedef struct FleetDb
{
	char	   *conninfo;		/* a line of the file, or a database name */
	char	   *name;			/* as shown: passwords hidden */
	FleetStep	step;
	PGconn	   *conn;
	PostgresPollingStatusType polling;	/* while connecting */
	bool		flushing;		/* a query not yet all sent */
	PGresult   *res;			/* the running query's result */
	char	   *schema;			/* migr's schema, quoted */
	char	   *before;
	char	   *after;
	int			moved;			/* revisions applied or reverted */
	int			queued;			/* of which handed to the background worker */
	double		t0;
	double		deadline;		/* connect_timeout, as a time; 0 if none */
	double		ms;
	FleetOutcome outcome;
	char	   *error;			/* first line of the error */
} FleetDb;

/* The whole run. */
typedef struct Fleet
{
	const char *verb;			/* upgrade, downgrade, current */
	const char *target;
	FleetDb    *dbs;
	int			ndbs;
	int			jobs;
	int			next;			/* first database not started */
	int			running;
	int			finished;
	int			failed;
	bool		by_name;		/* conninfo is a database name (each-database) */
	const char *maintenance;	/* each-database: the database listed from */
	char	   *password;		/* -W, asked once for the whole fleet */
	char	   *push_array;		/* --push: every file, as a text[] literal */
	bool		progress;		/* a terminal line rewritten in place */
	bool		progress_shown;
	int			progress_last;	/* what the progress line last said */
	bool		interrupted;	/* SIGINT or SIGTERM: canceling */
} Fleet;

/* set by the signal handler; fleet_run() acts on it */
static volatile sig_atomic_t fleet_signaled = 0;

static bool fleet_usage(const char *verb, int argc);
static bool fleet_read_file(Fleet *f, const char *path);
static char *fleet_hide_password(const char *conninfo);
static bool fleet_list_databases(Fleet *f);
static PGconn *fleet_connect_maintenance(Fleet *f);
static bool fleet_prepare_push(Fleet *f);
static void fleet_params(Fleet *f, FleetDb *db, const char **keywords,
						 const char **values);
static void fleet_start(Fleet *f, FleetDb *db);
static double fleet_connect_deadline(FleetDb *db);
static void fleet_run(Fleet *f);
static int	fleet_poll_timeout(Fleet *f);
static void fleet_check_deadlines(Fleet *f);
static void fleet_handle_signal(int signo);
static void fleet_catch_signals(void);
static void fleet_interrupt(Fleet *f);
static short fleet_events(FleetDb *db);
static void fleet_advance(Fleet *f, FleetDb *db, short revents);
static void fleet_connected(Fleet *f, FleetDb *db);
static void fleet_send(Fleet *f, FleetDb *db, FleetStep step, const char *sql,
					   int nparams, const char *const *params);
static void fleet_next(Fleet *f, FleetDb *db);
static void fleet_after_find(Fleet *f, FleetDb *db);
static void fleet_send_current(Fleet *f, FleetDb *db, FleetStep step);
static void fleet_send_push(Fleet *f, FleetDb *db);
static void fleet_send_move(Fleet *f, FleetDb *db);
static void fleet_finish(Fleet *f, FleetDb *db, FleetOutcome outcome);
static void fleet_fail(Fleet *f, FleetDb *db, const PGresult *res,
					   const char *what);
static void fleet_notice(void *arg, const PGresult *res);
static void fleet_progress(Fleet *f);
static void fleet_clear_progress(Fleet *f);
static char *fleet_outcome(const Fleet *f, const FleetDb *db);
static void fleet_summary(Fleet *f);

/*
 * fleet_wanted
 *		Whether the command line asks for a fleet.
 */
bool
fleet_wanted(void)
{
	return opts.each_database || opts.dsn_file != NULL || opts.jobs > 0;
}

/*
 * fleet_usage
 *		The fleet options make sense together, with these verbs only.
 */
static bool
fleet_usage(const char *verb, int argc)
{
	if (strcmp(verb, "upgrade") != 0 && strcmp(verb, "downgrade") != 0 &&
		strcmp(verb, "current") != 0)
		return migr_usage_error("--each-database, --dsn-file and --jobs apply to \"upgrade\", \"downgrade\" and \"current\", not to \"%s\"",
								verb);
	if (opts.each_database && opts.dsn_file)
		return migr_usage_error("--each-database and --dsn-file cannot be given together");
	if (!opts.each_database && opts.dsn_file == NULL)
		return migr_usage_error("--jobs needs --each-database or --dsn-file");
	if (opts.dsn_file && opts.dbname)
		return migr_usage_error("-d/--dbname cannot be given with --dsn-file: the file names the databases");
	if (opts.dir && !opts.push)
		return migr_usage_error("--dir is used by \"upgrade\" only with --push");
	return true;
}

/*
 * fleet_read_file
 *		One connection string per line; blank lines and lines starting with
 *		"#" are left out.  "-" reads standard input.
 */
static bool
fleet_read_file(Fleet *f, const char *path)
{
	FILE	   *fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	char	   *line;
	int			lineno = 0;

	if (fp == NULL)
	{
		pg_log_error("could not open file \"%s\": %m", path);
		return false;
	}
	while ((line = pg_get_line(fp, NULL)) != NULL)
	{
		char	   *s = line;
		char	   *err = NULL;
		PQconninfoOption *parsed;

		lineno++;
		(void) pg_strip_crlf(s);
		while (*s == ' ' || *s == '\t')
			s++;
		if (*s == '\0' || *s == '#')
		{
			pg_free(line);
			continue;
		}
		parsed = PQconninfoParse(s, &err);
		if (parsed == NULL)
		{
			pg_log_error("%s:%d: invalid connection string: %s", path, lineno,
						 err ? err : "out of memory");
			PQfreemem(err);
			return false;
		}
		PQconninfoFree(parsed);
		f->dbs = pg_realloc(f->dbs, sizeof(FleetDb) * (f->ndbs + 1));
		memset(&f->dbs[f->ndbs], 0, sizeof(FleetDb));
		f->dbs[f->ndbs].conninfo = pg_strdup(s);
		f->dbs[f->ndbs].name = fleet_hide_password(s);
		f->ndbs++;
		pg_free(line);
	}
	if (fp != stdin)
		fclose(fp);
	if (f->ndbs == 0)
	{
		pg_log_error("the file \"%s\" holds no connection string", path);
		return false;
	}
	return true;
}

/*
 * fleet_hide_password
 *		A connection string as shown: as written when it holds no password,
 *		else rebuilt from its parts with the password starred out.
 */
static char *
fleet_hide_password(const char *conninfo)
{
	PQconninfoOption *parsed = PQconninfoParse(conninfo, NULL);
	PQconninfoOption *o;
	PQExpBufferData buf;
	bool		secret = false;

	if (parsed == NULL)
		return pg_strdup(conninfo);
	for (o = parsed; o->keyword; o++)
		if (o->val && strcmp(o->keyword, "password") == 0)
			secret = true;
	if (!secret)
	{
		PQconninfoFree(parsed);
		return pg_strdup(conninfo);
	}
	initPQExpBuffer(&buf);
	for (o = parsed; o->keyword; o++)
	{
		if (o->val == NULL)
			continue;
		if (buf.len > 0)
			appendPQExpBufferChar(&buf, ' ');
		if (strcmp(o->keyword, "password") == 0)
			appendPQExpBufferStr(&buf, "password=********");
		else
			appendPQExpBuffer(&buf, "%s=%s", o->keyword, o->val);
	}
	PQconninfoFree(parsed);
	return buf.data;
}

/*
 * fleet_params
 *		A database's connection parameters.  The command line's -h, -p, -U
 *		come first so that what a line of the file says wins; for
 *		--each-database, the command line's -d (which may be a whole
 *		connection string) comes next and the database's name after it,
 *		where libpq takes it as a plain name.
 */
static void
fleet_params(Fleet *f, FleetDb *db, const char **keywords, const char **values)
{
	int			i = 0;

	keywords[i] = "host";
	values[i++] = opts.host;
	keywords[i] = "port";
	values[i++] = opts.port;
	keywords[i] = "user";
	values[i++] = opts.username;
	keywords[i] = "password";
	values[i++] = f->password;
	if (f->by_name || db == NULL)
	{
		/*
		 * Never NULL: libpq expands the first dbname that has a value, and
		 * a database's own name ("a=b") must not be taken for a string.
		 */
		keywords[i] = "dbname";
		values[i++] = opts.dbname ? opts.dbname : "";
	}
	if (db || f->maintenance)
	{
		keywords[i] = "dbname";
		values[i++] = db ? db->conninfo : f->maintenance;
	}
	keywords[i] = "fallback_application_name";
	values[i++] = "migr";
	keywords[i] = NULL;
	values[i] = NULL;
}

/*
 * fleet_connect_maintenance
 *		--each-database: the database the connection options name, where the
 *		list of databases is read (by default "postgres", else "template1").  A password is asked for here when the
 *		server wants one (and -w was not given), and then used throughout.
 */
static PGconn *
fleet_connect_maintenance(Fleet *f)
{
	const char *keywords[10];
	const char *values[10];
	PGconn	   *conn;

	/*
	 * Named by nothing (no -d, no PGDATABASE), it is "postgres", else
	 * "template1", as for vacuumdb --all and pg_dumpall: libpq's default,
	 * the user's name, is seldom a database on a server with many.
	 */
	if (opts.dbname == NULL && getenv("PGDATABASE") == NULL)
	{
		f->maintenance = "postgres";
		fleet_params(f, NULL, keywords, values);
		conn = PQconnectdbParams(keywords, values, true);
		if (conn && PQstatus(conn) == CONNECTION_OK)
			return conn;
		if (conn && !PQconnectionNeedsPassword(conn))
		{
			PQfinish(conn);
			f->maintenance = "template1";
		}
		else
			PQfinish(conn);
	}
	fleet_params(f, NULL, keywords, values);
	conn = PQconnectdbParams(keywords, values, true);
	if (conn && PQstatus(conn) == CONNECTION_BAD &&
		PQconnectionNeedsPassword(conn) && f->password == NULL &&
		opts.prompt_password != 1)
	{
		PQfinish(conn);
		f->password = simple_prompt("Password: ", false);
		fleet_params(f, NULL, keywords, values);
		conn = PQconnectdbParams(keywords, values, true);
	}
	if (conn == NULL || PQstatus(conn) == CONNECTION_BAD)
	{
		pg_log_error("%s", conn ? PQerrorMessage(conn) : "out of memory");
		PQfinish(conn);
		return NULL;
	}
	return conn;
}

/*
 * fleet_list_databases
 *		--each-database: every database that accepts connections and is not
 *		a template, by name.  Whether migr is installed is seen in each.
 */
static bool
fleet_list_databases(Fleet *f)
{
	PGconn	   *conn = fleet_connect_maintenance(f);
	PGresult   *res;
	int			i;

	if (conn == NULL)
		return false;
	res = conn_exec(conn,
					"SELECT datname FROM pg_catalog.pg_database "
					"WHERE datallowconn AND NOT datistemplate "
					"ORDER BY datname", 0, NULL);
	if (res == NULL)
	{
		PQfinish(conn);
		return false;
	}
	f->ndbs = PQntuples(res);
	f->dbs = pg_malloc0(sizeof(FleetDb) * Max(f->ndbs, 1));
	for (i = 0; i < f->ndbs; i++)
	{
		f->dbs[i].conninfo = pg_strdup(PQgetvalue(res, i, 0));
		f->dbs[i].name = pg_strdup(PQgetvalue(res, i, 0));
	}
	PQclear(res);
	PQfinish(conn);
	f->by_name = true;
	return true;
}

/*
 * fleet_prepare_push
 *		--push: read and check the folder once, before any database is
 *		touched.  Each database then gets every file in one migr_load()
 *		statement, parents first; defining a revision again with the same
 *		content is a no-op in the server, and changing an applied one is
 *		refused there (MG002), failing that database alone.
 */
static bool
fleet_prepare_push(Fleet *f)
{
	RevDir	   *rd = revdir_read(migr_dir());
	PQExpBufferData buf;
	int		   *order;
	int			n;
	int			fatal = 0;
	int			i;

	revdir_parse(rd, true);
	revgraph_link(rd);
	for (i = 0; i < rd->nfindings; i++)
		if (strcmp(rd->findings[i].severity, "error") == 0 &&
			strcmp(rd->findings[i].code, "missing_parent") != 0 &&
			strcmp(rd->findings[i].code, "missing_dependency") != 0)
			fatal++;
	if (fatal > 0)
	{
		revdir_print_findings(rd, stderr, true);
		pg_log_error("the folder \"%s\" has %d problem%s; no database was touched",
					 rd->dir, fatal, fatal == 1 ? "" : "s");
		return false;
	}
	order = revgraph_order(rd, &n);
	if (n == 0)
	{
		pg_log_warning("the folder \"%s\" holds no revision file (*.sql)",
					   rd->dir);
		return true;
	}
	initPQExpBuffer(&buf);
	push_array_literal(&buf, rd, order, n);
	f->push_array = buf.data;
	return true;
}

/*
 * fleet_start
 *		Begin connecting to one database.
 */
static void
fleet_start(Fleet *f, FleetDb *db)
{
	const char *keywords[10];
	const char *values[10];

	db->t0 = output_now_ms();
	f->running++;
	fleet_params(f, db, keywords, values);
	db->conn = PQconnectStartParams(keywords, values, true);
	db->step = FLEET_CONNECTING;
	db->polling = PGRES_POLLING_WRITING;
	if (db->conn == NULL || PQstatus(db->conn) == CONNECTION_BAD)
	{
		fleet_fail(f, db, NULL, "could not connect");
		return;
	}
	db->deadline = fleet_connect_deadline(db);
}

/*
 * fleet_connect_deadline
 *		libpq leaves connect_timeout to the application when it connects
 *		asynchronously: keep it here (the connection string's, else
 *		PGCONNECT_TIMEOUT's; at least 2 s, as libpq), so that a host that
 *		does not answer fails in that time as it would for psql.  0: none.
 */
static double
fleet_connect_deadline(FleetDb *db)
{
	PQconninfoOption *info = PQconninfo(db->conn);
	PQconninfoOption *o;
	double		deadline = 0;

	for (o = info; o && o->keyword; o++)
		if (strcmp(o->keyword, "connect_timeout") == 0 && o->val &&
			atoi(o->val) > 0)
			deadline = db->t0 + 1000.0 * Max(atoi(o->val), 2);
	PQconninfoFree(info);
	return deadline;
}

/*
 * fleet_events
 *		What a database in flight waits for on its socket.
 */
static short
fleet_events(FleetDb *db)
{
	if (db->step == FLEET_CONNECTING)
		return db->polling == PGRES_POLLING_READING ? POLLIN : POLLOUT;
	return db->flushing ? (POLLIN | POLLOUT) : POLLIN;
}

/*
 * fleet_run
 *		The event loop: keep up to --jobs databases in flight, wait for any
 *		of their sockets, advance the ready ones, until every database is
 *		done.
 */
static void
fleet_run(Fleet *f)
{
	struct pollfd *pfds = pg_malloc(sizeof(struct pollfd) * f->jobs);
	int		   *which = pg_malloc(sizeof(int) * f->jobs);

	while (f->finished < f->ndbs)
	{
		int			n = 0;
		int			i;

		if (fleet_signaled && !f->interrupted)
			fleet_interrupt(f);
		while (f->running < f->jobs && f->next < f->ndbs && !f->interrupted)
			fleet_start(f, &f->dbs[f->next++]);
		for (i = 0; i < f->next; i++)
		{
			FleetDb    *db = &f->dbs[i];

			if (db->step == FLEET_DONE || db->step == FLEET_WAITING)
				continue;
			pfds[n].fd = PQsocket(db->conn);
			if (pfds[n].fd < 0)
			{
				fleet_fail(f, db, NULL, "connection lost");
				continue;
			}
			pfds[n].events = fleet_events(db);
			pfds[n].revents = 0;
			which[n++] = i;
		}
		fleet_progress(f);
		if (n == 0)
			continue;			/* those started failed at once */
		if (poll(pfds, n, fleet_poll_timeout(f)) < 0)
		{
			if (errno == EINTR)
				continue;
			pg_fatal("could not wait for the databases: %m");
		}
		for (i = 0; i < n; i++)
			if (pfds[i].revents != 0)
				fleet_advance(f, &f->dbs[which[i]], pfds[i].revents);
		fleet_check_deadlines(f);
	}
	fleet_clear_progress(f);
	pg_free(pfds);
	pg_free(which);
}

/*
 * fleet_poll_timeout
 *		How long poll() may wait: until the nearest connect_timeout, or for
 *		ever (-1) when no connecting database has one.
 */
static int
fleet_poll_timeout(Fleet *f)
{
	double		now = output_now_ms();
	double		wait = -1;
	int			i;

	for (i = 0; i < f->next; i++)
	{
		FleetDb    *db = &f->dbs[i];

		if (db->step != FLEET_CONNECTING || db->deadline == 0)
			continue;
		if (wait < 0 || db->deadline - now < wait)
			wait = Max(db->deadline - now, 0);
	}
	return wait < 0 ? -1 : (int) wait + 1;
}

/*
 * fleet_check_deadlines
 *		Fail the databases whose connect_timeout passed while connecting.
 */
static void
fleet_check_deadlines(Fleet *f)
{
	double		now = output_now_ms();
	int			i;

	for (i = 0; i < f->next; i++)
	{
		FleetDb    *db = &f->dbs[i];

		if (db->step == FLEET_CONNECTING && db->deadline > 0 &&
			now >= db->deadline)
		{
			db->error = psprintf("could not connect: timeout expired after %.0f s (connect_timeout)",
								 (db->deadline - db->t0) / 1000.0);
			fleet_fail(f, db, NULL, NULL);
		}
	}
}

/*
 * fleet_handle_signal
 *		SIGINT or SIGTERM: note it; the loop cancels.  A second one ends the
 *		process at once (SA_RESETHAND).
 */
static void
fleet_handle_signal(int signo)
{
	fleet_signaled = 1;
}

static void
fleet_catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fleet_handle_signal;
	sa.sa_flags = SA_RESETHAND;	/* no SA_RESTART: poll() returns EINTR */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

/*
 * fleet_interrupt
 *		Stop: start no other database, cancel the queries in flight (their
 *		servers roll back, the results come back as errors), give up on the
 *		connections not yet made.  The loop then collects what is left, so
 *		that the table says where each database stands.
 */
static void
fleet_interrupt(Fleet *f)
{
	int			i;

	f->interrupted = true;
	fleet_clear_progress(f);
	pg_log_warning("interrupted: canceling the databases in flight, starting no other");
	for (i = 0; i < f->next; i++)
	{
		FleetDb    *db = &f->dbs[i];
		PGcancel   *cancel;
		char		errbuf[256];

		if (db->step == FLEET_DONE)
			continue;
		if (db->step == FLEET_CONNECTING)
		{
			db->error = pg_strdup("interrupted while connecting");
			fleet_fail(f, db, NULL, NULL);
			continue;
		}
		cancel = PQgetCancel(db->conn);
		if (cancel == NULL || !PQcancel(cancel, errbuf, sizeof(errbuf)))
		{
			db->error = psprintf("interrupted; could not cancel: %s",
								 cancel ? errbuf : "out of memory");
			fleet_fail(f, db, NULL, NULL);
		}
		PQfreeCancel(cancel);
	}
	for (; f->next < f->ndbs; f->next++)
	{
		FleetDb    *db = &f->dbs[f->next];

		db->error = pg_strdup("not started: interrupted");
		db->t0 = output_now_ms();
		f->running++;			/* fleet_finish() counts it down */
		fleet_finish(f, db, FLEET_FAILED);
	}
}

/*
 * fleet_advance
 *		A database's socket is ready: go on with the connection, send the
 *		rest of a query, or read its result; when the result is whole, the
 *		next step.
 */
static void
fleet_advance(Fleet *f, FleetDb *db, short revents)
{
	PGresult   *res;

	if (db->step == FLEET_CONNECTING)
	{
		db->polling = PQconnectPoll(db->conn);
		if (db->polling == PGRES_POLLING_OK)
			fleet_connected(f, db);
		else if (db->polling == PGRES_POLLING_FAILED)
			fleet_fail(f, db, NULL, "could not connect");
		return;
	}
	/* whatever woke us (data, a hang-up, an error), libpq reads it */
	if (!PQconsumeInput(db->conn))
	{
		fleet_fail(f, db, NULL, "connection lost");
		return;
	}
	if (db->flushing)
	{
		int			r = PQflush(db->conn);

		if (r < 0)
		{
			fleet_fail(f, db, NULL, "connection lost");
			return;
		}
		db->flushing = (r == 1);
	}
	while (!PQisBusy(db->conn))
	{
		res = PQgetResult(db->conn);
		if (res == NULL)
		{
			fleet_next(f, db);	/* the query is over */
			return;
		}
		PQclear(db->res);
		db->res = res;
	}
}

/*
 * fleet_connected
 *		Connected: from now on the connection does not block, and its
 *		messages go through fleet_notice().
 */
static void
fleet_connected(Fleet *f, FleetDb *db)
{
	PQsetNoticeReceiver(db->conn, fleet_notice, db);
	if (PQsetnonblocking(db->conn, 1) != 0)
	{
		fleet_fail(f, db, NULL, "could not connect");
		return;
	}
	fleet_send(f, db, FLEET_FIND,
			   "SELECT pg_catalog.quote_ident(n.nspname) "
			   "FROM pg_catalog.pg_extension e "
			   "JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) e.extnamespace "
			   "WHERE e.extname OPERATOR(pg_catalog.=) 'migr'", 0, NULL);
}

/*
 * fleet_send
 *		Send a database its next query.
 */
static void
fleet_send(Fleet *f, FleetDb *db, FleetStep step, const char *sql,
		   int nparams, const char *const *params)
{
	int			r;

	db->step = step;
	PQclear(db->res);
	db->res = NULL;
	/* after an interruption, only the look at a move that committed */
	if (f->interrupted && step != FLEET_AFTER)
	{
		db->error = pg_strdup("interrupted");
		fleet_fail(f, db, NULL, NULL);
		return;
	}
	if (!PQsendQueryParams(db->conn, sql, nparams, NULL, params, NULL, NULL, 0))
	{
		fleet_fail(f, db, NULL, "could not send a query");
		return;
	}
	r = PQflush(db->conn);
	if (r < 0)
		fleet_fail(f, db, NULL, "could not send a query");
	db->flushing = (r == 1);
}

/*
 * fleet_next
 *		A query of the chain is over: take its result and go on.
 */
static void
fleet_next(Fleet *f, FleetDb *db)
{
	PGresult   *res = db->res;

	if (res == NULL || conn_failed(res))
	{
		fleet_fail(f, db, res,
				   db->step == FLEET_PUSH ? "push failed" :
				   db->step == FLEET_MOVE ? psprintf("%s to \"%s\" failed", f->verb, f->target) :
				   "query failed");
		return;
	}
	switch (db->step)
	{
		case FLEET_FIND:
			fleet_after_find(f, db);
			break;
		case FLEET_BEFORE:
			db->before = pg_strdup(PQgetvalue(res, 0, 0));
			if (strcmp(f->verb, "current") == 0)
				fleet_finish(f, db, FLEET_SHOWN);
			else if (f->push_array && strcmp(f->verb, "upgrade") == 0)
				fleet_send_push(f, db);
			else
				fleet_send_move(f, db);
			break;
		case FLEET_PUSH:
			fleet_send_move(f, db);
			break;
		case FLEET_MOVE:
			db->moved = atoi(PQgetvalue(res, 0, 0));
			db->queued = atoi(PQgetvalue(res, 0, 1));
			if (db->moved == 0)
			{
				db->after = pg_strdup(db->before);
				fleet_finish(f, db, FLEET_NOTHING);
			}
			else
				fleet_send_current(f, db, FLEET_AFTER);
			break;
		case FLEET_AFTER:
			db->after = pg_strdup(PQgetvalue(res, 0, 0));
			fleet_finish(f, db, FLEET_MOVED);
			break;
		default:
			pg_fatal("unexpected step %d", (int) db->step);
	}
}

/*
 * fleet_after_find
 *		The extension's schema is known (or migr is not there).
 */
static void
fleet_after_find(Fleet *f, FleetDb *db)
{
	if (PQntuples(db->res) == 0)
	{
		if (f->by_name)
		{
			fleet_finish(f, db, FLEET_SKIPPED);
			return;
		}
		db->error = psprintf("the extension \"migr\" is not installed in database \"%s\"",
							 PQdb(db->conn));
		fleet_fail(f, db, NULL, NULL);
		return;
	}
	db->schema = pg_strdup(PQgetvalue(db->res, 0, 0));
	fleet_send_current(f, db, FLEET_BEFORE);
}

/*
 * fleet_send_push
 *		--push: every file of the folder, parents first, in one statement
 *		(one transaction); the server defines only what is new or changed.
 */
static void
fleet_send_push(Fleet *f, FleetDb *db)
{
	const char *params[1];
	char	   *sql = psprintf("SELECT pg_catalog.count(%s.migr_load(u.s)) "
							   "FROM pg_catalog.unnest($1::pg_catalog.text[]) "
							   "WITH ORDINALITY AS u(s, n)", db->schema);

	params[0] = f->push_array;
	fleet_send(f, db, FLEET_PUSH, sql, 1, params);
	pg_free(sql);
}

/*
 * fleet_send_current
 *		The current revisions as one text ("" at base).
 */
static void
fleet_send_current(Fleet *f, FleetDb *db, FleetStep step)
{
	char	   *sql = psprintf("SELECT COALESCE(pg_catalog.string_agg(c.revision, ' ' ORDER BY c.revision), '') "
							   "FROM %s.migr_current() c", db->schema);

	fleet_send(f, db, step, sql, 0, NULL);
	pg_free(sql);
}

/*
 * fleet_send_move
 *		The move itself, one call: the server applies (or reverts) all of it
 *		or nothing.  Counted, not listed: the table has a row per database.
 */
static void
fleet_send_move(Fleet *f, FleetDb *db)
{
	const char *params[1];
	char	   *sql;

	params[0] = f->target;
	if (strcmp(f->verb, "upgrade") == 0)
		sql = psprintf("SELECT pg_catalog.count(*), "
					   "pg_catalog.count(*) FILTER (WHERE m.ms IS NULL) "
					   "FROM %s.migr_upgrade($1) m", db->schema);
	else
		sql = psprintf("SELECT pg_catalog.count(*), 0 "
					   "FROM %s.migr_downgrade($1) m", db->schema);
	fleet_send(f, db, FLEET_MOVE, sql, 1, params);
	pg_free(sql);
}

/*
 * fleet_finish
 *		A database is done, one way or another: close it, count it, and
 *		say so when progress is not a terminal line.
 */
static void
fleet_finish(Fleet *f, FleetDb *db, FleetOutcome outcome)
{
	db->outcome = outcome;
	db->step = FLEET_DONE;
	db->ms = output_now_ms() - db->t0;
	PQclear(db->res);
	db->res = NULL;
	if (db->conn)
		PQfinish(db->conn);
	db->conn = NULL;
	f->running--;
	f->finished++;
	if (outcome == FLEET_FAILED)
		f->failed++;
	if (!f->progress && !opts.quiet)
	{
		char	   *what = fleet_outcome(f, db);

		printf("[%d/%d] %s: %s\n", f->finished, f->ndbs, db->name, what);
		fflush(stdout);
		pg_free(what);
	}
}

/*
 * fleet_fail
 *		A database failed: print the error whole on stderr (the server's
 *		fields, as for one database), keep its first line for the table.
 */
static void
fleet_fail(Fleet *f, FleetDb *db, const PGresult *res, const char *what)
{
	const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;

	fleet_clear_progress(f);
	if (msg)
	{
		const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);

		db->error = psprintf("%s%s%s", state ? state : "", state ? ": " : "",
							 msg);
		pg_log_error("%s: %s", db->name, what);
		conn_report_error(db->conn, res);
	}
	else
	{
		if (db->error == NULL)
		{
			const char *text = db->conn ? PQerrorMessage(db->conn) : "out of memory";

			db->error = pg_strdup(text[0] ? text : what);
		}
		pg_log_error("%s: %s", db->name, db->error);
	}
	db->error[strcspn(db->error, "\n")] = '\0';
	fleet_finish(f, db, FLEET_FAILED);
}

/*
 * fleet_notice
 *		Warnings from a database (lint findings, for instance) go to stderr
 *		with its name; notices only with --verbose.
 */
static void
fleet_notice(void *arg, const PGresult *res)
{
	FleetDb    *db = arg;
	const char *sev = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);
	const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);

	if (!opts.verbose && sev && strcmp(sev, "WARNING") != 0)
		return;
	fflush(stdout);
	fprintf(stderr, "%s: %s:  %s\n", db->name,
			PQresultErrorField(res, PG_DIAG_SEVERITY), msg ? msg : "");
}

/*
 * fleet_progress
 *		On a terminal, one line rewritten in place when what it says
 *		changes.
 */
static void
fleet_progress(Fleet *f)
{
	int			said = (f->finished * 1024 + f->running) * 1024 + f->failed;

	if (!f->progress || (f->progress_shown && said == f->progress_last))
		return;
	f->progress_last = said;
	fprintf(stderr, "\rmigr: %s: %d/%d done, %d running, %d failed\033[K",
			f->verb, f->finished, f->ndbs, f->running, f->failed);
	fflush(stderr);
	f->progress_shown = true;
}

/*
 * fleet_clear_progress
 *		Rub the progress line out before anything else is printed.
 */
static void
fleet_clear_progress(Fleet *f)
{
	if (!f->progress_shown)
		return;
	fprintf(stderr, "\r\033[K");
	fflush(stderr);
	f->progress_shown = false;
}

/*
 * fleet_outcome
 *		What became of a database, in a few words.
 */
static char *
fleet_outcome(const Fleet *f, const FleetDb *db)
{
	const char *did = strcmp(f->verb, "upgrade") == 0 ? "applied" : "reverted";

	switch (db->outcome)
	{
		case FLEET_MOVED:
			if (db->queued > 0)
				return psprintf("%s %d, %d queued for the background worker",
								did, db->moved - db->queued, db->queued);
			return psprintf("%s %d", did, db->moved);
		case FLEET_NOTHING:
			return psprintf("already at %s", f->target);
		case FLEET_SHOWN:
			return pg_strdup(db->before[0] ? db->before : "base");
		case FLEET_SKIPPED:
			return pg_strdup("skipped: migr is not installed");
		case FLEET_FAILED:
			return psprintf("failed: %s", db->error);
	}
	return pg_strdup("");
}

/*
 * fleet_summary
 *		The table: a row per database, in the order given.
 */
static void
fleet_summary(Fleet *f)
{
	static const char *const move_headers[] = {"database", "before", "after",
	"revisions", "time", "outcome"};
	static const char *const current_headers[] = {"database", "current",
	"outcome"};
	bool		current = strcmp(f->verb, "current") == 0;
	int			ncols = current ? 3 : 6;
	char	  **cells = pg_malloc(sizeof(char *) * ncols * Max(f->ndbs, 1));
	int			i;

	for (i = 0; i < f->ndbs; i++)
	{
		FleetDb    *db = &f->dbs[i];
		char	  **row = cells + i * ncols;
		char		took[32];
		bool		known = db->before != NULL;

		row[0] = db->name;
		if (current)
		{
			row[1] = known ? (db->before[0] ? db->before : "base") : "";
			row[2] = db->outcome == FLEET_SHOWN ? "" : fleet_outcome(f, db);
			continue;
		}
		output_ms(took, sizeof(took), db->ms);
		row[1] = known ? (db->before[0] ? db->before : "base") : "";
		row[2] = db->after ? (db->after[0] ? db->after : "base") : row[1];
		row[3] = db->outcome == FLEET_MOVED ? psprintf("%d", db->moved) :
			(db->outcome == FLEET_NOTHING ? "0" : "");
		row[4] = pg_strdup(took);
		row[5] = fleet_outcome(f, db);
	}
	output_cells(ncols, current ? current_headers : move_headers, f->ndbs,
				 cells, pg_get_encoding_from_locale(NULL, false));
}

/*
 * cmd_fleet
 *		migr upgrade|downgrade|current --each-database | --dsn-file FILE
 *		[--jobs N]
 */
int
cmd_fleet(const char *verb, int argc, char **argv)
{
	Fleet		f;
	int			skipped = 0;
	int			moved = 0;
	int			i;

	memset(&f, 0, sizeof(f));
	if (!fleet_usage(verb, argc))
		return MIGR_EXIT_USAGE;
	f.verb = verb;
	f.target = argc > 0 ? argv[0] : "head";
	f.jobs = opts.jobs > 0 ? opts.jobs : 1;
	f.progress = output_progress_on();
	if (opts.prompt_password == 2)
		f.password = simple_prompt("Password: ", false);
	if (opts.push && !fleet_prepare_push(&f))
		return MIGR_EXIT_FAILED;
	if (opts.dsn_file ? !fleet_read_file(&f, opts.dsn_file) :
		!fleet_list_databases(&f))
		return MIGR_EXIT_FAILED;

	fleet_catch_signals();
	fleet_run(&f);

	for (i = 0; i < f.ndbs; i++)
	{
		skipped += f.dbs[i].outcome == FLEET_SKIPPED;
		moved += f.dbs[i].outcome == FLEET_MOVED;
	}
	if (!opts.quiet)
	{
		fleet_summary(&f);
		if (strcmp(verb, "current") == 0)
			output_say("%d database%s, %d failed\n", f.ndbs - skipped,
					   f.ndbs - skipped == 1 ? "" : "s", f.failed);
		else
			output_say("%s to \"%s\": %d database%s moved, %d already there, %d failed%s\n",
					   verb, f.target, moved, moved == 1 ? "" : "s",
					   f.ndbs - skipped - moved - f.failed, f.failed,
					   skipped ? psprintf(", %d without migr skipped", skipped) : "");
	}
	if (f.ndbs == skipped)
		pg_log_warning("no database of the server has the extension \"migr\"");
	return f.failed > 0 ? MIGR_EXIT_FAILED : MIGR_EXIT_DONE;
}

/*-------------------------------------------------------------------------
 *
 * cmd_plan.c
 *	  "migr plan": the SQL that pushing the folder and moving the database
 *	  would run, online (from the database's applied set) or offline (from
 *	  the folder alone, with the bookkeeping statements, as "alembic upgrade
 *	  --sql" prints them).
 *
 * Online, the folder is pushed inside a transaction that is always rolled
 * back, and migr_plan() answers from the database's own graph and applied
 * set: exactly what "migr upgrade --push TARGET" would run, including what
 * goes to the background worker, and never stale after an edit.  (A role
 * that may not define revisions gets the plan of the database as it is,
 * with a warning.)
 *
 * Offline, nothing is known of any database: the script runs from FROM
 * (given as FROM:TO; default nothing applied) to TO, one transaction per
 * revision, each defining its revision (migr_load(), a no-op when it is
 * already defined), refusing to run twice, running the script and
 * recording the move in migr's tables, as migr_upgrade() would.  It is for
 * a DBA running it with psql as the extension's owner.
 *
 * Copyright (c) 2026, migr developers
 *
 * IDENTIFICATION
 *	  src/bin/cmd_plan.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include <ctype.h>
#include <sys/stat.h>

#include "common/logging.h"
#include "pqexpbuffer.h"

#include "migr_fe.h"

static int	plan_online(const char *target);
static bool plan_push_rolled_back(PGconn *conn, RevDir *rd);
static void plan_print_rows(const PGresult *res, const char *direction,
							const char *target);
static int	plan_offline(const char *range);
static bool *plan_ancestors(RevDir *rd, const char *name, bool *ok);
static void plan_print_script(const char *script);
static char *plan_dollar_tag(const char *text);
static char *plan_literal(const char *s);
static void plan_offline_revision(RevFile *f, int k, int n, bool down,
								  const char *to);

/*
 * plan_push_rolled_back
 *		Define every usable file of the folder in the open transaction (an
 *		unchanged one is a no-op on the server), quietly: what defining
 *		would say (lint, replacing) belongs to push, not to plan.  False
 *		after printing why.
 */
static bool
plan_push_rolled_back(PGconn *conn, RevDir *rd)
{
	PQExpBufferData arr;
	const char *params[1];
	PGresult   *res;
	char	   *sql;
	int		   *order;
	int			n;
	int			i;

	if (!conn_command(conn, "SET LOCAL client_min_messages = warning") ||
		!conn_command(conn, "SET LOCAL migr.lint = 'off'") ||
		!conn_command(conn, "SET LOCAL migr.data_operations = 'allow'"))
		return false;
	order = revgraph_order(rd, &n);
	if (n == 0)
		return true;
	initPQExpBuffer(&arr);
	appendPQExpBufferChar(&arr, '{');
	for (i = 0; i < n; i++)
	{
		const char *c;

		appendPQExpBufferStr(&arr, i ? ",\"" : "\"");
		for (c = rd->files[order[i]].text; *c; c++)
		{
			if (*c == '"' || *c == '\\')
				appendPQExpBufferChar(&arr, '\\');
			appendPQExpBufferChar(&arr, *c);
		}
		appendPQExpBufferChar(&arr, '"');
	}
	appendPQExpBufferChar(&arr, '}');
	params[0] = arr.data;
	sql = psprintf("SELECT pg_catalog.count(%s.migr_load(s)) "
				   "FROM pg_catalog.unnest($1::pg_catalog.text[]) AS s",
				   conn_schema());
	res = conn_run(conn, sql, 1, params);
	pg_free(sql);
	termPQExpBuffer(&arr);
	if (conn_failed(res))
	{
		if (strcmp(conn_sqlstate(res), "42501") == 0)
		{
			fflush(stdout);
			pg_log_warning("this role may not define revisions: the plan is the database's, without the folder");
			PQclear(res);
			return conn_command(conn, "ROLLBACK") && conn_command(conn, "BEGIN");
		}
		conn_report_error(conn, res);
		pg_log_error("the folder \"%s\" cannot be pushed as it is, so there is no plan", rd->dir);
		PQclear(res);
		return false;
	}
	PQclear(res);
	return true;
}

/*
 * plan_print_rows
 *		migr_plan()'s rows as a SQL script with a comment per revision.
 */
static void
plan_print_rows(const PGresult *res, const char *direction, const char *target)
{
	int			n = PQntuples(res);
	int			nrevs = 0;
	int			k = 0;
	const char *last = "";
	int			i;

	for (i = 0; i < n; i++)
		if (i == 0 || strcmp(PQgetvalue(res, i, 1), PQgetvalue(res, i - 1, 1)) != 0)
			nrevs++;
	printf("-- migr plan: %s to \"%s\", %d revision%s\n", direction, target,
		   nrevs, nrevs == 1 ? "" : "s");
	for (i = 0; i < n; i++)
	{
		const char *rev = PQgetvalue(res, i, 1);
		const char *stmt = PQgetvalue(res, i, 2);
		size_t		len = strlen(stmt);

		if (strcmp(rev, last) != 0)
		{
			printf("\n-- revision %s (%d/%d)%s%s\n", rev, ++k, nrevs,
				   PQgetvalue(res, i, 4)[0] ? ": " : "", PQgetvalue(res, i, 4));
			last = rev;
		}
		if (PQgetisnull(res, i, 2))
		{
			printf("-- (nothing to run)\n");
			continue;
		}
		if (PQgetvalue(res, i, 3)[0] == 't')
			printf("-- runs in the background, outside the transaction:\n");
		while (len > 0 && (stmt[len - 1] == ' ' || stmt[len - 1] == '\n'))
			len--;
		printf("%.*s%s\n", (int) len, stmt,
			   len > 0 && stmt[len - 1] == ';' ? "" : ";");
	}
}

/*
 * plan_online
 *		The folder pushed in a transaction rolled back, and migr_plan().
 */
static int
plan_online(const char *target)
{
	PGconn	   *conn = conn_start();
	const char *dir = migr_dir();
	struct stat st;
	RevDir	   *rd = NULL;
	const char *params[2];
	const char *direction = opts.downgrade ? "downgrade" : "upgrade";
	PGresult   *res;
	char	   *sql;
	const char *scs;

	if (stat(dir, &st) == 0)
		rd = revdir_read(dir);	/* while the server starts */
	else if (opts.dir)
	{
		pg_log_error("could not open directory \"%s\": %m", dir);
		conn_close(conn);
		return MIGR_EXIT_FAILED;
	}
	conn = conn_complete(conn);
	if (conn == NULL)
		return MIGR_EXIT_FAILED;
	if (!conn_command(conn, "BEGIN"))
	{
		conn_close(conn);
		return MIGR_EXIT_FAILED;
	}
	if (rd != NULL)
	{
		int			i;
		int			bad = 0;

		scs = PQparameterStatus(conn, "standard_conforming_strings");
		revdir_parse(rd, scs == NULL || strcmp(scs, "on") == 0);
		revgraph_link(rd);
		for (i = 0; i < rd->nfindings; i++)
			if (strcmp(rd->findings[i].severity, "error") == 0 &&
				strcmp(rd->findings[i].code, "missing_parent") != 0 &&
				strcmp(rd->findings[i].code, "missing_dependency") != 0)
				bad++;
		if (bad > 0)
		{
			revdir_print_findings(rd, stderr, true);
			pg_log_error("the folder \"%s\" has %d problem%s; no plan", dir,
						 bad, bad == 1 ? "" : "s");
			conn_close(conn);
			return MIGR_EXIT_FAILED;
		}
		if (!plan_push_rolled_back(conn, rd))
		{
			conn_close(conn);
			return MIGR_EXIT_FAILED;
		}
	}
	params[0] = target;
	params[1] = direction;
	sql = psprintf("SELECT p.step, p.revision, p.statement, p.deferred, "
				   "r.message "
				   "FROM %s.migr_plan($1, $2) p "
				   "JOIN migr.revision r ON r.id OPERATOR(pg_catalog.=) p.revision "
				   "ORDER BY p.step", conn_schema());
	res = conn_exec(conn, sql, 2, params);
	pg_free(sql);
	(void) conn_command(conn, "ROLLBACK");
	conn_close(conn);
	if (res == NULL)
		return MIGR_EXIT_FAILED;
	if (PQntuples(res) == 0)
	{
		output_say("nothing to do: the database is already at \"%s\"\n", target);
		PQclear(res);
		return MIGR_EXIT_NOTHING;
	}
	plan_print_rows(res, direction, target);
	PQclear(res);
	return MIGR_EXIT_DONE;
}

/*
 * plan_ancestors
 *		The revision(s) a name means in the folder, and everything they need
 *		through parents and dependencies, as a mark per file.  "base" is
 *		nothing; "heads" every head; "head" the only head.  *ok false after
 *		printing why the name means nothing.
 */
static bool *
plan_ancestors(RevDir *rd, const char *name, bool *ok)
{
	bool	   *mark = pg_malloc0(sizeof(bool) * Max(rd->nfiles, 1));
	int		   *stack = pg_malloc(sizeof(int) * Max(rd->nfiles, 1));
	int			top = 0;
	int			i;

	*ok = true;
	if (name == NULL || strcmp(name, "base") == 0)
		return mark;
	if (strcmp(name, "heads") == 0 ||
		(strcmp(name, "head") == 0 && rd->nheads == 1))
		for (i = 0; i < rd->nheads; i++)
			stack[top++] = rd->heads[i];
	else if (strcmp(name, "head") == 0)
	{
		pg_log_error("the folder \"%s\" has %d heads, so \"head\" means none of them",
					 rd->dir, rd->nheads);
		pg_log_error_hint("Give one (an id or LABEL@head), or \"heads\", or merge them with \"migr merge heads\".");
		*ok = false;
		return mark;
	}
	else
	{
		int			k = new_resolve(rd, name, false);

		if (k < 0)
		{
			*ok = false;
			return mark;
		}
		stack[top++] = k;
	}
	for (i = 0; i < top; i++)
		mark[stack[i]] = true;
	while (top > 0)
	{
		RevFile    *f = &rd->files[stack[--top]];
		int			j;

		for (j = 0; j < f->nparents + f->ndeps; j++)
		{
			int			w = j < f->nparents ? f->parent_idx[j] :
				f->dep_idx[j - f->nparents];

			if (w >= 0 && !mark[w])
			{
				mark[w] = true;
				stack[top++] = w;
			}
		}
	}
	pg_free(stack);
	return mark;
}

/*
 * plan_dollar_tag
 *		A dollar-quote tag that does not occur in text.
 */
static char *
plan_dollar_tag(const char *text)
{
	int			n = 0;

	for (;;)
	{
		char	   *tag = n ? psprintf("$migr%d$", n) : pg_strdup("$migr$");

		if (strstr(text, tag) == NULL)
			return tag;
		pg_free(tag);
		n++;
	}
}

/*
 * plan_literal
 *		A string literal (ids and checksums hold no quotes, messages may).
 */
static char *
plan_literal(const char *s)
{
	PQExpBufferData buf;

	initPQExpBuffer(&buf);
	appendPQExpBufferChar(&buf, '\'');
	for (; *s; s++)
	{
		if (*s == '\'')
			appendPQExpBufferChar(&buf, '\'');
		appendPQExpBufferChar(&buf, *s);
	}
	appendPQExpBufferChar(&buf, '\'');
	return buf.data;
}

/*
 * plan_print_script
 *		A script as written, ending with a semicolon and a newline.
 */
static void
plan_print_script(const char *script)
{
	size_t		len = strlen(script);

	while (len > 0 && isspace((unsigned char) script[len - 1]))
		len--;
	if (len == 0)
		return;
	printf("%.*s\n", (int) len, script);
	if (script[len - 1] != ';')
		printf(";\n");
}

/*
 * plan_offline_revision
 *		One revision's transaction: guard, definition, script, bookkeeping.
 */
static void
plan_offline_revision(RevFile *f, int k, int n, bool down, const char *to)
{
	char	   *id = plan_literal(f->id);
	char	   *tag = plan_dollar_tag(f->text);
	const char *script = down ? f->downgrade : f->upgrade;
	char	   *lower = pg_strdup(script);
	char	   *c;

	printf("\n-- revision %s (%d/%d)%s%s  [%s]\n", f->id, k, n,
		   f->message[0] ? ": " : "", f->message, f->path);
	for (c = lower; *c; c++)
		*c = tolower((unsigned char) *c);
	if (strstr(lower, "concurrently") != NULL)
		printf("-- NOTE: a statement with CONCURRENTLY cannot run inside BEGIN ... COMMIT:\n"
			   "-- run it on its own after the COMMIT, or let \"migr upgrade\" do it.\n");
	printf("BEGIN;\n");
	if (!down)
	{
		/* the definition: a no-op when the database has it as it is */
		printf("SELECT migr_load(%s%s%s);\n", tag, f->text, tag);
		printf("DO $guard$ BEGIN IF EXISTS (SELECT 1 FROM migr.applied WHERE revision = %s) "
			   "THEN RAISE EXCEPTION 'revision %% is already applied', %s; END IF; END $guard$;\n",
			   id, id);
	}
	else
		printf("DO $guard$ BEGIN IF NOT EXISTS (SELECT 1 FROM migr.applied WHERE revision = %s) "
			   "THEN RAISE EXCEPTION 'revision %% is not applied', %s; END IF; END $guard$;\n",
			   id, id);
	plan_print_script(script);
	if (!down)
		printf("INSERT INTO migr.applied (revision, checksum, applied_at, applied_by)\n"
			   "    VALUES (%s, '%s', pg_catalog.clock_timestamp(), CURRENT_USER);\n",
			   id, f->checksum);
	else
		printf("DELETE FROM migr.applied WHERE revision = %s;\n", id);
	printf("INSERT INTO migr.log (at, role, action, revision, target, outcome)\n"
		   "    VALUES (pg_catalog.clock_timestamp(), CURRENT_USER, '%s', %s, %s, 'ok (offline script)');\n",
		   down ? "downgrade" : "upgrade", id, plan_literal(to));
	printf("UPDATE migr.state SET generation = generation + 1;\n");
	printf("COMMIT;\n");
	pg_free(lower);
	pg_free(tag);
}

/*
 * plan_offline
 *		The folder alone: from FROM (applied) to TO, with bookkeeping.
 */
static int
plan_offline(const char *range)
{
	const char *dir = migr_dir();
	RevDir	   *rd = revdir_read(dir);
	const char *colon = strchr(range, ':');
	char	   *from = colon ? pnstrdup(range, colon - range) : NULL;
	const char *to = colon ? colon + 1 : range;
	bool	   *from_set;
	bool	   *to_set;
	bool		ok1,
				ok2;
	int		   *order;
	int			norder;
	int		   *run;
	int			n = 0;
	int			i;

	if (from && from[0] == '\0')
		from = NULL;
	if (to[0] == '\0')
		to = opts.downgrade ? "base" : "head";
	if (opts.downgrade && from == NULL)
	{
		migr_usage_error("an offline downgrade needs FROM:TO (what is applied, where to go down to)");
		return MIGR_EXIT_USAGE;
	}
	revdir_parse(rd, true);
	revgraph_link(rd);
	for (i = 0; i < rd->nfindings; i++)
		if (strcmp(rd->findings[i].severity, "error") == 0)
		{
			revdir_print_findings(rd, stderr, true);
			pg_log_error("the folder \"%s\" has problems; no plan", dir);
			return MIGR_EXIT_FAILED;
		}
	from_set = plan_ancestors(rd, from, &ok1);
	to_set = plan_ancestors(rd, to, &ok2);
	if (!ok1 || !ok2)
		return MIGR_EXIT_FAILED;

	/* upgrade: what TO needs beyond FROM; downgrade: FROM's beyond TO */
	order = revgraph_order(rd, &norder);
	run = pg_malloc(sizeof(int) * Max(norder, 1));
	for (i = 0; i < norder; i++)
	{
		int			k = opts.downgrade ? order[norder - 1 - i] : order[i];
		bool		in = opts.downgrade ? from_set[k] && !to_set[k] :
			to_set[k] && !from_set[k];

		if (!in)
			continue;
		if (opts.downgrade && rd->files[k].downgrade == NULL)
		{
			pg_log_error("cannot downgrade to \"%s\": revision \"%s\" is irreversible (%s has no downgrade section)",
						 to, rd->files[k].id, rd->files[k].path);
			return MIGR_EXIT_FAILED;
		}
		run[n++] = k;
	}
	if (n == 0)
	{
		output_say("nothing to do: from %s, \"%s\" needs no revision\n",
				   from ? psprintf("\"%s\"", from) : "base", to);
		return MIGR_EXIT_NOTHING;
	}
	printf("-- migr plan (offline): %s from %s to \"%s\", %d revision%s of %s\n",
		   opts.downgrade ? "downgrade" : "upgrade",
		   from ? psprintf("\"%s\"", from) : "base", to, n, n == 1 ? "" : "s", dir);
	printf("-- Run as the owner of the extension migr (or a superuser), with\n"
		   "-- psql -v ON_ERROR_STOP=1 -f FILE, its schema on search_path.\n"
		   "-- One transaction per revision; each records itself in migr's tables.\n");
	for (i = 0; i < n; i++)
		plan_offline_revision(&rd->files[run[i]], i + 1, n, opts.downgrade, to);
	return MIGR_EXIT_DONE;
}

/*
 * cmd_plan
 *		migr plan [TARGET | FROM:TO] [--downgrade] [--offline] [--dir DIR]
 */
int
cmd_plan(int argc, char **argv)
{
	const char *target = argc > 0 ? argv[0] :
		(opts.downgrade && !opts.offline ? NULL : "head");

	if (target == NULL)
	{
		migr_usage_error("\"plan --downgrade\" needs a TARGET");
		return MIGR_EXIT_USAGE;
	}
	if (opts.offline)
		return plan_offline(target);
	if (strchr(target, ':') != NULL)
	{
		migr_usage_error("FROM:TO is for --offline; online, the database says where it is");
		return MIGR_EXIT_USAGE;
	}
	return plan_online(target);
}

/*-------------------------------------------------------------------------
 *
 * help.c
 *	  What the client says about itself: "migr --help" (every verb on a
 *	  line), "migr VERB --help" (one verb whole), the nearest verb to a
 *	  mistyped one, and text wrapped to the terminal.
 *
 * Each verb's help names its arguments, its options, what it prints and
 * its Alembic counterpart, so that a team coming from Alembic finds its
 * way from "alembic X --help" to "migr X --help".
 *
 * Copyright (c) 2026, migr developers
 *
 * IDENTIFICATION
 *	  src/bin/help.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include <limits.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "migr_fe.h"

#define HELP_MAX_WIDTH	100		/* rows never wider, even on a wide terminal */

/* The long help of one verb: usage line and body (options, behaviour). */
typedef struct VerbHelp
{
	const char *name;
	const char *usage;
	const char *body;
} VerbHelp;

static const VerbHelp verb_help[] = {
	{"new", "new -m MESSAGE [--dir DIR] [--head REV] [--branch LABEL] [--depends-on REV]... [--rev-id ID]",
		"Write a new revision file in the folder, on the folder's head (like\n"
		"\"alembic revision -m\"; \"migr revision\" is the same verb).  Nothing\n"
		"is sent to a database.\n\n"
		"Options:\n"
		"  -m, --message=MESSAGE    what the revision does (required)\n"
		"  --dir=DIR                the folder (default: $MIGR_DIR, else \"migrations\")\n"
		"  --head=REV               the parent: an id, a prefix, a label, LABEL@head,\n"
		"                           or \"base\" for a new root; needed when the folder\n"
		"                           has several heads\n"
		"  --branch=LABEL           start a branch named LABEL (--branch-label)\n"
		"  --depends-on=REV         a dependency that is not a parent (repeatable)\n"
		"  --rev-id=ID              the id (default: 12 random hex digits)\n"},
	{"merge", "merge [heads | REV...] [-m MESSAGE] [--dir DIR] [--rev-id ID]",
		"Write a merge revision file whose parents are the folder's heads (\"heads\",\n"
		"the default, as in \"alembic merge heads\") or the revisions named.  The\n"
		"folder is the source of truth: push the file to define it in a database.\n"
		"With one head there is nothing to merge.\n\n"
		"Options:\n"
		"  -m, --message=MESSAGE    the message (default: \"merge heads\")\n"
		"  --dir=DIR                the folder (default: $MIGR_DIR, else \"migrations\")\n"
		"  --rev-id=ID              the id (default: 12 random hex digits)\n"},
	{"push", "push [--dir DIR] [--dry-run] [--allow-heads] [-v]",
		"Define the folder's new and changed revisions in the database, in one\n"
		"statement.  A changed file of an applied revision is refused by name.\n"
		"Revisions the database has and the folder has not are reported (\"migr\n"
		"pull\" writes them to files).  A push that would leave several heads that\n"
		"are not each the head of a labelled branch, where the database had one\n"
		"head (so that migr_upgrade('head') would start failing), is refused\n"
		"unless --allow-heads is given.\n\n"
		"Options:\n"
		"  --dir=DIR                the folder (default: $MIGR_DIR, else \"migrations\")\n"
		"  --dry-run                list what would be sent, send nothing\n"
		"  --allow-heads            push even if \"head\" becomes ambiguous\n"
		"  -v, --verbose            list every file's state and every revision\n"
		"                           that is only in the database\n"},
	{"pull", "pull [--dir DIR] [--dry-run]",
		"Write every revision that the database defines and the folder has no\n"
		"file for to a file \"<id>_<slug>.sql\" of the folder, so that the files\n"
		"stay the source of truth.  Files are never overwritten.\n\n"
		"Options:\n"
		"  --dir=DIR                the folder (default: $MIGR_DIR, else \"migrations\")\n"
		"  --dry-run                list the files it would write\n"},
	{"rm", "rm REV [--dir DIR]",
		"Remove a revision that is not applied: delete its file from the folder\n"
		"and undefine it in the database (migr_undefine()).  An applied or\n"
		"partially applied revision, or one that other revisions build on, is\n"
		"refused and nothing is removed.\n\n"
		"Options:\n"
		"  --dir=DIR                the folder (default: $MIGR_DIR, else \"migrations\")\n"},
	{"upgrade", "upgrade [TARGET] [--push [--dir DIR] [--allow-heads]]",
		"Apply the revisions TARGET needs (default: head) with migr_upgrade(), all\n"
		"or nothing (like \"alembic upgrade\").  With --push, push the folder first.\n"
		"On a terminal, progress is shown revision by revision.\n\n"
		"Options:\n"
		"  --push                   push the folder first (see \"migr push --help\")\n"
		"  --dir=DIR                the folder pushed (default: $MIGR_DIR, else \"migrations\")\n"
		"  --allow-heads            see \"migr push --help\"\n"
		"  --progress, --no-progress  progress even when stderr is not a terminal, or never\n"
		"\nFleets of databases (see README, \"Fleets of databases\"):\n"
		"  --each-database          every database of the server that has migr\n"
		"  --dsn-file=FILE          the databases of FILE, one connection string a line\n"
		"  --jobs=N                 N databases at a time (default 1)\n"},
	{"downgrade", "downgrade TARGET",
		"Revert the applied revisions above TARGET (\"base\": all; \"-1\": one step)\n"
		"with migr_downgrade(), all or nothing (like \"alembic downgrade\").\n"
		"\nFleets of databases (see README, \"Fleets of databases\"):\n"
		"  --each-database          every database of the server that has migr\n"
		"  --dsn-file=FILE          the databases of FILE, one connection string a line\n"
		"  --jobs=N                 N databases at a time (default 1)\n"},
	{"stamp", "stamp TARGET",
		"Make the applied set exactly TARGET and its ancestors without running any\n"
		"script (like \"alembic stamp\").\n"},
	{"plan", "plan [TARGET | FROM:TO] [--downgrade] [--dir DIR] [--offline]",
		"Print, as a SQL script, what pushing the folder and then upgrading to\n"
		"TARGET (default: head) would run (like \"alembic upgrade --sql\").  With a\n"
		"server, the folder is pushed inside a transaction that is rolled back and\n"
		"migr_plan() says what would run from the database's applied set.\n\n"
		"With --offline (or --sql) no server is used: the folder alone says what\n"
		"runs from FROM (default: nothing applied) to TO, and the script carries\n"
		"the bookkeeping statements too (defining each revision, recording it as\n"
		"applied), one transaction per revision, for a DBA to run with psql as the\n"
		"owner of the extension (or a superuser).  --downgrade with --offline needs\n"
		"FROM:TO (FROM applied, TO where to go down to).\n\n"
		"Options:\n"
		"  --downgrade              what a downgrade to TARGET would run\n"
		"  --dir=DIR                the folder (default: $MIGR_DIR, else \"migrations\")\n"
		"  --offline, --sql         without a server, with bookkeeping statements\n"},
	{"current", "current",
		"The applied revisions that no other applied revision needs (like\n"
		"\"alembic current\").\n"
		"\nFleets of databases (see README, \"Fleets of databases\"):\n"
		"  --each-database          every database of the server that has migr\n"
		"  --dsn-file=FILE          the databases of FILE, one connection string a line\n"
		"  --jobs=N                 N databases at a time (default 1)\n"},
	{"heads", "heads",
		"The revisions that are no other revision's parent (like \"alembic heads\").\n"},
	{"branches", "branches",
		"The branch points: revisions with more than one child, and their children\n"
		"(like \"alembic branches\").\n"},
	{"history", "history [RANGE] [-r RANGE] [--indicate-current]",
		"Every revision, roots first (like \"alembic history\").  RANGE is FROM:TO,\n"
		"either end may be empty (\"abc:\", \":head\").\n\n"
		"Options:\n"
		"  -r, --rev-range=RANGE    the range, as Alembic spells it\n"
		"  --indicate-current       mark the current revisions\n"},
	{"show", "show REV",
		"One revision whole: its fields, then its scripts (like \"alembic show\").\n"},
	{"check", "check [--errors-only] | check --dir DIR [--offline] [--errors-only] [-v]",
		"Without --dir: migr_check() of the database: cycles, missing revisions,\n"
		"several heads, changed applied revisions, lint findings.\n\n"
		"With --dir: check the folder's files.  Without a server (or with\n"
		"--offline) the format and the graph are checked, and it says what was not\n"
		"(the SQL itself).  With a reachable server every script is also parsed and\n"
		"linted by the server's migr_lint(), which defines nothing; line numbers\n"
		"count from the top of each file.  A downgrade left as \"migr new\" wrote it\n"
		"(only its template comment) is a warning.\n\n"
		"Errors and warnings fail the check (exit 1); information (a marker\n"
		"revision, labelled heads) passes.\n\n"
		"Options:\n"
		"  --dir=DIR                check the files of DIR\n"
		"  --offline                do not use a server, even if one is reachable\n"
		"  --errors-only            warnings are printed but pass\n"
		"  -v, --verbose            list every revision with its checksum\n"},
	{"jobs", "jobs",
		"The background jobs (CREATE INDEX CONCURRENTLY and the revisions queued\n"
		"behind it), with their state, attempts and error.\n"},
	{"retry", "retry JOB",
		"Queue a failed job again and start a worker for it (migr_retry()).\n"},
	{"cancel", "cancel JOB",
		"Cancel a job and every job queued after it (migr_cancel()); a running\n"
		"build is interrupted.\n"},
	{"wait", "wait [--timeout INTERVAL]",
		"Wait until no background job is queued or running (migr_wait()).  When\n"
		"the timeout passes, say what each running job waits for: the lock, the\n"
		"process holding it and the query that process runs.\n\n"
		"Options:\n"
		"  --timeout=INTERVAL       give up after INTERVAL (\"30s\", \"10min\")\n"},
	{"schema", "schema",
		"Print the canonical description of the managed schemas (migr_schema(),\n"
		"jsonb): save it to compare another database with \"migr drift --against\".\n"},
	{"drift", "drift [--against FILE]",
		"How the live schema differs from what the last move left, or from a\n"
		"description saved by \"migr schema\" (FILE, or - for stdin): one line per\n"
		"added, dropped, changed or renamed object.  Exit status 1 when there is\n"
		"a difference, 0 when there is none.\n\n"
		"Options:\n"
		"  --against=FILE           compare with this description instead\n"},
	{"verify", "verify [TARGET]",
		"The stairway test (migr_verify()), inside the server and always rolled\n"
		"back: for each revision from the current state toward TARGET (default:\n"
		"heads), upgrade; downgrade and compare the schema with the one before;\n"
		"upgrade again and compare with the one after.  Exit status 1 when a step\n"
		"fails, 0 when all pass (with --exit-code, 3 when there was nothing to\n"
		"verify).\n"},
	{NULL, NULL, NULL}
};

static const char common_options[] =
"\nCommon options:\n"
"  -q, --quiet                print only errors and warnings\n"
"  -v, --verbose              say more\n"
"  --exit-code                exit 3 (not 0) when there was nothing to do\n"
"  -h, -?, --help             show this help, then exit\n"
"\nConnection options:\n"
"  -d, --dbname=DBNAME        database name or connection string\n"
"  -H, --host=HOSTNAME        database server host or socket directory\n"
"  -p, --port=PORT            database server port\n"
"  -U, --username=USERNAME    database user name\n"
"  -w, --no-password          never prompt for password\n"
"  -W, --password             force password prompt\n";

/*
 * help_usage
 *		"migr --help": every verb on a line.
 */
void
help_usage(const char *progname)
{
	const MigrVerb *v;

	printf("%s keeps schema migrations in the PostgreSQL database they migrate.\n"
		   "The folder of revision files (%s/ by default) is the source of truth.\n\n",
		   progname, MIGR_DEFAULT_DIR);
	printf("Usage:\n  %s [OPTION]... VERB [ARG]...\n  %s VERB --help\n\n",
		   progname, progname);
	printf("Verbs:\n");
	for (v = migr_verbs; v->name; v++)
		printf("  %-15s %s\n", v->name, v->summary);
	printf("\nTargets: head, heads, base, an id or a unique prefix, a branch label,\n");
	printf("label@head, and any of these followed by +N or -N; +N and -N alone step\n");
	printf("from the current revision.\n");
	printf("\nFolder: --dir=DIR, else $MIGR_DIR, else \"%s\".\n", MIGR_DEFAULT_DIR);
	printf("%s", common_options);
	printf("  --progress, --no-progress  progress lines even when stderr is not a\n"
		   "                             terminal, or never\n");
	printf("  -V, --version              output version information, then exit\n");
	printf("The PG* environment variables (PGHOST, PGPORT, PGDATABASE, PGUSER, ...)\n");
	printf("apply as for psql.\n");
	printf("\nExit status:\n");
	printf("  %d  done, or nothing to do (or, for looking verbs: printed;\n", MIGR_EXIT_DONE);
	printf("     for check: nothing wrong found)\n");
	printf("  %d  failed: an error from the server, the connection or the files,\n", MIGR_EXIT_FAILED);
	printf("     or check found a problem; nothing was half done\n");
	printf("  %d  usage error\n", MIGR_EXIT_USAGE);
	printf("  %d  with --exit-code only: nothing to do (upgrade, downgrade, stamp,\n", MIGR_EXIT_NOTHING);
	printf("     plan, push, pull or merge found the database or folder already there)\n");
}

/*
 * help_verb
 *		"migr VERB --help".
 */
void
help_verb(const char *progname, const MigrVerb *v)
{
	const VerbHelp *h;
	const char *name = v->alias_of ? v->alias_of : v->name;

	for (h = verb_help; h->name; h++)
		if (strcmp(h->name, name) == 0)
			break;
	if (v->alias_of)
		printf("\"%s %s\" is \"%s %s\" (Alembic's spelling).\n\n", progname,
			   v->name, progname, v->alias_of);
	printf("Usage:\n  %s %s\n\n", progname, h->name ? h->usage : v->name);
	if (h->name)
		printf("%s", h->body);
	printf("%s", common_options);
	printf("\n\"%s --help\" lists every verb.\n", progname);
}

/*
 * help_distance
 *		Levenshtein distance, for short words.
 */
static int
help_distance(const char *a, const char *b)
{
	int			la = strlen(a);
	int			lb = strlen(b);
	int		   *row = pg_malloc(sizeof(int) * (lb + 1));
	int			i,
				j;
	int			d;

	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++)
	{
		int			diag = row[0];

		row[0] = i;
		for (j = 1; j <= lb; j++)
		{
			int			up = row[j];
			int			best = diag + (a[i - 1] != b[j - 1]);

			best = Min(best, up + 1);
			best = Min(best, row[j - 1] + 1);
			diag = up;
			row[j] = best;
		}
	}
	d = row[lb];
	pg_free(row);
	return d;
}

/*
 * help_nearest
 *		The verb nearest to a mistyped word, or NULL when none is near (at
 *		most a third of the word's letters wrong, or the word begins a verb).
 */
const char *
help_nearest(const char *name)
{
	const MigrVerb *v;
	const char *best = NULL;
	int			bestd = INT_MAX;
	int			limit = Max(1, (int) strlen(name) / 3);

	for (v = migr_verbs; v->name; v++)
	{
		int			d = help_distance(name, v->name);

		if (strlen(name) >= 2 && strncmp(v->name, name, strlen(name)) == 0)
			d = 0;
		if (d < bestd)
		{
			bestd = d;
			best = v->name;
		}
	}
	return bestd <= limit ? best : NULL;
}

/*
 * help_width
 *		How wide a printed row may be: $COLUMNS when set (as for ls), else
 *		the terminal's width when stdout is one, but not more than 100;
 *		100 when it is not a terminal.
 */
int
help_width(void)
{
	struct winsize ws;
	const char *env = getenv("COLUMNS");

	if (env && atoi(env) > 0)
		return Max(40, atoi(env));
	if (isatty(fileno(stdout)) && ioctl(fileno(stdout), TIOCGWINSZ, &ws) == 0 &&
		ws.ws_col > 0)
		return Max(40, Min(ws.ws_col, HELP_MAX_WIDTH));
	return HELP_MAX_WIDTH;
}

/*
 * help_wrap
 *		Print text after prefix, wrapped at word boundaries to help_width();
 *		continuation lines are indented as deep as the prefix.
 */
void
help_wrap(FILE *out, const char *prefix, const char *text)
{
	int			width = help_width();
	int			indent = strlen(prefix);
	int			cont = indent <= 24 ? indent : 4;	/* continuation */
	int			col = indent;
	const char *c = text;

	bool		fresh = true;	/* nothing written on this line yet */

	fputs(prefix, out);
	while (*c)
	{
		const char *end = c;
		int			len;

		while (*end && *end != ' ' && *end != '\n')
			end++;
		len = end - c;
		if (!fresh && col + 1 + len > width)
		{
			fprintf(out, "\n%*s", cont, "");
			col = cont;
			fresh = true;
		}
		if (!fresh)
		{
			fputc(' ', out);
			col++;
		}
		fwrite(c, 1, len, out);
		col += len;
		fresh = false;
		c = end;
		while (*c == ' ' || *c == '\n')
			c++;
	}
	fputc('\n', out);
}

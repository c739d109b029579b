/*-------------------------------------------------------------------------
 *
 * migr.c
 *	  The migr command-line client: options, help, and the verbs.
 *
 * migr keeps a project's revisions in the database (the migr extension);
 * teams keep them as files under version control.  This client joins the
 * two with Alembic's verbs ("migr new -m", "migr upgrade --push") and the
 * manners of pg_dump and psql (connection options, PG* variables, --help,
 * exit codes).  Options may come before or after the verb; a relative
 * target such as "-1" is taken as an argument, not an option.
 *
 * Copyright (c) 2026, migr developers
 *
 * IDENTIFICATION
 *	  src/bin/migr.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include <ctype.h>

#include "common/logging.h"
#include "getopt_long.h"

#include "migr_fe.h"

#define MIGR_VERSION	"1.2"

/* which verb-specific options a verb accepts */
#define V_DIR		0x0001
#define V_MESSAGE	0x0002
#define V_HEAD		0x0004
#define V_BRANCH	0x0008
#define V_DEPENDS	0x0010
#define V_REVID		0x0020
#define V_PUSH		0x0040
#define V_TIMEOUT	0x0080
#define V_DOWN		0x0100
#define V_ERRONLY	0x0200
#define V_DRYRUN	0x0400
#define V_AGAINST	0x0800

typedef struct MigrVerb
{
	const char *name;
	int			(*run) (int argc, char **argv);
	int			options;		/* V_* */
	int			min_args;
	int			max_args;
	const char *args;			/* for usage messages */
} MigrVerb;

static const MigrVerb verbs[] = {
	{"new", cmd_new, V_DIR | V_MESSAGE | V_HEAD | V_BRANCH | V_DEPENDS | V_REVID, 0, 0, ""},
	{"push", cmd_push, V_DIR | V_DRYRUN, 0, 0, ""},
	{"upgrade", cmd_upgrade, V_DIR | V_PUSH, 0, 1, "[TARGET]"},
	{"downgrade", cmd_downgrade, 0, 1, 1, "TARGET"},
	{"stamp", cmd_stamp, 0, 1, 1, "TARGET"},
	{"current", cmd_current, 0, 0, 0, ""},
	{"heads", cmd_heads, 0, 0, 0, ""},
	{"history", cmd_history, 0, 0, 1, "[RANGE]"},
	{"show", cmd_show, 0, 1, 1, "REV"},
	{"check", cmd_check, V_DIR | V_ERRONLY, 0, 0, ""},
	{"plan", cmd_plan, V_DOWN, 1, 1, "TARGET"},
	{"merge", cmd_merge, V_DIR | V_MESSAGE | V_REVID, 0, -1, "[REV...]"},
	{"wait", cmd_wait, V_TIMEOUT, 0, 0, ""},
	{"schema", cmd_schema, 0, 0, 0, ""},
	{"drift", cmd_drift, V_AGAINST, 0, 0, ""},
	{NULL, NULL, 0, 0, 0, NULL}
};

MigrOptions opts;

static const struct option long_options[] = {
	{"dbname", required_argument, NULL, 'd'},
	{"host", required_argument, NULL, 'h'},
	{"port", required_argument, NULL, 'p'},
	{"username", required_argument, NULL, 'U'},
	{"no-password", no_argument, NULL, 'w'},
	{"password", no_argument, NULL, 'W'},
	{"message", required_argument, NULL, 'm'},
	{"quiet", no_argument, NULL, 'q'},
	{"verbose", no_argument, NULL, 'v'},
	{"version", no_argument, NULL, 'V'},
	{"help", no_argument, NULL, '?'},
	{"dir", required_argument, NULL, 1},
	{"head", required_argument, NULL, 2},
	{"branch", required_argument, NULL, 3},
	{"branch-label", required_argument, NULL, 3},
	{"depends-on", required_argument, NULL, 4},
	{"rev-id", required_argument, NULL, 5},
	{"push", no_argument, NULL, 6},
	{"timeout", required_argument, NULL, 7},
	{"downgrade", no_argument, NULL, 8},
	{"errors-only", no_argument, NULL, 9},
	{"dry-run", no_argument, NULL, 10},
	{"progress", no_argument, NULL, 11},
	{"no-progress", no_argument, NULL, 12},
	{"against", required_argument, NULL, 13},
	{NULL, 0, NULL, 0}
};


static const char *progname;
static const MigrVerb *verb;

static void usage(void);
static const MigrVerb *find_verb(const char *name);
static bool verb_allows(int flag, const char *option);
static char *relative_marker(char *arg);
static bool option_takes_value(const char *arg);
static char *unmark(char *arg);

/*
 * usage
 *		--help.
 */
static void
usage(void)
{
	printf("%s keeps schema migrations in the PostgreSQL database they migrate.\n\n", progname);
	printf("Usage:\n");
	printf("  %s [OPTION]... VERB [ARG]...\n\n", progname);
	printf("Revision files (a folder, %s/ by default):\n", MIGR_DEFAULT_DIR);
	printf("  new -m MESSAGE             write a new revision file on the folder's head\n");
	printf("        [--head REV] [--branch LABEL] [--depends-on REV]... [--rev-id ID]\n");
	printf("  push [--dry-run]           define the folder's new and changed revisions\n");
	printf("  check --dir DIR            check the files without a database (format,\n");
	printf("                             duplicate ids, missing parents, cycles, heads)\n");
	printf("  merge -m MESSAGE --dir DIR [REV...]\n");
	printf("                             write a merge revision file of the folder's heads\n");
	printf("\nDatabase:\n");
	printf("  upgrade [TARGET] [--push]  apply revisions up to TARGET (default: head);\n");
	printf("                             --push pushes the folder first\n");
	printf("  downgrade TARGET           revert revisions above TARGET (\"base\": all)\n");
	printf("  stamp TARGET               mark TARGET applied without running scripts\n");
	printf("  plan TARGET [--downgrade]  print the SQL an upgrade (downgrade) would run\n");
	printf("  current                    applied revisions with no applied child\n");
	printf("  heads                      revisions with no child\n");
	printf("  history [RANGE]            every revision, roots first (RANGE: from:to)\n");
	printf("  show REV                   one revision, scripts included\n");
	printf("  check [--errors-only]      migr_check(): problems in the database's graph\n");
	printf("  merge -m MESSAGE [REV...]  define a merge revision of the heads (or REVs)\n");
	printf("  wait [--timeout INTERVAL]  wait for background jobs to finish\n");
	printf("  schema                     print the schema's description (migr_schema())\n");
	printf("  new --autogenerate --from FILE.sql|--from-db DSN -m MSG\n"
		   "                             write a revision from the schema wanted\n");
	printf("  diff --from FILE.sql|--from-db DSN [--exit-code]\n"
		   "                             print what would change (exit 1 with --exit-code)\n");
	printf("  baseline [-m MSG]          write a root revision of the live schema, stamp it\n");
	printf("  drift [--against FILE]     differences from the last move's schema, or from\n");
	printf("                             a description saved by migr schema (exit 1 if any)\n");
	printf("\nTargets: head, heads, base, an id or a unique prefix, a branch label,\n");
	printf("label@head, and any of these followed by +N or -N; +N and -N alone step\n");
	printf("from the current revision.\n");
	printf("\nOptions:\n");
	printf("  --dir=DIR                  folder of revision files (default: $MIGR_DIR,\n");
	printf("                             else \"%s\")\n", MIGR_DEFAULT_DIR);
	printf("  -m, --message=MESSAGE      message of a new or merge revision\n");
	printf("  -q, --quiet                print only errors and warnings\n");
	printf("  -v, --verbose              say more (check --dir: list every revision)\n");
	printf("  --progress, --no-progress  show progress even when stderr is not a terminal,\n");
	printf("                             or never (default: on a terminal only)\n");
	printf("  -V, --version              output version information, then exit\n");
	printf("  -?, --help                 show this help, then exit\n");
	printf("\nConnection options:\n");
	printf("  -d, --dbname=DBNAME        database name or connection string\n");
	printf("  -h, --host=HOSTNAME        database server host or socket directory\n");
	printf("  -p, --port=PORT            database server port\n");
	printf("  -U, --username=USERNAME    database user name\n");
	printf("  -w, --no-password          never prompt for password\n");
	printf("  -W, --password             force password prompt\n");
	printf("The PG* environment variables (PGHOST, PGPORT, PGDATABASE, PGUSER, ...)\n");
	printf("apply as for psql.\n");
	printf("\nExit status:\n");
	printf("  %d  done (or, for current, heads, history, show: printed;\n", MIGR_EXIT_DONE);
	printf("     for check: nothing wrong found; for drift: no difference)\n");
	printf("  %d  failed: an error from the server, the connection or the files,\n", MIGR_EXIT_FAILED);
	printf("     or check found a problem, or drift a difference; nothing was half done\n");
	printf("  %d  usage error\n", MIGR_EXIT_USAGE);
	printf("  %d  nothing to do: upgrade, downgrade, stamp, plan, push or merge found\n", MIGR_EXIT_NOTHING);
	printf("     the database (or folder) already there\n");
	printf("     (in a script: migr upgrade --push || [ $? -eq %d ])\n", MIGR_EXIT_NOTHING);
}

static const MigrVerb *
find_verb(const char *name)
{
	const MigrVerb *v;

	for (v = verbs; v->name; v++)
		if (strcmp(v->name, name) == 0)
			return v;
	return NULL;
}

/*
 * migr_usage_error
 *		Print a usage error with the usual hint; always returns false so that
 *		callers can "return migr_usage_error(...)" from bool functions.
 */
bool
migr_usage_error(const char *fmt,...)
{
	va_list		args;
	char		buf[1024];

	va_start(args, fmt);
	vsnprintf(buf, sizeof(buf), fmt, args);
	va_end(args);
	pg_log_error("%s", buf);
	pg_log_error_hint("Try \"%s --help\" for more information.", progname);
	return false;
}

/*
 * verb_allows
 *		Whether the verb takes a verb-specific option; a usage error if not.
 */
static bool
verb_allows(int flag, const char *option)
{
	if (verb && (verb->options & flag) == 0)
		return migr_usage_error("option %s does not apply to \"%s\"", option,
								verb->name);
	return true;
}

/*
 * migr_dir
 *		The folder of revision files: --dir, $MIGR_DIR, or "migrations".
 */
const char *
migr_dir(void)
{
	const char *env;

	if (opts.dir)
		return opts.dir;
	env = getenv("MIGR_DIR");
	return (env && env[0]) ? env : MIGR_DEFAULT_DIR;
}

/*
 * relative_marker
 *		getopt would take a relative target such as "-1" for an option:
 *		hide the sign behind a marker byte until options are parsed.
 */
static char *
relative_marker(char *arg)
{
	const char *c;

	if (arg[0] != '-' || arg[1] == '\0')
		return arg;
	for (c = arg + 1; *c; c++)
		if (!isdigit((unsigned char) *c))
			return arg;
	return psprintf("\x01%s", arg);
}

/*
 * option_takes_value
 *		Whether a command-line element is an option whose value is the next
 *		element ("-d db", "--dir migrations"), so that the verb is not
 *		looked for there.
 */
static bool
option_takes_value(const char *arg)
{
	const struct option *o;
	size_t		len;

	if (arg[0] != '-')
		return false;
	if (arg[1] != '-')
		return strlen(arg) == 2 && strchr("dhpUm", arg[1]) != NULL;
	if (strchr(arg, '=') != NULL)
		return false;
	len = strlen(arg + 2);
	for (o = long_options; o->name; o++)
		if (len > 0 && strncmp(o->name, arg + 2, len) == 0)
			return o->has_arg == required_argument;
	return false;
}

/*
 * unmark
 *		An option's value, with relative_marker() undone.
 */
static char *
unmark(char *arg)
{
	return arg[0] == '\x01' ? arg + 1 : arg;
}

int
main(int argc, char **argv)
{
	int			c;
	int			i;
	int			nargs;
	char	  **args;
	bool		ok = true;

	pg_logging_init(argv[0]);
	progname = get_progname(argv[0]);
	opts.progress = -1;

	if (argc > 1 && (strcmp(argv[1], "--help") == 0 ||
					 strcmp(argv[1], "-?") == 0 ||
					 strcmp(argv[1], "help") == 0))
	{
		usage();
		exit(MIGR_EXIT_DONE);
	}
	if (argc > 1 && (strcmp(argv[1], "--version") == 0 ||
					 strcmp(argv[1], "-V") == 0))
	{
		printf("migr (migr client) %s, built with libpq %s\n", MIGR_VERSION,
			   PG_VERSION);
		exit(MIGR_EXIT_DONE);
	}

	/* autogenerate's verbs parse their own options (cmd_autogen.c) */
	if (autogen_wants(argc, argv))
		exit(cmd_autogen(argc, argv));

	/* the verb is the first argument that is not an option or its value */
	for (i = 1; i < argc; i++)
		argv[i] = relative_marker(argv[i]);
	for (i = 1; i < argc && verb == NULL; i++)
	{
		if (argv[i][0] != '-')
		{
			verb = find_verb(argv[i]);
			if (verb == NULL)
			{
				migr_usage_error("unknown verb \"%s\"", argv[i]);
				exit(MIGR_EXIT_USAGE);
			}
		}
		else if (option_takes_value(argv[i]))
			i++;				/* skip the option's value */
	}

	while (ok && (c = getopt_long(argc, argv, "d:h:p:U:wWm:qvV?",
								  long_options, NULL)) != -1)
	{
		switch (c)
		{
			case 'd':
				opts.dbname = unmark(optarg);
				break;
			case 'h':
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
				ok = verb_allows(V_MESSAGE, "-m/--message");
				opts.message = unmark(optarg);
				break;
			case 'q':
				opts.quiet = true;
				break;
			case 'v':
				opts.verbose++;
				break;
			case 'V':
				printf("migr (migr client) %s, built with libpq %s\n",
					   MIGR_VERSION, PG_VERSION);
				exit(MIGR_EXIT_DONE);
			case '?':
				if (optopt == 0 && strcmp(argv[optind - 1], "-?") == 0)
				{
					usage();
					exit(MIGR_EXIT_DONE);
				}
				if (strcmp(argv[optind - 1], "--help") == 0)
				{
					usage();
					exit(MIGR_EXIT_DONE);
				}
				pg_log_error_hint("Try \"%s --help\" for more information.",
								  progname);
				exit(MIGR_EXIT_USAGE);
			case 1:
				ok = verb_allows(V_DIR, "--dir");
				opts.dir = optarg;
				break;
			case 2:
				ok = verb_allows(V_HEAD, "--head");
				opts.head = optarg;
				break;
			case 3:
				ok = verb_allows(V_BRANCH, "--branch");
				opts.branch = optarg;
				break;
			case 4:
				ok = verb_allows(V_DEPENDS, "--depends-on");
				opts.depends_on = pg_realloc(opts.depends_on,
											 sizeof(char *) * (opts.ndepends_on + 1));
				opts.depends_on[opts.ndepends_on++] = unmark(optarg);
				break;
			case 5:
				ok = verb_allows(V_REVID, "--rev-id");
				opts.rev_id = optarg;
				break;
			case 6:
				ok = verb_allows(V_PUSH, "--push");
				opts.push = true;
				break;
			case 7:
				ok = verb_allows(V_TIMEOUT, "--timeout");
				opts.timeout = unmark(optarg);
				break;
			case 8:
				ok = verb_allows(V_DOWN, "--downgrade");
				opts.downgrade = true;
				break;
			case 9:
				ok = verb_allows(V_ERRONLY, "--errors-only");
				opts.errors_only = true;
				break;
			case 10:
				ok = verb_allows(V_DRYRUN, "--dry-run");
				opts.dry_run = true;
				break;
			case 11:
				opts.progress = 1;
				break;
			case 12:
				opts.progress = 0;
				break;
			case 13:
				ok = verb_allows(V_AGAINST, "--against");
				opts.against = unmark(optarg);
				break;
			default:
				ok = migr_usage_error("unexpected option");
				break;
		}
	}
	if (!ok)
		exit(MIGR_EXIT_USAGE);

	/* what is left: the verb and its arguments, with markers removed */
	nargs = 0;
	args = pg_malloc(sizeof(char *) * (argc + 1));
	for (i = optind; i < argc; i++)
		args[nargs++] = argv[i][0] == '\x01' ? argv[i] + 1 : argv[i];
	args[nargs] = NULL;

	if (verb == NULL || nargs == 0)
	{
		migr_usage_error("no verb given");
		exit(MIGR_EXIT_USAGE);
	}
	if (nargs - 1 < verb->min_args ||
		(verb->max_args >= 0 && nargs - 1 > verb->max_args))
	{
		migr_usage_error("\"%s\" takes %s%s%s", verb->name,
						 verb->args[0] ? "the arguments " : "no arguments",
						 verb->args, nargs - 1 > verb->max_args && verb->max_args >= 0 ?
						 psprintf(", not \"%s\"", args[1 + verb->max_args]) : "");
		exit(MIGR_EXIT_USAGE);
	}
	if (opts.quiet && opts.verbose)
	{
		migr_usage_error("--quiet and --verbose cannot be given together");
		exit(MIGR_EXIT_USAGE);
	}

	/* two verbs work on files alone when given a folder */
	if (strcmp(verb->name, "check") == 0 && opts.dir)
		return cmd_check_files(nargs - 1, args + 1);
	if (strcmp(verb->name, "merge") == 0 && opts.dir)
		return cmd_merge_files(nargs - 1, args + 1);
	return verb->run(nargs - 1, args + 1);
}

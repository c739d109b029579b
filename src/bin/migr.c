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

/*
 * The verbs, in the order --help lists them.  An alias is Alembic's
 * spelling of a verb that means the same thing.
 */
const MigrVerb migr_verbs[] = {
	{"new", NULL, cmd_new, V_DIR | V_MESSAGE | V_HEAD | V_BRANCH | V_DEPENDS | V_REVID, 0, 0, "",
	"write a new revision file on the folder's head"},
	{"revision", "new", cmd_new, V_DIR | V_MESSAGE | V_HEAD | V_BRANCH | V_DEPENDS | V_REVID, 0, 0, "",
	"Alembic's name for \"new\""},
	{"merge", NULL, cmd_merge_files, V_DIR | V_MESSAGE | V_REVID, 0, -1, "[heads | REV...]",
	"write a merge revision file of the folder's heads"},
	{"push", NULL, cmd_push, V_DIR | V_DRYRUN | V_HEADS, 0, 0, "",
	"define the folder's new and changed revisions in the database"},
	{"pull", NULL, cmd_pull, V_DIR | V_DRYRUN, 0, 0, "",
	"write the revisions that exist only in the database to files"},
	{"rm", NULL, cmd_rm, V_DIR, 1, 1, "REV",
	"remove an unapplied revision: its file and its definition"},
	{"upgrade", NULL, cmd_upgrade, V_DIR | V_PUSH | V_HEADS, 0, 1, "[TARGET]",
	"apply revisions up to TARGET (default: head)"},
	{"downgrade", NULL, cmd_downgrade, 0, 1, 1, "TARGET",
	"revert revisions above TARGET (\"base\": all)"},
	{"stamp", NULL, cmd_stamp, 0, 1, 1, "TARGET",
	"mark TARGET applied without running scripts"},
	{"plan", NULL, cmd_plan, V_DIR | V_DOWN | V_OFFLINE, 0, 1, "[TARGET | FROM:TO]",
	"print the SQL that pushing the folder and upgrading would run"},
	{"current", NULL, cmd_current, 0, 0, 0, "",
	"applied revisions that no other applied revision needs"},
	{"heads", NULL, cmd_heads, 0, 0, 0, "",
	"revisions with no child"},
	{"branches", NULL, cmd_branches, 0, 0, 0, "",
	"branch points: revisions with more than one child"},
	{"history", NULL, cmd_history, V_RANGE | V_CURRENT, 0, 1, "[RANGE]",
	"every revision, roots first (RANGE: from:to)"},
	{"show", NULL, cmd_show, 0, 1, 1, "REV",
	"one revision, scripts included"},
	{"check", NULL, cmd_check, V_DIR | V_ERRONLY | V_OFFLINE, 0, 0, "",
	"what is wrong or risky, in the database or (--dir) the files"},
	{"jobs", NULL, cmd_jobs, 0, 0, 0, "",
	"background jobs (CREATE INDEX CONCURRENTLY and what follows)"},
	{"retry", NULL, cmd_retry, 0, 1, 1, "JOB",
	"queue a failed job again"},
	{"cancel", NULL, cmd_cancel, 0, 1, 1, "JOB",
	"cancel a job and every job queued after it"},
	{"wait", NULL, cmd_wait, V_TIMEOUT, 0, 0, "",
	"wait for background jobs; say what a stuck one waits for"},
	{"schema", NULL, cmd_schema, 0, 0, 0, "",
	"print the schema's description (migr_schema())"},
	{"drift", NULL, cmd_drift, V_AGAINST, 0, 0, "",
	"how the schema differs from the last move's, or from --against FILE"},
	{"verify", NULL, cmd_verify, 0, 0, 1, "[TARGET]",
	"the stairway test up to TARGET (default: heads), all rolled back"},
	{"diff", NULL, cmd_autogen, 0, 0, -1, "--from FILE.sql | --from-db DSN",
	"the statements that would turn the live schema into the one wanted"},
	{"baseline", NULL, cmd_autogen, 0, 0, -1, "[-m MSG]",
	"write a root revision of the live schema and stamp it"},
	{"import-alembic", NULL, cmd_import_alembic, 0, 0, -1, "[OPTION]...",
	"write a revision file per Alembic revision (its own --help)"},
	{NULL, NULL, NULL, 0, 0, 0, NULL, NULL}
};

MigrOptions opts;

static const struct option long_options[] = {
	{"dbname", required_argument, NULL, 'd'},
	{"host", required_argument, NULL, 'H'},
	{"port", required_argument, NULL, 'p'},
	{"username", required_argument, NULL, 'U'},
	{"no-password", no_argument, NULL, 'w'},
	{"password", no_argument, NULL, 'W'},
	{"message", required_argument, NULL, 'm'},
	{"quiet", no_argument, NULL, 'q'},
	{"verbose", no_argument, NULL, 'v'},
	{"version", no_argument, NULL, 'V'},
	{"help", no_argument, NULL, '?'},
	{"rev-range", required_argument, NULL, 'r'},
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
	{"exit-code", no_argument, NULL, 13},
	{"allow-heads", no_argument, NULL, 14},
	{"offline", no_argument, NULL, 15},
	{"sql", no_argument, NULL, 15},
	{"indicate-current", no_argument, NULL, 16},
	{"each-database", no_argument, NULL, 40},
	{"dsn-file", required_argument, NULL, 41},
	{"jobs", required_argument, NULL, 42},
	{"against", required_argument, NULL, 43},
	{NULL, 0, NULL, 0}
};


static const char *progname;
static const MigrVerb *verb;

static bool verb_allows(int flag, const char *option);
static char *relative_marker(char *arg);
static bool option_takes_value(const char *arg);
static char *unmark(char *arg);
static bool is_help(const char *arg);
static void main_help(int argc, char **argv);
static void main_find_verb(int argc, char **argv);
static void main_import_alembic(int argc, char **argv);
static bool main_option(int c, char **argv);
static int	main_run(int nargs, char **args);

/*
 * migr_find_verb
 *		A verb by name or alias, or NULL.
 */
const MigrVerb *
migr_find_verb(const char *name)
{
	const MigrVerb *v;

	for (v = migr_verbs; v->name; v++)
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
	if (verb)
		pg_log_error_hint("Try \"%s %s --help\" for more information.",
						  progname, verb->name);
	else
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
		return strlen(arg) == 2 && strchr("dHpUmr", arg[1]) != NULL;
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

static bool
is_help(const char *arg)
{
	return strcmp(arg, "--help") == 0 || strcmp(arg, "-?") == 0 ||
		strcmp(arg, "-h") == 0;
}

/*
 * main_help
 *		Help, wherever it is asked for: "migr --help", "migr -h",
 *		"migr help [VERB]", "migr VERB --help", "migr VERB -h".  -h is help,
 *		as in Alembic; the host is -H or --host.  Since psql users type
 *		"-h HOST" by habit, "-h" followed by something that is neither a
 *		verb nor an option is refused (exit 2) rather than taken for a
 *		request for help, which would exit 0 without doing anything.
 */
static void
main_help(int argc, char **argv)
{
	int			i;

	if (argc > 1 && strcmp(argv[1], "help") == 0)
	{
		if (argc > 2 && migr_find_verb(argv[2]))
			help_verb(progname, migr_find_verb(argv[2]));
		else
			help_usage(progname);
		exit(MIGR_EXIT_DONE);
	}
	for (i = 1; i < argc; i++)
	{
		if (!is_help(argv[i]))
			continue;
		if (strcmp(argv[i], "-h") == 0 && i + 1 < argc &&
			argv[i + 1][0] != '-' && !migr_find_verb(argv[i + 1]))
		{
			pg_log_error("-h is help; the host is -H or --host (\"%s -H %s\")",
						 progname, argv[i + 1]);
			pg_log_error_hint("Try \"%s --help\" for more information.",
							  progname);
			exit(MIGR_EXIT_USAGE);
		}
		verb = NULL;
		main_find_verb(i, argv);
		if (verb == NULL && i + 1 < argc)
			verb = migr_find_verb(argv[i + 1]);
		if (verb)
			help_verb(progname, verb);
		else
			help_usage(progname);
		exit(MIGR_EXIT_DONE);
	}
}

/*
 * main_find_verb
 *		The verb is the first of argv[1..argc-1] that is not an option or
 *		an option's value.  An unknown word is a usage error that suggests
 *		the nearest verb.
 */
static void
main_find_verb(int argc, char **argv)
{
	int			i;

	for (i = 1; i < argc && verb == NULL; i++)
	{
		if (argv[i][0] != '-' && argv[i][0] != '\x01')
		{
			const char *near;

			verb = migr_find_verb(argv[i]);
			if (verb != NULL)
				break;
			near = help_nearest(argv[i]);
			pg_log_error("unknown verb \"%s\"", argv[i]);
			if (near)
				pg_log_error_hint("Did you mean \"%s %s\"? \"%s --help\" lists the verbs.",
								  progname, near, progname);
			else
				pg_log_error_hint("\"%s --help\" lists the verbs.", progname);
			exit(MIGR_EXIT_USAGE);
		}
		else if (option_takes_value(argv[i]))
			i++;				/* skip the option's value */
	}
}

/*
 * main_import_alembic
 *		"migr [OPTION]... import-alembic [ARG]...": the script installed beside
 *		migr parses every other argument itself (its own --help included), so
 *		it gets them all, in order, before migr looks at any of them.
 */
static void
main_import_alembic(int argc, char **argv)
{
	int			i;

	for (i = 1; i < argc; i++)
	{
		if (argv[i][0] != '-')
		{
			char	  **args;
			int			j,
						nargs = 0;

			if (strcmp(argv[i], "import-alembic") != 0)
				return;			/* another verb */
			args = pg_malloc(sizeof(char *) * argc);
			for (j = 0; j < argc; j++)
				if (j != i)
					args[nargs++] = argv[j];
			args[nargs] = NULL;
			exit(cmd_import_alembic(nargs, args));
		}
		else if (option_takes_value(argv[i]))
			i++;				/* skip the option's value */
	}
}

/*
 * main_option
 *		One option from getopt; false after a usage error.
 */
static bool
main_option(int c, char **argv)
{
	switch (c)
	{
		case 'd':
			opts.dbname = unmark(optarg);
			return true;
		case 'H':
			opts.host = optarg;
			return true;
		case 'p':
			opts.port = optarg;
			return true;
		case 'U':
			opts.username = optarg;
			return true;
		case 'w':
			opts.prompt_password = 1;
			return true;
		case 'W':
			opts.prompt_password = 2;
			return true;
		case 'm':
			opts.message = unmark(optarg);
			return verb_allows(V_MESSAGE, "-m/--message");
		case 'q':
			opts.quiet = true;
			return true;
		case 'v':
			opts.verbose++;
			return true;
		case 'V':
			printf("migr (migr client) %s, built with libpq %s\n",
				   MIGR_VERSION, PG_VERSION);
			exit(MIGR_EXIT_DONE);
		case 'r':
			opts.range = unmark(optarg);
			return verb_allows(V_RANGE, "-r/--rev-range");
		case 1:
			opts.dir = optarg;
			return verb_allows(V_DIR, "--dir");
		case 2:
			opts.head = optarg;
			return verb_allows(V_HEAD, "--head");
		case 3:
			opts.branch = optarg;
			return verb_allows(V_BRANCH, "--branch");
		case 4:
			opts.depends_on = pg_realloc(opts.depends_on,
										 sizeof(char *) * (opts.ndepends_on + 1));
			opts.depends_on[opts.ndepends_on++] = unmark(optarg);
			return verb_allows(V_DEPENDS, "--depends-on");
		case 5:
			opts.rev_id = optarg;
			return verb_allows(V_REVID, "--rev-id");
		case 6:
			opts.push = true;
			return verb_allows(V_PUSH, "--push");
		case 7:
			opts.timeout = unmark(optarg);
			return verb_allows(V_TIMEOUT, "--timeout");
		case 8:
			opts.downgrade = true;
			return verb_allows(V_DOWN, "--downgrade");
		case 9:
			opts.errors_only = true;
			return verb_allows(V_ERRONLY, "--errors-only");
		case 10:
			opts.dry_run = true;
			return verb_allows(V_DRYRUN, "--dry-run");
		case 11:
			opts.progress = 1;
			return true;
		case 12:
			opts.progress = 0;
			return true;
		case 13:
			opts.exit_code = true;
			return true;
		case 14:
			opts.allow_heads = true;
			return verb_allows(V_HEADS, "--allow-heads");
		case 15:
			opts.offline = true;
			return verb_allows(V_OFFLINE, "--offline");
		case 16:
			opts.indicate_current = true;
			return verb_allows(V_CURRENT, "--indicate-current");
		case 43:
			opts.against = unmark(optarg);
			return verb_allows(V_AGAINST, "--against");
		case 40:
			opts.each_database = true;
			return true;
		case 41:
			opts.dsn_file = optarg;
			return true;
		case 42:
			opts.jobs = atoi(optarg);
			if (opts.jobs < 1 || opts.jobs > 1024 ||
				strspn(optarg, "0123456789") != strlen(optarg))
				return migr_usage_error("--jobs must be a number from 1 to 1024, not \"%s\"",
										optarg);
			return true;
		default:
			pg_log_error_hint("Try \"%s%s%s --help\" for more information.",
							  progname, verb ? " " : "", verb ? verb->name : "");
			exit(MIGR_EXIT_USAGE);
	}
	return true;
}

/*
 * main_run
 *		Check the verb's arguments and run it.  "Nothing to do" is success:
 *		exit 0, unless --exit-code asks for 3 (see --help).
 */
static int
main_run(int nargs, char **args)
{
	int			rc;

	if (verb == NULL || nargs == 0)
	{
		migr_usage_error("no verb given");
		return MIGR_EXIT_USAGE;
	}
	/* "merge heads", as Alembic spells it, is the default: every head */
	if (verb->run == cmd_merge_files && nargs == 2 &&
		strcmp(args[1], "heads") == 0)
		nargs = 1;
	/* "history -r A:B", as Alembic spells it */
	if (opts.range && nargs == 1)
		args[nargs++] = (char *) opts.range;
	else if (opts.range)
	{
		migr_usage_error("give the range once, with -r or as an argument");
		return MIGR_EXIT_USAGE;
	}
	if (nargs - 1 < verb->min_args ||
		(verb->max_args >= 0 && nargs - 1 > verb->max_args))
	{
		migr_usage_error("\"%s\" takes %s%s%s", verb->name,
						 verb->args[0] ? "the arguments " : "no arguments",
						 verb->args, nargs - 1 > verb->max_args && verb->max_args >= 0 ?
						 psprintf(", not \"%s\"", args[1 + verb->max_args]) : "");
		return MIGR_EXIT_USAGE;
	}
	if (opts.quiet && opts.verbose)
	{
		migr_usage_error("--quiet and --verbose cannot be given together");
		return MIGR_EXIT_USAGE;
	}

	/* a fleet of databases: cmd_fleet.c */
	if (fleet_wanted())
		return cmd_fleet(verb->name, nargs - 1, args + 1);

	/* check works on the files when given a folder */
	if (verb->run == cmd_check && (opts.dir || opts.offline))
		rc = cmd_check_files(nargs - 1, args + 1);
	else
		rc = verb->run(nargs - 1, args + 1);
	if (rc == MIGR_EXIT_NOTHING && !opts.exit_code)
		rc = MIGR_EXIT_DONE;
	return rc;
}

int
main(int argc, char **argv)
{
	int			c;
	int			i;
	int			nargs;
	char	  **args;

	pg_logging_init(argv[0]);
	progname = get_progname(argv[0]);
	opts.progress = -1;

	if (argc > 1 && (strcmp(argv[1], "--version") == 0 ||
					 strcmp(argv[1], "-V") == 0))
	{
		printf("migr (migr client) %s, built with libpq %s\n", MIGR_VERSION,
			   PG_VERSION);
		exit(MIGR_EXIT_DONE);
	}
	main_import_alembic(argc, argv);
	/* autogenerate's verbs parse their own options (cmd_autogen.c) */
	if (autogen_wants(argc, argv))
		exit(cmd_autogen(argc, argv));
	main_help(argc, argv);

	for (i = 1; i < argc; i++)
		argv[i] = relative_marker(argv[i]);
	main_find_verb(argc, argv);

	while ((c = getopt_long(argc, argv, "d:H:p:U:wWm:qvVr:",
							long_options, NULL)) != -1)
		if (!main_option(c, argv))
			exit(MIGR_EXIT_USAGE);

	/* what is left: the verb and its arguments, with markers removed */
	nargs = 0;
	args = pg_malloc(sizeof(char *) * (argc + 2));
	for (i = optind; i < argc; i++)
		args[nargs++] = argv[i][0] == '\x01' ? argv[i] + 1 : argv[i];
	args[nargs] = NULL;
	return main_run(nargs, args);
}

/*-------------------------------------------------------------------------
 *
 * migr_fe.h
 *	  Shared declarations of the migr command-line client: options, exit
 *	  codes, revision folders, the checksum, the connection and output.
 *
 * Copyright (c) 2026, migr developers
 *
 * IDENTIFICATION
 *	  src/bin/migr_fe.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGR_FE_H
#define MIGR_FE_H

#include "libpq-fe.h"
#include "pqexpbuffer.h"

#include "common/revformat.h"

/*
 * Exit codes.  A script tells "there was work and it is done" from "there
 * was nothing to do" without parsing the output; see --help.
 */
#define MIGR_EXIT_DONE		0	/* done (or, for looking verbs, shown) */
#define MIGR_EXIT_FAILED	1	/* an error: server, connection, files */
#define MIGR_EXIT_USAGE		2	/* bad command line */
#define MIGR_EXIT_NOTHING	3	/* nothing to do: already there; returned
								 * by the verbs, made 0 by main() unless
								 * --exit-code was given */

#define MIGR_DEFAULT_DIR	"migrations"

/* Everything the command line said. */
typedef struct MigrOptions
{
	/* connection */
	const char *dbname;			/* -d: a database name or connection string */
	const char *host;
	const char *port;
	const char *username;
	int			prompt_password;	/* 0 if needed, 1 never (-w), 2 always (-W) */

	/* verbs */
	const char *dir;			/* --dir, or NULL: the default */
	const char *message;		/* -m */
	const char *head;			/* new --head */
	const char *branch;			/* new --branch */
	const char *rev_id;			/* new/merge --rev-id */
	char	  **depends_on;		/* new --depends-on, repeatable */
	int			ndepends_on;
	const char *timeout;		/* wait --timeout */
	bool		push;			/* upgrade --push */
	bool		downgrade;		/* plan --downgrade */
	bool		errors_only;	/* check --errors-only */
	bool		dry_run;		/* push --dry-run */
	bool		exit_code;		/* --exit-code: 3 when nothing was done */
	bool		allow_heads;	/* push/upgrade --allow-heads */
	bool		offline;		/* plan --offline */
	bool		indicate_current;	/* history --indicate-current */
	const char *range;			/* history -r/--rev-range */
	const char *against;		/* drift --against */

	/* output */
	int			verbose;
	bool		quiet;
	int			progress;		/* -1 auto (terminal), 0 off, 1 on */

	/* fleets of databases (cmd_fleet.c) */
	bool		each_database;	/* --each-database */
	const char *dsn_file;		/* --dsn-file */
	int			jobs;			/* --jobs, 0 if not given */
} MigrOptions;

extern MigrOptions opts;

/*
 * One finding about a folder of revision files: a format error, a duplicate
 * id, a missing parent, a cycle, several heads.
 */
typedef struct RevFinding
{
	char	   *file;			/* path, or NULL for the folder as a whole */
	int			line;			/* 0 if none */
	char	   *revision;		/* id, or NULL */
	const char *severity;		/* "error" or "warning" */
	const char *code;			/* stable, as migr_check()'s where they meet */
	char	   *message;
	char	   *hint;			/* or NULL */
} RevFinding;

/* One revision file, parsed as the server's migr_load() parses it. */
typedef struct RevFile
{
	char	   *path;			/* DIR/name */
	char	   *name;			/* file name */
	char	   *text;			/* the whole file, sent to migr_load() */
	size_t		len;
	bool		ok;				/* read and parsed without error */
	bool		usable;			/* ok, and the first file with its id */

	char	   *id;
	int			nparents;
	char	  **parents;
	int			ndeps;
	char	  **deps;
	int			nlabels;
	char	  **labels;
	char	   *message;
	char	   *kind;
	char	   *upgrade;
	char	   *downgrade;		/* NULL: irreversible */
	char		checksum[MIGR_CHECKSUM_LEN + 1];
	int			upgrade_line;	/* line of "-- migr:upgrade" in the file */
	int			downgrade_line; /* of "-- migr:downgrade", 0 if none */
	bool		from_db;		/* defined only in the database (dbrev.c) */
	bool		applied;		/* dbrev.c: applied in the database */

	/* the graph among the folder's files (revgraph_link) */
	int		   *parent_idx;		/* -1 where that parent has no file */
	int		   *dep_idx;
	int			nchildren;
} RevFile;

/* a branch label and the file that carries it (revgraph.c) */
typedef struct RevLabel
{
	const char *label;
	int			file;
} RevLabel;

typedef struct RevDir
{
	char	   *dir;
	int			nfiles;
	RevFile    *files;			/* sorted by file name */
	int			nfindings;
	int			maxfindings;
	RevFinding *findings;
	int			nerrors;
	int			nwarnings;
	int			ninfos;
	bool		linked;			/* graph checks done, heads known */
	bool		cyclic;
	int			nheads;
	int		   *heads;			/* indexes into files */
	bool		heads_labelled; /* several heads, each its labelled branch's */

	/* revgraph_link's indexes: files by id, and branch labels */
	int		   *id_index;
	int			id_count;
	RevLabel   *label_index;
	int			label_count;
} RevDir;

/* A revision as the database has it (dbrev.c). */
typedef struct DbRev
{
	int			seq;			/* definition order */
	const char *id;
	const char *checksum;
	const char *message;
	const char *labels;			/* space-separated */
	bool		applied;
	bool		partial;		/* partially applied */
	char	  **parents;
	int			nparents;
	char	  **deps;
	int			ndeps;
	const char *kind;
	const char *upgrade;		/* NULL unless fetched in full */
	const char *downgrade;		/* NULL: irreversible, or not fetched */
} DbRev;

typedef struct DbRevs
{
	PGresult   *res;			/* holds the strings */
	int			n;
	DbRev	   *revs;			/* definition order */
	DbRev	   *by_id;			/* sorted by id */
} DbRevs;

/* dbrev.c */
extern DbRevs *dbrev_fetch(PGconn *conn, bool full);
extern DbRev *dbrev_find(DbRevs *db, const char *id);
extern RevDir *dbrev_dir(DbRevs *db, const RevDir *files);
extern bool dbrev_heads_broken(const RevDir *rd);

/* revdir.c */
extern RevDir *revdir_read(const char *dir);
extern void revdir_parse(RevDir *rd, bool std_strings);
extern bool revdir_parse_text(RevDir *rd, RevFile *f, bool std_strings);
extern void revdir_add_finding(RevDir *rd, const char *file, int line,
							   const char *revision, const char *severity,
							   const char *code, const char *hint,
							   const char *fmt,...) pg_attribute_printf(8, 9);
extern void revdir_print_findings(const RevDir *rd, FILE *out,
								  bool errors_only);
extern bool revdir_check_name(const char *name, const char **why);
extern void revdir_report_line(RevDir *rd, const PGresult *res);

/* revgraph.c */
extern void revgraph_link(RevDir *rd);
extern int	revgraph_find(const RevDir *rd, const char *id);
extern int *revgraph_order(const RevDir *rd, int *n);

/* conn.c */
extern PGconn *conn_open(void);
extern PGconn *conn_open_quiet(char **why);
extern PGconn *conn_start(void);
extern PGconn *conn_complete(PGconn *conn);
extern void conn_close(PGconn *conn);
extern const char *conn_schema(void);
extern PGresult *conn_run(PGconn *conn, const char *sql, int nparams,
						  const char *const *params);
extern bool conn_failed(const PGresult *res);
extern PGresult *conn_exec(PGconn *conn, const char *sql, int nparams,
						   const char *const *params);
extern bool conn_command(PGconn *conn, const char *sql);
extern void conn_report_error(PGconn *conn, const PGresult *res);
extern const char *conn_sqlstate(const PGresult *res);

/* output.c */
extern bool output_progress_on(void);
extern void output_progress(const char *fmt,...) pg_attribute_printf(1, 2);
extern void output_table(PGconn *conn, const PGresult *res,
						 const char *title, bool footer);
extern void output_cells(int ncols, const char *const *headers, int nrows,
						 char *const *cells, int encoding);
extern void output_ms(char *buf, size_t size, double ms);
extern double output_now_ms(void);
extern void output_say(const char *fmt,...) pg_attribute_printf(1, 2);

/* A revision file about to be written (cmd_new.c). */
typedef struct NewRev
{
	char	   *id;
	const char *message;
	int			nparents;
	const char **parents;
	int			ndeps;
	const char **deps;
	const char *label;			/* space-separated labels, or NULL */
	const char *kind;			/* NULL: schema */
	bool		merge;			/* empty scripts */
	const char *upgrade;		/* NULL: the template of "migr new" */
	const char *downgrade;		/* with upgrade: NULL is irreversible */
	bool		quiet;			/* do not say "created ..." */
	char	   *path;			/* set by new_write */
} NewRev;

/* The comment "migr new" leaves in the downgrade section, to be replaced. */
#define NEW_DOWNGRADE_TEMPLATE \
	"-- Write the SQL that reverts the upgrade here, or delete this\n" \
	"-- section if the revision cannot be reverted.\n"

/* cmd_new.c */
extern int	cmd_new(int argc, char **argv);

/* cmd_autogen.c: new --autogenerate, diff, baseline */
extern bool autogen_wants(int argc, char **argv);
extern int	cmd_autogen(int argc, char **argv);
extern int	cmd_merge_files(int argc, char **argv);
extern bool new_write(const char *dir, NewRev *nr);
extern char *new_one_line(const char *message);
extern int	new_resolve(RevDir *rd, const char *name, bool quiet);

/* cmd_sync.c */
extern int	cmd_pull(int argc, char **argv);
extern int	cmd_rm(int argc, char **argv);

/* cmd_plan.c */
extern int	cmd_plan(int argc, char **argv);

/* cmd_jobs.c */
extern int	cmd_jobs(int argc, char **argv);
extern int	cmd_retry(int argc, char **argv);
extern int	cmd_cancel(int argc, char **argv);
extern void jobs_explain_stuck(PGconn *conn);

/* cmd_push.c */
extern int	cmd_push(int argc, char **argv);
extern int	push_folder(PGconn *conn, RevDir *rd, bool *pushed);
extern void push_array_literal(PQExpBuffer buf, RevDir *rd, int *idx, int n);

/* cmd_move.c */
extern int	cmd_upgrade(int argc, char **argv);
extern int	cmd_downgrade(int argc, char **argv);
extern int	cmd_stamp(int argc, char **argv);

/* cmd_fleet.c */
extern bool fleet_wanted(void);
extern int	cmd_fleet(const char *verb, int argc, char **argv);

/* cmd_look.c */
extern int	cmd_current(int argc, char **argv);
extern int	cmd_heads(int argc, char **argv);
extern int	cmd_branches(int argc, char **argv);
extern int	cmd_history(int argc, char **argv);
extern int	cmd_show(int argc, char **argv);
extern int	cmd_check(int argc, char **argv);
extern int	cmd_wait(int argc, char **argv);

/* cmd_schema.c */
extern int	cmd_schema(int argc, char **argv);
extern int	cmd_drift(int argc, char **argv);

/* cmd_check.c */
extern int	cmd_check_files(int argc, char **argv);

/* which verb-specific options a verb accepts (MigrVerb.options) */
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
#define V_HEADS		0x0800
#define V_OFFLINE	0x1000
#define V_RANGE		0x2000
#define V_CURRENT	0x4000
#define V_AGAINST	0x8000

/* A verb of the command line. */
typedef struct MigrVerb
{
	const char *name;
	const char *alias_of;		/* Alembic's spelling of another verb, or NULL */
	int			(*run) (int argc, char **argv);
	int			options;		/* V_* */
	int			min_args;
	int			max_args;		/* -1: any number */
	const char *args;			/* for usage messages */
	const char *summary;		/* one line for the verb list */
} MigrVerb;

extern const MigrVerb migr_verbs[];

/* help.c */
extern void help_usage(const char *progname);
extern void help_verb(const char *progname, const MigrVerb *v);
extern const char *help_nearest(const char *name);
extern int	help_width(void);
extern void help_wrap(FILE *out, const char *prefix, const char *text);

/* cmd_import.c */
extern int	cmd_import_alembic(int argc, char **argv);
/* cmd_verify.c */
extern int	cmd_verify(int argc, char **argv);

/* migr.c */
extern const char *migr_dir(void);
extern const MigrVerb *migr_find_verb(const char *name);
extern bool migr_usage_error(const char *fmt,...) pg_attribute_printf(1, 2);

#endif							/* MIGR_FE_H */

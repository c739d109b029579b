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

#include "common/revformat.h"

/*
 * Exit codes.  A script tells "there was work and it is done" from "there
 * was nothing to do" without parsing the output; see --help.
 */
#define MIGR_EXIT_DONE		0	/* done (or, for looking verbs, shown) */
#define MIGR_EXIT_FAILED	1	/* an error: server, connection, files */
#define MIGR_EXIT_USAGE		2	/* bad command line */
#define MIGR_EXIT_NOTHING	3	/* nothing to do: already there */

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
	const char *against;		/* drift --against */

	/* output */
	int			verbose;
	bool		quiet;
	int			progress;		/* -1 auto (terminal), 0 off, 1 on */
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

	/* the graph among the folder's files (revgraph_link) */
	int		   *parent_idx;		/* -1 where that parent has no file */
	int		   *dep_idx;
	int			nchildren;
} RevFile;

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
	bool		linked;			/* graph checks done, heads known */
	bool		cyclic;
	int			nheads;
	int		   *heads;			/* indexes into files */
} RevDir;

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

/* revgraph.c */
extern void revgraph_link(RevDir *rd);
extern int	revgraph_find(const RevDir *rd, const char *id);
extern int *revgraph_order(const RevDir *rd, int *n);

/* conn.c */
extern PGconn *conn_open(void);
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

/* cmd_new.c */
extern int	cmd_new(int argc, char **argv);

/* cmd_autogen.c: new --autogenerate, diff, baseline */
extern bool autogen_wants(int argc, char **argv);
extern int	cmd_autogen(int argc, char **argv);
extern int	cmd_merge_files(int argc, char **argv);

/* cmd_push.c */
extern int	cmd_push(int argc, char **argv);
extern int	push_folder(PGconn *conn, RevDir *rd, bool *pushed);

/* cmd_move.c */
extern int	cmd_upgrade(int argc, char **argv);
extern int	cmd_downgrade(int argc, char **argv);
extern int	cmd_stamp(int argc, char **argv);
extern int	cmd_plan(int argc, char **argv);

/* cmd_look.c */
extern int	cmd_current(int argc, char **argv);
extern int	cmd_heads(int argc, char **argv);
extern int	cmd_history(int argc, char **argv);
extern int	cmd_show(int argc, char **argv);
extern int	cmd_check(int argc, char **argv);
extern int	cmd_merge(int argc, char **argv);
extern int	cmd_wait(int argc, char **argv);

/* cmd_schema.c */
extern int	cmd_schema(int argc, char **argv);
extern int	cmd_drift(int argc, char **argv);

/* cmd_check.c */
extern int	cmd_check_files(int argc, char **argv);

/* migr.c */
extern const char *migr_dir(void);
extern bool migr_usage_error(const char *fmt,...) pg_attribute_printf(1, 2);

#endif							/* MIGR_FE_H */

/*-------------------------------------------------------------------------
 *
 * migr.h
 *	  Shared declarations of the migr extension: settings, the revision
 *	  graph, targets, scripts and the catalog access layer.
 *
 * Copyright (c) 2026, migr developers
 *
 * IDENTIFICATION
 *	  src/migr.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef MIGR_H
#define MIGR_H

#include "fmgr.h"
#include "nodes/pg_list.h"
#include "utils/array.h"
#include "access/transam.h"
#include "utils/hsearch.h"
#include "datatype/timestamp.h"

/* migr's own SQLSTATEs (class MG) */
#define ERRCODE_MIGR_MULTIPLE_HEADS		MAKE_SQLSTATE('M','G','0','0','1')
#define ERRCODE_MIGR_APPLIED_CHANGED	MAKE_SQLSTATE('M','G','0','0','2')
#define ERRCODE_MIGR_MISSING_REVISION	MAKE_SQLSTATE('M','G','0','0','3')
#define ERRCODE_MIGR_IRREVERSIBLE		MAKE_SQLSTATE('M','G','0','0','4')
#define ERRCODE_MIGR_CYCLE				MAKE_SQLSTATE('M','G','0','0','5')
#define ERRCODE_MIGR_LINT				MAKE_SQLSTATE('M','G','0','0','6')
#define ERRCODE_MIGR_DATA_OPERATION		MAKE_SQLSTATE('M','G','0','0','7')
#define ERRCODE_MIGR_MANUAL_DDL			MAKE_SQLSTATE('M','G','0','0','8')

/* the revision-file format and its limits, shared with the client */
#include "common/revformat.h"

/* settings (migr.c) */
extern int	migr_lock_timeout;
extern int	migr_lock_retries;
extern int	migr_retry_delay;
extern int	migr_max_retry_delay;
extern int	migr_lock_deadline;
extern int	migr_statement_timeout;
extern bool migr_forward_only;
extern int	migr_max_job_attempts;
extern int	migr_lint_mode;		/* migr.lint: MigrLintMode */
extern int	migr_data_mode;		/* migr.data_operations: MigrDataMode */
extern int	migr_guard_mode;	/* migr.guard: MigrGuardMode */

/* migr.guard (schema/guard.c) */
typedef enum MigrGuardMode
{
	MIGR_GUARD_OFF,
	MIGR_GUARD_LOG,
	MIGR_GUARD_BLOCK
} MigrGuardMode;

/*
 * A revision as the graph sees it.  Scripts are not kept here: they are read
 * one revision at a time when they are needed.
 */
typedef struct MigrRev
{
	char	   *id;
	int64		seq;			/* definition order */
	text	   *message;
	int			nparents;
	char	  **parents;
	ArrayType  *parents_array;	/* the same as stored, or NULL if empty */
	int			ndeps;
	char	  **deps;
	int			nlabels;
	char	  **labels;
	bool		applied;
	bool		has_applied_at;
	int64		applied_at;		/* TimestampTz */
	bool		reversible;		/* downgrade is not NULL */

	/* filled in by graph_link() */
	int		   *parent_idx;		/* -1 where that parent is not defined */
	int		   *dep_idx;		/* -1 where that dependency is not defined */
	int			nchildren;		/* revisions naming this one as a parent */
	int		   *children;
	int			ndependents;	/* revisions naming this one in depends_on */
	int		   *dependents;
} MigrRev;

typedef struct MigrGraph
{
	int			nrevs;
	MigrRev    *revs;			/* in definition order */
	void	   *byid;			/* id -> index into revs (graph.c) */
	void	   *bylabel;		/* branch label -> index into revs */
	List	   *roots;			/* graph_roots(), once asked */
} MigrGraph;

/* The revisions a target names; base means "none". */
typedef struct MigrTarget
{
	bool		base;
	int			n;
	int		   *idx;
	/* "-N" from current: a downgrade reverts only along the line walked */
	bool		down_line;
	int			line_child;		/* where the walk made its last step down */
} MigrTarget;

/*
 * What a statement does, decided from its parse tree (script.c).  Whether it
 * can run in a transaction block is a separate question (non_transactional).
 */
typedef enum MigrStmtClass
{
	MIGR_STMT_DDL,				/* changes the schema (everything not below) */
	MIGR_STMT_DATA,				/* INSERT, UPDATE, DELETE, MERGE, COPY,
								 * TRUNCATE, SELECT INTO, CREATE TABLE AS */
	MIGR_STMT_QUERY,			/* a plain SELECT (of a function, say), SET,
								 * SHOW, LOCK, EXPLAIN */
	MIGR_STMT_TRANSACTION,		/* BEGIN, COMMIT, SAVEPOINT, ... */
	MIGR_STMT_OPAQUE			/* DO, CALL: migr cannot see inside */
} MigrStmtClass;

/* One statement of a script, as raw_parser found it. */
typedef struct MigrStmt
{
	char	   *sql;			/* the statement's own text */
	int			location;		/* byte offset in the script */
	int			line;			/* 1-based line in the script */
	int			index;			/* 1-based position in the script */
	int			tag;			/* NodeTag of the statement */
	bool		transaction_control;
	bool		non_transactional;
	bool		deferrable;		/* an upgrade hands it to a background worker */
	bool		inlinable;		/* runs in a transaction without CONCURRENTLY */
	bool		client_copy;	/* COPY FROM STDIN / TO STDOUT */
	MigrStmtClass stmt_class;
	const char *what;			/* command name, for messages */
	const char *hint;			/* the way out when it is refused, or NULL */
} MigrStmt;

/* Called by script_walk() for each statement, with its parse tree. */
typedef void (*MigrStmtWalker) (MigrStmt *ms, Node *tree, void *arg);

/*
 * A revision's definition: what migr_define() takes and migr.revision holds.
 * downgrade is NULL for an irreversible revision.
 */
typedef struct MigrRevDef
{
	char	   *id;
	List	   *parents;		/* of char * */
	List	   *deps;
	List	   *labels;
	char	   *message;
	char	   *kind;
	char	   *upgrade;
	char	   *downgrade;
	char	   *checksum;
	char	   *applied_checksum;	/* as recorded when applied, or NULL */
	int			partial_next;	/* partially applied: the first statement
								 * that has not run; else 0 */
	char	   *partial_checksum;	/* as recorded when started, or NULL */
} MigrRevDef;

/* A partially applied revision (migr.partial) and its latest job. */
typedef struct MigrPartial
{
	char	   *revision;
	int			next_statement; /* the first statement that has not run */
	char	   *job;			/* id of its latest job, or NULL */
	char	   *job_state;		/* that job's state, or NULL */
} MigrPartial;

/* catalog.c */

/*
 * One of migr's queries on its own tables, prepared on first use and kept.
 * All but whole-table reads ("scan") run with sequential scans disabled, so
 * that their plans use migr's indexes however small the tables were when
 * the plans were made (a plan kept from a tiny table would otherwise scan
 * it sequentially ever after, also within one long transaction where no
 * ANALYZE can tell the planner otherwise).
 */
typedef struct MigrQuery
{
	const char *sql;
	int			nargs;
	Oid			argtypes[12];
	void	   *plan;			/* SPIPlanPtr */
	bool		scan;			/* reads a whole table: plan normally */
} MigrQuery;

extern int	catalog_run(MigrQuery *cp, Datum *values, const char *nulls);
extern void catalog_run_expect(MigrQuery *cp, Datum *values, const char *nulls,
							   int expected_rc, const char *fmt,...)
			pg_attribute_printf(5, 6);

typedef struct MigrCatalogUser
{
	Oid			saved_userid;
	int			saved_sec_context;
} MigrCatalogUser;

extern const char *catalog_set_tenant(const char *tenant);
extern const char *catalog_tenant(void);
extern bool catalog_has_tenants(void);
extern void catalog_connect(void);
extern void catalog_finish(void);
extern void catalog_become_owner(MigrCatalogUser *save);
extern void catalog_restore_user(MigrCatalogUser *save);
extern void catalog_lock(const char *fname, bool moving);
extern bool catalog_try_lock(const char *fname, bool moving);
extern void catalog_lock_define(const char *fname);
extern void catalog_lock_session(void);
extern void catalog_unlock_session(void);
extern bool catalog_head_is_applied(List **heads);
extern bool catalog_heads(List **ids, List **messages);
extern MigrGraph *catalog_load_graph(void);
extern void catalog_mark_applied(const char *id, const char *checksum,
								 double ms);
extern void catalog_mark_applied_ext(const char *id, const char *checksum,
									 double ms, bool partial);
extern void catalog_mark_unapplied(const char *id);
extern void catalog_mark_partial(const char *id, const char *checksum,
								 int next);
extern void catalog_clear_partial(const char *id);
extern List *catalog_partials(void);
extern void catalog_log(const char *action, const char *revision,
						const char *target, double ms, const char *outcome);
extern bool catalog_get_def(const char *id, MigrRevDef *def, bool *applied);
extern char *catalog_label_owner(const char *label);
extern bool catalog_is_referenced(const char *id);
extern void catalog_store_def(MigrRevDef *def, bool replace,
							  List *old_parents);

/* checksum.c */
extern char *checksum_revision(MigrRevDef *def);

/* graph.c */
extern void graph_link(MigrGraph *g);
extern int	graph_find(MigrGraph *g, const char *id);
extern int	graph_find_label(MigrGraph *g, const char *label);
extern List *graph_current(MigrGraph *g);
extern List *graph_roots(MigrGraph *g);
extern int *graph_upgrade_order(MigrGraph *g, MigrTarget *t, int *n);
extern int *graph_downgrade_order(MigrGraph *g, MigrTarget *t, int *n);
extern int *graph_topo_all(MigrGraph *g, int *n, bool *cyclic);
extern bool *graph_ancestors(MigrGraph *g, MigrTarget *t, bool with_deps,
							 bool inclusive);
extern bool *graph_descendants(MigrGraph *g, MigrTarget *t, bool with_deps,
							   bool inclusive);
extern List *graph_heads(MigrGraph *g);
extern void graph_check_defined(MigrGraph *g, bool *in);
extern List *graph_find_cycle(MigrGraph *g, int start);
extern char *graph_id_list(MigrGraph *g, List *idxs);

/* target.c */
extern void target_check_name(const char *name, const char *what);
extern MigrTarget *target_resolve(MigrGraph *g, const char *target);
extern int	target_single(MigrGraph *g, const char *target);

/* script.c */
extern List *script_split(const char *script, const char *id,
						  const char *section);
extern List *script_check(const char *script, const char *id,
						  const char *section);
extern List *script_walk(const char *script, const char *id,
						 const char *section, MigrStmtWalker walker,
						 void *arg);

/* apply.c */
extern bool apply_in_script;
extern const char *apply_current_revision;
extern double apply_script(const char *id, const char *section,
						   const char *script, int first, int *deferred_at);
extern void apply_one(const char *id, const char *section, MigrStmt *ms);
extern void apply_sleep(int ms);
extern bool apply_would_defer(MigrStmt *ms);
extern Oid	apply_statement_relid(MigrStmt *ms);

/* lockpolicy.c */

/*
 * One attempt at a unit of work (a revision, or a worker's statement) in a
 * subtransaction of its own: true if it succeeded; otherwise *edata is the
 * error, and everything the attempt did is rolled back.
 */
typedef bool (*MigrAttempt) (void *arg, ErrorData **edata);

extern void lock_retry(const char *id, MigrAttempt attempt, void *arg);
extern void lock_retry_after(const char *id, MigrAttempt attempt, void *arg,
							 ErrorData *edata, TimestampTz start,
							 void (*between) (void *), void *between_arg);
extern void lock_attempt_start(void);
extern void lock_note_failed_statement(const char *sql);

/* move.c */
extern void move_get_def(const char *id, MigrRevDef *def);
extern void move_lock(const char *fname);
extern ErrorData *move_revision_try(MigrRev *rev, bool upgrade,
									const char *target);

/* job.c */
typedef enum MigrWorkerMode
{
	MIGR_WORKER_JOBS,			/* run the job queue of a database */
	MIGR_WORKER_RECONCILE,		/* resume orphaned jobs, then exit */
	MIGR_WORKER_ROLLOUT			/* upgrade tenants (src/tenant/rollout.c) */
} MigrWorkerMode;

/* what a worker is told at start (bgw_extra) */
typedef struct MigrWorkerArgs
{
	MigrWorkerMode mode;
	Oid			dboid;
	Oid			roleid;			/* runs as this role (invalid: it was dropped) */
	Oid			loginid;		/* connects as this one: roleid, or invalid for
								 * the bootstrap superuser when roleid cannot
								 * log in */
	uint64		wait_xid;		/* FullTransactionId to wait for, or 0 */
	char		tenant[NAMEDATALEN];	/* whose queue (empty: the shared one) */
	int64		rollout;		/* MIGR_WORKER_ROLLOUT: which one */
} MigrWorkerArgs;

struct BackgroundWorker;
extern void job_worker_entry(struct BackgroundWorker *worker, const char *type,
							 MigrWorkerArgs *args);
extern int	job_launch(Oid roleid, FullTransactionId wait_xid);
extern void job_queue(List *revisions, int first, const char *statement,
					  const char *target);
extern bool job_blocking(List **revisions, List **messages);
extern bool job_pending_quiet(List **revisions, List **messages);
extern bool job_waited_on(void);
extern void job_reconcile(void);
extern List *job_check_findings(void);
extern char *job_error_text(ErrorData *edata);

/* a job a worker claimed (job_next_running) */
typedef struct MigrJobRow
{
	int64		id;
	char	   *revision;
	char	   *target;
	char	   *role;
	int			next;			/* next statement to run */
	List	   *settings;		/* "name=value" */
} MigrJobRow;

extern bool job_next_running(MigrJobRow *row, MemoryContext cxt);
extern void job_set_progress(int64 id, int next);
extern void job_finish(int64 id);
extern bool job_record_failure(int64 id, ErrorData *edata, bool final,
							   bool *stop);
extern bool job_resume(int64 id, int *next);
extern bool job_revision_queued(const char *id);
extern bool job_run_inline;
extern Oid	job_login_role(Oid roleid);
extern ArrayType *job_capture_settings(void);
extern bool job_pending_all(void);

/* worker.c */
extern void worker_register_launcher(void);
extern void worker_connect(MigrWorkerArgs *args);
extern bool worker_run_queue(Oid roleid);
extern MemoryContext worker_context(void);

/* src/tenant/ (tenant.h has the rest) */
extern void tenant_reconcile(void);
extern bool tenant_rollouts_pending(void);
extern void tenant_record(const char *tenant, const char *target);
extern void tenant_record_failure(const char *tenant, const char *error);
extern bool tenant_using_revision(const char *id, char **tenant);

/* noop.c */
extern void noop_init(void);
extern bool noop_state(uint64 *state);
extern bool noop_known_at(uint64 state);
extern void noop_remember(uint64 state);
extern void noop_forget(void);

/* revfile.c */
extern MigrRevDef *revfile_parse(const char *text);

/* define.c */
extern char *define_revision(MigrRevDef *def, const char *fname);

/* lint.c */

typedef enum MigrLintMode
{
	MIGR_LINT_OFF,
	MIGR_LINT_WARN,
	MIGR_LINT_ERROR
} MigrLintMode;

typedef enum MigrDataMode
{
	MIGR_DATA_ALLOW,
	MIGR_DATA_WARN,
	MIGR_DATA_ERROR
} MigrDataMode;

/* severities, in increasing order */
typedef enum MigrSeverity
{
	MIGR_SEV_ALLOWED,			/* acknowledged by -- migr:allow */
	MIGR_SEV_INFO,
	MIGR_SEV_WARNING,
	MIGR_SEV_ERROR
} MigrSeverity;

/* One lint finding in a script. */
typedef struct MigrFinding
{
	char	   *revision;		/* the revision concerned, if known */
	int			statement;		/* 1-based, 0 when about no statement */
	int			line;
	MigrSeverity severity;
	const char *code;			/* stable lower_snake code */
	char	   *message;
	char	   *hint;
} MigrFinding;

extern List *lint_script(const char *script, const char *kind,
						 const char *id);
extern void lint_define(MigrRevDef *def);
extern const char *lint_severity_name(MigrSeverity sev);

/* archive.c */
extern bool archive_find(Oid relid, char **archive, int *days);
extern List *archive_check_findings(void);

/* schema/guard.c */
extern int	guard_spi_execute(const char *sql, bool read_only, long count);
extern void guard_exempt_process(void);
extern void guard_assign(int newval, void *extra);
extern void guard_check_loaded_value(const char *wanted);
extern int	guard_mode(void);

/* utilities shared by the SQL-callable files */
extern ArrayType *migr_text_array(List *strings);
extern List *migr_array_list(ArrayType *arr, const char *argname);
extern List *migr_arg_list(FunctionCallInfo fcinfo, int argno,
						   const char *argname);
extern ArrayType *migr_id_array(MigrGraph *g, int n, int *idx);
extern char *migr_arg_text(FunctionCallInfo fcinfo, int argno,
						   const char *argname);

#endif							/* MIGR_H */

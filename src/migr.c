/*-------------------------------------------------------------------------
 *
 * migr.c
 *	  Module entry point of migr: the module magic and the migr.* settings.
 *
 * migr works whether or not it is in shared_preload_libraries: the
 * settings are defined when the library is first loaded, which is the first
 * call of any migr function in a backend when it is not preloaded.
 *
 * Copyright (c) 2026, migr developers
 *
 * IDENTIFICATION
 *	  src/migr.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>

#include "fmgr.h"
#include "utils/guc.h"

#include "migr.h"
#include "schema/schema.h"

PG_MODULE_MAGIC;

int			migr_lock_timeout = 500;
int			migr_lock_retries = -1;
int			migr_retry_delay = 500;
int			migr_max_retry_delay = 2000;
int			migr_lock_deadline = 300000;
int			migr_statement_timeout = 0;
bool		migr_forward_only = false;
int			migr_max_job_attempts = 3;
int			migr_lint_mode = MIGR_LINT_WARN;
int			migr_data_mode = MIGR_DATA_WARN;
int			migr_guard_mode = MIGR_GUARD_LOG;

static const struct config_enum_entry migr_lint_options[] = {
	{"warn", MIGR_LINT_WARN, false},
	{"error", MIGR_LINT_ERROR, false},
	{"off", MIGR_LINT_OFF, false},
	{NULL, 0, false}
};

static const struct config_enum_entry migr_data_options[] = {
	{"warn", MIGR_DATA_WARN, false},
	{"error", MIGR_DATA_ERROR, false},
	{"allow", MIGR_DATA_ALLOW, false},
	{NULL, 0, false}
};

static const struct config_enum_entry migr_guard_options[] = {
	{"log", MIGR_GUARD_LOG, false},
	{"block", MIGR_GUARD_BLOCK, false},
	{"off", MIGR_GUARD_OFF, false},
	{NULL, 0, false}
};

void		_PG_init(void);

/*
 * _PG_init
 *		Define the settings.
 */
void
_PG_init(void)
{
	const char *guard_wanted;

	/*
	 * The lock policy (lockpolicy.c).  The defaults bound what a blocked
	 * migration costs the application (at most lock_timeout of queueing at
	 * a time) and still let it finish by itself within about
	 * max_retry_delay of the blocker's end, trying for up to lock_deadline.
	 */
	DefineCustomIntVariable("migr.lock_timeout",
							"Lock timeout applied to each statement of a migration.",
							"A statement that cannot get its locks in this time is "
							"rolled back and retried; meanwhile every session that "
							"needs a conflicting lock queues behind it.  0 leaves "
							"lock_timeout as it is.",
							&migr_lock_timeout,
							500, 0, INT_MAX,
							PGC_USERSET, GUC_UNIT_MS,
							NULL, NULL, NULL);
	DefineCustomIntVariable("migr.lock_deadline",
							"How long a migration keeps retrying a revision that timed out on a lock.",
							"Counted from the revision's first attempt; when it has passed, "
							"the migration fails naming the sessions that hold the locks.  "
							"0 means no deadline.",
							&migr_lock_deadline,
							300000, 0, INT_MAX,
							PGC_USERSET, GUC_UNIT_MS,
							NULL, NULL, NULL);
	DefineCustomIntVariable("migr.lock_retries",
							"How many times a revision that timed out on a lock is retried.",
							"-1 means no limit but migr.lock_deadline.",
							&migr_lock_retries,
							-1, -1, 1000,
							PGC_USERSET, 0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("migr.retry_delay",
							"Wait before the first retry of a revision that timed out on a lock.",
							"The wait doubles with each further retry up to "
							"migr.max_retry_delay; each wait is drawn between half "
							"of it and all of it.",
							&migr_retry_delay,
							500, 0, INT_MAX,
							PGC_USERSET, GUC_UNIT_MS,
							NULL, NULL, NULL);
	DefineCustomIntVariable("migr.max_retry_delay",
							"Longest wait between two attempts of a revision that timed out on a lock.",
							"Never shortens the first wait, migr.retry_delay.",
							&migr_max_retry_delay,
							2000, 0, INT_MAX,
							PGC_USERSET, GUC_UNIT_MS,
							NULL, NULL, NULL);
	DefineCustomIntVariable("migr.statement_timeout",
							"Time limit for each statement of a migration.",
							"0 means no limit beyond the session's own statement_timeout.",
							&migr_statement_timeout,
							0, 0, INT_MAX,
							PGC_USERSET, GUC_UNIT_MS,
							NULL, NULL, NULL);
	DefineCustomBoolVariable("migr.forward_only",
							 "Refuses every downgrade.",
							 "Only superusers can change this setting, so that it can be "
							 "imposed on the roles that migrate.",
							 &migr_forward_only,
							 false,
							 PGC_SUSET, 0,
							 NULL, NULL, NULL);

	DefineCustomIntVariable("migr.max_job_attempts",
							"How many times a background job is tried before the queue stops.",
							NULL,
							&migr_max_job_attempts,
							3, 1, 100,
							PGC_USERSET, 0,
							NULL, NULL, NULL);

	DefineCustomEnumVariable("migr.lint",
							 "What to do with lint findings when a revision is defined.",
							 "warn raises each finding of severity warning as a WARNING; "
							 "error refuses the revision at the first; off skips lint.",
							 &migr_lint_mode,
							 MIGR_LINT_WARN, migr_lint_options,
							 PGC_USERSET, 0,
							 NULL, NULL, NULL);
	DefineCustomEnumVariable("migr.data_operations",
							 "What to do with data operations in a schema revision.",
							 "INSERT, UPDATE, DELETE, MERGE, COPY, TRUNCATE, SELECT INTO and "
							 "CREATE TABLE AS belong in revisions of kind data.",
							 &migr_data_mode,
							 MIGR_DATA_WARN, migr_data_options,
							 PGC_USERSET, 0,
							 NULL, NULL, NULL);

	/*
	 * The guard against manual DDL (schema/guard.c).  Superusers only, so
	 * that it can be imposed on the roles that change the schema: ALTER
	 * DATABASE ... SET migr.guard = 'block'.
	 */
	guard_wanted = GetConfigOption("migr.guard", true, false);
	if (guard_wanted)
		guard_wanted = pstrdup(guard_wanted);
	DefineCustomEnumVariable("migr.guard",
							 "What to do with DDL on the managed schemas outside migr's moves.",
							 "log records it in migr.log; block refuses it (MG008); off "
							 "lets it through unrecorded.  Only superusers can change "
							 "this setting.",
							 &migr_guard_mode,
							 MIGR_GUARD_LOG, migr_guard_options,
							 PGC_SUSET, 0,
							 NULL, guard_assign, NULL);
	guard_check_loaded_value(guard_wanted);

	worker_register_launcher();
	noop_init();

	schema_define_settings();

	MarkGUCPrefixReserved("migr");
}

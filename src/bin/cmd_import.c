/*-------------------------------------------------------------------------
 *
 * cmd_import.c
 *	  "migr import-alembic": run the migr-import-alembic script installed
 *	  beside this binary (README, "Coming from Alembic: import").
 *
 * Reading an Alembic project means running its Python (env.py and every
 * revision module, through Alembic itself), so the importer is a Python
 * script, src/bin/migr-import-alembic, that "make install" puts next to
 * migr.  This verb only finds it and hands it every argument but the verb,
 * unparsed: the script has its own options and --help, and takes the
 * client's connection options itself.  MIGR_BIN tells the script which
 * migr to run for push and stamp: this one.
 *
 * Copyright (c) 2026, migr developers
 *
 * IDENTIFICATION
 *	  src/bin/cmd_import.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include <unistd.h>

#include "common/logging.h"

#include "migr_fe.h"

#define IMPORT_ALEMBIC_SCRIPT	"migr-import-alembic"

/*
 * cmd_import_alembic
 *		Exec the script.  argv[0] is the path migr was run as, argv[1..] the
 *		command line without the verb, options included, in their order.
 *		Returns only on failure.
 */
int
cmd_import_alembic(int argc, char **argv)
{
	char		self[MAXPGPATH];
	char		script[MAXPGPATH];
	char	  **args;
	int			i;

	if (find_my_exec(argv[0], self) < 0)
	{
		pg_log_error("could not find the migr executable's own path");
		return MIGR_EXIT_FAILED;
	}
	strlcpy(script, self, sizeof(script));
	get_parent_directory(script);
	join_path_components(script, script, IMPORT_ALEMBIC_SCRIPT);
	if (access(script, X_OK) != 0)
	{
		pg_log_error("could not run \"%s\": %m", script);
		pg_log_error_hint("The importer is installed beside migr by \"make -C src/bin install\"; it needs /usr/bin/python3 with python3-alembic.");
		return MIGR_EXIT_FAILED;
	}

	args = pg_malloc(sizeof(char *) * (argc + 1));
	args[0] = script;
	for (i = 1; i < argc; i++)
		args[i] = argv[i];
	args[argc] = NULL;

	setenv("MIGR_BIN", self, 1);
	fflush(NULL);
	execv(script, args);
	pg_log_error("could not run \"%s\": %m", script);
	return MIGR_EXIT_FAILED;
}

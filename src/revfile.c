/*-------------------------------------------------------------------------
 *
 * revfile.c
 *	  Reading a revision file: plain SQL with "-- migr:" directive comments
 *	  (the format of the README's "Revision files").
 *
 * The directives before "-- migr:upgrade" describe the revision; the
 * "-- migr:upgrade" and "-- migr:downgrade" lines start the two scripts.
 * The lines are read by src/common/revparse.c, which the client uses too;
 * here the values go into a MigrRevDef and a problem becomes an error.
 * The scripts themselves are parsed by raw_parser() when the revision is
 * defined.  "-- migr:allow" lines inside a script stay in the script (lint.c
 * reads them there, and the checksum covers them).
 *
 * Copyright (c) 2026, migr developers
 *
 * IDENTIFICATION
 *	  src/revfile.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "parser/parser.h"

#include "migr.h"

static List *revfile_list(char **items, int n);
static void revfile_report(const RevParser *p);

/*
 * revfile_list
 *		The parser's array of ids or labels as a List.
 */
static List *
revfile_list(char **items, int n)
{
	List	   *out = NIL;
	int			i;

	for (i = 0; i < n; i++)
		out = lappend(out, items[i]);
	return out;
}

/*
 * revfile_report
 *		The reason the file is not a revision file, as an error.
 */
static void
revfile_report(const RevParser *p)
{
	const char *hint = revparse_hint(p->problem);

	ereport(ERROR,
			(errcode(ERRCODE_SYNTAX_ERROR),
			 errmsg("invalid revision file: %s", revparse_message(p, true)),
			 p->problem == REVPARSE_MALFORMED ?
			 errdetail("The line is: %.*s", p->linelen, p->line) : 0,
			 hint ? errhint("%s", hint) : 0));
}

/*
 * revfile_parse
 *		A revision definition from the text of a revision file, read by
 *		src/common/revparse.c as the client reads it.  The result is checked
 *		further by define_revision().
 */
MigrRevDef *
revfile_parse(const char *text)
{
	MigrRevDef *def = palloc0(sizeof(MigrRevDef));
	StringInfoData upgrade;
	StringInfoData downgrade;
	RevParser	p;
	RevParseLine ln;
	RevLineKind kind;

	if (strlen(text) > 2 * (size_t) MIGR_MAX_SCRIPT_BYTES)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("revision file is too large"),
				 errdetail("The limit is %d bytes for each script.",
						   MIGR_MAX_SCRIPT_BYTES)));

	initStringInfo(&upgrade);
	initStringInfo(&downgrade);
	revparse_init(&p, text, standard_conforming_strings);
	while ((kind = revparse_next(&p, &ln)) != REVLINE_END)
	{
		CHECK_FOR_INTERRUPTS();
		if (kind == REVLINE_PROBLEM)
			revfile_report(&p);
		else if (kind == REVLINE_SCRIPT)
			appendBinaryStringInfo(p.section == REVSEC_UPGRADE ? &upgrade :
								   &downgrade, ln.line, ln.full);
	}

	upgrade.data[revlex_script_length(upgrade.data, upgrade.len)] = '\0';
	downgrade.data[revlex_script_length(downgrade.data, downgrade.len)] = '\0';
	def->id = p.fields.id;
	def->parents = revfile_list(p.fields.parents, p.fields.nparents);
	def->deps = revfile_list(p.fields.deps, p.fields.ndeps);
	def->labels = revfile_list(p.fields.labels, p.fields.nlabels);
	def->message = p.fields.message ? p.fields.message : "";
	def->kind = p.fields.kind ? p.fields.kind : "schema";
	def->upgrade = upgrade.data;
	def->downgrade = p.seen[REVDIR_DOWNGRADE] ? downgrade.data : NULL;
	return def;
}

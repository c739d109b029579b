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

static List *revfile_list(const RevParseLine *ln);
static void revfile_field(MigrRevDef *def, const RevParseLine *ln);
static void revfile_report(const RevParser *p);

/*
 * revfile_list
 *		A directive's space-separated ids or labels.
 */
static List *
revfile_list(const RevParseLine *ln)
{
	List	   *out = NIL;
	const char *cursor = ln->value;
	const char *end = ln->value + ln->valuelen;
	const char *word;
	int			len;
	int			i;

	for (i = 0; i < ln->nwords; i++)
	{
		word = revparse_word(&cursor, end, &len);
		out = lappend(out, pnstrdup(word, len));
	}
	return out;
}

/*
 * revfile_field
 *		Record one of the directives that describe the revision.
 */
static void
revfile_field(MigrRevDef *def, const RevParseLine *ln)
{
	switch (ln->directive)
	{
		case REVDIR_REVISION:
			def->id = linitial(revfile_list(ln));
			break;
		case REVDIR_DOWN_REVISION:
			def->parents = revfile_list(ln);
			break;
		case REVDIR_DEPENDS_ON:
			def->deps = revfile_list(ln);
			break;
		case REVDIR_BRANCH_LABELS:
			def->labels = revfile_list(ln);
			break;
		case REVDIR_MESSAGE:
			def->message = pnstrdup(ln->value, ln->valuelen);
			break;
		case REVDIR_KIND:
			def->kind = pnstrdup(ln->value, ln->valuelen);
			break;
		case REVDIR_UPGRADE:
		case REVDIR_DOWNGRADE:
		case REVDIR_COUNT:
			elog(ERROR, "unexpected revision file directive %d",
				 (int) ln->directive);
	}
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

	def->message = "";
	def->kind = "schema";
	initStringInfo(&upgrade);
	initStringInfo(&downgrade);
	revparse_init(&p, text, standard_conforming_strings);
	while ((kind = revparse_next(&p, &ln)) != REVLINE_END)
	{
		CHECK_FOR_INTERRUPTS();
		if (kind == REVLINE_PROBLEM)
			revfile_report(&p);
		else if (kind == REVLINE_FIELD)
			revfile_field(def, &ln);
		else if (kind == REVLINE_SCRIPT)
			appendBinaryStringInfo(p.section == REVSEC_UPGRADE ? &upgrade :
								   &downgrade, ln.line, ln.full);
	}

	upgrade.data[revlex_script_length(upgrade.data, upgrade.len)] = '\0';
	downgrade.data[revlex_script_length(downgrade.data, downgrade.len)] = '\0';
	def->upgrade = upgrade.data;
	def->downgrade = p.seen[REVDIR_DOWNGRADE] ? downgrade.data : NULL;
	return def;
}

/*-------------------------------------------------------------------------
 *
 * revfile.c
 *	  Reading a revision file: plain SQL with "-- migr:" directive comments
 *	  (the format of SPEC.md section 4 and the README).
 *
 * The directives before "-- migr:upgrade" describe the revision; the
 * "-- migr:upgrade" and "-- migr:downgrade" lines start the two scripts.
 * A line that only looks like a directive because it sits inside a string
 * literal, a quoted identifier, a dollar-quoted body or a block comment is
 * part of the script: revlex.c tracks the quoting state line by line.  The
 * scripts themselves are parsed by raw_parser() when the revision is
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

#include <ctype.h>

#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "parser/parser.h"

#include "migr.h"

typedef enum Section
{
	SEC_HEADER,
	SEC_UPGRADE,
	SEC_DOWNGRADE
} Section;

typedef struct RevFileParse
{
	MigrRevDef *def;
	bool		seen[8];		/* which header directives were given */
	Section		section;
	bool		had_upgrade;
	bool		had_downgrade;
	StringInfoData upgrade;
	StringInfoData downgrade;
	int			lineno;
} RevFileParse;

static const char *const revfile_directives[] = {
	"revision", "down_revision", "depends_on", "branch_labels", "message",
	"kind", "upgrade", "downgrade", NULL
};

static int	revfile_directive_index(const char *word);
static List *revfile_list(const char *value, const char *directive,
						  int lineno);
static void revfile_directive(RevFileParse *p, const char *line, int len);
static void revfile_header_directive(RevFileParse *p, int which,
									 const char *word, const char *value);

static int
revfile_directive_index(const char *word)
{
	int			i;

	for (i = 0; revfile_directives[i]; i++)
		if (strcmp(revfile_directives[i], word) == 0)
			return i;
	return -1;
}

/*
 * revfile_list
 *		A space-separated list of ids or labels.
 */
static List *
revfile_list(const char *value, const char *directive, int lineno)
{
	List	   *out = NIL;
	const char *p = value;

	while (*p)
	{
		const char *start;

		while (*p && isspace((unsigned char) *p))
			p++;
		if (!*p)
			break;
		start = p;
		while (*p && !isspace((unsigned char) *p))
			p++;
		out = lappend(out, pnstrdup(start, p - start));
	}
	return out;
}

/*
 * revfile_header_directive
 *		Record one of the directives that describe the revision.
 */
static void
revfile_header_directive(RevFileParse *p, int which, const char *word,
						 const char *value)
{
	MigrRevDef *def = p->def;

	if (p->section != SEC_HEADER)
		ereport(ERROR,
				(errcode(ERRCODE_SYNTAX_ERROR),
				 errmsg("invalid revision file: directive \"%s\" at line %d comes after \"-- migr:upgrade\"",
						word, p->lineno),
				 errhint("Put every directive that describes the revision before the scripts.")));
	if (p->seen[which])
		ereport(ERROR,
				(errcode(ERRCODE_SYNTAX_ERROR),
				 errmsg("invalid revision file: directive \"%s\" is given twice (line %d)",
						word, p->lineno)));
	p->seen[which] = true;

	if (strcmp(word, "revision") == 0)
	{
		List	   *ids = revfile_list(value, word, p->lineno);

		if (list_length(ids) != 1)
			ereport(ERROR,
					(errcode(ERRCODE_SYNTAX_ERROR),
					 errmsg("invalid revision file: \"-- migr:revision\" at line %d must give exactly one id",
							p->lineno)));
		def->id = linitial(ids);
	}
	else if (strcmp(word, "down_revision") == 0)
	{
		def->parents = revfile_list(value, word, p->lineno);
		if (list_length(def->parents) == 1 &&
			strcmp(linitial(def->parents), "base") == 0)
			def->parents = NIL;
	}
	else if (strcmp(word, "depends_on") == 0)
		def->deps = revfile_list(value, word, p->lineno);
	else if (strcmp(word, "branch_labels") == 0)
		def->labels = revfile_list(value, word, p->lineno);
	else if (strcmp(word, "message") == 0)
		def->message = pstrdup(value);
	else if (strcmp(word, "kind") == 0)
		def->kind = pstrdup(value);
}

/*
 * revfile_directive
 *		Handle a line that begins with "-- migr:".
 */
static void
revfile_directive(RevFileParse *p, const char *line, int len)
{
	const char *w = line + strlen("-- migr:");
	const char *end = line + len;
	const char *v;
	char	   *word;
	char	   *value;
	int			which;

	v = w;
	while (v < end && (isalnum((unsigned char) *v) || *v == '_'))
		v++;
	word = pnstrdup(w, v - w);
	while (v < end && isspace((unsigned char) *v))
		v++;
	while (end > v && isspace((unsigned char) end[-1]))
		end--;
	value = pnstrdup(v, end - v);

	which = revfile_directive_index(word);
	if (strcmp(word, "allow") == 0)
		ereport(ERROR,
				(errcode(ERRCODE_SYNTAX_ERROR),
				 errmsg("invalid revision file: directive \"allow\" at line %d comes before \"-- migr:upgrade\"",
						p->lineno),
				 errhint("\"-- migr:allow <code>\" belongs inside a script, on the line before the statement whose finding it acknowledges.")));
	if (which < 0)
		ereport(ERROR,
				(errcode(ERRCODE_SYNTAX_ERROR),
				 errmsg("invalid revision file: unknown directive \"%s\" at line %d",
						word, p->lineno),
				 errhint("The directives are revision, down_revision, depends_on, branch_labels, message, kind, upgrade and downgrade.")));

	if (strcmp(word, "upgrade") == 0 || strcmp(word, "downgrade") == 0)
	{
		bool		up = (word[0] == 'u');

		if (value[0] != '\0')
			ereport(ERROR,
					(errcode(ERRCODE_SYNTAX_ERROR),
					 errmsg("invalid revision file: unexpected text after \"-- migr:%s\" at line %d",
							word, p->lineno),
					 errhint("The script starts on the next line.")));
		if ((up && p->had_upgrade) || (!up && p->had_downgrade))
			ereport(ERROR,
					(errcode(ERRCODE_SYNTAX_ERROR),
					 errmsg("invalid revision file: a second \"-- migr:%s\" section at line %d",
							word, p->lineno)));
		if (!up && !p->had_upgrade)
			ereport(ERROR,
					(errcode(ERRCODE_SYNTAX_ERROR),
					 errmsg("invalid revision file: \"-- migr:downgrade\" at line %d comes before \"-- migr:upgrade\"",
							p->lineno),
					 errhint("Write the upgrade section first.")));
		p->section = up ? SEC_UPGRADE : SEC_DOWNGRADE;
		if (up)
			p->had_upgrade = true;
		else
			p->had_downgrade = true;
		return;
	}
	revfile_header_directive(p, which, word, value);
}

/*
 * revfile_parse
 *		A revision definition from the text of a revision file.  The result
 *		is checked further by define_revision().
 */
MigrRevDef *
revfile_parse(const char *text)
{
	RevFileParse p;
	RevLexer	lx;
	const char *line = text;

	/* a UTF-8 byte order mark, as some editors write, is not SQL */
	if (strncmp(line, "\xef\xbb\xbf", 3) == 0)
		line += 3;

	memset(&p, 0, sizeof(p));
	revlex_init(&lx, standard_conforming_strings);
	p.def = palloc0(sizeof(MigrRevDef));
	p.def->message = "";
	p.def->kind = "schema";
	p.section = SEC_HEADER;
	initStringInfo(&p.upgrade);
	initStringInfo(&p.downgrade);

	if (strlen(text) > 2 * (size_t) MIGR_MAX_SCRIPT_BYTES)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("revision file is too large"),
				 errdetail("The limit is %d bytes for each script.",
						   MIGR_MAX_SCRIPT_BYTES)));

	while (*line)
	{
		const char *nl = strchr(line, '\n');
		int			full = nl ? (int) (nl - line + 1) : (int) strlen(line);
		int			len = nl ? (int) (nl - line) : full;

		CHECK_FOR_INTERRUPTS();
		p.lineno++;
		if (len > 0 && line[len - 1] == '\r')
			len--;

		if (revlex_is_directive(&lx, line, len) &&
			!(p.section != SEC_HEADER &&
			  revlex_is_script_directive(&lx, line, len)))
			revfile_directive(&p, line, len);
		else if (revlex_is_near_directive(&lx, line, len))
			ereport(ERROR,
					(errcode(ERRCODE_SYNTAX_ERROR),
					 errmsg("invalid revision file: malformed directive at line %d",
							p.lineno),
					 errdetail("The line is: %.*s", len, line),
					 errhint("Write directives exactly as \"-- migr:<word> <value>\", at the start of the line.")));
		else if (p.section == SEC_HEADER)
		{
			if (revlex_line(&lx, line, len))
				ereport(ERROR,
						(errcode(ERRCODE_SYNTAX_ERROR),
						 errmsg("invalid revision file: SQL before \"-- migr:upgrade\" at line %d",
								p.lineno),
						 errhint("Only directives, comments and blank lines may come before the \"-- migr:upgrade\" line that starts the script.")));
		}
		else
		{
			(void) revlex_line(&lx, line, len);
			appendBinaryStringInfo(p.section == SEC_UPGRADE ? &p.upgrade :
								   &p.downgrade, line, full);
		}
		line += full;
	}

	if (!p.seen[0])
		ereport(ERROR,
				(errcode(ERRCODE_SYNTAX_ERROR),
				 errmsg("invalid revision file: no \"-- migr:revision\" directive"),
				 errhint("Start the file with \"-- migr:revision <id>\".")));
	if (!p.had_upgrade)
		ereport(ERROR,
				(errcode(ERRCODE_SYNTAX_ERROR),
				 errmsg("invalid revision file: no \"-- migr:upgrade\" section"),
				 errhint("Put the upgrade script after a line \"-- migr:upgrade\".")));

	p.upgrade.data[revlex_script_length(p.upgrade.data, p.upgrade.len)] = '\0';
	p.downgrade.data[revlex_script_length(p.downgrade.data, p.downgrade.len)] = '\0';
	p.def->upgrade = p.upgrade.data;
	p.def->downgrade = p.had_downgrade ? p.downgrade.data : NULL;
	return p.def;
}

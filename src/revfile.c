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
 * part of the script.  The server's lexer does not report where its tokens
 * end, so the file is walked with a small quoting state machine that knows
 * exactly the quoting rules of scan.l (standard and escape strings, quoted
 * identifiers, dollar quotes with tags, nested block comments, line
 * comments); the scripts themselves are then parsed by raw_parser() when
 * the revision is defined.
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
#include "parser/parser.h"

#include "migr.h"

typedef enum QuoteState
{
	Q_NONE,						/* plain SQL */
	Q_STRING,					/* '...' */
	Q_ESTRING,					/* E'...' with backslash escapes */
	Q_IDENT,					/* "..." */
	Q_DOLLAR,					/* $tag$...$tag$ */
	Q_COMMENT					/* slash-star, nested */
} QuoteState;

typedef struct Lexer
{
	QuoteState	state;
	int			depth;			/* block comment nesting */
	char	   *tag;			/* dollar-quote delimiter, "$tag$" */
} Lexer;

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

static bool lexer_line(Lexer *lx, const char *line, int len);
static bool revfile_is_ident_char(char c);
static int	revfile_directive_index(const char *word);
static List *revfile_list(const char *value, const char *directive,
						  int lineno);
static void revfile_directive(RevFileParse *p, const char *line, int len);
static void revfile_header_directive(RevFileParse *p, int which,
									 const char *word, const char *value);

static bool
revfile_is_ident_char(char c)
{
	return isalnum((unsigned char) c) || c == '_' || c == '$' ||
		IS_HIGHBIT_SET(c);
}

/*
 * lexer_line
 *		Advance the quoting state over one line (without its newline).
 *		Returns true if the line holds any SQL outside comments.
 */
static bool
lexer_line(Lexer *lx, const char *line, int len)
{
	bool		code = false;
	int			i = 0;

	while (i < len)
	{
		char		c = line[i];

		switch (lx->state)
		{
			case Q_NONE:
				if (c == '-' && i + 1 < len && line[i + 1] == '-')
					return code;	/* the rest is a line comment */
				if (c == '/' && i + 1 < len && line[i + 1] == '*')
				{
					lx->state = Q_COMMENT;
					lx->depth = 1;
					i += 2;
					continue;
				}
				if (isspace((unsigned char) c))
				{
					i++;
					continue;
				}
				code = true;
				if (c == '\'')
				{
					bool		escape = (i > 0 && (line[i - 1] == 'E' || line[i - 1] == 'e') &&
										  (i < 2 || !revfile_is_ident_char(line[i - 2])));

					lx->state = (escape || !standard_conforming_strings) ?
						Q_ESTRING : Q_STRING;
				}
				else if (c == '"')
					lx->state = Q_IDENT;
				else if (c == '$' && (i == 0 || !revfile_is_ident_char(line[i - 1])))
				{
					int			j = i + 1;

					/* $$ or $tag$ where tag is an identifier without "$" */
					if (j < len && (isalpha((unsigned char) line[j]) || line[j] == '_' ||
									IS_HIGHBIT_SET(line[j])))
						while (j < len && line[j] != '$' && revfile_is_ident_char(line[j]))
							j++;
					if (j < len && line[j] == '$')
					{
						lx->tag = pnstrdup(line + i, j - i + 1);
						lx->state = Q_DOLLAR;
						i = j + 1;
						continue;
					}
				}
				else if (revfile_is_ident_char(c))
				{
					/* skip the identifier, so that a$b$ is not a quote */
					while (i < len && revfile_is_ident_char(line[i]) &&
						   !(line[i] == '\'' ))
						i++;
					continue;
				}
				i++;
				break;
			case Q_STRING:
				if (c == '\'')
				{
					if (i + 1 < len && line[i + 1] == '\'')
						i++;
					else
						lx->state = Q_NONE;
				}
				i++;
				break;
			case Q_ESTRING:
				if (c == '\\')
					i++;
				else if (c == '\'')
				{
					if (i + 1 < len && line[i + 1] == '\'')
						i++;
					else
						lx->state = Q_NONE;
				}
				i++;
				break;
			case Q_IDENT:
				if (c == '"')
				{
					if (i + 1 < len && line[i + 1] == '"')
						i++;
					else
						lx->state = Q_NONE;
				}
				i++;
				break;
			case Q_DOLLAR:
				{
					int			tl = strlen(lx->tag);

					if (c == '$' && i + tl <= len &&
						strncmp(line + i, lx->tag, tl) == 0)
					{
						lx->state = Q_NONE;
						i += tl;
					}
					else
						i++;
				}
				break;
			case Q_COMMENT:
				if (c == '/' && i + 1 < len && line[i + 1] == '*')
				{
					lx->depth++;
					i += 2;
				}
				else if (c == '*' && i + 1 < len && line[i + 1] == '/')
				{
					if (--lx->depth == 0)
						lx->state = Q_NONE;
					i += 2;
				}
				else
					i++;
				break;
		}
	}
	return code;
}

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
	Lexer		lx = {Q_NONE, 0, NULL};
	const char *line = text;

	memset(&p, 0, sizeof(p));
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

		p.lineno++;
		if (len > 0 && line[len - 1] == '\r')
			len--;

		if (lx.state == Q_NONE && strncmp(line, "-- migr:", 8) == 0)
			revfile_directive(&p, line, len);
		else if (p.section == SEC_HEADER)
		{
			if (lexer_line(&lx, line, len))
				ereport(ERROR,
						(errcode(ERRCODE_SYNTAX_ERROR),
						 errmsg("invalid revision file: SQL before \"-- migr:upgrade\" at line %d",
								p.lineno),
						 errhint("Only directives, comments and blank lines may come before the \"-- migr:upgrade\" line that starts the script.")));
		}
		else
		{
			(void) lexer_line(&lx, line, len);
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

	p.def->upgrade = p.upgrade.data;
	p.def->downgrade = p.had_downgrade ? p.downgrade.data : NULL;
	return p.def;
}

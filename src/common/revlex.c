/*-------------------------------------------------------------------------
 *
 * revlex.c
 *	  Quoting state of SQL text, line by line, for reading revision files.
 *
 * A revision file is SQL with "-- migr:" directive lines.  A line that
 * looks like a directive but sits inside a string literal, a quoted
 * identifier, a dollar-quoted body or a block comment belongs to the
 * script.  The server's lexer (scan.l) does not report where its tokens
 * end, so this follows its quoting rules directly: standard and escape
 * strings, quoted identifiers, dollar quotes with tags, nested block
 * comments and line comments.  Everything else about the SQL is left to
 * raw_parser() when the revision is defined.
 *
 * This file has no server dependencies; the command-line client compiles
 * it too.
 *
 * Copyright (c) 2026, migr developers
 *
 * IDENTIFICATION
 *	  src/revlex.c
 *
 *-------------------------------------------------------------------------
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "revlex.h"

static bool revlex_ident_char(char c);
static int	revlex_dollar_tag(RevLexer *lx, const char *line, int i, int len);

/*
 * revlex_ident_char
 *		A character that continues an identifier (scan.l's ident_cont).
 */
static bool
revlex_ident_char(char c)
{
	return isalnum((unsigned char) c) || c == '_' || c == '$' ||
		((unsigned char) c & 0x80);
}

/*
 * revlex_dollar_tag
 *		If a dollar quote opens at line[i], remember its delimiter and return
 *		its length; else 0.  $$ or $tag$ where tag is an identifier without
 *		"$", of any length (scan.l's dolqdelim); "$1" (a parameter) is not a
 *		quote.  The delimiter is kept as a pointer into the line, which the
 *		caller keeps while it reads on.
 */
static int
revlex_dollar_tag(RevLexer *lx, const char *line, int i, int len)
{
	int			j = i + 1;

	if (j < len && (isalpha((unsigned char) line[j]) || line[j] == '_' ||
					((unsigned char) line[j] & 0x80)))
		while (j < len && line[j] != '$' && revlex_ident_char(line[j]))
			j++;
	if (j >= len || line[j] != '$')
		return 0;
	lx->tag = line + i;
	lx->taglen = j - i + 1;
	return lx->taglen;
}

void
revlex_init(RevLexer *lx, bool std_strings)
{
	memset(lx, 0, sizeof(*lx));
	lx->state = REVLEX_NONE;
	lx->std_strings = std_strings;
}

/*
 * revlex_is_directive
 *		Whether a line (not yet fed to revlex_line) is a directive: it
 *		starts with "-- migr:" outside any quote or comment.
 */
bool
revlex_is_directive(const RevLexer *lx, const char *line, int len)
{
	size_t		dl = strlen(REVLEX_DIRECTIVE);

	return lx->state == REVLEX_NONE && len >= (int) dl &&
		strncmp(line, REVLEX_DIRECTIVE, dl) == 0;
}

/*
 * revlex_is_script_directive
 *		Whether a directive line belongs to the script it sits in rather than
 *		to the revision file: "-- migr:allow <code> [reason]", which
 *		acknowledges a lint finding of the statement that follows it.
 */
bool
revlex_is_script_directive(const RevLexer *lx, const char *line, int len)
{
	int			dl = (int) strlen(REVLEX_DIRECTIVE "allow");

	return revlex_is_directive(lx, line, len) && len >= dl &&
		strncmp(line, REVLEX_DIRECTIVE "allow", dl) == 0 &&
		(len == dl || isspace((unsigned char) line[dl]));
}

/*
 * revlex_line
 *		Advance the quoting state over one line (without its newline).
 *		Returns true if the line holds any SQL outside comments.
 */
bool
revlex_line(RevLexer *lx, const char *line, int len)
{
	bool		code = false;
	int			i = 0;

	while (i < len)
	{
		char		c = line[i];
		char		next = (i + 1 < len) ? line[i + 1] : '\0';

		switch (lx->state)
		{
			case REVLEX_NONE:
				if (c == '-' && next == '-')
					return code;	/* the rest is a line comment */
				if (c == '/' && next == '*')
				{
					lx->state = REVLEX_COMMENT;
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
					bool		e_prefix = i > 0 &&
						(line[i - 1] == 'E' || line[i - 1] == 'e') &&
						(i < 2 || !revlex_ident_char(line[i - 2]));

					lx->state = (e_prefix || !lx->std_strings) ?
						REVLEX_ESTRING : REVLEX_STRING;
				}
				else if (c == '"')
					lx->state = REVLEX_IDENT;
				else if (c == '$' && (i == 0 || !revlex_ident_char(line[i - 1])))
				{
					int			taglen = revlex_dollar_tag(lx, line, i, len);

					if (taglen > 0)
					{
						lx->state = REVLEX_DOLLAR;
						i += taglen;
						continue;
					}
				}
				else if (revlex_ident_char(c))
				{
					/* a whole identifier, so that a$b$ opens no quote */
					while (i < len && revlex_ident_char(line[i]))
						i++;
					continue;
				}
				i++;
				break;
			case REVLEX_STRING:
			case REVLEX_ESTRING:
				if (c == '\\' && lx->state == REVLEX_ESTRING)
					i++;
				else if (c == '\'' && next == '\'')
					i++;
				else if (c == '\'')
					lx->state = REVLEX_NONE;
				i++;
				break;
			case REVLEX_IDENT:
				if (c == '"' && next == '"')
					i++;
				else if (c == '"')
					lx->state = REVLEX_NONE;
				i++;
				break;
			case REVLEX_DOLLAR:

				/*
				 * Comparing at each "$" stays linear: the delimiter holds no
				 * "$" inside, so a comparison stops at the body's next "$".
				 */
				if (c == '$' && i + lx->taglen <= len &&
					memcmp(line + i, lx->tag, lx->taglen) == 0)
				{
					lx->state = REVLEX_NONE;
					lx->tag = NULL;
					i += lx->taglen;
				}
				else
					i++;
				break;
			case REVLEX_COMMENT:
				if (c == '/' && next == '*')
				{
					lx->depth++;
					i += 2;
				}
				else if (c == '*' && next == '/')
				{
					if (--lx->depth == 0)
						lx->state = REVLEX_NONE;
					i += 2;
				}
				else
					i++;
				break;
		}
	}
	return code;
}

/*
 * revlex_is_near_directive
 *		Whether a line that is not a directive was probably meant to be one:
 *		"--migr:", "  -- migr:", "-- MIGR :" and the like.  Such typos would
 *		otherwise silently turn into comments (and, say, a revision without
 *		its down_revision into a root).
 */
bool
revlex_is_near_directive(const RevLexer *lx, const char *line, int len)
{
	int			i = 0;

	if (lx->state != REVLEX_NONE || revlex_is_directive(lx, line, len))
		return false;
	while (i < len && isspace((unsigned char) line[i]))
		i++;
	if (i + 1 >= len || line[i] != '-' || line[i + 1] != '-')
		return false;
	i += 2;
	while (i < len && isspace((unsigned char) line[i]))
		i++;
	if (i + 4 > len || strncasecmp(line + i, "migr", 4) != 0)
		return false;
	i += 4;
	while (i < len && isspace((unsigned char) line[i]))
		i++;
	return i < len && line[i] == ':';
}

/*
 * revlex_script_length
 *		The length of a script section without its trailing white space.
 *		A section runs to the next section line or the end of the file; the
 *		blank lines and final newline before that belong to no statement,
 *		and tools disagree about them (psql's backquote strips the final
 *		newline, editors add one).  Both readers of the format drop them, so
 *		a revision's checksum does not depend on how its file was read.
 */
int
revlex_script_length(const char *script, int len)
{
	while (len > 0 && isspace((unsigned char) script[len - 1]))
		len--;
	return len;
}

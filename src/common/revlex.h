/*-------------------------------------------------------------------------
 *
 * revlex.h
 *	  Quoting state of SQL text, line by line, for reading revision files.
 *	  Plain C with no server dependencies, so that the migr command-line
 *	  client reads revision files exactly as the extension does.
 *
 * Copyright (c) 2026, migr developers
 *
 * IDENTIFICATION
 *	  src/revlex.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef REVLEX_H
#define REVLEX_H

#include <stdbool.h>

#define REVLEX_DIRECTIVE	"-- migr:"

typedef enum RevLexState
{
	REVLEX_NONE,				/* plain SQL */
	REVLEX_STRING,				/* '...' */
	REVLEX_ESTRING,				/* E'...' with backslash escapes */
	REVLEX_IDENT,				/* "..." */
	REVLEX_DOLLAR,				/* $tag$...$tag$ */
	REVLEX_COMMENT				/* slash-star comment, nested */
} RevLexState;

typedef struct RevLexer
{
	RevLexState state;
	int			depth;			/* block comment nesting */
	bool		std_strings;	/* standard_conforming_strings */

	/*
	 * The open dollar quote's delimiter ("$tag$"), pointing into the text
	 * being read: the caller keeps the whole text while it reads it.  The
	 * server's lexer puts no limit on a tag's length, so neither does this.
	 */
	const char *tag;
	int			taglen;
} RevLexer;

extern void revlex_init(RevLexer *lx, bool std_strings);
extern bool revlex_line(RevLexer *lx, const char *line, int len);
extern bool revlex_is_directive(const RevLexer *lx, const char *line,
								int len);
extern bool revlex_is_near_directive(const RevLexer *lx, const char *line,
									 int len);
extern int	revlex_script_length(const char *script, int len);
extern bool revlex_is_script_directive(const RevLexer *lx, const char *line,
									   int len);

#endif							/* REVLEX_H */

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
#define REVLEX_MAX_TAG		130		/* "$" + identifier (<= 128 bytes) + "$" */

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
	char		tag[REVLEX_MAX_TAG + 1];	/* dollar-quote delimiter */
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

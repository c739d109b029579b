/*-------------------------------------------------------------------------
 *
 * revformat.h
 *	  The revision-file format, written once for the extension and the
 *	  migr command-line client: directives, id and label syntax, random
 *	  ids, the checksum's byte layout and the order of a revision graph.
 *
 * Everything here compiles both in the server (postgres.h) and in the
 * client (postgres_fe.h, with FRONTEND defined), as PostgreSQL's own
 * src/common does.  Nothing here reports an error: a function returns a
 * reason, the server turns it into an ereport and the client prints it.
 *
 * Copyright (c) 2026, migr developers
 *
 * IDENTIFICATION
 *	  src/common/revformat.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef REVFORMAT_H
#define REVFORMAT_H

#include "common/cryptohash.h"
#include "revlex.h"

#define MIGR_ID_MAXLEN			64
#define MIGR_MAX_SCRIPT_BYTES	(16 * 1024 * 1024)
#define MIGR_CHECKSUM_LEN		64	/* hex digits of a SHA-256 */
#define MIGR_RANDOM_ID_LEN		12	/* hex digits, as Alembic makes them */

/* revparse.c: the directives, in the order the server's hint lists them */
typedef enum RevDirective
{
	REVDIR_REVISION,
	REVDIR_DOWN_REVISION,
	REVDIR_DEPENDS_ON,
	REVDIR_BRANCH_LABELS,
	REVDIR_MESSAGE,
	REVDIR_KIND,
	REVDIR_UPGRADE,
	REVDIR_DOWNGRADE,
	REVDIR_COUNT
} RevDirective;

typedef enum RevSection
{
	REVSEC_HEADER,				/* directives, comments, blank lines */
	REVSEC_UPGRADE,
	REVSEC_DOWNGRADE
} RevSection;

/* why a file is not a revision file (the message says where) */
typedef enum RevParseProblem
{
	REVPARSE_OK,
	REVPARSE_AFTER_UPGRADE,		/* a header directive inside a script */
	REVPARSE_TWICE,				/* a header directive given twice */
	REVPARSE_NOT_ONE_ID,		/* "-- migr:revision" without exactly one id */
	REVPARSE_ALLOW_IN_HEADER,	/* "-- migr:allow" before the scripts */
	REVPARSE_UNKNOWN,			/* not a directive's name */
	REVPARSE_TEXT_AFTER_SECTION,	/* "-- migr:upgrade x" */
	REVPARSE_SECOND_SECTION,	/* a second upgrade or downgrade */
	REVPARSE_DOWNGRADE_FIRST,	/* downgrade before upgrade */
	REVPARSE_MALFORMED,			/* looks like a directive, is not one */
	REVPARSE_SQL_IN_HEADER,		/* SQL before "-- migr:upgrade" */
	REVPARSE_NO_REVISION,
	REVPARSE_NO_UPGRADE
} RevParseProblem;

/* what a line of a revision file is, from revparse_next() */
typedef enum RevLineKind
{
	REVLINE_END,				/* the text is read, and is a revision file */
	REVLINE_PROBLEM,			/* see RevParser.problem */
	REVLINE_NOTHING,			/* a comment, a blank line, a directive */
	REVLINE_SCRIPT				/* a line of the current section's script */
} RevLineKind;

typedef struct RevParseLine
{
	const char *line;			/* the line, with its newline */
	int			full;			/* its length with the newline */
	bool		sql;			/* REVLINE_SCRIPT: holds some SQL */
	const char *value;			/* a directive's value, trimmed */
	int			valuelen;
} RevParseLine;

/* what the directives say, in palloc'd memory (NULL: not given) */
typedef struct RevFields
{
	char	   *id;
	char	  **parents;		/* "-- migr:down_revision base": none */
	int			nparents;
	char	  **deps;
	int			ndeps;
	char	  **labels;
	int			nlabels;
	char	   *message;
	char	   *kind;
} RevFields;

/* the state of reading one file; the caller keeps the text meanwhile */
typedef struct RevParser
{
	RevLexer	lx;
	const char *next;			/* the rest of the text */
	RevSection	section;
	bool		seen[REVDIR_COUNT];
	int			lineno;			/* 0 for problems of the whole file */
	RevParseProblem problem;
	const char *word;			/* the directive's name, for messages */
	int			wordlen;
	const char *line;			/* the line at fault (no newline) */
	int			linelen;
	RevFields	fields;			/* the directives read so far */
} RevParser;

extern void revparse_init(RevParser *p, const char *text, bool std_strings);
extern RevLineKind revparse_next(RevParser *p, RevParseLine *out);
extern char *revparse_message(const RevParser *p, bool with_line);
extern const char *revparse_hint(RevParseProblem problem);

/* revname.c: what is wrong with an id or a label */
typedef enum RevNameProblem
{
	REVNAME_OK,
	REVNAME_LENGTH,				/* not 1 to MIGR_ID_MAXLEN characters */
	REVNAME_CHARS,				/* outside [A-Za-z0-9_.-] */
	REVNAME_SIGN,				/* starts with "+" or "-" */
	REVNAME_RESERVED			/* head, heads, base, current */
} RevNameProblem;

extern RevNameProblem revname_check(const char *name);
extern const char *revname_problem_text(RevNameProblem problem);
extern bool revname_random(char *id);

/* revsum.c: the fields a revision's checksum covers */
typedef struct RevSumFields
{
	const char *id;
	const char *const *parents;
	int			nparents;
	const char *const *deps;
	int			ndeps;
	const char *kind;
	const char *upgrade;
	const char *downgrade;		/* NULL when there is none */
} RevSumFields;

extern const char *revsum_compute(pg_cryptohash_ctx *ctx,
								  const RevSumFields *fields, char *hex);

/* revtopo.c: Kahn's order of a graph given as int arrays */
extern int	revtopo_order(int n, const bool *in, const int *start,
						  const int *need, int *order);

#endif							/* REVFORMAT_H */

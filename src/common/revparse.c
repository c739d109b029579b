/*-------------------------------------------------------------------------
 *
 * revparse.c
 *	  Reading a revision file: plain SQL with "-- migr:" directive comments
 *	  (the format of the README's "Revision files").
 *
 * The directives before "-- migr:upgrade" describe the revision; the
 * "-- migr:upgrade" and "-- migr:downgrade" lines start the two scripts.
 * A line that only looks like a directive because it sits inside a string
 * literal, a quoted identifier, a dollar-quoted body or a block comment is
 * part of the script: revlex.c tracks the quoting state line by line.
 * "-- migr:allow" lines inside a script stay in the script (the server's
 * lint reads them there, and the checksum covers them).
 *
 * The server (revfile.c, which then parses the scripts with raw_parser())
 * and the client (revdir.c) both read files with revparse_next(), line by
 * line: it keeps what the directives say (in palloc'd memory, which the
 * client has from libpgcommon), checks the order of directives and
 * sections, and hands each script line to the caller, which collects the
 * scripts in its own kind of buffer.  The first problem stops the reading; the server words
 * it as an error, the client as a finding at the file's line.
 *
 * Copyright (c) 2026, migr developers
 *
 * IDENTIFICATION
 *	  src/common/revparse.c
 *
 *-------------------------------------------------------------------------
 */
#ifndef FRONTEND
#include "postgres.h"
#else
#include "postgres_fe.h"
#endif

#include <ctype.h>

#include "revformat.h"

static const char *const revparse_directives[REVDIR_COUNT] = {
	"revision", "down_revision", "depends_on", "branch_labels", "message",
	"kind", "upgrade", "downgrade"
};

static RevLineKind revparse_problem(RevParser *p, RevParseProblem problem);
static RevLineKind revparse_directive(RevParser *p, const char *line,
									  int len, RevParseLine *out);
static RevLineKind revparse_section(RevParser *p, RevDirective which,
									RevParseLine *out);
static RevLineKind revparse_field(RevParser *p, RevDirective which,
								  RevParseLine *out);
static const char *revparse_word(const char **cursor, const char *end,
								 int *len);
static char **revparse_list(const RevParseLine *ln, int *n);

/*
 * revparse_init
 *		Start reading text, with the given standard_conforming_strings.
 */
void
revparse_init(RevParser *p, const char *text, bool std_strings)
{
	memset(p, 0, sizeof(*p));
	revlex_init(&p->lx, std_strings);
	p->section = REVSEC_HEADER;

	/* a UTF-8 byte order mark, as some editors write, is not SQL */
	if (strncmp(text, "\xef\xbb\xbf", 3) == 0)
		text += 3;
	p->next = text;
}

static RevLineKind
revparse_problem(RevParser *p, RevParseProblem problem)
{
	p->problem = problem;
	return REVLINE_PROBLEM;
}

/*
 * revparse_word
 *		The next space-separated word of [*cursor, end), or NULL; advances
 *		*cursor past it.
 */
static const char *
revparse_word(const char **cursor, const char *end, int *len)
{
	const char *c = *cursor;
	const char *start;

	while (c < end && isspace((unsigned char) *c))
		c++;
	if (c == end)
	{
		*cursor = c;
		return NULL;
	}
	start = c;
	while (c < end && !isspace((unsigned char) *c))
		c++;
	*cursor = c;
	*len = (int) (c - start);
	return start;
}

/*
 * revparse_section
 *		"-- migr:upgrade" or "-- migr:downgrade": the script that follows.
 */
static RevLineKind
revparse_section(RevParser *p, RevDirective which, RevParseLine *out)
{
	if (out->valuelen > 0)
		return revparse_problem(p, REVPARSE_TEXT_AFTER_SECTION);
	if (p->seen[which])
		return revparse_problem(p, REVPARSE_SECOND_SECTION);
	if (which == REVDIR_DOWNGRADE && !p->seen[REVDIR_UPGRADE])
		return revparse_problem(p, REVPARSE_DOWNGRADE_FIRST);
	p->seen[which] = true;
	p->section = which == REVDIR_UPGRADE ? REVSEC_UPGRADE : REVSEC_DOWNGRADE;
	return REVLINE_NOTHING;
}

/*
 * revparse_list
 *		A directive's space-separated ids or labels, as an array.
 */
static char **
revparse_list(const RevParseLine *ln, int *n)
{
	char	  **out = palloc(sizeof(char *) * (ln->valuelen / 2 + 1));
	const char *cursor = ln->value;
	const char *end = ln->value + ln->valuelen;
	const char *word;
	int			len;

	*n = 0;
	while ((word = revparse_word(&cursor, end, &len)) != NULL)
		out[(*n)++] = pnstrdup(word, len);
	return out;
}

/*
 * revparse_field
 *		One of the directives that describe the revision, into p->fields.
 */
static RevLineKind
revparse_field(RevParser *p, RevDirective which, RevParseLine *out)
{
	RevFields  *fl = &p->fields;
	char	  **ids;
	int			n;

	if (p->section != REVSEC_HEADER)
		return revparse_problem(p, REVPARSE_AFTER_UPGRADE);
	if (p->seen[which])
		return revparse_problem(p, REVPARSE_TWICE);
	p->seen[which] = true;

	switch (which)
	{
		case REVDIR_REVISION:
			ids = revparse_list(out, &n);
			if (n != 1)
				return revparse_problem(p, REVPARSE_NOT_ONE_ID);
			fl->id = ids[0];
			break;
		case REVDIR_DOWN_REVISION:
			fl->parents = revparse_list(out, &fl->nparents);
			/* "-- migr:down_revision base" is a root, as in Alembic */
			if (fl->nparents == 1 && strcmp(fl->parents[0], "base") == 0)
				fl->nparents = 0;
			break;
		case REVDIR_DEPENDS_ON:
			fl->deps = revparse_list(out, &fl->ndeps);
			break;
		case REVDIR_BRANCH_LABELS:
			fl->labels = revparse_list(out, &fl->nlabels);
			break;
		case REVDIR_MESSAGE:
			fl->message = pnstrdup(out->value, out->valuelen);
			break;
		case REVDIR_KIND:
			fl->kind = pnstrdup(out->value, out->valuelen);
			break;
		case REVDIR_UPGRADE:
		case REVDIR_DOWNGRADE:
		case REVDIR_COUNT:
			break;
	}
	return REVLINE_NOTHING;
}

/*
 * revparse_directive
 *		A line that begins with "-- migr:" outside any quote.
 */
static RevLineKind
revparse_directive(RevParser *p, const char *line, int len,
				   RevParseLine *out)
{
	const char *w = line + strlen(REVLEX_DIRECTIVE);
	const char *end = line + len;
	const char *v = w;
	int			which;

	while (v < end && (isalnum((unsigned char) *v) || *v == '_'))
		v++;
	p->word = w;
	p->wordlen = (int) (v - w);
	while (v < end && isspace((unsigned char) *v))
		v++;
	while (end > v && isspace((unsigned char) end[-1]))
		end--;
	out->value = v;
	out->valuelen = (int) (end - v);

	if (p->wordlen == 5 && strncmp(w, "allow", 5) == 0)
		return revparse_problem(p, REVPARSE_ALLOW_IN_HEADER);
	for (which = 0; which < REVDIR_COUNT; which++)
		if (strlen(revparse_directives[which]) == (size_t) p->wordlen &&
			strncmp(revparse_directives[which], w, p->wordlen) == 0)
			break;
	if (which == REVDIR_COUNT)
		return revparse_problem(p, REVPARSE_UNKNOWN);
	if (which == REVDIR_UPGRADE || which == REVDIR_DOWNGRADE)
		return revparse_section(p, which, out);
	return revparse_field(p, which, out);
}

/*
 * revparse_next
 *		Read the next line and say what it is.  At the end of the text,
 *		REVLINE_END if the file had its revision id and upgrade section,
 *		else REVLINE_PROBLEM.  After a problem, stop reading.
 */
RevLineKind
revparse_next(RevParser *p, RevParseLine *out)
{
	const char *line = p->next;
	const char *nl;
	int			len;

	memset(out, 0, sizeof(*out));
	if (*line == '\0')
	{
		p->lineno = 0;
		if (!p->seen[REVDIR_REVISION])
			return revparse_problem(p, REVPARSE_NO_REVISION);
		if (!p->seen[REVDIR_UPGRADE])
			return revparse_problem(p, REVPARSE_NO_UPGRADE);
		return REVLINE_END;
	}

	nl = strchr(line, '\n');
	out->line = line;
	out->full = nl ? (int) (nl - line + 1) : (int) strlen(line);
	len = nl ? (int) (nl - line) : out->full;
	if (len > 0 && line[len - 1] == '\r')
		len--;
	p->next += out->full;
	p->lineno++;
	p->line = line;
	p->linelen = len;

	/* in a script, "-- migr:allow" and the like are script text */
	if (revlex_is_directive(&p->lx, line, len) &&
		!(p->section != REVSEC_HEADER &&
		  revlex_is_script_directive(&p->lx, line, len)))
		return revparse_directive(p, line, len, out);
	if (revlex_is_near_directive(&p->lx, line, len))
		return revparse_problem(p, REVPARSE_MALFORMED);
	out->sql = revlex_line(&p->lx, line, len);
	if (p->section != REVSEC_HEADER)
		return REVLINE_SCRIPT;
	if (out->sql)
		return revparse_problem(p, REVPARSE_SQL_IN_HEADER);
	return REVLINE_NOTHING;
}

/*
 * revparse_message
 *		The problem, in a new allocation.  The server's message says where
 *		(with_line); the client prints the line before the message.
 */
char *
revparse_message(const RevParser *p, bool with_line)
{
	int			n = p->lineno;
	int			wl = p->wordlen;
	const char *w = p->word;

	switch (p->problem)
	{
		case REVPARSE_OK:
			break;
		case REVPARSE_AFTER_UPGRADE:
			return with_line ?
				psprintf("directive \"%.*s\" at line %d comes after \"-- migr:upgrade\"", wl, w, n) :
				psprintf("directive \"%.*s\" comes after \"-- migr:upgrade\"", wl, w);
		case REVPARSE_TWICE:
			return with_line ?
				psprintf("directive \"%.*s\" is given twice (line %d)", wl, w, n) :
				psprintf("directive \"%.*s\" is given twice", wl, w);
		case REVPARSE_NOT_ONE_ID:
			return with_line ?
				psprintf("\"-- migr:revision\" at line %d must give exactly one id", n) :
				psprintf("\"-- migr:revision\" must give exactly one id");
		case REVPARSE_ALLOW_IN_HEADER:
			return with_line ?
				psprintf("directive \"allow\" at line %d comes before \"-- migr:upgrade\"", n) :
				psprintf("directive \"allow\" comes before \"-- migr:upgrade\"");
		case REVPARSE_UNKNOWN:
			return with_line ?
				psprintf("unknown directive \"%.*s\" at line %d", wl, w, n) :
				psprintf("unknown directive \"%.*s\"", wl, w);
		case REVPARSE_TEXT_AFTER_SECTION:
			return with_line ?
				psprintf("unexpected text after \"-- migr:%.*s\" at line %d", wl, w, n) :
				psprintf("unexpected text after \"-- migr:%.*s\"", wl, w);
		case REVPARSE_SECOND_SECTION:
			return with_line ?
				psprintf("a second \"-- migr:%.*s\" section at line %d", wl, w, n) :
				psprintf("a second \"-- migr:%.*s\" section", wl, w);
		case REVPARSE_DOWNGRADE_FIRST:
			return with_line ?
				psprintf("\"-- migr:downgrade\" at line %d comes before \"-- migr:upgrade\"", n) :
				psprintf("\"-- migr:downgrade\" comes before \"-- migr:upgrade\"");
		case REVPARSE_MALFORMED:
			return with_line ?
				psprintf("malformed directive at line %d", n) :
				psprintf("malformed directive");
		case REVPARSE_SQL_IN_HEADER:
			return with_line ?
				psprintf("SQL before \"-- migr:upgrade\" at line %d", n) :
				psprintf("SQL before \"-- migr:upgrade\"");
		case REVPARSE_NO_REVISION:
			return psprintf("no \"-- migr:revision\" directive");
		case REVPARSE_NO_UPGRADE:
			return psprintf("no \"-- migr:upgrade\" section");
	}
	return psprintf("no problem");
}

/*
 * revparse_hint
 *		What to do about a problem, or NULL.
 */
const char *
revparse_hint(RevParseProblem problem)
{
	switch (problem)
	{
		case REVPARSE_AFTER_UPGRADE:
			return "Put every directive that describes the revision before the scripts.";
		case REVPARSE_ALLOW_IN_HEADER:
			return "\"-- migr:allow <code>\" belongs inside a script, on the line before the statement whose finding it acknowledges.";
		case REVPARSE_UNKNOWN:
			return "The directives are revision, down_revision, depends_on, branch_labels, message, kind, upgrade and downgrade.";
		case REVPARSE_TEXT_AFTER_SECTION:
			return "The script starts on the next line.";
		case REVPARSE_DOWNGRADE_FIRST:
			return "Write the upgrade section first.";
		case REVPARSE_MALFORMED:
			return "Write directives exactly as \"-- migr:<word> <value>\", at the start of the line.";
		case REVPARSE_SQL_IN_HEADER:
			return "Only directives, comments and blank lines may come before the \"-- migr:upgrade\" line that starts the script.";
		case REVPARSE_NO_REVISION:
			return "Start the file with \"-- migr:revision <id>\".";
		case REVPARSE_NO_UPGRADE:
			return "Put the upgrade script after a line \"-- migr:upgrade\".";
		case REVPARSE_OK:
		case REVPARSE_TWICE:
		case REVPARSE_NOT_ONE_ID:
		case REVPARSE_SECOND_SECTION:
			break;
	}
	return NULL;
}

/*-------------------------------------------------------------------------
 *
 * revname.c
 *	  Revision ids and branch labels: their syntax, and fresh random ids.
 *
 * An id or a label is 1 to 64 characters of [A-Za-z0-9_.-], does not
 * start with "+" or "-" (which write relative steps in a target) and is
 * not one of the target words head, heads, base and current.
 *
 * Copyright (c) 2026, migr developers
 *
 * IDENTIFICATION
 *	  src/common/revname.c
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

/*
 * revname_check
 *		REVNAME_OK, or the first rule that name breaks.
 */
RevNameProblem
revname_check(const char *name)
{
	size_t		len = strlen(name);
	const char *c;

	if (len == 0 || len > MIGR_ID_MAXLEN)
		return REVNAME_LENGTH;
	for (c = name; *c; c++)
		if (!(isascii((unsigned char) *c) &&
			  (isalnum((unsigned char) *c) || *c == '_' || *c == '.' ||
			   *c == '-')))
			return REVNAME_CHARS;
	if (name[0] == '+' || name[0] == '-')
		return REVNAME_SIGN;
	if (strcmp(name, "head") == 0 || strcmp(name, "heads") == 0 ||
		strcmp(name, "base") == 0 || strcmp(name, "current") == 0)
		return REVNAME_RESERVED;
	return REVNAME_OK;
}

/*
 * revname_problem_text
 *		The broken rule as a clause about the name ("it must be ..."), for
 *		the client's one-line findings.  The server words its errdetail
 *		about the kind of name instead (target_check_name()).
 */
const char *
revname_problem_text(RevNameProblem problem)
{
	switch (problem)
	{
		case REVNAME_OK:
			break;
		case REVNAME_LENGTH:
			return "it must be 1 to 64 characters long";
		case REVNAME_CHARS:
			return "it may only contain letters, digits, \"_\", \".\" and \"-\"";
		case REVNAME_SIGN:
			return "it cannot start with \"+\" or \"-\", which denote relative steps";
		case REVNAME_RESERVED:
			return "it is a reserved word of migr's targets";
	}
	return NULL;
}

/*
 * revname_random
 *		Write MIGR_RANDOM_ID_LEN random lowercase hex digits and a
 *		terminator into id; false if no strong random bytes were to be had.
 */
bool
revname_random(char *id)
{
	static const char hex[] = "0123456789abcdef";
	uint8		bytes[MIGR_RANDOM_ID_LEN / 2];
	int			i;

	if (!pg_strong_random(bytes, sizeof(bytes)))
		return false;
	for (i = 0; i < (int) sizeof(bytes); i++)
	{
		id[2 * i] = hex[bytes[i] >> 4];
		id[2 * i + 1] = hex[bytes[i] & 0x0f];
	}
	id[MIGR_RANDOM_ID_LEN] = '\0';
	return true;
}

/*-------------------------------------------------------------------------
 *
 * revgraph.c
 *	  The graph that a folder of revision files forms: duplicate ids,
 *	  parents and dependencies without a file, cycles, heads, and the
 *	  order in which to define the revisions.
 *
 * The files were read and parsed by revdir.c; what is wrong here is added
 * to the same findings, with the codes migr_check() uses where the two
 * meet (missing_parent, missing_dependency, cycle, multiple_heads).
 *
 * Copyright (c) 2026, migr developers
 *
 * IDENTIFICATION
 *	  src/bin/revgraph.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres_fe.h"

#include "pqexpbuffer.h"

#include "migr_fe.h"

static void revgraph_duplicates(RevDir *rd);
static void revgraph_missing(RevDir *rd);
static void revgraph_cycles(RevDir *rd);
static void revgraph_heads(RevDir *rd);
static bool revgraph_usable(const RevDir *rd, int i);
static int	revgraph_id_cmp(const void *a, const void *b);
static int	revgraph_need(const RevDir *rd, const RevFile *f, int k);

/*
 * The folder being sorted (qsort's comparator has no argument for it).
 * The sorted indexes themselves live in the RevDir, so that several
 * folders (the files, the database's revisions, both together) can be
 * linked at once.
 */
static const RevDir *sort_rd;

static int
revgraph_label_cmp(const void *a, const void *b)
{
	const RevLabel *la = a;
	const RevLabel *lb = b;
	int			c = strcmp(la->label, lb->label);

	return c != 0 ? c : la->file - lb->file;
}

/*
 * revgraph_index_labels
 *		Sort the usable files' branch labels, for depends_on naming one.
 */
static void
revgraph_index_labels(RevDir *rd)
{
	int			n = 0;
	int			i,
				j;

	for (i = 0; i < rd->nfiles; i++)
		if (revgraph_usable(rd, i))
			n += rd->files[i].nlabels;
	pg_free(rd->label_index);
	rd->label_index = pg_malloc(sizeof(RevLabel) * Max(n, 1));
	rd->label_count = 0;
	for (i = 0; i < rd->nfiles; i++)
		if (revgraph_usable(rd, i))
			for (j = 0; j < rd->files[i].nlabels; j++)
			{
				rd->label_index[rd->label_count].label = rd->files[i].labels[j];
				rd->label_index[rd->label_count++].file = i;
			}
	qsort(rd->label_index, rd->label_count, sizeof(RevLabel),
		  revgraph_label_cmp);
}

/*
 * revgraph_find_label
 *		The file whose revision carries this branch label, or -1.
 */
static int
revgraph_find_label(const RevDir *rd, const char *label)
{
	const RevLabel *label_index = rd->label_index;
	int			lo = 0,
				hi = rd->label_count - 1;

	while (lo <= hi)
	{
		int			mid = (lo + hi) / 2;
		int			c = strcmp(label_index[mid].label, label);

		if (c < 0)
			lo = mid + 1;
		else if (c > 0)
			hi = mid - 1;
		else
		{
			while (mid > 0 && strcmp(label_index[mid - 1].label, label) == 0)
				mid--;
			return label_index[mid].file;
		}
	}
	return -1;
}

static int
revgraph_id_cmp(const void *a, const void *b)
{
	int			ia = *(const int *) a;
	int			ib = *(const int *) b;
	int			c = strcmp(sort_rd->files[ia].id, sort_rd->files[ib].id);

	return c != 0 ? c : ia - ib;
}

/*
 * revgraph_usable
 *		A file that parsed and whose id is not a later duplicate.
 */
static bool
revgraph_usable(const RevDir *rd, int i)
{
	return rd->files[i].usable;
}

/*
 * revgraph_find
 *		The file of a revision id (the first by file name), or -1.
 */
int
revgraph_find(const RevDir *rd, const char *id)
{
	const int  *id_index = rd->id_index;
	int			lo = 0,
				hi = rd->id_count - 1;

	while (lo <= hi)
	{
		int			mid = (lo + hi) / 2;
		int			c = strcmp(rd->files[id_index[mid]].id, id);

		if (c < 0)
			lo = mid + 1;
		else if (c > 0)
			hi = mid - 1;
		else
		{
			while (mid > 0 &&
				   strcmp(rd->files[id_index[mid - 1]].id, id) == 0)
				mid--;
			return id_index[mid];
		}
	}
	return -1;
}

/*
 * revgraph_duplicates
 *		Two files with one id: the server would keep only the last pushed.
 */
static void
revgraph_duplicates(RevDir *rd)
{
	int			i;

	for (i = 1; i < rd->id_count; i++)
	{
		RevFile    *a = &rd->files[rd->id_index[i - 1]];
		RevFile    *b = &rd->files[rd->id_index[i]];

		if (strcmp(a->id, b->id) == 0)
			revdir_add_finding(rd, b->path, 0, b->id, "error", "duplicate_id",
							   "Give one of them a new id (and correct the down_revision of its children).",
							   "revision id \"%s\" is also the id of %s",
							   b->id, a->path);
	}
}

/*
 * revgraph_missing
 *		Parents and dependencies that no file defines.
 */
static void
revgraph_missing(RevDir *rd)
{
	int			i,
				j;

	for (i = 0; i < rd->nfiles; i++)
	{
		RevFile    *f = &rd->files[i];

		if (!revgraph_usable(rd, i))
			continue;
		f->parent_idx = pg_malloc(sizeof(int) * Max(f->nparents, 1));
		f->dep_idx = pg_malloc(sizeof(int) * Max(f->ndeps, 1));
		for (j = 0; j < f->nparents; j++)
		{
			f->parent_idx[j] = revgraph_find(rd, f->parents[j]);
			if (f->parent_idx[j] < 0)
				revdir_add_finding(rd, f->path, 0, f->id, "error",
								   "missing_parent",
								   psprintf("Add the file of revision \"%s\", or correct the down_revision of \"%s\".",
											f->parents[j], f->id),
								   "parent \"%s\" is not defined by any file",
								   f->parents[j]);
			else if (rd->files[f->parent_idx[j]].ok)
				rd->files[f->parent_idx[j]].nchildren++;
		}
		for (j = 0; j < f->ndeps; j++)
		{
			/* as on the server and in Alembic, a branch label will do */
			f->dep_idx[j] = revgraph_find(rd, f->deps[j]);
			if (f->dep_idx[j] < 0)
				f->dep_idx[j] = revgraph_find_label(rd, f->deps[j]);
			if (f->dep_idx[j] < 0)
				revdir_add_finding(rd, f->path, 0, f->id, "error",
								   "missing_dependency",
								   psprintf("Add the file of revision \"%s\", or correct the depends_on of \"%s\".",
											f->deps[j], f->id),
								   "dependency \"%s\" is not defined by any file",
								   f->deps[j]);
		}
	}
}

/*
 * revgraph_cycles
 *		Depth-first search over parents and dependencies; each cycle is
 *		reported once, as the path that closes it.
 */
static void
revgraph_cycles(RevDir *rd)
{
	int			n = rd->nfiles;
	char	   *color = pg_malloc0(n);	/* 0 new, 1 on the path, 2 done */
	int		   *stack = pg_malloc(sizeof(int) * Max(n, 1));
	int		   *edge = pg_malloc(sizeof(int) * Max(n, 1));
	int			start;

	for (start = 0; start < n; start++)
	{
		int			depth = 0;

		if (color[start] || !revgraph_usable(rd, start))
			continue;
		stack[0] = start;
		edge[0] = 0;
		color[start] = 1;
		depth = 1;
		while (depth > 0)
		{
			int			v = stack[depth - 1];
			RevFile    *f = &rd->files[v];
			int			e = edge[depth - 1]++;
			int			w;

			if (e >= f->nparents + f->ndeps)
			{
				color[v] = 2;
				depth--;
				continue;
			}
			w = e < f->nparents ? f->parent_idx[e] : f->dep_idx[e - f->nparents];
			if (w < 0 || !revgraph_usable(rd, w))
				continue;
			if (color[w] == 1)
			{
				PQExpBufferData path;
				int			k = depth - 1;

				while (stack[k] != w)
					k--;
				initPQExpBuffer(&path);
				for (; k < depth; k++)
					appendPQExpBuffer(&path, "\"%s\" -> ", rd->files[stack[k]].id);
				appendPQExpBuffer(&path, "\"%s\"", rd->files[w].id);
				revdir_add_finding(rd, rd->files[w].path, 0, rd->files[w].id,
								   "error", "cycle",
								   "Correct the down_revision or depends_on of one of them.",
								   "revisions form a cycle: %s (each named revision needs the next)",
								   path.data);
				termPQExpBuffer(&path);
				rd->cyclic = true;
			}
			else if (color[w] == 0)
			{
				color[w] = 1;
				stack[depth] = w;
				edge[depth] = 0;
				depth++;
			}
		}
	}
	pg_free(color);
	pg_free(stack);
	pg_free(edge);
}

/*
 * revgraph_heads_labelled
 *		Whether every head is the head of its own labelled branch: some
 *		file's branch label has exactly that head among its descendants
 *		(through parents), as migr_check() decides.
 */
static bool
revgraph_heads_labelled(RevDir *rd)
{
	int		   *children = pg_malloc0(sizeof(int) * (rd->nfiles + 1));
	int		   *kids;
	int		   *stack = pg_malloc(sizeof(int) * Max(rd->nfiles, 1));
	bool	   *seen = pg_malloc(sizeof(bool) * Max(rd->nfiles, 1));
	bool	   *owned = pg_malloc0(sizeof(bool) * Max(rd->nfiles, 1));
	int		   *fill;
	bool		all = true;
	int			i,
				j;

	/* children of each file, as a compressed adjacency list */
	for (i = 0; i < rd->nfiles; i++)
		if (revgraph_usable(rd, i))
			for (j = 0; j < rd->files[i].nparents; j++)
				if (rd->files[i].parent_idx[j] >= 0)
					children[rd->files[i].parent_idx[j] + 1]++;
	for (i = 0; i < rd->nfiles; i++)
		children[i + 1] += children[i];
	kids = pg_malloc(sizeof(int) * Max(children[rd->nfiles], 1));
	fill = pg_malloc(sizeof(int) * Max(rd->nfiles, 1));
	memcpy(fill, children, sizeof(int) * rd->nfiles);
	for (i = 0; i < rd->nfiles; i++)
		if (revgraph_usable(rd, i))
			for (j = 0; j < rd->files[i].nparents; j++)
				if (rd->files[i].parent_idx[j] >= 0)
					kids[fill[rd->files[i].parent_idx[j]]++] = i;
	pg_free(fill);

	for (i = 0; i < rd->nfiles; i++)
	{
		int			top = 0;
		int			nheads = 0;
		int			head = -1;

		if (!revgraph_usable(rd, i) || rd->files[i].nlabels == 0)
			continue;
		memset(seen, 0, sizeof(bool) * rd->nfiles);
		seen[i] = true;
		stack[top++] = i;
		while (top > 0)
		{
			int			v = stack[--top];

			if (rd->files[v].nchildren == 0)
			{
				nheads++;
				head = v;
			}
			for (j = children[v]; j < children[v + 1]; j++)
				if (!seen[kids[j]])
				{
					seen[kids[j]] = true;
					stack[top++] = kids[j];
				}
		}
		if (nheads == 1)
			owned[head] = true;
	}
	for (i = 0; i < rd->nheads; i++)
		all = all && owned[rd->heads[i]];
	pg_free(children);
	pg_free(kids);
	pg_free(stack);
	pg_free(seen);
	pg_free(owned);
	return all;
}

/*
 * revgraph_heads
 *		Files that are no other file's parent.  Several are a warning, as in
 *		migr_check(): "head" is ambiguous until they are merged; but only
 *		information when each is the head of its own labelled branch, as in
 *		an expand/contract history.
 */
static void
revgraph_heads(RevDir *rd)
{
	int			i;

	rd->heads = pg_malloc(sizeof(int) * Max(rd->nfiles, 1));
	rd->nheads = 0;
	for (i = 0; i < rd->nfiles; i++)
		if (revgraph_usable(rd, i) && rd->files[i].nchildren == 0)
			rd->heads[rd->nheads++] = i;
	if (rd->nheads > 1)
	{
		PQExpBufferData list;

		initPQExpBuffer(&list);
		for (i = 0; i < rd->nheads; i++)
			appendPQExpBuffer(&list, "%s%s (%s)", i ? ", " : "",
							  rd->files[rd->heads[i]].id,
							  rd->files[rd->heads[i]].name);
		rd->heads_labelled = revgraph_heads_labelled(rd);
		if (rd->heads_labelled)
			revdir_add_finding(rd, NULL, 0, NULL, "info", "multiple_heads",
							   "Upgrade with \"migr upgrade heads\", or one branch with \"migr upgrade LABEL@head\".",
							   "there are %d heads, each the head of its own labelled branch: %s",
							   rd->nheads, list.data);
		else
			revdir_add_finding(rd, NULL, 0, NULL, "warning", "multiple_heads",
							   "Merge them with \"migr merge -m MESSAGE --dir DIR\"; until then \"migr upgrade head\" fails and only \"migr upgrade heads\" works.",
							   "there are %d heads: %s", rd->nheads, list.data);
		termPQExpBuffer(&list);
	}
}

/*
 * revgraph_link
 *		Index the ids and check the graph: duplicates, missing parents and
 *		dependencies, cycles, heads.
 */
void
revgraph_link(RevDir *rd)
{
	int			i;
	int		   *id_index;

	if (rd->linked)
		return;
	pg_free(rd->id_index);
	id_index = rd->id_index = pg_malloc(sizeof(int) * Max(rd->nfiles, 1));
	rd->id_count = 0;
	for (i = 0; i < rd->nfiles; i++)
		if (rd->files[i].ok)
			id_index[rd->id_count++] = i;
	sort_rd = rd;
	qsort(id_index, rd->id_count, sizeof(int), revgraph_id_cmp);
	for (i = 0; i < rd->id_count; i++)
		rd->files[id_index[i]].usable = i == 0 ||
			strcmp(rd->files[id_index[i - 1]].id, rd->files[id_index[i]].id) != 0;

	revgraph_index_labels(rd);
	revgraph_duplicates(rd);
	revgraph_missing(rd);
	revgraph_cycles(rd);
	revgraph_heads(rd);
	rd->linked = true;
}

/*
 * revgraph_need
 *		The file of the k-th parent or dependency of f, or -1.
 */
static int
revgraph_need(const RevDir *rd, const RevFile *f, int k)
{
	int			w = k < f->nparents ? f->parent_idx[k] : f->dep_idx[k - f->nparents];

	return (w >= 0 && revgraph_usable(rd, w)) ? w : -1;
}

/*
 * revgraph_order
 *		The usable files, parents and dependencies before the revisions that
 *		need them, ties broken by file name (src/common/revtopo.c, whose
 *		order is also the server's tie-break for upgrades): the order in
 *		which push defines them.  Files in a cycle come last, in name order.
 */
int *
revgraph_order(const RevDir *rd, int *n)
{
	int			nf = rd->nfiles;
	bool	   *usable = pg_malloc0(sizeof(bool) * Max(nf, 1));
	bool	   *done = pg_malloc0(sizeof(bool) * Max(nf, 1));
	int		   *start = pg_malloc(sizeof(int) * (nf + 1));
	int		   *need;
	int		   *out = pg_malloc(sizeof(int) * Max(nf, 1));
	int			nneed = 0;
	int			i,
				k;

	for (i = 0; i < nf; i++)
		nneed += rd->files[i].nparents + rd->files[i].ndeps;
	need = pg_malloc(sizeof(int) * Max(nneed, 1));
	nneed = 0;
	for (i = 0; i < nf; i++)
	{
		const RevFile *f = &rd->files[i];

		usable[i] = revgraph_usable(rd, i);
		start[i] = nneed;
		if (usable[i])
			for (k = 0; k < f->nparents + f->ndeps; k++)
				need[nneed++] = revgraph_need(rd, f, k);
	}
	start[nf] = nneed;

	*n = revtopo_order(nf, usable, start, need, out);
	for (i = 0; i < *n; i++)
		done[out[i]] = true;
	for (i = 0; i < nf; i++)
		if (!done[i] && usable[i])
			out[(*n)++] = i;

	pg_free(usable);
	pg_free(done);
	pg_free(start);
	pg_free(need);
	return out;
}

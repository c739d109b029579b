/*-------------------------------------------------------------------------
 *
 * revtopo.c
 *	  Kahn's topological order of a revision graph, ties broken by index.
 *
 * The server orders the revisions of an upgrade with it (graph.c, where
 * the index is the order of definition) and the client the files it
 * pushes (revgraph.c, where it is the file name order), so that both put
 * independent revisions in the same order.  The graph comes as int arrays
 * in compressed form: node i needs need[start[i]] .. need[start[i+1]-1]
 * (parents and dependencies; -1 entries are ignored).
 *
 * Copyright (c) 2026, migr developers
 *
 * IDENTIFICATION
 *	  src/common/revtopo.c
 *
 *-------------------------------------------------------------------------
 */
#ifndef FRONTEND
#include "postgres.h"
#else
#include "postgres_fe.h"
#endif

#include "revformat.h"

static void revtopo_push(int *heap, int *n, int v);
static int	revtopo_pop(int *heap, int *n);

/*
 * revtopo_push, revtopo_pop
 *		A binary min-heap of node indexes: the ready node with the smallest
 *		index comes first.
 */
static void
revtopo_push(int *heap, int *n, int v)
{
	int			i = (*n)++;

	while (i > 0 && heap[(i - 1) / 2] > v)
	{
		heap[i] = heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	heap[i] = v;
}

static int
revtopo_pop(int *heap, int *n)
{
	int			top = heap[0];
	int			last = heap[--(*n)];
	int			i = 0;

	for (;;)
	{
		int			c = 2 * i + 1;

		if (c >= *n)
			break;
		if (c + 1 < *n && heap[c + 1] < heap[c])
			c++;
		if (heap[c] >= last)
			break;
		heap[i] = heap[c];
		i = c;
	}
	if (*n > 0)
		heap[i] = last;
	return top;
}

/*
 * revtopo_order
 *		Write into order (room for n) the nodes marked in "in" (all nodes
 *		when in is NULL), each after the marked nodes it needs; edges to
 *		unmarked nodes are ignored.  Returns how many were written: fewer
 *		than were marked when the marked nodes contain a cycle.
 *
 * Memory comes from palloc, which the client has from libpgcommon.
 */
int
revtopo_order(int n, const bool *in, const int *start, const int *need,
			  int *order)
{
	int		   *indeg = palloc0(sizeof(int) * (n + 1));
	int		   *first = palloc0(sizeof(int) * (n + 2));
	int		   *adj = palloc(sizeof(int) * (start[n] + 1));
	int		   *heap = palloc(sizeof(int) * (n + 1));
	int			nheap = 0;
	int			count = 0;
	int			i,
				k;

	/* who needs each node, as a compressed adjacency list */
	for (i = 0; i < n; i++)
		for (k = start[i]; k < start[i + 1]; k++)
			if ((in == NULL || in[i]) && need[k] >= 0 &&
				(in == NULL || in[need[k]]))
			{
				indeg[i]++;
				first[need[k] + 2]++;
			}
	for (i = 0; i < n; i++)
		first[i + 2] += first[i + 1];
	for (i = 0; i < n; i++)
		for (k = start[i]; k < start[i + 1]; k++)
			if ((in == NULL || in[i]) && need[k] >= 0 &&
				(in == NULL || in[need[k]]))
				adj[first[need[k] + 1]++] = i;

	/* first[v] .. first[v+1]-1 are now the nodes that need v */
	for (i = 0; i < n; i++)
		if ((in == NULL || in[i]) && indeg[i] == 0)
			revtopo_push(heap, &nheap, i);
	while (nheap > 0)
	{
		int			v = revtopo_pop(heap, &nheap);

		order[count++] = v;
		for (k = first[v]; k < first[v + 1]; k++)
			if (--indeg[adj[k]] == 0)
				revtopo_push(heap, &nheap, adj[k]);
	}

	pfree(indeg);
	pfree(first);
	pfree(adj);
	pfree(heap);
	return count;
}

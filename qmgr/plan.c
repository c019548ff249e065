/*
 * plan.c - splits a message's pending recipients into delivery requests.
 *
 * Recipients going to the same transport travel in one request, so an
 * agent delivers a message to many local mailboxes from a single read of
 * the queue file; a request carries at most
 * default_destination_recipient_limit recipients, so one huge message
 * cannot hold an agent for ever.  Transports come in the order their first
 * recipient appears, and recipients keep their order inside a batch.
 *
 * Pure: it never resolves an address (the caller did) and never talks to
 * an agent.  The caller's "transport" is "transport:nexthop" (message.c),
 * so a batch also shares its next hop.
 */
#include <string.h>

#include "qmgr.h"
#include "util.h"

struct plan_key {
	const char *transport;
	size_t first; /* index of the transport's first recipient */
	size_t index;
};

static int plan_cmp(const void *a, const void *b)
{
	const struct plan_key *x = a, *y = b;

	if (x->first != y->first)
		return x->first < y->first ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

/* The first recipient index of i's transport among the distinct
 * transports seen so far (few: local, smtp, relay...), adding it if new. */
static size_t plan_first(const char *const *transport, size_t i, size_t **seen, size_t *nseen)
{
	size_t j;

	for (j = 0; j < *nseen; j++)
		if (strcmp(transport[(*seen)[j]], transport[i]) == 0)
			return (*seen)[j];
	*seen = xreallocarray(*seen, *nseen + 1, sizeof(**seen));
	(*seen)[(*nseen)++] = i;
	return i;
}

/* Sorts the wanted recipients by (first appearance of transport, index). */
static size_t plan_sort(
    const char *const *transport, const bool *want, size_t n, struct plan_key **out)
{
	struct plan_key *k = xcalloc(n ? n : 1, sizeof(*k));
	size_t i, m = 0, *seen = NULL, nseen = 0;

	for (i = 0; i < n; i++) {
		if (!want[i])
			continue;
		k[m].transport = transport[i];
		k[m].first = plan_first(transport, i, &seen, &nseen);
		k[m].index = i;
		m++;
	}
	free(seen);
	qsort(k, m, sizeof(*k), plan_cmp);
	*out = k;
	return m;
}

size_t plan_make(
    const char *const *transport, const bool *want, size_t n, size_t limit, struct plan_batch **out)
{
	struct plan_key *k;
	struct plan_batch *b = NULL, *cur = NULL;
	size_t m = plan_sort(transport, want, n, &k), i, nb = 0, first = 0;

	for (i = 0; i < m; i++) {
		if (cur == NULL || k[i].first != first || (limit && cur->n >= limit)) {
			first = k[i].first;
			b = xreallocarray(b, nb + 1, sizeof(*b));
			cur = &b[nb++];
			cur->transport = k[i].transport;
			cur->rcpt = xcalloc(limit && limit < m ? limit : m, sizeof(size_t));
			cur->n = 0;
		}
		cur->rcpt[cur->n++] = k[i].index;
	}
	free(k);
	*out = b;
	return nb;
}

void plan_free(struct plan_batch *b, size_t nbatch)
{
	size_t i;

	for (i = 0; i < nbatch; i++)
		free(b[i].rcpt);
	free(b);
}

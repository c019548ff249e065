/*
 * tmap.c - thread ids (never 0) to small numbers, for Email/query's
 * collapseThreads (has this thread been met?) and Thread/get (which of
 * the asked threads is this?): an open-addressing table sized once for
 * the most keys it will hold, so it never grows.
 */
#include <stdlib.h>

#include "jmap_int.h"
#include "util.h"

void jmap_tmap_init(struct jmap_tmap *t, size_t most)
{
	size_t cap = 64;

	while (cap < 2 * most)
		cap *= 2;
	t->key = xcalloc(cap, sizeof(*t->key));
	t->val = xcalloc(cap, sizeof(*t->val));
	t->mask = cap - 1;
	t->n = 0;
}

void jmap_tmap_free(struct jmap_tmap *t)
{
	free(t->key);
	free(t->val);
	t->key = NULL;
	t->val = NULL;
}

static size_t slot(const struct jmap_tmap *t, uint32_t id)
{
	size_t i = (id * 2654435761u) & t->mask;

	while (t->key[i] != 0 && t->key[i] != id)
		i = (i + 1) & t->mask;
	return i;
}

bool jmap_tmap_get(const struct jmap_tmap *t, uint32_t id, size_t *val)
{
	size_t i;

	if (id == 0 || t->key == NULL || t->key[i = slot(t, id)] == 0)
		return false;
	*val = t->val[i];
	return true;
}

bool jmap_tmap_add(struct jmap_tmap *t, uint32_t id, size_t val)
{
	size_t i;

	if (id == 0 || t->key[i = slot(t, id)] != 0 || 2 * (t->n + 1) > t->mask + 1)
		return false;
	t->key[i] = id;
	t->val[i] = val;
	t->n++;
	return true;
}

/*
 * qset.c - the queue IDs qmgr knows about, in a chained hash table.
 *
 * An ID is either active (its message is loaded and being delivered) or
 * scheduled (its file waits in deferred/ until a retry time).  Scans and
 * notifications consult this set before touching a file, so a message is
 * never loaded twice however many times it is announced.  The table also
 * serves as a plain string set (the warned-about bad file names).
 *
 * It knows nothing about files or time; it only maps a key to an entry.
 */
#include <string.h>

#include "qmgr.h"
#include "util.h"

#define QSET_MIN_BUCKETS 64

/* FNV-1a: keys are our own queue IDs or directory entry names, and a
 * collision only costs time, so a simple hash is enough. */
static size_t qset_hash(const char *key)
{
	size_t h = 2166136261u;

	for (; *key; key++) {
		h ^= (unsigned char)*key;
		h *= 16777619u;
	}
	return h;
}

void qset_init(struct qset *s)
{
	s->nbucket = QSET_MIN_BUCKETS;
	s->bucket = xcalloc(s->nbucket, sizeof(*s->bucket));
	s->count = 0;
}

void qset_free(struct qset *s)
{
	struct qset_entry *e, *next;
	size_t i;

	for (i = 0; i < s->nbucket; i++) {
		for (e = s->bucket[i]; e; e = next) {
			next = e->next;
			free(e->key);
			free(e);
		}
	}
	free(s->bucket);
	s->bucket = NULL;
	s->nbucket = 0;
	s->count = 0;
}

struct qset_entry *qset_get(const struct qset *s, const char *key)
{
	struct qset_entry *e;

	for (e = s->bucket[qset_hash(key) % s->nbucket]; e; e = e->next)
		if (strcmp(e->key, key) == 0)
			return e;
	return NULL;
}

/* Doubles the table when it holds more entries than buckets. */
static void qset_grow(struct qset *s)
{
	struct qset_entry **nb, *e, *next;
	size_t i, n = s->nbucket * 2, h;

	nb = xcalloc(n, sizeof(*nb));
	for (i = 0; i < s->nbucket; i++) {
		for (e = s->bucket[i]; e; e = next) {
			next = e->next;
			h = qset_hash(e->key) % n;
			e->next = nb[h];
			nb[h] = e;
		}
	}
	free(s->bucket);
	s->bucket = nb;
	s->nbucket = n;
}

struct qset_entry *qset_add(struct qset *s, const char *key, bool *created)
{
	struct qset_entry *e = qset_get(s, key);
	size_t h;

	if (created)
		*created = e == NULL;
	if (e)
		return e;
	if (s->count >= s->nbucket)
		qset_grow(s);
	e = xcalloc(1, sizeof(*e));
	e->key = xstrdup(key);
	e->state = QSET_ACTIVE;
	h = qset_hash(key) % s->nbucket;
	e->next = s->bucket[h];
	s->bucket[h] = e;
	s->count++;
	return e;
}

void qset_del(struct qset *s, const char *key)
{
	struct qset_entry **pp, *e;

	for (pp = &s->bucket[qset_hash(key) % s->nbucket]; (e = *pp); pp = &e->next) {
		if (strcmp(e->key, key) == 0) {
			*pp = e->next;
			free(e->key);
			free(e);
			s->count--;
			return;
		}
	}
}

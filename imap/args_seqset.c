/*
 * imap/args_seqset.c - sequence sets (imap/args.h): RFC 9051
 * "sequence-set", with "*", ranges in either order and "$" (RFC 5182).
 */
#include "args.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

static bool seq_number(const char **p, uint32_t *out)
{
	const char *s = *p;
	uint64_t v = 0;

	if (*s == '*') {
		*out = IMAP_SEQ_STAR;
		*p = s + 1;
		return true;
	}
	if (*s < '1' || *s > '9')
		return false;
	while (*s >= '0' && *s <= '9') {
		v = v * 10 + (uint64_t)(*s - '0');
		if (v >= UINT32_MAX) /* nz-number is < 2^32, and * is 2^32-1 here */
			return false;
		s++;
	}
	*out = (uint32_t)v;
	*p = s;
	return true;
}

bool imap_seqset_parse(const char *s, bool allow_saved, struct imap_seqset *out, const char **err)
{
	size_t cap = 0;

	memset(out, 0, sizeof(*out));
	*err = "Invalid sequence set";
	if (strcmp(s, "$") == 0) {
		if (!allow_saved)
			return false;
		out->saved = true;
		return true;
	}
	for (;;) {
		uint32_t a, b;

		if (!seq_number(&s, &a))
			goto bad;
		b = a;
		if (*s == ':') {
			s++;
			if (!seq_number(&s, &b))
				goto bad;
		}
		if (out->n == cap) {
			cap = cap ? cap * 2 : 4;
			out->v = xreallocarray(out->v, cap, sizeof(*out->v));
		}
		out->v[out->n].lo = a < b ? a : b;
		out->v[out->n].hi = a < b ? b : a;
		out->n++;
		if (*s == 0)
			return true;
		if (*s++ != ',')
			goto bad;
	}
bad:
	imap_seqset_free(out);
	return false;
}

static int range_cmp(const void *a, const void *b)
{
	const struct imap_seq_range *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

void imap_seqset_resolve(struct imap_seqset *set, uint32_t max)
{
	size_t out = 0;

	for (size_t i = 0; i < set->n; i++) {
		struct imap_seq_range r = set->v[i];

		/* "*" is the largest number in use (RFC 9051 9: "3:*" with max
		 * 2 is 2:3, so a range is never empty by itself). */
		if (r.hi == IMAP_SEQ_STAR)
			r.hi = max;
		if (r.lo == IMAP_SEQ_STAR)
			r.lo = max;
		if (r.lo > r.hi) {
			uint32_t t = r.lo;

			r.lo = r.hi;
			r.hi = t;
		}
		if (r.hi == 0)
			continue; /* "*" of an empty mailbox */
		if (r.lo == 0)
			r.lo = 1;
		set->v[out++] = r;
	}
	set->n = out;
	if (set->n > 1)
		qsort(set->v, set->n, sizeof(*set->v), range_cmp);
	out = 0;
	for (size_t i = 0; i < set->n; i++) {
		if (out && set->v[i].lo <= set->v[out - 1].hi + 1ULL) {
			if (set->v[i].hi > set->v[out - 1].hi)
				set->v[out - 1].hi = set->v[i].hi;
		} else {
			set->v[out++] = set->v[i];
		}
	}
	set->n = out;
}

bool imap_seqset_contains(const struct imap_seqset *set, uint32_t n)
{
	size_t lo = 0, hi = set->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (n < set->v[mid].lo)
			hi = mid;
		else if (n > set->v[mid].hi)
			lo = mid + 1;
		else
			return true;
	}
	return false;
}

void imap_seqset_free(struct imap_seqset *set)
{
	free(set->v);
	set->v = NULL;
	set->n = 0;
}

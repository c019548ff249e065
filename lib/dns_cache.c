/*
 * dns_cache.c - the DNS answers of one process, kept for their time to
 * live, so a name asked for again (the DKIM key, the DMARC and SPF
 * records of a sender who writes every minute, a client's PTR) costs no
 * query.  c-ares 1.18 (Debian 12) keeps none itself.
 *
 * What is kept, per (name, type; class IN, the only one tern asks):
 * - answers (DNS_OK) for the smallest TTL of their answer section
 *   (RFC 2181 5.2), at most a day;
 * - denials (NXDOMAIN, NODATA) for the smaller of the SOA record's TTL
 *   and its MINIMUM field, from the authority section (RFC 2308 5), at
 *   most DNS_CACHE_NEG_MAX; a denial without SOA is not kept (RFC 2308
 *   5: "SHOULD NOT be cached");
 * - never a temporary failure (SERVFAIL, REFUSED, a time-out), never an
 *   answer with TTL 0 (RFC 1035 3.2.1: use it for this transaction only).
 *
 * At most dns_cache_size entries (default 1000; 0 turns the cache off):
 * a hash table for the look-up and a list in order of use, whose least
 * recently used entry goes when a new one needs room.  An expired entry
 * is dropped when it is looked up or reaches the end of the list.
 *
 * Not here: the poll layer's short memory of results (dns_event.c), which
 * exists so a re-run restriction finds its answer, whatever the TTL.
 */
#include "dns_resolver.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "util.h"

#define DNS_CACHE_TTL_MAX 86400	   /* answers: a day at most */
#define DNS_CACHE_NEG_MAX 900	   /* denials: 15 minutes at most */
#define DNS_CACHE_SIZE_MAX 1000000 /* dns_cache_size above this is taken as this */

struct dns_cache_entry {
	char *name; /* lower case */
	int type;
	enum dns_status st; /* DNS_OK, DNS_NOTFOUND, DNS_NODATA */
	unsigned char *ans; /* the reply's bytes */
	int len;
	long long expires;		     /* dc_now() */
	struct dns_cache_entry *hnext;	     /* the bucket's chain */
	struct dns_cache_entry *prev, *next; /* use order: head the latest */
};

static struct {
	bool sized; /* dns_cache_size read */
	size_t max; /* entries; 0: off */
	size_t n;
	struct dns_cache_entry **buckets;
	size_t nbuckets; /* a power of two */
	struct dns_cache_entry *head, *tail;
	long long (*now)(void);
} dc = {.now = mono_msec};

/* dns_cache_size, read at first use after a reset. */
static bool dc_on(void)
{
	long v;

	if (!dc.sized) {
		v = config_int("dns_cache_size");
		dc.max = v <= 0 ? 0 : v > DNS_CACHE_SIZE_MAX ? DNS_CACHE_SIZE_MAX : (size_t)v;
		for (dc.nbuckets = 16; dc.nbuckets < dc.max * 2 && dc.nbuckets < (1u << 20);)
			dc.nbuckets *= 2;
		dc.sized = true;
	}
	return dc.max > 0;
}

/* FNV-1a over the lower-case name, then the type. */
static size_t dc_hash(const char *name, int type)
{
	unsigned h = 2166136261u;

	for (; *name; name++)
		h = (h ^ (unsigned char)tolower((unsigned char)*name)) * 16777619u;
	h = (h ^ (unsigned)type) * 16777619u;
	return h & (dc.nbuckets - 1);
}

static struct dns_cache_entry **dc_slot(const char *name, int type)
{
	struct dns_cache_entry **p;

	if (dc.buckets == NULL)
		dc.buckets = xcalloc(dc.nbuckets, sizeof(*dc.buckets));
	for (p = &dc.buckets[dc_hash(name, type)]; *p; p = &(*p)->hnext)
		if ((*p)->type == type && str_case_eq((*p)->name, name))
			break;
	return p;
}

static void dc_unlink(struct dns_cache_entry *e)
{
	if (e->prev)
		e->prev->next = e->next;
	else
		dc.head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		dc.tail = e->prev;
	e->prev = e->next = NULL;
}

static void dc_push(struct dns_cache_entry *e)
{
	e->next = dc.head;
	if (dc.head)
		dc.head->prev = e;
	dc.head = e;
	if (dc.tail == NULL)
		dc.tail = e;
}

/* Removes the entry *slot points to. */
static void dc_drop(struct dns_cache_entry **slot)
{
	struct dns_cache_entry *e = *slot;

	*slot = e->hnext;
	dc_unlink(e);
	free(e->name);
	free(e->ans);
	free(e);
	dc.n--;
}

bool dns_cache_get(
    const char *name, int type, enum dns_status *st, const unsigned char **ans, int *len)
{
	struct dns_cache_entry **slot, *e;

	if (!dc_on() || (e = *(slot = dc_slot(name, type))) == NULL)
		return false;
	if (e->expires <= dc.now()) {
		dc_drop(slot);
		return false;
	}
	dc_unlink(e);
	dc_push(e);
	*st = e->st;
	*ans = e->ans;
	*len = e->len;
	return true;
}

/* Skips a name at *p (compression allowed); false past the end. */
static bool dc_skip_name(const unsigned char *ans, int len, const unsigned char **p)
{
	while (*p < ans + len) {
		unsigned c = **p;

		if (c == 0) {
			(*p)++;
			return true;
		}
		if ((c & 0xc0) == 0xc0) {
			*p += 2;
			return *p <= ans + len;
		}
		if (c & 0xc0)
			return false;
		*p += 1 + c;
	}
	return false;
}

/*
 * RFC 2308 5: how long a denial may be kept, from the authority
 * section's SOA: the smaller of its TTL and its MINIMUM field (the last
 * 32 bits of its data); 0 when the reply has none (or is broken).
 */
unsigned dns_denial_ttl(const unsigned char *ans, int len)
{
	const unsigned char *p = ans + 12;
	int qd, an, ns;

	if (len < 12)
		return 0;
	qd = ans[4] << 8 | ans[5];
	an = ans[6] << 8 | ans[7];
	ns = ans[8] << 8 | ans[9];
	for (int i = 0; i < qd; i++)
		if (!dc_skip_name(ans, len, &p) || (p += 4) > ans + len)
			return 0;
	for (int i = 0; i < an + ns; i++) {
		unsigned type, ttl, min;
		int rdlen;

		if (!dc_skip_name(ans, len, &p) || p + 10 > ans + len)
			return 0;
		type = (unsigned)p[0] << 8 | p[1];
		ttl = (unsigned)p[4] << 24 | (unsigned)p[5] << 16 | (unsigned)p[6] << 8 | p[7];
		rdlen = p[8] << 8 | p[9];
		p += 10;
		if (p + rdlen > ans + len)
			return 0;
		if (i >= an && type == 6 && rdlen >= 22) { /* SOA: 2 names, 5 numbers */
			const unsigned char *m = p + rdlen - 4;

			min = (unsigned)m[0] << 24 | (unsigned)m[1] << 16 | (unsigned)m[2] << 8 |
			      m[3];
			return ttl < min ? ttl : min;
		}
		p += rdlen;
	}
	return 0;
}

void dns_cache_put(
    const char *name, int type, enum dns_status st, const unsigned char *ans, int len)
{
	struct dns_cache_entry **slot, *e;
	unsigned ttl = 0;

	if (!dc_on() || ans == NULL || len < 12)
		return;
	if (st == DNS_OK) {
		ttl = dns_answer_ttl(ans, len);
		if (ttl == 0xffffffffu)
			ttl = 0;
		else if (ttl > DNS_CACHE_TTL_MAX)
			ttl = DNS_CACHE_TTL_MAX;
	} else if (st == DNS_NOTFOUND || st == DNS_NODATA) {
		ttl = dns_denial_ttl(ans, len);
		if (ttl > DNS_CACHE_NEG_MAX)
			ttl = DNS_CACHE_NEG_MAX;
	}
	/* A newer reply replaces the one kept, also when it is not kept. */
	if (*(slot = dc_slot(name, type)) != NULL)
		dc_drop(slot);
	if (ttl == 0)
		return;
	if (dc.n == dc.max)
		dc_drop(dc_slot(dc.tail->name, dc.tail->type));
	e = xcalloc(1, sizeof(*e));
	e->name = xstrdup(name);
	for (char *p = e->name; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	e->type = type;
	e->st = st;
	e->ans = (unsigned char *)xmemdup(ans, (size_t)len);
	e->len = len;
	e->expires = dc.now() + (long long)ttl * 1000;
	slot = dc_slot(name, type); /* the drop above may have changed it */
	e->hnext = *slot;
	*slot = e;
	dc_push(e);
	dc.n++;
}

size_t dns_cache_count(void)
{
	return dc.n;
}

void dns_cache_clock(long long (*now)(void))
{
	dc.now = now ? now : mono_msec;
}

void dns_cache_reset(void)
{
	while (dc.head)
		dc_drop(dc_slot(dc.head->name, dc.head->type));
	free(dc.buckets);
	dc.buckets = NULL;
	dc.sized = false;
	dc.max = dc.n = 0;
}

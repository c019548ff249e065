/*
 * dns.c - DNS answers to records, and the smtp client's blocking MX and
 * address look-ups.
 *
 * Layout: the pure answer handling first (bytes -> records), then the two
 * look-ups over dns_query() (dns_resolver.c: the channel, the cache and
 * the status mapping).  An MX answer with no MX records means "use the
 * domain's own address" (implicit MX, RFC 5321 section 5.1), decided by
 * the caller.
 */
#include "dns.h"

#include <ares.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "util.h"

/* ------------------------------------------------------------ answers */

/* Only walks the record framing; c-ares's parsers validate the records
 * themselves. */
unsigned dns_answer_ttl(const unsigned char *ans, int len)
{
	unsigned best = 0xffffffffu;
	const unsigned char *p = ans + 12;
	int qd, an;

	if (len < 12)
		return 0;
	qd = ans[4] << 8 | ans[5];
	an = ans[6] << 8 | ans[7];
	for (int i = 0; i < qd + an; i++) {
		char *name;
		long enc;

		if (ares_expand_name(p, ans, len, &name, &enc) != ARES_SUCCESS)
			return 0;
		ares_free_string(name);
		p += enc;
		if (i < qd) {
			p += 4;
			continue;
		}
		if (p + 10 > ans + len)
			return 0;
		unsigned ttl =
		    (unsigned)p[4] << 24 | (unsigned)p[5] << 16 | (unsigned)p[6] << 8 | p[7];
		int rdlen = p[8] << 8 | p[9];

		if (ttl < best)
			best = ttl;
		p += 10 + rdlen;
		if (p > ans + len)
			return 0;
	}
	return best;
}

/* One answer-section record: owner name, type, rdata; false when the
 * framing is broken. */
static bool dns_rr_next(const unsigned char *ans, int len, const unsigned char **p, char **owner,
    int *type, const unsigned char **rd, int *rdlen)
{
	long enc;

	if (ares_expand_name(*p, ans, len, owner, &enc) != ARES_SUCCESS)
		return false;
	*p += enc;
	if (*p + 10 > ans + len) {
		ares_free_string(*owner);
		return false;
	}
	*type = (*p)[0] << 8 | (*p)[1];
	*rdlen = (*p)[8] << 8 | (*p)[9];
	*rd = *p + 10;
	*p += 10 + *rdlen;
	if (*p > ans + len) {
		ares_free_string(*owner);
		return false;
	}
	return true;
}

/* The CNAME target of name in the answer section, into out; false when
 * there is none (or the message is broken). */
static bool dns_cname_of(
    const unsigned char *ans, int len, const char *name, char *out, size_t size)
{
	const unsigned char *p = ans + 12, *rd;
	int qd = ans[4] << 8 | ans[5], an = ans[6] << 8 | ans[7], type, rdlen;
	bool found = false;

	for (int i = 0; i < qd; i++) {
		char *q;
		long enc;

		if (ares_expand_name(p, ans, len, &q, &enc) != ARES_SUCCESS)
			return false;
		ares_free_string(q);
		p += enc + 4;
		if (p > ans + len)
			return false;
	}
	for (int i = 0; i < an && !found; i++) {
		char *owner, *target;
		long enc;

		if (!dns_rr_next(ans, len, &p, &owner, &type, &rd, &rdlen))
			return false;
		if (type == ns_t_cname && str_case_eq(owner, name) &&
		    ares_expand_name(rd, ans, len, &target, &enc) == ARES_SUCCESS) {
			found = strlcpy(out, target, size) < size && *out;
			ares_free_string(target);
		}
		ares_free_string(owner);
	}
	return found;
}

bool dns_cname_expand(const unsigned char *ans, int len, const char *qname, char *out, size_t size)
{
	char cur[256], next[256];

	if (len < 12 || strlcpy(cur, qname, sizeof(cur)) >= sizeof(cur))
		return false;
	for (int hops = 0; hops < DNS_CNAME_MAX; hops++) {
		if (!dns_cname_of(ans, len, cur, next, sizeof(next)))
			break;
		memcpy(cur, next, sizeof(cur));
	}
	if (str_case_eq(cur, qname) || strlcpy(out, cur, size) >= size)
		return false;
	return true;
}

static int dns_mx_cmp(const void *a, const void *b)
{
	const struct dns_mx *x = a, *y = b;

	return x->pref - y->pref;
}

/* Shuffles runs of equal preference (Fisher-Yates inside each run). */
static void dns_mx_shuffle(struct dns_mx *mx, size_t n)
{
	size_t start = 0;

	while (start < n) {
		size_t end = start + 1;

		while (end < n && mx[end].pref == mx[start].pref)
			end++;
		for (size_t i = end - 1; i > start; i--) {
			size_t j = start + arc4random_uniform((uint32_t)(i - start + 1));
			struct dns_mx t = mx[i];

			mx[i] = mx[j];
			mx[j] = t;
		}
		start = end;
	}
}

enum dns_status dns_mx_from_answer(
    const unsigned char *ans, int len, struct dns_mx **out, size_t *n, unsigned *ttl)
{
	struct ares_mx_reply *head = NULL, *r;
	struct dns_mx *mx;
	size_t count = 0;
	int rc = ares_parse_mx_reply(ans, len, &head);

	*out = NULL;
	*n = 0;
	if (rc == ARES_ENODATA)
		return DNS_NODATA;
	if (rc != ARES_SUCCESS)
		return DNS_FAIL;
	for (r = head; r; r = r->next)
		count++;
	if (count == 0) {
		ares_free_data(head);
		return DNS_NODATA;
	}
	/* RFC 7505: a single MX whose exchange is the root ("."). */
	if (count == 1 && (head->host[0] == 0 || strcmp(head->host, ".") == 0)) {
		ares_free_data(head);
		return DNS_NULLMX;
	}
	mx = xcalloc(count, sizeof(*mx));
	count = 0;
	for (r = head; r; r = r->next) {
		if (r->host[0] == 0 || strlen(r->host) >= sizeof(mx->host))
			continue; /* a root exchange among others: unusable */
		strlcpy(mx[count].host, r->host, sizeof(mx->host));
		mx[count++].pref = r->priority;
	}
	ares_free_data(head);
	if (count == 0) {
		free(mx);
		return DNS_NULLMX;
	}
	qsort(mx, count, sizeof(*mx), dns_mx_cmp);
	dns_mx_shuffle(mx, count);
	*out = mx;
	*n = count;
	*ttl = dns_answer_ttl(ans, len);
	return DNS_OK;
}

static void dns_addr_set(struct dns_addr *a, int family, const void *ip, int port)
{
	memset(a, 0, sizeof(*a));
	if (family == AF_INET) {
		struct sockaddr_in *s = (struct sockaddr_in *)&a->sa;

		s->sin_family = AF_INET;
		s->sin_port = htons((uint16_t)port);
		memcpy(&s->sin_addr, ip, 4);
		a->len = sizeof(*s);
	} else {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)&a->sa;

		s->sin6_family = AF_INET6;
		s->sin6_port = htons((uint16_t)port);
		memcpy(&s->sin6_addr, ip, 16);
		a->len = sizeof(*s);
	}
}

enum dns_status dns_addrs_from_answer(const unsigned char *ans, int len, int family, int port,
    struct dns_addr **out, size_t *n, unsigned *ttl)
{
	enum { MAXA = 32 };
	struct ares_addrttl a4[MAXA];
	struct ares_addr6ttl a6[MAXA];
	int na = MAXA, rc;
	unsigned best = 0xffffffffu;

	*out = NULL;
	*n = 0;
	if (family == AF_INET)
		rc = ares_parse_a_reply(ans, len, NULL, a4, &na);
	else
		rc = ares_parse_aaaa_reply(ans, len, NULL, a6, &na);
	if (rc == ARES_ENODATA || (rc == ARES_SUCCESS && na <= 0))
		return DNS_NODATA;
	if (rc != ARES_SUCCESS)
		return DNS_FAIL;
	*out = xcalloc((size_t)na, sizeof(**out));
	for (int i = 0; i < na; i++) {
		int t = family == AF_INET ? a4[i].ttl : a6[i].ttl;

		if (family == AF_INET)
			dns_addr_set(&(*out)[i], AF_INET, &a4[i].ipaddr, port);
		else
			dns_addr_set(&(*out)[i], AF_INET6, &a6[i].ip6addr, port);
		if (t >= 0 && (unsigned)t < best)
			best = (unsigned)t;
	}
	*n = (size_t)na;
	*ttl = best;
	return DNS_OK;
}

enum dns_status dns_txt_from_answer(const unsigned char *ans, int len, char ***txt, size_t *n)
{
	struct ares_txt_ext *head = NULL;
	struct buf cur = BUF_INIT;
	char **v = NULL;
	size_t count = 0;

	*txt = NULL;
	*n = 0;
	int rc = ares_parse_txt_reply_ext(ans, len, &head);
	if (rc == ARES_ENODATA || (rc == ARES_SUCCESS && head == NULL))
		return DNS_NODATA;
	if (rc != ARES_SUCCESS)
		return DNS_FAIL;
	for (struct ares_txt_ext *t = head; t; t = t->next) {
		if (t->record_start && t != head) {
			v = xreallocarray(v, count + 2, sizeof(*v));
			v[count++] = xstrdup(buf_cstr(&cur));
			buf_reset(&cur);
		}
		for (size_t i = 0; i < t->length; i++)
			buf_putc(&cur, t->txt[i] ? t->txt[i] : 0x01);
	}
	v = xreallocarray(v, count + 2, sizeof(*v));
	v[count++] = xstrdup(buf_cstr(&cur));
	v[count] = NULL;
	buf_free(&cur);
	ares_free_data(head);
	*txt = v;
	*n = count;
	return DNS_OK;
}

enum dns_status dns_ptr_from_answer(const unsigned char *ans, int len, char ***names, size_t *n)
{
	struct hostent *h = NULL;
	char **v = NULL;
	size_t count = 0;
	int rc = ares_parse_ptr_reply(ans, len, NULL, 0, AF_INET, &h);

	*names = NULL;
	*n = 0;
	if (rc == ARES_ENODATA)
		return DNS_NODATA;
	if (rc != ARES_SUCCESS || h == NULL)
		return DNS_FAIL;
	/* c-ares lists every name, in answer order, as an alias (and the
	 * last again as h_name). */
	for (char **p = h->h_aliases; p && *p; p++) {
		bool seen = false;

		for (size_t i = 0; i < count && !seen; i++)
			seen = str_case_eq(v[i], *p);
		if (!seen) {
			v = xreallocarray(v, count + 2, sizeof(*v));
			v[count++] = xstrdup(*p);
		}
	}
	if (count == 0 && h->h_name) {
		v = xreallocarray(v, 2, sizeof(*v));
		v[count++] = xstrdup(h->h_name);
	}
	ares_free_hostent(h);
	if (count == 0)
		return DNS_NODATA;
	v[count] = NULL;
	*names = v;
	*n = count;
	return DNS_OK;
}

/* ------------------------------------------------------------ look-ups */

enum dns_status dns_lookup_mx(const char *domain, struct dns_mx **mx, size_t *n, struct buf *why)
{
	unsigned char *ans = NULL;
	unsigned ttl = 0;
	int len = 0;
	enum dns_status st = dns_query(domain, ns_t_mx, &ans, &len, why);

	*mx = NULL;
	*n = 0;
	if (st != DNS_OK)
		return st;
	st = dns_mx_from_answer(ans, len, mx, n, &ttl);
	if (st == DNS_NULLMX)
		buf_printf(why, "Domain %s does not accept mail (nullMX)", domain);
	else if (st == DNS_FAIL)
		buf_printf(why, "malformed MX answer for %s", domain);
	free(ans);
	return st;
}

static enum dns_status dns_lookup_family(
    const char *host, int family, int port, struct dns_addr **out, size_t *n, struct buf *why)
{
	int type = family == AF_INET ? ns_t_a : ns_t_aaaa;
	unsigned char *ans = NULL;
	unsigned ttl = 0;
	int len = 0;
	enum dns_status st = dns_query(host, type, &ans, &len, why);

	if (st != DNS_OK)
		return st;
	st = dns_addrs_from_answer(ans, len, family, port, out, n, &ttl);
	free(ans);
	return st;
}

static void dns_append(struct dns_addr **all, size_t *nall, struct dns_addr *more, size_t nmore)
{
	*all = xreallocarray(*all, *nall + nmore + 1, sizeof(**all));
	memcpy(*all + *nall, more, nmore * sizeof(*more));
	*nall += nmore;
}

/* smtp_host_lookup = native: the system resolver (nsswitch, /etc/hosts). */
static enum dns_status dns_lookup_native(
    const char *host, int port, int family, struct dns_addr **out, size_t *n, struct buf *why)
{
	struct addrinfo hints = {0}, *res, *ai;
	int rc;

	hints.ai_family = family;
	hints.ai_socktype = SOCK_STREAM;
	rc = getaddrinfo(host, NULL, &hints, &res);
	if (rc != 0) {
		buf_printf(why, "Host or domain name not found. Name service error for name=%s: %s",
		    host, gai_strerror(rc));
		return rc == EAI_NONAME ? DNS_NOTFOUND : DNS_RETRY;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		struct dns_addr a;

		if (ai->ai_family == AF_INET)
			dns_addr_set(
			    &a, AF_INET, &((struct sockaddr_in *)ai->ai_addr)->sin_addr, port);
		else if (ai->ai_family == AF_INET6)
			dns_addr_set(
			    &a, AF_INET6, &((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr, port);
		else
			continue;
		dns_append(out, n, &a, 1);
	}
	freeaddrinfo(res);
	return *n ? DNS_OK : DNS_NOTFOUND;
}

/* The address families inet_protocols allows: AF_INET, AF_INET6 or both. */
static void dns_families(bool *v4, bool *v6)
{
	const char *p = config_str("inet_protocols");

	*v4 = strstr(p, "all") || strstr(p, "ipv4");
	*v6 = strstr(p, "all") || strstr(p, "ipv6");
}

enum dns_status dns_lookup_host(
    const char *host, int port, struct dns_addr **out, size_t *n, struct buf *why)
{
	struct dns_addr *part;
	size_t npart;
	bool v4, v6, retry = false;
	enum dns_status st;
	unsigned char ip[16];

	*out = NULL;
	*n = 0;
	dns_families(&v4, &v6);
	if (inet_pton(AF_INET, host, ip) == 1 || inet_pton(AF_INET6, host, ip) == 1)
		return dns_lookup_native(host, port, AF_UNSPEC, out, n, why);
	if (strstr(config_str("smtp_host_lookup"), "dns") == NULL)
		return dns_lookup_native(host, port,
		    v4 && v6 ? AF_UNSPEC
		    : v4     ? AF_INET
			     : AF_INET6,
		    out, n, why);
	for (int pass = 0; pass < 2; pass++) {
		int family = pass == 0 ? AF_INET6 : AF_INET;

		if ((family == AF_INET && !v4) || (family == AF_INET6 && !v6))
			continue;
		st = dns_lookup_family(host, family, port, &part, &npart, why);
		if (st == DNS_OK) {
			dns_append(out, n, part, npart);
			free(part);
		} else if (st == DNS_NOTFOUND) {
			break;
		} else if (st != DNS_NODATA) {
			retry = true;
		}
	}
	if (*n)
		return DNS_OK;
	if (retry)
		return DNS_RETRY;
	if (why->len == 0)
		buf_printf(why,
		    "Host or domain name not found. Name service error for name=%s "
		    "type=A: Host not found",
		    host);
	return DNS_NOTFOUND;
}

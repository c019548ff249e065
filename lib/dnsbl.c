/*
 * dnsbl.c - DNSBL query names and answer filters (see dnsbl.h).
 */
#include <errno.h>
#include "dnsbl.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

bool dnsbl_query_name(const char *addr, const char *zone, struct buf *out)
{
	unsigned char b[16];

	buf_reset(out);
	if (inet_pton(AF_INET, addr, b) == 1) {
		buf_printf(out, "%u.%u.%u.%u.%s", b[3], b[2], b[1], b[0], zone);
		return true;
	}
	if (inet_pton(AF_INET6, addr, b) == 1) {
		for (int i = 15; i >= 0; i--)
			buf_printf(out, "%x.%x.", b[i] & 0xf, b[i] >> 4);
		buf_puts(out, zone);
		return true;
	}
	return false;
}

bool dnsbl_domain_query_name(const char *domain, const char *zone, struct buf *out)
{
	size_t n = strlen(domain);

	buf_reset(out);
	if (n > 0 && domain[n - 1] == '.')
		n--;
	if (n == 0 || domain[0] == '[' || domain[0] == '.' || memmem(domain, n, "..", 2) ||
	    n + 1 + strlen(zone) > 253)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)domain[i] <= ' ' || domain[i] == 127)
			return false;
	buf_printf(out, "%.*s.%s", (int)n, domain, zone);
	return true;
}

/* A decimal 0..255 at *p; advances *p.  -1 when there is none. */
static int dnsbl_octet(const char **p)
{
	long v = 0;
	int digits = 0;

	while (**p >= '0' && **p <= '9' && digits < 4) {
		v = v * 10 + (**p - '0');
		(*p)++;
		digits++;
	}
	return digits == 0 || digits > 3 || v > 255 ? -1 : (int)v;
}

/* One filter octet at *p against value v: 1 match, 0 no, -1 malformed. */
static int dnsbl_octet_match(const char **p, int v)
{
	int lo, hi, hit = 0;

	if (**p != '[') {
		lo = dnsbl_octet(p);
		return lo < 0 ? -1 : lo == v;
	}
	(*p)++;
	for (;;) {
		lo = dnsbl_octet(p);
		hi = lo;
		if (lo >= 0 && strncmp(*p, "..", 2) == 0) {
			*p += 2;
			hi = dnsbl_octet(p);
		}
		if (lo < 0 || hi < lo)
			return -1;
		hit |= v >= lo && v <= hi;
		if (**p == ']') {
			(*p)++;
			return hit;
		}
		if (**p != ';')
			return -1;
		(*p)++;
	}
}

/* 1 match, 0 no match, -1 the filter is malformed (answer NULL: syntax
 * only, every octet taken as 0). */
static int dnsbl_filter(const char *filter, const char *answer)
{
	unsigned char b[4] = {0, 0, 0, 0};
	const char *p = filter;
	int all = 1;

	if (answer && inet_pton(AF_INET, answer, b) != 1)
		return 0;
	for (int i = 0; i < 4; i++) {
		int m = dnsbl_octet_match(&p, b[i]);

		if (m < 0)
			return -1;
		all &= m;
		if (i < 3 && *p++ != '.')
			return -1;
	}
	return *p == '\0' ? all : -1;
}

bool dnsbl_site_parse(const char *site, char **zone, char **filter)
{
	const char *eq = strchr(site, '=');

	*zone = eq ? xmemdup(site, (size_t)(eq - site)) : xstrdup(site);
	*filter = eq ? xstrdup(eq + 1) : NULL;
	if (**zone == '\0' || (*filter && dnsbl_filter(*filter, NULL) < 0)) {
		free(*zone);
		free(*filter);
		*zone = *filter = NULL;
		return false;
	}
	return true;
}

bool dnsbl_weighted_site_parse(const char *site, char **zone, char **filter, int *weight)
{
	const char *star = strrchr(site, '*');
	char *head, *end;
	long w = 1;
	bool ok;

	if (star) {
		errno = 0;
		w = strtol(star + 1, &end, 10);
		if (star[1] == '\0' || *end != '\0' || errno || w < -1000000 || w > 1000000) {
			*zone = *filter = NULL;
			return false;
		}
	}
	head = star ? xmemdup(site, (size_t)(star - site)) : xstrdup(site);
	ok = dnsbl_site_parse(head, zone, filter);
	free(head);
	*weight = (int)w;
	return ok;
}

bool dnsbl_filter_match(const char *filter, const char *answer)
{
	return filter == NULL || dnsbl_filter(filter, answer) == 1;
}

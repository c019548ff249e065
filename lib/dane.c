/*
 * dane.c - TLSA records: the answer parser and the look-up (dane.h).
 *
 * The parser walks the message itself: c-ares 1.18 has no TLSA parser.
 * Names are skipped with ares_expand_name, which bounds compression
 * pointers; every length is checked against the end of the message.
 */
#include "dane.h"

#include <ares.h>
#include <arpa/nameser.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define DNS_T_TLSA 52

bool dane_tlsa_usable(uint8_t usage, uint8_t selector, uint8_t mtype, size_t len)
{
	if (usage != 2 && usage != 3)
		return false;
	if (selector > 1)
		return false;
	switch (mtype) {
	case 0: return len > 0 && len <= DANE_TLSA_DATA_MAX;
	case 1: return len == 32;
	case 2: return len == 64;
	default: return false;
	}
}

/* Skips a name at *p; false when it is malformed. */
static bool dane_skip_name(const unsigned char **p, const unsigned char *ans, int len)
{
	char *name;
	long enc;

	if (ares_expand_name(*p, ans, len, &name, &enc) != ARES_SUCCESS)
		return false;
	ares_free_string(name);
	*p += enc;
	return true;
}

static void dane_tlsa_add(struct dane_tlsa_set *set, const unsigned char *rd, size_t rdlen)
{
	struct dane_tlsa *r;

	if (rdlen < 4 || !dane_tlsa_usable(rd[0], rd[1], rd[2], rdlen - 3) ||
	    set->n == DANE_TLSA_MAX) {
		set->unusable++;
		return;
	}
	if (set->rr == NULL)
		set->rr = xcalloc(DANE_TLSA_MAX, sizeof(*set->rr));
	r = &set->rr[set->n++];
	r->usage = rd[0];
	r->selector = rd[1];
	r->mtype = rd[2];
	r->len = rdlen - 3;
	r->data = (unsigned char *)xmemdup(rd + 3, r->len);
}

enum dns_status dane_tlsa_from_answer(const unsigned char *ans, int len, struct dane_tlsa_set *set)
{
	const unsigned char *p = ans + 12, *end = ans + len;
	int qd, an;

	memset(set, 0, sizeof(*set));
	if (len < 12)
		return DNS_FAIL;
	qd = ans[4] << 8 | ans[5];
	an = ans[6] << 8 | ans[7];
	for (int i = 0; i < qd; i++) {
		if (!dane_skip_name(&p, ans, len) || end - p < 4) {
			dane_tlsa_free(set);
			return DNS_FAIL;
		}
		p += 4;
	}
	for (int i = 0; i < an; i++) {
		int type, rdlen;

		if (!dane_skip_name(&p, ans, len) || end - p < 10) {
			dane_tlsa_free(set);
			return DNS_FAIL;
		}
		type = p[0] << 8 | p[1];
		rdlen = p[8] << 8 | p[9];
		p += 10;
		if (end - p < rdlen) {
			dane_tlsa_free(set);
			return DNS_FAIL;
		}
		if (type == DNS_T_TLSA && (p[-8] << 8 | p[-7]) == ns_c_in)
			dane_tlsa_add(set, p, (size_t)rdlen);
		p += rdlen;
	}
	return set->n + set->unusable > 0 ? DNS_OK : DNS_NODATA;
}

void dane_tlsa_free(struct dane_tlsa_set *set)
{
	for (size_t i = 0; i < set->n; i++)
		free(set->rr[i].data);
	free(set->rr);
	memset(set, 0, sizeof(*set));
}

enum dns_status dane_tlsa_lookup(
    const char *host, int port, struct dane_tlsa_set *set, bool *secure, struct buf *why)
{
	char name[300];
	unsigned char *ans = NULL;
	int len = 0;
	enum dns_status st;

	memset(set, 0, sizeof(*set));
	*secure = false;
	snprintf(name, sizeof(name), "_%d._tcp.%s", port, host);
	st = dns_query_dnssec(name, DNS_T_TLSA, &ans, &len, secure, why);
	if (st == DNS_OK) {
		st = dane_tlsa_from_answer(ans, len, set);
		if (st == DNS_FAIL)
			buf_printf(why, "malformed TLSA answer for %s", name);
	}
	strlcpy(set->base, host, sizeof(set->base));
	free(ans);
	return st;
}

/* ------------------------------------------- a certificate against TLSA */

bool dane_tlsa_digest(X509 *cert, uint8_t selector, uint8_t mtype, unsigned char *out, size_t *len)
{
	unsigned char *der = NULL;
	int n = selector == 0 ? i2d_X509(cert, &der)
			      : i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &der);
	bool ok = n > 0;

	if (ok && mtype == 0) {
		ok = (size_t)n <= DANE_TLSA_DATA_MAX;
		if (ok) {
			memcpy(out, der, (size_t)n);
			*len = (size_t)n;
		}
	} else if (ok) {
		unsigned int mdlen = 0;

		ok = EVP_Digest(der, (size_t)n, out, &mdlen,
			 mtype == 1 ? EVP_sha256() : EVP_sha512(), NULL) == 1;
		*len = mdlen;
	}
	OPENSSL_free(der);
	return ok;
}

bool dane_tlsa_matches(const struct dane_tlsa_set *set, X509 *const *chain, size_t n)
{
	unsigned char md[DANE_TLSA_DATA_MAX];
	size_t len;

	for (size_t i = 0; i < set->n; i++) {
		const struct dane_tlsa *r = &set->rr[i];

		/* DANE-EE: the server's own certificate; DANE-TA: one above it. */
		for (size_t k = r->usage == 3 ? 0 : 1; k < (r->usage == 3 ? 1 : n); k++)
			if (dane_tlsa_digest(chain[k], r->selector, r->mtype, md, &len) &&
			    len == r->len && memcmp(md, r->data, len) == 0)
				return true;
	}
	return false;
}

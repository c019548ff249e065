/*
 * sieve/match.c - comparators (RFC 4790) and match types (RFC 5228 2.7.1,
 * RFC 5231 relational, draft-ietf-sieve-regex).
 *
 * i;octet compares bytes, i;ascii-casemap folds A-Z to a-z first,
 * i;ascii-numeric compares the decimal numbers the strings start with (a
 * string that starts with no digit is positive infinity, equal only to
 * another such string).
 *
 * :matches: "*" any run, "?" one character (a UTF-8 sequence counts as
 * one), "\" takes the next character literally.  The matcher is the
 * linear one that only ever backtracks into the last "*" seen, so a
 * hostile pattern costs at most pattern x value steps; earlier wildcards
 * therefore match as little as they can, which is also what RFC 5229's
 * match variables (${1}...) see in Pigeonhole.  :regex is POSIX extended
 * (regcomp), as in Pigeonhole, with REG_ICASE under i;ascii-casemap.
 */
#include <ctype.h>
#include <string.h>

#include "sieve/sieve_int.h"
#include "util.h"

void sv_captures_clear(struct sv_captures *c)
{
	for (int i = 0; i < SV_MATCH_VARS; i++) {
		free(c->v[i]);
		c->v[i] = NULL;
	}
	c->set = false;
}

static int sv_fold(int c, bool casemap)
{
	return casemap && c >= 'A' && c <= 'Z' ? c + 32 : c;
}

/* Bytes of the UTF-8 character at s (1 for anything invalid). */
static size_t sv_utf8_len(const char *s, size_t left)
{
	unsigned char c = (unsigned char)s[0];
	size_t n = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;

	if (n > left)
		return 1;
	for (size_t i = 1; i < n; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			return 1;
	return n;
}

bool sv_glob(const char *pat, size_t plen, const char *s, size_t slen, bool casemap,
    struct sv_captures *caps)
{
	size_t p = 0, i = 0, star_p = (size_t)-1, star_i = 0;
	size_t cs[SV_MATCH_VARS + 1], ce[SV_MATCH_VARS + 1];
	int nw = 0, star_w = -1;

	/* wildcard k's capture is s[cs[k], ce[k]) */
	for (;;) {
		if (p < plen && pat[p] == '*') {
			star_p = p++;
			star_i = i;
			star_w = nw;
			if (nw < SV_MATCH_VARS)
				cs[nw] = ce[nw] = i;
			nw++;
			continue;
		}
		if (i >= slen) {
			if (p >= plen)
				break;
			goto backtrack;
		}
		if (p < plen && pat[p] == '?') {
			size_t n = sv_utf8_len(s + i, slen - i);

			if (nw < SV_MATCH_VARS) {
				cs[nw] = i;
				ce[nw] = i + n;
			}
			nw++;
			p++;
			i += n;
			continue;
		}
		if (p < plen) {
			size_t q = p;

			if (pat[q] == '\\' && q + 1 < plen)
				q++;
			if (sv_fold((unsigned char)pat[q], casemap) ==
			    sv_fold((unsigned char)s[i], casemap)) {
				p = q + 1;
				i++;
				continue;
			}
		}
	backtrack:
		if (star_p == (size_t)-1 || star_i >= slen)
			return false;
		star_i++;
		i = star_i;
		p = star_p + 1;
		nw = star_w + 1;
		if (star_w < SV_MATCH_VARS)
			ce[star_w] = i;
	}
	if (caps) {
		sv_captures_clear(caps);
		caps->v[0] = xmemdup(s, slen);
		for (int k = 0; k < nw && k + 1 < SV_MATCH_VARS; k++)
			caps->v[k + 1] = xmemdup(s + cs[k], ce[k] - cs[k]);
		caps->set = true;
	}
	return true;
}

/* Leading digits of s as a number with overflow to "huge"; *inf when
 * there are none. */
static void sv_numeric_value(
    const char *s, size_t len, const char **digits, size_t *ndig, bool *inf)
{
	size_t i = 0;

	while (i < len && isdigit((unsigned char)s[i]))
		i++;
	*inf = i == 0;
	*digits = s;
	*ndig = i;
	while (*ndig > 1 && **digits == '0') {
		(*digits)++;
		(*ndig)--;
	}
}

int sv_numeric_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	const char *da, *db;
	size_t na, nb;
	bool ia, ib;
	int c;

	sv_numeric_value(a, alen, &da, &na, &ia);
	sv_numeric_value(b, blen, &db, &nb, &ib);
	if (ia || ib)
		return ia == ib ? 0 : ia ? 1 : -1;
	if (na != nb)
		return na < nb ? -1 : 1;
	c = memcmp(da, db, na);
	return c < 0 ? -1 : c > 0;
}

/* Ordering under the comparator, for :value and :is. */
static int sv_cmp(int cmp, const char *a, size_t alen, const char *b, size_t blen)
{
	size_t n = alen < blen ? alen : blen;

	if (cmp == SV_CMP_NUMERIC)
		return sv_numeric_cmp(a, alen, b, blen);
	for (size_t i = 0; i < n; i++) {
		int x = sv_fold((unsigned char)a[i], cmp == SV_CMP_CASEMAP);
		int y = sv_fold((unsigned char)b[i], cmp == SV_CMP_CASEMAP);

		if (x != y)
			return x < y ? -1 : 1;
	}
	return alen == blen ? 0 : alen < blen ? -1 : 1;
}

static bool sv_rel(int relop, int c)
{
	switch (relop) {
	case SV_REL_GT: return c > 0;
	case SV_REL_GE: return c >= 0;
	case SV_REL_LT: return c < 0;
	case SV_REL_LE: return c <= 0;
	case SV_REL_EQ: return c == 0;
	default: return c != 0;
	}
}

static bool sv_contains(const char *h, size_t hlen, const char *n, size_t nlen, bool casemap)
{
	if (nlen == 0)
		return true;
	for (size_t i = 0; i + nlen <= hlen; i++) {
		size_t j = 0;

		while (j < nlen && sv_fold((unsigned char)h[i + j], casemap) ==
				       sv_fold((unsigned char)n[j], casemap))
			j++;
		if (j == nlen)
			return true;
	}
	return false;
}

int sv_regex_compile(regex_t *rx, const char *key, int cmp)
{
	return regcomp(rx, key, REG_EXTENDED | (cmp == SV_CMP_CASEMAP ? REG_ICASE : 0));
}

static bool sv_regex(const regex_t *rx, const char *val, size_t vlen, struct sv_captures *caps)
{
	regmatch_t m[SV_MATCH_VARS];
	char *s = xmemdup(val, vlen);
	bool ok = regexec(rx, s, SV_MATCH_VARS, m, 0) == 0;

	if (ok && caps) {
		sv_captures_clear(caps);
		for (int i = 0; i < SV_MATCH_VARS; i++)
			if (m[i].rm_so >= 0)
				caps->v[i] =
				    xmemdup(s + m[i].rm_so, (size_t)(m[i].rm_eo - m[i].rm_so));
		caps->set = true;
	}
	free(s);
	return ok;
}

bool sv_match_one(const struct sv_node *n, size_t key_index, const char *val, size_t vlen,
    const char *key, struct sv_captures *caps)
{
	size_t klen = strlen(key);
	bool casemap = n->cmp == SV_CMP_CASEMAP;

	switch (n->match) {
	case SV_TAG_CONTAINS: return sv_contains(val, vlen, key, klen, casemap);
	case SV_TAG_MATCHES: return sv_glob(key, klen, val, vlen, casemap, caps);
	case SV_TAG_VALUE: return sv_rel(n->relop, sv_cmp(n->cmp, val, vlen, key, klen));
	case SV_TAG_REGEX: {
		regex_t rx;
		bool ok;

		if (n->rx && key_index < n->nrx)
			return sv_regex(&n->rx[key_index], val, vlen, caps);
		if (sv_regex_compile(&rx, key, n->cmp) != 0)
			return false;
		ok = sv_regex(&rx, val, vlen, caps);
		regfree(&rx);
		return ok;
	}
	default: return sv_cmp(n->cmp, val, vlen, key, klen) == 0;
	}
}

bool sv_match_count(const struct sv_node *n, size_t count, const char *key)
{
	char num[32];
	int len = snprintf(num, sizeof(num), "%zu", count);

	/* RFC 5231 4.2: the count is compared with the comparator given
	 * (i;ascii-numeric makes sense; others compare the digits as text). */
	return sv_rel(n->relop, sv_cmp(n->cmp, num, (size_t)len, key, strlen(key)));
}

/*
 * dmarc.c - the DMARC record (RFC 7489 6.3, DMARCbis), the organisational
 * domain from the Public Suffix List, and alignment.
 *
 * The record: "v=DMARC1" first, then tag=value pairs separated by ';'
 * with blanks around both allowed; tags compared without case; unknown
 * tags ignored (6.3: for extensions); p= must be none, quarantine or
 * reject, and a record without p= is taken as p=none (DMARCbis 4.7);
 * a bad sp=/np= value falls back to p= (RFC 7489 6.6.3 says invalid
 * values are ignored); pct= 0..100 (default 100); adkim=/aspf= r or s.
 *
 * The list: rules one a line, "//" comments, "*." wildcards and "!"
 * exceptions (the list's own format), kept sorted for bsearch.  The
 * public suffix of a name is its longest matching rule (an exception
 * wins and gives one label less; no match is the last label, the "*"
 * default rule); the organisational domain is that plus one label.
 */
#include "msgauth/dmarc.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util.h"

#define DMARC_PSL_PATH "/usr/share/publicsuffix/public_suffix_list.dat"

static char **psl_rules;
static size_t psl_n;
static bool psl_loaded;

static const char *policy_names[] = {"unset", "none", "quarantine", "reject"};
static const char *result_names[] = {"none", "pass", "fail", "temperror", "permerror"};

const char *dmarc_policy_name(enum dmarc_policy p)
{
	return policy_names[p];
}

const char *dmarc_result_name(enum dmarc_result r)
{
	return result_names[r];
}

static bool dmarc_policy_parse(const char *v, size_t n, enum dmarc_policy *out)
{
	for (int p = DMARC_P_NONE; p <= DMARC_P_REJECT; p++) {
		if (strlen(policy_names[p]) == n && strncasecmp(v, policy_names[p], n) == 0) {
			*out = (enum dmarc_policy)p;
			return true;
		}
	}
	return false;
}

static bool dmarc_is(const char *v, size_t n, const char *word)
{
	return strlen(word) == n && strncasecmp(v, word, n) == 0;
}

/* One tag=value (trimmed); false: the record is broken. */
static bool dmarc_tag(
    struct dmarc_record *r, const char *name, size_t nl, const char *v, size_t vl, struct buf *err)
{
	if (dmarc_is(name, nl, "p")) {
		if (!dmarc_policy_parse(v, vl, &r->p)) {
			buf_puts(err, "bad p= value");
			return false;
		}
	} else if (dmarc_is(name, nl, "sp")) {
		(void)dmarc_policy_parse(v, vl, &r->sp);
	} else if (dmarc_is(name, nl, "np")) {
		(void)dmarc_policy_parse(v, vl, &r->np);
	} else if (dmarc_is(name, nl, "adkim") || dmarc_is(name, nl, "aspf")) {
		bool *strict =
		    name[1] == 'd' || name[1] == 'D' ? &r->adkim_strict : &r->aspf_strict;
		if (dmarc_is(v, vl, "s"))
			*strict = true;
		else if (!dmarc_is(v, vl, "r")) {
			buf_puts(err, "bad adkim=/aspf= value");
			return false;
		}
	} else if (dmarc_is(name, nl, "pct")) {
		int pct = 0;
		if (vl == 0 || vl > 3)
			return buf_puts(err, "bad pct= value"), false;
		for (size_t i = 0; i < vl; i++) {
			if (!isdigit((unsigned char)v[i]))
				return buf_puts(err, "bad pct= value"), false;
			pct = pct * 10 + (v[i] - '0');
		}
		if (pct > 100)
			return buf_puts(err, "bad pct= value"), false;
		r->pct = pct;
	} else if (dmarc_is(name, nl, "t")) {
		r->testing = dmarc_is(v, vl, "y");
	} else if (dmarc_is(name, nl, "rua")) {
		if (vl < sizeof(r->rua)) {
			memcpy(r->rua, v, vl);
			r->rua[vl] = 0;
		}
	} else if (dmarc_is(name, nl, "psd")) {
		/* RFC 9989 4.7: y, n or u (the default); others ignored */
		r->psd = dmarc_is(v, vl, "y")	? DMARC_PSD_Y
			 : dmarc_is(v, vl, "n") ? DMARC_PSD_N
						: DMARC_PSD_U;
	}
	return true;
}

static void dmarc_trim(const char **p, size_t *n)
{
	while (*n > 0 && isspace((unsigned char)**p))
		(*p)++, (*n)--;
	while (*n > 0 && isspace((unsigned char)(*p)[*n - 1]))
		(*n)--;
}

int dmarc_record_parse(const char *txt, size_t len, struct dmarc_record *out, struct buf *err)
{
	size_t i = 0;
	bool first = true;

	memset(out, 0, sizeof(*out));
	out->pct = 100;
	while (i <= len) {
		const char *seg = txt + i, *eq;
		size_t n = 0;
		while (i + n < len && txt[i + n] != ';')
			n++;
		i += n + 1;
		dmarc_trim(&seg, &n);
		if (n == 0) {
			if (first)
				break;
			continue;
		}
		eq = memchr(seg, '=', n);
		if (eq == NULL) {
			buf_puts(err, "a tag without '='");
			return -1;
		}
		const char *name = seg, *v = eq + 1;
		size_t nl = (size_t)(eq - seg), vl = n - nl - 1;
		dmarc_trim(&name, &nl);
		dmarc_trim(&v, &vl);
		if (first) {
			if (!dmarc_is(name, nl, "v") ||
			    !(vl == 6 && strncmp(v, "DMARC1", 6) == 0)) {
				buf_puts(err, "not v=DMARC1 first");
				return -1;
			}
			first = false;
			continue;
		}
		if (!dmarc_tag(out, name, nl, v, vl, err))
			return -1;
	}
	if (first) {
		buf_puts(err, "not v=DMARC1 first");
		return -1;
	}
	if (out->p == DMARC_P_UNSET)
		out->p = DMARC_P_NONE;
	return 0;
}

static int psl_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void dmarc_psl_load(const char *path)
{
	FILE *f = fopen(path ? path : DMARC_PSL_PATH, "r");
	char line[512];

	psl_loaded = true;
	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f)) {
		size_t n = strcspn(line, " \t\r\n");
		line[n] = 0;
		if (n == 0 || strncmp(line, "//", 2) == 0)
			continue;
		for (size_t i = 0; i < n; i++)
			line[i] = (char)tolower((unsigned char)line[i]);
		psl_rules = xreallocarray(psl_rules, psl_n + 1, sizeof(*psl_rules));
		psl_rules[psl_n++] = xstrdup(line);
	}
	fclose(f);
	if (psl_n > 1)
		qsort(psl_rules, psl_n, sizeof(*psl_rules), psl_cmp);
}

static bool psl_has(const char *rule)
{
	return psl_n > 0 && bsearch(&rule, psl_rules, psl_n, sizeof(*psl_rules), psl_cmp) != NULL;
}

/* Labels in the public suffix of name (lower case, no final dot). */
static size_t psl_suffix_labels(const char *name)
{
	size_t starts[128], n = 0, best = 1;

	starts[n++] = 0;
	for (size_t i = 0; name[i] && n < 128; i++)
		if (name[i] == '.' && name[i + 1])
			starts[n++] = i + 1;
	for (size_t k = 1; k <= n; k++) {
		const char *suffix = name + starts[n - k];
		char *rule = xasprintf("!%s", suffix);
		bool exception = psl_has(rule);

		free(rule);
		if (exception) /* the exception rule less its first label */
			return k - 1;
		if (psl_has(suffix))
			best = k;
		if (k >= 2) {
			rule = xasprintf("*.%s", name + starts[n - k + 1]);
			if (psl_has(rule))
				best = k;
			free(rule);
		}
	}
	return best;
}

char *dmarc_org_domain(const char *name)
{
	char *low = xstrdup(name);
	size_t len = strlen(low), labels = 1, want;
	const char *p;

	if (!psl_loaded)
		dmarc_psl_load(NULL);
	if (len > 0 && low[len - 1] == '.')
		low[--len] = 0;
	for (size_t i = 0; i < len; i++) {
		low[i] = (char)tolower((unsigned char)low[i]);
		labels += low[i] == '.';
	}
	if (psl_n == 0)
		return low;
	want = psl_suffix_labels(low) + 1;
	if (want >= labels)
		return low;
	p = low + len;
	for (size_t k = 0; k < want; k++) {
		p--;
		while (p > low && p[-1] != '.')
			p--;
	}
	memmove(low, p, strlen(p) + 1);
	return low;
}

bool dmarc_aligned(const char *a, const char *b, bool strict)
{
	char *oa, *ob;
	bool same;

	if (a == NULL || b == NULL)
		return false;
	if (strict)
		return strcasecmp(a, b) == 0 ||
		       (strlen(a) > 0 && a[strlen(a) - 1] == '.' &&
			   strncasecmp(a, b, strlen(a) - 1) == 0 && strlen(b) == strlen(a) - 1);
	oa = dmarc_org_domain(a);
	ob = dmarc_org_domain(b);
	same = strcmp(oa, ob) == 0;
	free(oa);
	free(ob);
	return same;
}

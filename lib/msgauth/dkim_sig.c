/*
 * dkim_sig.c - the tag=value lists of DKIM (RFC 6376 3.2): DKIM-Signature
 * header fields (3.5) and key records (3.6.1).
 *
 * Pure functions over the bytes, fuzzed (tests/fuzz/fuzz_dkim_sig.c).
 * Tag names are ALPHA *(ALPHA / DIGIT / "_"); values lose the white space
 * around them; a tag given twice makes the list invalid; unknown tags are
 * ignored.  Base64 values (b=, bh=, p=) may hold folding white space,
 * which is dropped before the strict decoder (lib/auth/sasl.h) reads them.
 */
#include <string.h>
#include <strings.h>

#include "auth/sasl.h"
#include "msgauth/dkim.h"
#include "msgauth/dkim_int.h"
#include "util.h"

struct dkim_tag {
	char *name;
	char *value;
};

static bool dkim_wsp(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static void dkim_tags_free(struct dkim_tag *t, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(t[i].name);
		free(t[i].value);
	}
	free(t);
}

/* The list's tags; -1 on a syntax error or a repeated tag. */
static int dkim_tags_parse(const char *s, size_t len, struct dkim_tag **out, size_t *n)
{
	struct dkim_tag *t = NULL;
	size_t count = 0, i = 0;

	while (i < len) {
		size_t seg = i, end, a, b;
		while (i < len && s[i] != ';')
			i++;
		end = i++;
		for (a = seg; a < end && dkim_wsp(s[a]); a++)
			;
		if (a == end) { /* empty: only allowed as the trailing ";" */
			if (end < len)
				goto bad;
			break;
		}
		const char *eq = memchr(s + a, '=', end - a);
		if (eq == NULL)
			goto bad;
		for (b = (size_t)(eq - s); b > a && dkim_wsp(s[b - 1]); b--)
			;
		if (b == a || !((s[a] >= 'a' && s[a] <= 'z') || (s[a] >= 'A' && s[a] <= 'Z')))
			goto bad;
		for (size_t k = a; k < b; k++)
			if (!(s[k] == '_' || (s[k] >= '0' && s[k] <= '9') ||
				(s[k] >= 'a' && s[k] <= 'z') || (s[k] >= 'A' && s[k] <= 'Z')))
				goto bad;
		size_t va = (size_t)(eq - s) + 1, vb = end;
		while (va < vb && dkim_wsp(s[va]))
			va++;
		while (vb > va && dkim_wsp(s[vb - 1]))
			vb--;
		for (size_t k = va; k < vb; k++)
			if (!dkim_wsp(s[k]) &&
			    ((unsigned char)s[k] < 0x21 || (unsigned char)s[k] > 0x7e))
				goto bad;
		for (size_t k = 0; k < count; k++)
			if (strlen(t[k].name) == b - a && strncmp(t[k].name, s + a, b - a) == 0)
				goto bad;
		t = xreallocarray(t, count + 1, sizeof(*t));
		t[count].name = xstrndup(s + a, b - a);
		t[count++].value = xstrndup(s + va, vb - va);
	}
	*out = t;
	*n = count;
	return 0;
bad:
	dkim_tags_free(t, count);
	return -1;
}

static const char *dkim_tag(const struct dkim_tag *t, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(t[i].name, name) == 0)
			return t[i].value;
	return NULL;
}

/* Base64 with white space in it; false when malformed. */
static bool dkim_base64(const char *v, struct buf *out)
{
	struct buf clean = BUF_INIT;
	bool ok;

	for (; *v; v++)
		if (!dkim_wsp(*v))
			buf_putc(&clean, *v);
	ok = clean.len == 0 ? (buf_reset(out), true)
			    : sasl_base64_decode(clean.data, clean.len, out) == 0;
	buf_free(&clean);
	return ok;
}

static bool dkim_number(const char *v, long long *out)
{
	long long n = 0;

	if (*v == 0 || strlen(v) > 18)
		return false;
	for (; *v; v++) {
		if (*v < '0' || *v > '9')
			return false;
		n = n * 10 + (*v - '0');
	}
	*out = n;
	return true;
}

/* Is the domain of i (after its "@") d or under it? */
static bool dkim_identity_ok(const char *i, const char *d)
{
	const char *at = strrchr(i, '@');
	size_t n, dl = strlen(d);

	if (at == NULL)
		return false;
	at++;
	n = strlen(at);
	if (n == dl)
		return strcasecmp(at, d) == 0;
	return n > dl && at[n - dl - 1] == '.' && strcasecmp(at + n - dl, d) == 0;
}

static bool dkim_sig_canon(const char *c, struct dkim_sig *s)
{
	const char *slash = c ? strchr(c, '/') : NULL;
	size_t hl = slash ? (size_t)(slash - c) : c ? strlen(c) : 0;

	s->hcanon = s->bcanon = DKIM_SIMPLE;
	if (c == NULL)
		return true;
	if (hl == 7 && strncasecmp(c, "relaxed", 7) == 0)
		s->hcanon = DKIM_RELAXED;
	else if (!(hl == 6 && strncasecmp(c, "simple", 6) == 0))
		return false;
	if (slash == NULL)
		return true;
	if (strcasecmp(slash + 1, "relaxed") == 0)
		s->bcanon = DKIM_RELAXED;
	else if (strcasecmp(slash + 1, "simple") != 0)
		return false;
	return true;
}

static bool dkim_sig_headers(const char *h, struct dkim_sig *s)
{
	char **v = strv_split(h, ":");
	bool from = false;

	for (char **p = v; *p; p++) {
		char *name = str_trim(*p);
		if (*name == 0)
			continue;
		from = from || strcasecmp(name, "from") == 0;
		s->h = xreallocarray(s->h, s->nh + 1, sizeof(*s->h));
		s->h[s->nh++] = xstrdup(name);
	}
	strv_free(v);
	return from;
}

/* An ARC instance: 1..ARC_MAX_INSTANCE. */
static bool dkim_instance(const char *v, int *out)
{
	long long n;

	if (v == NULL || !dkim_number(v, &n) || n < 1 || n > ARC_MAX_INSTANCE)
		return false;
	*out = (int)n;
	return true;
}

/* cv= of an ARC-Seal (RFC 8617 4.1.3). */
static bool dkim_cv(const char *v, enum arc_cv *out)
{
	if (v == NULL)
		return false;
	if (strcasecmp(v, "none") == 0)
		*out = ARC_CV_NONE;
	else if (strcasecmp(v, "pass") == 0)
		*out = ARC_CV_PASS;
	else if (strcasecmp(v, "fail") == 0)
		*out = ARC_CV_FAIL;
	else
		return false;
	return true;
}

/* Fills s from the tags as kind reads them; the problem, or NULL.  ARC's
 * fields have no v=, i= is the instance, c= is relaxed/relaxed when
 * absent; an ARC-Seal has no h= and no bh=, and a cv=. */
static const char *dkim_sig_fill(
    const struct dkim_tag *t, size_t n, enum dkim_kind kind, struct dkim_sig *s)
{
	const char *v = dkim_tag(t, n, "v"), *a = dkim_tag(t, n, "a"), *x;
	bool arc = kind != DKIM_KIND_SIG;

	if (!arc && (v == NULL || strcmp(v, "1") != 0))
		return "v= is not 1";
	if (arc && !dkim_instance(dkim_tag(t, n, "i"), &s->instance))
		return "bad i= (an instance 1 to 50)";
	if (kind == DKIM_KIND_SEAL && !dkim_cv(dkim_tag(t, n, "cv"), &s->cv))
		return "bad cv=";
	if (a == NULL)
		return "no a=";
	if (strcasecmp(a, "rsa-sha256") == 0)
		s->alg = DKIM_RSA_SHA256;
	else if (strcasecmp(a, "ed25519-sha256") == 0)
		s->alg = DKIM_ED25519_SHA256;
	else if (strcasecmp(a, "rsa-sha1") == 0)
		return "rsa-sha1 is not accepted (RFC 8301)";
	else
		return "unknown a=";
	if ((x = dkim_tag(t, n, "b")) == NULL || !dkim_base64(x, &s->b) || s->b.len == 0)
		return "bad b=";
	if (kind != DKIM_KIND_SEAL &&
	    ((x = dkim_tag(t, n, "bh")) == NULL || !dkim_base64(x, &s->bh) || s->bh.len != 32))
		return "bad bh=";
	x = dkim_tag(t, n, "c");
	if (arc && x == NULL)
		x = "relaxed/relaxed";
	if (!dkim_sig_canon(x, s))
		return "bad c=";
	if ((x = dkim_tag(t, n, "d")) == NULL || *x == 0)
		return "no d=";
	s->d = xstrdup(x);
	if ((x = dkim_tag(t, n, "s")) == NULL || *x == 0)
		return "no s=";
	s->s = xstrdup(x);
	x = dkim_tag(t, n, "h");
	if (kind == DKIM_KIND_SEAL) {
		if (x != NULL)
			return "h= in an ARC-Seal";
	} else if (x == NULL || (!dkim_sig_headers(x, s) && !arc)) {
		return "h= does not name From";
	}
	for (size_t k = 0; kind == DKIM_KIND_AMS && k < s->nh; k++)
		if (strcasecmp(s->h[k], "arc-seal") == 0)
			return "h= names ARC-Seal";
	if (arc) {
		s->i = xasprintf("@%s", s->d);
	} else {
		x = dkim_tag(t, n, "i");
		s->i = x ? xstrdup(x) : xasprintf("@%s", s->d);
		if (!dkim_identity_ok(s->i, s->d))
			return "i= is not in d=";
	}
	if ((x = dkim_tag(t, n, "l")) != NULL && !dkim_number(x, &s->l))
		return "bad l=";
	if ((x = dkim_tag(t, n, "q")) != NULL && strstr(x, "dns/txt") == NULL)
		return "q= without dns/txt";
	if ((x = dkim_tag(t, n, "t")) != NULL && !dkim_number(x, &s->t))
		return "bad t=";
	if ((x = dkim_tag(t, n, "x")) != NULL && !dkim_number(x, &s->x))
		return "bad x=";
	if (s->x >= 0 && s->t >= 0 && s->x < s->t)
		return "x= before t=";
	return NULL;
}

int dkim_sig_parse(const char *value, size_t len, struct dkim_sig *out, struct buf *err)
{
	return dkim_sig_parse_kind(value, len, DKIM_KIND_SIG, out, err);
}

int dkim_sig_parse_kind(
    const char *value, size_t len, enum dkim_kind kind, struct dkim_sig *out, struct buf *err)
{
	struct dkim_tag *t = NULL;
	size_t n = 0;
	const char *problem;

	memset(out, 0, sizeof(*out));
	out->l = out->t = out->x = -1;
	if (dkim_tags_parse(value, len, &t, &n) < 0) {
		buf_puts(err, "bad tag list");
		return -1;
	}
	problem = dkim_sig_fill(t, n, kind, out);
	dkim_tags_free(t, n);
	if (problem) {
		buf_puts(err, problem);
		dkim_sig_free(out);
		return -1;
	}
	return 0;
}

void dkim_sig_free(struct dkim_sig *s)
{
	free(s->d);
	free(s->s);
	free(s->i);
	for (size_t i = 0; i < s->nh; i++)
		free(s->h[i]);
	free(s->h);
	buf_free(&s->b);
	buf_free(&s->bh);
	memset(s, 0, sizeof(*s));
}

/* A colon-separated list holding word (or "*" when star). */
static bool dkim_list_has(const char *list, const char *word, bool star)
{
	char **v = strv_split(list, ":");
	bool found = false;

	for (char **p = v; *p && !found; p++) {
		char *w = str_trim(*p);
		found = strcasecmp(w, word) == 0 || (star && strcmp(w, "*") == 0);
	}
	strv_free(v);
	return found;
}

int dkim_key_parse(const char *txt, size_t len, struct dkim_key *out, struct buf *err)
{
	struct dkim_tag *t = NULL;
	size_t n = 0;
	const char *v, *problem = NULL;

	memset(out, 0, sizeof(*out));
	if (dkim_tags_parse(txt, len, &t, &n) < 0) {
		buf_puts(err, "bad key record");
		return -1;
	}
	if ((v = dkim_tag(t, n, "v")) != NULL &&
	    (strcmp(t[0].name, "v") != 0 || strcmp(v, "DKIM1")))
		problem = "v= is not DKIM1 first";
	else if ((v = dkim_tag(t, n, "k")) != NULL && strcasecmp(v, "rsa") != 0 &&
		 strcasecmp(v, "ed25519") != 0)
		problem = "unknown k=";
	else if ((v = dkim_tag(t, n, "p")) == NULL || !dkim_base64(v, &out->p))
		problem = "bad p=";
	else if ((v = dkim_tag(t, n, "s")) != NULL && !dkim_list_has(v, "email", true))
		problem = "s= excludes email";
	if (problem == NULL) {
		v = dkim_tag(t, n, "k");
		out->ed25519 = v != NULL && strcasecmp(v, "ed25519") == 0;
		v = dkim_tag(t, n, "h");
		out->sha256_ok = v == NULL || dkim_list_has(v, "sha256", false);
		v = dkim_tag(t, n, "t");
		out->testing = v != NULL && dkim_list_has(v, "y", false);
		out->strict = v != NULL && dkim_list_has(v, "s", false);
	}
	dkim_tags_free(t, n);
	if (problem) {
		buf_puts(err, problem);
		dkim_key_free(out);
		return -1;
	}
	return 0;
}

void dkim_key_free(struct dkim_key *k)
{
	buf_free(&k->p);
	memset(k, 0, sizeof(*k));
}

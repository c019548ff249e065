/*
 * mtasts.c - MTA-STS record, policy and MX pattern handling (mtasts.h).
 *
 * Strict where RFC 8461 is strict (the version, the mode words, max_age
 * digits, the id's characters), lenient where it says so (unknown fields,
 * white space around values), and bounded everywhere: a policy is a
 * hostile document fetched from the network.
 */
#include "mtasts.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/sha.h>

#include "util.h"

/* ------------------------------------------------------------ TXT record */

static const char *mtasts_skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

bool mtasts_txt_parse(const char *txt, char *id)
{
	const char *p = mtasts_skip_ws(txt);
	bool have_id = false;

	if (strncmp(p, "v=STSv1", 7) != 0)
		return false;
	p = mtasts_skip_ws(p + 7);
	while (*p) {
		const char *field, *value;
		size_t n;

		if (*p != ';')
			return false;
		field = mtasts_skip_ws(p + 1);
		if (*field == 0)
			break; /* a final ';' */
		n = strcspn(field, "=;");
		if (field[n] != '=')
			return false;
		value = field + n + 1;
		p = value + strcspn(value, "; \t");
		if (n == 2 && strncmp(field, "id", 2) == 0 && !have_id) {
			size_t k = (size_t)(p - value);

			if (k == 0 || k > MTASTS_ID_MAX)
				return false;
			for (size_t i = 0; i < k; i++)
				if (!isalnum((unsigned char)value[i]))
					return false;
			memcpy(id, value, k);
			id[k] = 0;
			have_id = true;
		}
		p = mtasts_skip_ws(p);
	}
	return have_id;
}

/* ------------------------------------------------------------ policy */

/* A value copied without surrounding white space; NULL when empty. */
static char *mtasts_value(const char *v, size_t n)
{
	while (n && (*v == ' ' || *v == '\t')) {
		v++;
		n--;
	}
	while (n && (v[n - 1] == ' ' || v[n - 1] == '\t' || v[n - 1] == '\r'))
		n--;
	return n ? xstrndup(v, n) : NULL;
}

static bool mtasts_max_age(const char *v, long *out)
{
	long age = 0;

	if (*v == 0 || strlen(v) > 10)
		return false;
	for (const char *p = v; *p; p++) {
		if (!isdigit((unsigned char)*p))
			return false;
		age = age * 10 + (*p - '0');
	}
	if (age > MTASTS_MAX_AGE)
		return false;
	*out = age;
	return true;
}

static bool mtasts_add_mx(struct mtasts_policy *p, const char *v)
{
	size_t n = strlen(v);
	char *mx;

	if (p->nmx == MTASTS_MX_MAX || n > 255)
		return false;
	mx = xstrdup(v);
	for (char *c = mx; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	if (n > 1 && mx[n - 1] == '.')
		mx[n - 1] = 0;
	if (p->mx == NULL)
		p->mx = xcalloc(MTASTS_MX_MAX, sizeof(*p->mx));
	p->mx[p->nmx++] = mx;
	return true;
}

/* One "key: value" line; false with why on a bad value. */
static bool mtasts_field(struct mtasts_policy *p, const char *key, size_t klen, const char *val,
    bool *seen, struct buf *why)
{
	bool ok = true;

#define KEY(k) (klen == sizeof(k) - 1 && strncmp(key, k, klen) == 0)
	if (KEY("version") && !seen[0]) {
		seen[0] = true;
		if (strcmp(val, "STSv1") != 0) {
			buf_printf(why, "unknown MTA-STS policy version");
			ok = false;
		}
	} else if (KEY("mode") && !seen[1]) {
		seen[1] = true;
		if (strcmp(val, "enforce") == 0)
			p->mode = MTASTS_ENFORCE;
		else if (strcmp(val, "testing") == 0)
			p->mode = MTASTS_TESTING;
		else if (strcmp(val, "none") == 0)
			p->mode = MTASTS_NONE;
		else {
			buf_printf(why, "bad MTA-STS policy mode");
			ok = false;
		}
	} else if (KEY("max_age") && !seen[2]) {
		seen[2] = true;
		if (!mtasts_max_age(val, &p->max_age)) {
			buf_printf(why, "bad MTA-STS policy max_age");
			ok = false;
		}
	} else if (KEY("mx")) {
		if (!mtasts_add_mx(p, val)) {
			buf_printf(why, "too many or too long mx patterns in the MTA-STS policy");
			ok = false;
		}
	}
#undef KEY
	return ok;
}

bool mtasts_policy_parse(const char *text, size_t len, struct mtasts_policy *p, struct buf *why)
{
	const char *line = text, *end = text + len;
	bool seen[3] = {false, false, false}, ok = true;

	memset(p, 0, sizeof(*p));
	while (ok && line < end) {
		const char *nl = memchr(line, '\n', (size_t)(end - line));
		const char *eol = nl ? nl : end, *colon;
		char *val;

		colon = memchr(line, ':', (size_t)(eol - line));
		if (colon && colon > line && memchr(line, 0, (size_t)(eol - line)) == NULL) {
			val = mtasts_value(colon + 1, (size_t)(eol - colon - 1));
			if (val) {
				ok = mtasts_field(p, line, (size_t)(colon - line), val, seen, why);
				free(val);
			}
		}
		line = nl ? nl + 1 : end;
	}
	if (ok && !(seen[0] && seen[1] && seen[2])) {
		buf_printf(why, "MTA-STS policy without version, mode or max_age");
		ok = false;
	}
	if (ok && p->mode != MTASTS_NONE && p->nmx == 0) {
		buf_printf(why, "MTA-STS policy without mx");
		ok = false;
	}
	if (!ok)
		mtasts_policy_free(p);
	return ok;
}

void mtasts_policy_free(struct mtasts_policy *p)
{
	for (size_t i = 0; i < p->nmx; i++)
		free(p->mx[i]);
	free(p->mx);
	memset(p, 0, sizeof(*p));
}

/* ------------------------------------------------------------ MX patterns */

bool mtasts_mx_match(const struct mtasts_policy *p, const char *host)
{
	size_t n = strlen(host);

	if (n > 1 && host[n - 1] == '.')
		n--;
	for (size_t i = 0; i < p->nmx; i++) {
		const char *pat = p->mx[i];

		if (strncmp(pat, "*.", 2) == 0) {
			const char *dot = memchr(host, '.', n);
			size_t rest = dot ? n - (size_t)(dot - host) : 0;

			/* One label, not empty, then exactly the pattern's domain. */
			if (dot && dot > host && rest == strlen(pat + 1) &&
			    strncasecmp(dot, pat + 1, rest) == 0)
				return true;
		} else if (strlen(pat) == n && strncasecmp(host, pat, n) == 0) {
			return true;
		}
	}
	return false;
}

/* ------------------------------------------------------ publishing a policy */

const char *mtasts_mode_name(enum mtasts_mode mode)
{
	return mode == MTASTS_ENFORCE ? "enforce" : mode == MTASTS_TESTING ? "testing" : "none";
}

void mtasts_policy_text(
    struct buf *out, enum mtasts_mode mode, const char *const *mx, size_t nmx, long max_age)
{
	buf_printf(out, "version: STSv1\r\nmode: %s\r\n", mtasts_mode_name(mode));
	for (size_t i = 0; i < nmx; i++)
		buf_printf(out, "mx: %s\r\n", mx[i]);
	buf_printf(out, "max_age: %ld\r\n", max_age);
}

void mtasts_policy_id(const char *text, size_t len, char *id)
{
	unsigned char md[SHA256_DIGEST_LENGTH];

	SHA256((const unsigned char *)text, len, md);
	hex_encode(md, MTASTS_PUBLISH_ID_LEN / 2, id);
}

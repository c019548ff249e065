/*
 * sieve/score.c - the scores of spamtest, spamtestplus and virustest
 * (RFC 5235), read from the header fields the filters before delivery
 * added (SpamAssassin's or rspamd's milter, an antivirus milter).
 *
 * The configuration is Pigeonhole's: a status type ("score": a decimal
 * number; "strlen": a run of one repeated character; "text": one of up
 * to 11 (virustest: 6) known texts), the status header "Name[: REGEX]"
 * (the regular expression's first group is the value), and the maximum
 * score, either fixed (max_value) or read from a header (max_header).
 * Pigeonhole's sieve_spamtest_text_valueN settings are one parameter
 * here: "N=TEXT, N=TEXT".  The score scales to 1..10 (virustest 1..5)
 * or 0..100 (:percent) as Pigeonhole scales it; a message without a
 * usable header (or a test that is not configured) gives "0", "not
 * tested".
 */
#include <ctype.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sieve/sieve_int.h"
#include "util.h"

enum { SV_SCORE_SCORE, SV_SCORE_STRLEN, SV_SCORE_TEXT };

struct sv_score_hdr {
	char *name; /* NULL: none */
	regex_t rx;
	bool has_rx;
};

struct sieve_scoretest {
	bool virus;
	int type;
	struct sv_score_hdr status, max;
	float max_value;
	char *text[11];
};

/* "Name" or "Name: REGEX" (spaces after the colon are not the regex's). */
static bool sv_score_hdr_parse(struct sv_score_hdr *h, const char *spec, struct buf *err)
{
	const char *p = spec, *start;
	int rc;

	while (*p == ' ' || *p == '\t')
		p++;
	start = p;
	while (*p && *p != ':' && *p != ' ' && *p != '\t')
		p++;
	if (p == start) {
		buf_puts(err, "empty header specification");
		return false;
	}
	h->name = xstrndup(start, (size_t)(p - start));
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == 0)
		return true;
	if (*p != ':') {
		buf_printf(err, "expecting ':' after the header name, found '%c'", *p);
		return false;
	}
	p++;
	while (*p == ' ' || *p == '\t')
		p++;
	if ((rc = regcomp(&h->rx, p, REG_EXTENDED)) != 0) {
		char msg[128];

		regerror(rc, &h->rx, msg, sizeof(msg));
		buf_printf(err, "invalid regular expression '%s': %s", p, msg);
		return false;
	}
	h->has_rx = true;
	return true;
}

static void sv_score_hdr_free(struct sv_score_hdr *h)
{
	if (h->has_rx)
		regfree(&h->rx);
	free(h->name);
}

/* Pigeonhole's decimal: [+-]digits[(.|,)digits], at most 5 digits each
 * side. */
static bool sv_score_decimal(const char *s, float *out)
{
	float v = 0, sign = 1;
	int digits = 0;

	if (*s == 0)
		return false;
	if (*s == '+' || *s == '-')
		sign = *s++ == '-' ? -1 : 1;
	for (; isdigit((unsigned char)*s); s++) {
		if (digits++ >= 5)
			return false;
		v = v * 10 + (float)(*s - '0');
	}
	if (*s == '.' || *s == ',') {
		float radix = .1f;

		digits = 0;
		for (s++; isdigit((unsigned char)*s); s++) {
			if (digits++ >= 5)
				return false;
			v += (float)(*s - '0') * radix;
			radix /= 10;
		}
	}
	if (*s)
		return false;
	*out = v * sign;
	return true;
}

/* "N=TEXT, N=TEXT" */
static bool sv_score_texts(struct sieve_scoretest *t, const char *list, struct buf *err)
{
	char *copy = xstrdup(list), *save = NULL;
	int top = t->virus ? 5 : 10;
	bool ok = true;

	for (char *w = strtok_r(copy, ",", &save); w && ok; w = strtok_r(NULL, ",", &save)) {
		char *eq, *end;
		long n;

		while (*w == ' ' || *w == '\t')
			w++;
		if (*w == 0)
			continue;
		n = strtol(w, &end, 10);
		eq = end;
		while (*eq == ' ')
			eq++;
		if (end == w || *eq != '=' || n < 0 || n > top) {
			buf_printf(
			    err, "text value '%s' is not N=TEXT with N from 0 to %d", w, top);
			ok = false;
			break;
		}
		eq++;
		while (*eq == ' ' || *eq == '\t')
			eq++;
		end = eq + strlen(eq);
		while (end > eq && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
		free(t->text[n]);
		t->text[n] = xstrndup(eq, (size_t)(end - eq));
	}
	free(copy);
	return ok;
}

bool sieve_scoretest_load(bool virus, const char *(*get)(const char *name, void *ctx), void *ctx,
    struct sieve_scoretest **out, struct buf *err)
{
	const char *ext = virus ? "virustest" : "spamtest";
	char name[64];
	const char *type, *status, *maxv, *maxh, *texts;
	struct sieve_scoretest *t;
	bool ok = true;

#define SV_GET(var, suffix)                                                                        \
	do {                                                                                       \
		snprintf(name, sizeof(name), "sieve_%s_%s", ext, suffix);                          \
		var = get(name, ctx);                                                              \
		if (var && *var == 0)                                                              \
			var = NULL;                                                                \
	} while (0)
	SV_GET(type, "status_type");
	SV_GET(status, "status_header");
	SV_GET(maxv, "max_value");
	SV_GET(maxh, "max_header");
	SV_GET(texts, "text_values");
#undef SV_GET
	*out = NULL;
	if (status == NULL)
		return true;
	t = xcalloc(1, sizeof(*t));
	t->virus = virus;
	if (type == NULL || strcmp(type, "score") == 0)
		t->type = SV_SCORE_SCORE;
	else if (strcmp(type, "strlen") == 0)
		t->type = SV_SCORE_STRLEN;
	else if (strcmp(type, "text") == 0)
		t->type = SV_SCORE_TEXT;
	else {
		buf_printf(
		    err, "sieve_%s_status_type: '%s' is not score, strlen or text", ext, type);
		ok = false;
	}
	if (ok && !sv_score_hdr_parse(&t->status, status, err)) {
		buf_printf(err, " (sieve_%s_status_header)", ext);
		ok = false;
	}
	if (ok && t->type != SV_SCORE_TEXT) {
		if ((maxh == NULL) == (maxv == NULL)) {
			buf_printf(err,
			    "exactly one of sieve_%s_max_header and sieve_%s_max_value "
			    "must be set",
			    ext, ext);
			ok = false;
		} else if (maxh && !sv_score_hdr_parse(&t->max, maxh, err)) {
			buf_printf(err, " (sieve_%s_max_header)", ext);
			ok = false;
		} else if (maxv && (!sv_score_decimal(maxv, &t->max_value) || t->max_value <= 0)) {
			buf_printf(
			    err, "sieve_%s_max_value: '%s' is not a positive decimal", ext, maxv);
			ok = false;
		}
	} else if (ok && texts && !sv_score_texts(t, texts, err)) {
		buf_printf(err, " (sieve_%s_text_values)", ext);
		ok = false;
	}
	if (!ok) {
		sieve_scoretest_free(t);
		return false;
	}
	*out = t;
	return true;
}

void sieve_scoretest_free(struct sieve_scoretest *t)
{
	if (t == NULL)
		return;
	sv_score_hdr_free(&t->status);
	sv_score_hdr_free(&t->max);
	for (int i = 0; i < 11; i++)
		free(t->text[i]);
	free(t);
}

/* The first field h names, through its regex; NULL when absent or not
 * matching. */
static char *sv_score_extract(const struct sv_msg *m, const struct sv_score_hdr *h)
{
	char **vals, *out = NULL;
	size_t n = sv_msg_header(m, h->name, &vals);

	if (n) {
		const char *v = vals[0];
		size_t len;
		regmatch_t g[2];

		while (*v == ' ' || *v == '\t')
			v++;
		len = strlen(v);
		while (len && (v[len - 1] == ' ' || v[len - 1] == '\t' || v[len - 1] == '\r'))
			len--;
		out = xstrndup(v, len);
		if (h->has_rx) {
			if (regexec(&h->rx, out, 2, g, 0) == 0 && g[1].rm_so >= 0) {
				char *sub =
				    xstrndup(out + g[1].rm_so, (size_t)(g[1].rm_eo - g[1].rm_so));

				free(out);
				out = sub;
			} else {
				free(out);
				out = NULL;
			}
		}
	}
	for (size_t i = 0; i < n; i++)
		free(vals[i]);
	free(vals);
	return out;
}

/* The status as a ratio of the maximum, 0..1; -1 when not tested. */
static float sv_score_ratio(const struct sieve_scoretest *t, const struct sv_msg *m)
{
	float maxv = t->max_value, v = 0;
	char *s;
	bool ok = true;

	if (t->type == SV_SCORE_TEXT) {
		maxv = t->virus ? 5 : 10;
	} else if (t->max.name) {
		if ((s = sv_score_extract(m, &t->max)) == NULL)
			return -1;
		ok = sv_score_decimal(s, &maxv);
		free(s);
		if (!ok || maxv == 0)
			return -1;
	}
	if ((s = sv_score_extract(m, &t->status)) == NULL)
		return -1;
	switch (t->type) {
	case SV_SCORE_SCORE: ok = sv_score_decimal(s, &v); break;
	case SV_SCORE_STRLEN: {
		size_t i = 0;

		while (s[i] && s[i] == s[0])
			i++;
		ok = s[i] == 0;
		v = (float)i;
		break;
	}
	default:
		ok = false;
		for (int i = 0; i <= (t->virus ? 5 : 10) && !ok; i++)
			if (t->text[i] && strcmp(t->text[i], s) == 0) {
				v = (float)i;
				ok = true;
			}
		break;
	}
	free(s);
	if (!ok)
		return -1;
	if (v < 0)
		return 0;
	return v > maxv ? 1 : v / maxv;
}

void sv_score_value(
    const struct sieve_scoretest *t, const struct sv_msg *m, bool percent, char *out, size_t outlen)
{
	float r = t ? sv_score_ratio(t, m) : -1;
	int score;

	if (r < 0) {
		snprintf(out, outlen, "0");
		return;
	}
	if (r > 1)
		r = 1;
	if (percent)
		score = (int)(r * 100 + 0.001);
	else if (t->virus)
		score = (int)(r * 4 + 1.001);
	else
		score = (int)(r * 9 + 1.001);
	snprintf(out, outlen, "%d", score);
}

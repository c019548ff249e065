/*
 * mime/param.c - MIME parameters and RFC 2231 (mime/param.h).
 *
 * Parsing is two steps: the raw "name=value" pairs in order, then a merge
 * of RFC 2231 sections.  Sections are joined in section-number order and
 * only when section 0 exists and the numbers run without a gap (RFC 2231
 * section 3); otherwise the pieces are kept under their own names, which
 * is what a reader shown the raw header would expect.
 */
#include "mime/param.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mime/charset.h"
#include "mime/decode.h"
#include "mime/lex.h"
#include "mime/rfc2047.h"
#include "util.h"

/* Sections of one continued parameter are at most this many. */
#define MIME_PARAM_SECTIONS 100

struct raw_param {
	char *name; /* lowercase, with its "*N" and "*" suffixes */
	char *value;
};

static void lower(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

static void params_add(struct mime_params *p, char *name, char *value)
{
	if (p->n >= MIME_PARAMS_MAX) {
		free(name);
		free(value);
		return;
	}
	p->v = xreallocarray(p->v, p->n + 1, sizeof(*p->v));
	p->v[p->n].name = name;
	p->v[p->n].value = value;
	p->n++;
}

/* "name*12*" -> base length, section 12, extended; section -1 if none. */
static size_t param_split_name(const char *name, int *section, bool *ext)
{
	size_t n = strlen(name);

	*ext = false;
	*section = -1;
	if (n && name[n - 1] == '*') {
		*ext = true;
		n--;
	}
	size_t d = n;
	while (d > 0 && isdigit((unsigned char)name[d - 1]))
		d--;
	if (d < n && d > 0 && name[d - 1] == '*' && n - d <= 3 && (n - d == 1 || name[d] != '0')) {
		*section = atoi(name + d);
		return d - 1;
	}
	return n;
}

static void pct_encode(const char *s, struct buf *out)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c <= 32 || c >= 127 || strchr("%*'()<>@,;:\\\"/[]?=", c))
			buf_put_hexbyte(out, '%', c);
		else
			buf_putc(out, c);
	}
}

/* Joins the sections of base name raw[i].. into one parameter. */
static bool params_merge_one(
    struct raw_param *raw, size_t nraw, size_t first, bool *used, struct mime_params *out)
{
	int sec;
	bool ext;
	size_t blen = param_split_name(raw[first].name, &sec, &ext);
	struct raw_param *order[MIME_PARAM_SECTIONS];
	bool ext_of[MIME_PARAM_SECTIONS];
	int count = 0;
	bool any_ext = false;

	memset(order, 0, sizeof(order));
	for (size_t i = first; i < nraw; i++) {
		int s;
		bool e;
		size_t l = param_split_name(raw[i].name, &s, &e);

		if (used[i] || l != blen || strncasecmp(raw[i].name, raw[first].name, blen) != 0 ||
		    s < 0 || s >= MIME_PARAM_SECTIONS || order[s])
			continue;
		order[s] = &raw[i];
		ext_of[s] = e;
	}
	while (count < MIME_PARAM_SECTIONS && order[count])
		count++;
	if (count == 0)
		return false;
	struct buf v = BUF_INIT;
	for (int s = 0; s < count; s++)
		any_ext |= ext_of[s];
	for (int s = 0; s < count; s++) {
		if (any_ext && !ext_of[s])
			pct_encode(order[s]->value, &v);
		else
			buf_puts(&v, order[s]->value);
		used[order[s] - raw] = true;
	}
	char *name = xasprintf("%.*s%s", (int)blen, raw[first].name, any_ext ? "*" : "");
	params_add(out, name, xmemdup(v.data ? v.data : "", v.len));
	buf_free(&v);
	return true;
}

/* Plain parameters first, in order, then the RFC 2231 ones (merged
 * where they can be), as Dovecot lists them. */
static void params_merge(struct raw_param *raw, size_t nraw, struct mime_params *out)
{
	bool *used = xcalloc(nraw ? nraw : 1, sizeof(bool));

	for (size_t i = 0; i < nraw; i++) {
		if (strchr(raw[i].name, '*') == NULL) {
			used[i] = true;
			params_add(out, xstrdup(raw[i].name), xstrdup(raw[i].value));
		}
	}
	for (size_t i = 0; i < nraw; i++) {
		int sec;
		bool ext;

		if (used[i])
			continue;
		param_split_name(raw[i].name, &sec, &ext);
		if (sec == 0 && params_merge_one(raw, nraw, i, used, out))
			continue;
		used[i] = true;
		params_add(out, xstrdup(raw[i].name), xstrdup(raw[i].value));
	}
	free(used);
}

void mime_params_parse(const char *value, size_t len, struct mime_params *params)
{
	struct mime_lex l;
	struct raw_param raw[MIME_PARAMS_MAX];
	size_t nraw = 0;
	struct buf name = BUF_INIT, val = BUF_INIT;

	params->v = NULL;
	params->n = 0;
	mime_lex_init(&l, value, len);
	while (!mime_lex_eof(&l)) {
		mime_lex_cfws(&l);
		if (!mime_lex_char(&l, ';')) {
			if (!mime_lex_eof(&l))
				l.p++; /* junk between parameters */
			continue;
		}
		mime_lex_cfws(&l);
		buf_reset(&name);
		buf_reset(&val);
		if (!mime_lex_token(&l, &name))
			continue;
		mime_lex_cfws(&l);
		if (!mime_lex_char(&l, '='))
			continue;
		mime_lex_cfws(&l);
		if (mime_lex_peek(&l) == '"') {
			mime_lex_quoted(&l, &val);
		} else {
			/* A token; lenient: anything up to ';' or white space. */
			while (!mime_lex_eof(&l) && *l.p != ';' && !isspace(*l.p))
				buf_putc(&val, *l.p++);
		}
		if (nraw < MIME_PARAMS_MAX) {
			raw[nraw].name = xmemdup(name.data, name.len);
			raw[nraw].value = xmemdup(val.data ? val.data : "", val.len);
			nraw++;
		}
	}
	params_merge(raw, nraw, params);
	for (size_t i = 0; i < nraw; i++) {
		free(raw[i].name);
		free(raw[i].value);
	}
	buf_free(&name);
	buf_free(&val);
}

void mime_params_free(struct mime_params *params)
{
	for (size_t i = 0; i < params->n; i++) {
		free(params->v[i].name);
		free(params->v[i].value);
	}
	free(params->v);
	params->v = NULL;
	params->n = 0;
}

const char *mime_params_get(const struct mime_params *params, const char *name)
{
	for (size_t i = 0; i < params->n; i++)
		if (strcasecmp(params->v[i].name, name) == 0)
			return params->v[i].value;
	return NULL;
}

/* Where the parameters start: the first ';' outside quotes/comments. */
static size_t params_start(struct mime_lex *l, const char *value)
{
	while (!mime_lex_eof(l) && *l->p != ';')
		l->p++;
	return (size_t)((const char *)l->p - value);
}

void mime_content_type_parse(
    const char *value, size_t len, char **type, char **subtype, struct mime_params *params)
{
	struct mime_lex l;
	struct buf t = BUF_INIT, s = BUF_INIT;
	size_t off;

	*type = *subtype = NULL;
	mime_lex_init(&l, value, len);
	mime_lex_cfws(&l);
	if (mime_lex_token(&l, &t)) {
		mime_lex_cfws(&l);
		/* "text" alone keeps its type with an empty subtype (Dovecot). */
		if (mime_lex_char(&l, '/')) {
			mime_lex_cfws(&l);
			mime_lex_token(&l, &s);
		}
		*type = xmemdup(t.data, t.len);
		*subtype = xmemdup(s.data ? s.data : "", s.len);
		lower(*type);
		lower(*subtype);
	}
	off = params_start(&l, value);
	mime_params_parse(value + off, len - off, params);
	buf_free(&t);
	buf_free(&s);
}

void mime_token_params_parse(
    const char *value, size_t len, char **token, struct mime_params *params)
{
	struct mime_lex l;
	struct buf t = BUF_INIT;
	size_t off;

	*token = NULL;
	mime_lex_init(&l, value, len);
	mime_lex_cfws(&l);
	if (mime_lex_token(&l, &t)) {
		*token = xmemdup(t.data, t.len);
		lower(*token);
	}
	off = params_start(&l, value);
	mime_params_parse(value + off, len - off, params);
	buf_free(&t);
}

/* "charset'lang'pct-encoded" to UTF-8 (RFC 2231 section 4). */
static void param_ext_decode(const char *v, struct buf *out)
{
	const char *q1 = strchr(v, '\''), *q2 = q1 ? strchr(q1 + 1, '\'') : NULL;
	const char *text = q2 ? q2 + 1 : v;
	char *charset = q2 ? xstrndup(v, (size_t)(q1 - v)) : xstrdup("us-ascii");
	struct buf raw = BUF_INIT;

	for (const char *p = text; *p; p++) {
		if (*p == '%' && hex_value(p[1]) >= 0 && hex_value(p[2]) >= 0) {
			buf_putc(&raw, hex_value(p[1]) * 16 + hex_value(p[2]));
			p += 2;
		} else {
			buf_putc(&raw, *p);
		}
	}
	if (!mime_charset_to_utf8(charset, raw.data ? raw.data : "", raw.len, out))
		mime_utf8_append_valid(raw.data ? raw.data : "", raw.len, false, out, NULL);
	free(charset);
	buf_free(&raw);
}

bool mime_param_utf8(const struct mime_params *params, const char *name, struct buf *out)
{
	char *ext = xasprintf("%s*", name);
	const char *v = mime_params_get(params, ext);

	free(ext);
	buf_reset(out);
	if (v) {
		param_ext_decode(v, out);
		return true;
	}
	if ((v = mime_params_get(params, name)) == NULL)
		return false;
	mime_2047_decode(v, strlen(v), out);
	return true;
}

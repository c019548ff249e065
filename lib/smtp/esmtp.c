/*
 * esmtp.c - checking and decoding the ESMTP parameters of MAIL and RCPT
 * (smtp/esmtp.h).
 *
 * A parameter the server did not offer, or does not know, gets Postfix's
 * "555 5.5.4 Unsupported option"; a known one with a bad value gets 501; a
 * repeated one is a syntax error too (RFC 3461 4.1 and 4.4: at most once
 * each).  ENVID and rfc822 ORCPT values must decode to printable ASCII
 * (RFC 3461 4.2 and 4.4): they end up in DSN fields and log lines.
 */
#include "smtp/esmtp.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "smtp/xtext.h"
#include "util.h"

#define ERR_PARAM "501 5.5.4 Syntax error in parameters"
#define ERR_NPARAM "501 5.5.4 Too many parameters"

static bool esmtp_sp(int c)
{
	return c == ' ' || c == '\t';
}

static bool esmtp_alnum(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* esmtp-param = esmtp-keyword ["=" esmtp-value] (RFC 5321 4.1.2). */
static bool esmtp_param_parse(const char *s, size_t len, struct esmtp_param *p)
{
	size_t i = 1;

	if (len == 0 || !esmtp_alnum(s[0]))
		return false;
	while (i < len && (esmtp_alnum(s[i]) || s[i] == '-'))
		i++;
	p->key = s;
	p->key_len = i;
	p->value = NULL;
	p->value_len = 0;
	if (i == len)
		return true;
	if (s[i] != '=' || i + 1 == len)
		return false;
	for (size_t j = i + 1; j < len; j++)
		if (s[j] < 33 || s[j] > 126 || s[j] == '=')
			return false;
	p->value = s + i + 1;
	p->value_len = len - i - 1;
	return true;
}

int esmtp_params_split(const char *s, size_t len, struct esmtp_param *params, size_t max,
    size_t *count, const char **error)
{
	const char *end = s + len, *tok;

	*count = 0;
	for (;;) {
		while (s < end && esmtp_sp(*s))
			s++;
		if (s == end)
			return 0;
		for (tok = s; s < end && !esmtp_sp(*s); s++)
			;
		if (*count == max) {
			*error = ERR_NPARAM;
			return -1;
		}
		if (!esmtp_param_parse(tok, (size_t)(s - tok), &params[*count])) {
			*error = ERR_PARAM;
			return -1;
		}
		(*count)++;
	}
}

bool esmtp_param_is(const struct esmtp_param *p, const char *key)
{
	return strlen(key) == p->key_len && strncasecmp(p->key, key, p->key_len) == 0;
}

/* The value, when the parameter has one, compared ignoring case. */
static bool esmtp_value_is(const struct esmtp_param *p, const char *value)
{
	return p->value && strlen(value) == p->value_len &&
	       strncasecmp(p->value, value, p->value_len) == 0;
}

/*
 * The xtext value decoded, or NULL when absent, longer than max, malformed,
 * empty, or holding a byte below lo (a control) or DEL; ascii: nothing
 * above DEL either.
 */
static char *esmtp_xtext(const char *value, size_t len, size_t max, int lo, bool ascii)
{
	struct buf b = BUF_INIT;

	if (value == NULL || len > max || xtext_decode(value, len, &b) < 0 || b.len == 0) {
		buf_free(&b);
		return NULL;
	}
	for (size_t i = 0; i < b.len; i++) {
		int c = (unsigned char)b.data[i];

		if (c < lo || c == 127 || (ascii && c > 127)) {
			buf_free(&b);
			return NULL;
		}
	}
	return b.data;
}

/* Runs fn over each parameter after checking for repeats; first reply wins. */
typedef char *esmtp_param_fn(const struct esmtp_param *p, unsigned offered, void *ctx);

static char *esmtp_each(const char *s, size_t len, unsigned offered, esmtp_param_fn *fn, void *ctx)
{
	struct esmtp_param params[ESMTP_PARAMS_MAX];
	const char *err = ERR_PARAM;
	size_t n = 0;
	char *reply = NULL;

	if (esmtp_params_split(s, len, params, ESMTP_PARAMS_MAX, &n, &err) < 0)
		return xstrdup(err);
	for (size_t i = 0; i < n && reply == NULL; i++) {
		for (size_t j = 0; j < i && reply == NULL; j++)
			if (params[j].key_len == params[i].key_len &&
			    strncasecmp(params[j].key, params[i].key, params[i].key_len) == 0)
				reply = xasprintf("501 5.5.4 Duplicate %.*s parameter",
				    (int)params[i].key_len, params[i].key);
		if (reply == NULL)
			reply = fn(&params[i], offered, ctx);
	}
	return reply;
}

static char *esmtp_unknown(const struct esmtp_param *p)
{
	return xasprintf("555 5.5.4 Unsupported option: %.*s", (int)p->key_len, p->key);
}

struct esmtp_mail_ctx {
	struct esmtp_mail *m;
	long long size_limit;
};

/* SIZE=n (RFC 1870 3): digits only, and within our limit. */
static char *esmtp_size(const struct esmtp_param *p, long long limit, struct esmtp_mail *m)
{
	char *value = p->value ? xmemdup(p->value, p->value_len) : NULL;
	long n = 0;
	bool ok = value && value[0] >= '0' && value[0] <= '9' && parse_long(value, 0, LONG_MAX, &n);

	free(value);
	if (!ok)
		return xstrdup("501 5.5.4 Bad message size syntax");
	if (limit > 0 && n > limit)
		return xstrdup("552 5.3.4 Message size exceeds fixed limit");
	m->size = n;
	return NULL;
}

static char *esmtp_mail_one(const struct esmtp_param *p, unsigned offered, void *ctx)
{
	struct esmtp_mail_ctx *c = ctx;
	struct esmtp_mail *m = c->m;

	if (esmtp_param_is(p, "SIZE") && (offered & ESMTP_OFFER_SIZE))
		return esmtp_size(p, c->size_limit, m);
	if (esmtp_param_is(p, "BODY") && (offered & ESMTP_OFFER_8BITMIME)) {
		if (!esmtp_value_is(p, "7BIT") && !esmtp_value_is(p, "8BITMIME"))
			return xstrdup("501 5.5.4 Unsupported BODY parameter");
		m->eightbit = esmtp_value_is(p, "8BITMIME");
		return NULL;
	}
	if (esmtp_param_is(p, "AUTH") && (offered & ESMTP_OFFER_AUTH)) {
		/* RFC 4954 5: accepted, though another server's word is not trusted. */
		m->auth = esmtp_xtext(p->value, p->value_len, ESMTP_AUTH_MAX, 33, false);
		return m->auth ? NULL : xstrdup("501 5.5.4 Syntax error in AUTH parameter");
	}
	if (esmtp_param_is(p, "SMTPUTF8") && (offered & ESMTP_OFFER_SMTPUTF8)) {
		if (p->value)
			return xstrdup("501 5.5.4 SMTPUTF8 takes no value");
		m->smtputf8 = true;
		return NULL;
	}
	if (esmtp_param_is(p, "REQUIRETLS") && (offered & ESMTP_OFFER_REQUIRETLS)) {
		if (p->value)
			return xstrdup("501 5.5.4 REQUIRETLS takes no value");
		m->requiretls = true;
		return NULL;
	}
	if (esmtp_param_is(p, "RET") && (offered & ESMTP_OFFER_DSN)) {
		if (esmtp_value_is(p, "FULL"))
			m->ret = "FULL";
		else if (esmtp_value_is(p, "HDRS"))
			m->ret = "HDRS";
		else
			return xstrdup("501 5.5.4 Bad RET parameter syntax");
		return NULL;
	}
	if (esmtp_param_is(p, "ENVID") && (offered & ESMTP_OFFER_DSN)) {
		m->envid = esmtp_xtext(p->value, p->value_len, ESMTP_ENVID_MAX, 32, true);
		return m->envid ? NULL : xstrdup("501 5.5.4 Bad ENVID parameter syntax");
	}
	return esmtp_unknown(p);
}

char *esmtp_notify_parse(const char *v, size_t len)
{
	static const char *const words[] = {"SUCCESS", "FAILURE", "DELAY"};
	struct buf out = BUF_INIT;
	const char *end = v + len;
	unsigned seen = 0;

	if (len == 5 && strncasecmp(v, "NEVER", 5) == 0)
		return xstrdup("NEVER");
	while (v < end) {
		const char *comma = memchr(v, ',', (size_t)(end - v));
		size_t n = comma ? (size_t)(comma - v) : (size_t)(end - v), k;

		for (k = 0; k < 3; k++)
			if (strlen(words[k]) == n && strncasecmp(v, words[k], n) == 0)
				break;
		if (k == 3 || (seen & (1u << k)) || (comma && comma + 1 == end)) {
			buf_free(&out);
			return NULL;
		}
		seen |= 1u << k;
		buf_printf(&out, "%s%s", out.len ? "," : "", words[k]);
		v = comma ? comma + 1 : end;
	}
	return out.data;
}

/* ORCPT=addr-type;xtext (RFC 3461 4.2); addr-type is an atom (rfc822, utf-8). */
static char *esmtp_orcpt(const char *v, size_t len)
{
	const char *semi = v ? memchr(v, ';', len) : NULL;
	size_t tlen = semi ? (size_t)(semi - v) : 0;
	bool utf8 = tlen == 5 && strncasecmp(v, "utf-8", 5) == 0;
	char *addr, *out;

	if (semi == NULL || tlen == 0 || len > ESMTP_ORCPT_MAX)
		return NULL;
	for (size_t i = 0; i < tlen; i++)
		if (!esmtp_alnum(v[i]) && v[i] != '-')
			return NULL;
	addr = esmtp_xtext(semi + 1, len - tlen - 1, ESMTP_ORCPT_MAX, 32, !utf8);
	if (addr == NULL)
		return NULL;
	out = xasprintf("%.*s;%s", (int)tlen, v, addr);
	free(addr);
	return out;
}

const char *esmtp_orcpt_split(const char *orcpt, const char **type, size_t *type_len)
{
	const char *semi = strchr(orcpt, ';'), *p = orcpt;

	while (semi && p < semi && (esmtp_alnum(*p) || *p == '-'))
		p++;
	if (semi == NULL || semi == orcpt || p != semi) {
		*type = "rfc822";
		*type_len = 6;
		return orcpt;
	}
	*type = orcpt;
	*type_len = (size_t)(semi - orcpt);
	return semi + 1;
}

static char *esmtp_rcpt_one(const struct esmtp_param *p, unsigned offered, void *ctx)
{
	struct esmtp_rcpt *r = ctx;

	if (esmtp_param_is(p, "NOTIFY") && (offered & ESMTP_OFFER_DSN)) {
		if (p->value == NULL ||
		    (r->notify = esmtp_notify_parse(p->value, p->value_len)) == NULL)
			return xstrdup("501 5.5.4 Bad NOTIFY parameter syntax");
		return NULL;
	}
	if (esmtp_param_is(p, "ORCPT") && (offered & ESMTP_OFFER_DSN)) {
		if ((r->orcpt = esmtp_orcpt(p->value, p->value_len)) == NULL)
			return xstrdup("501 5.5.4 Bad ORCPT parameter syntax");
		return NULL;
	}
	return esmtp_unknown(p);
}

char *esmtp_mail_parse(
    const char *s, size_t len, unsigned offered, long long size_limit, struct esmtp_mail *m)
{
	struct esmtp_mail_ctx c = {m, size_limit};

	memset(m, 0, sizeof(*m));
	m->size = -1;
	return esmtp_each(s, len, offered, esmtp_mail_one, &c);
}

char *esmtp_rcpt_parse(const char *s, size_t len, unsigned offered, struct esmtp_rcpt *r)
{
	memset(r, 0, sizeof(*r));
	return esmtp_each(s, len, offered, esmtp_rcpt_one, r);
}

void esmtp_mail_free(struct esmtp_mail *m)
{
	free(m->envid);
	free(m->auth);
	m->envid = m->auth = NULL;
}

void esmtp_rcpt_free(struct esmtp_rcpt *r)
{
	free(r->notify);
	free(r->orcpt);
	r->notify = r->orcpt = NULL;
}

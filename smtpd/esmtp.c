/*
 * esmtp.c - checking and decoding the ESMTP parameters of MAIL and RCPT.
 *
 * A parameter we did not offer, or do not know, gets Postfix's "555 5.5.4
 * Unsupported option"; a known one with a bad value gets 501; a repeated
 * one is a syntax error too (RFC 3461 4.1: at most once each).
 */
#include "esmtp.h"

#include <limits.h>
#include <string.h>

#include "cmd.h"
#include "config.h"
#include "smtpd.h"
#include "util.h"

#define ESMTP_ENVID_MAX 100 /* RFC 3461 4.4 */
#define ESMTP_ORCPT_MAX 500 /* RFC 3461 4.2: 500 characters encoded */

bool esmtp_dsn_enabled(void)
{
	return config_bool("smtpd_dsn_enable");
}

bool esmtp_smtputf8_enabled(void)
{
	return config_bool("smtputf8_enable");
}

/* Runs fn over each parameter; stops at the first reply. */
typedef char *esmtp_param_fn(
    const struct smtpd_session *s, const char *key, const char *value, void *out);

static char *esmtp_each(
    const struct smtpd_session *s, const char *p, const char *end, esmtp_param_fn *fn, void *out)
{
	struct smtp_param params[SMTP_PARAMS_MAX];
	const char *err = NULL;
	size_t n = 0;
	char *reply = NULL;

	if (smtp_params_parse(p, (size_t)(end - p), params, SMTP_PARAMS_MAX, &n, &err) < 0)
		return xstrdup(err ? err : "501 5.5.4 Syntax error in parameters");
	for (size_t i = 0; i < n && reply == NULL; i++) {
		char *key = xmemdup(params[i].key, params[i].key_len);
		char *value =
		    params[i].value ? xmemdup(params[i].value, params[i].value_len) : NULL;

		for (size_t j = 0; j < i && reply == NULL; j++)
			if (smtp_param_is(&params[j], key))
				reply = xasprintf("501 5.5.4 Duplicate %s parameter", key);
		if (reply == NULL)
			reply = fn(s, key, value, out);
		free(key);
		free(value);
	}
	return reply;
}

static char *esmtp_unknown(const char *key)
{
	return xasprintf("555 5.5.4 Unsupported option: %s", key);
}

/* Decodes xtext; NULL when it is malformed or longer than max. */
static char *esmtp_xtext(const char *value, size_t max)
{
	struct buf b = BUF_INIT;
	char *out = NULL;

	if (value && strlen(value) <= max && smtp_xtext_decode(value, strlen(value), &b) == 0)
		out = xstrdup(buf_cstr(&b));
	buf_free(&b);
	return out;
}

static char *esmtp_mail_one(
    const struct smtpd_session *s, const char *key, const char *value, void *out)
{
	struct esmtp_mail *m = out;
	long long limit = config_size("message_size_limit");
	long n;

	if (str_case_eq(key, "SIZE")) {
		if (value == NULL || !parse_long(value, 0, LONG_MAX, &n))
			return xstrdup("501 5.5.4 Bad message size syntax");
		if (limit > 0 && n > limit)
			return xstrdup("552 5.3.4 Message size exceeds fixed limit");
		m->size = n;
		return NULL;
	}
	if (str_case_eq(key, "BODY")) {
		if (value && (str_case_eq(value, "7BIT") || str_case_eq(value, "8BITMIME")))
			return NULL;
		return xstrdup("501 5.5.4 Unsupported BODY parameter");
	}
	if (str_case_eq(key, "AUTH") && (s->auth_offered || s->sasl_user)) {
		/* RFC 4954 5: accepted, but we do not trust another server's word. */
		char *who = esmtp_xtext(value, 1000);

		free(who);
		return who ? NULL : xstrdup("501 5.5.4 Syntax error in AUTH parameter");
	}
	if (str_case_eq(key, "SMTPUTF8") && esmtp_smtputf8_enabled()) {
		if (value)
			return xstrdup("501 5.5.4 SMTPUTF8 takes no value");
		m->smtputf8 = true;
		return NULL;
	}
	if (str_case_eq(key, "RET") && esmtp_dsn_enabled()) {
		if (value && str_case_eq(value, "FULL"))
			m->ret = "FULL";
		else if (value && str_case_eq(value, "HDRS"))
			m->ret = "HDRS";
		else
			return xstrdup("501 5.5.4 Bad RET parameter syntax");
		return NULL;
	}
	if (str_case_eq(key, "ENVID") && esmtp_dsn_enabled()) {
		if ((m->envid = esmtp_xtext(value, ESMTP_ENVID_MAX)) == NULL)
			return xstrdup("501 5.5.4 Bad ENVID parameter syntax");
		return NULL;
	}
	return esmtp_unknown(key);
}

/* NOTIFY=NEVER or a list of SUCCESS, FAILURE, DELAY (RFC 3461 4.1). */
static char *esmtp_notify(const char *value)
{
	static const char *const words[] = {"SUCCESS", "FAILURE", "DELAY"};
	char **v;
	struct buf out = BUF_INIT;
	bool ok = true;
	unsigned seen = 0;

	if (value == NULL || *value == 0)
		return NULL;
	if (str_case_eq(value, "NEVER"))
		return xstrdup("NEVER");
	v = strv_split(value, ",");
	for (size_t i = 0; v[i] && ok; i++) {
		size_t k;

		for (k = 0; k < 3 && !str_case_eq(v[i], words[k]); k++)
			;
		ok = k < 3 && !(seen & (1u << k));
		if (ok) {
			seen |= 1u << k;
			buf_printf(&out, "%s%s", out.len ? "," : "", words[k]);
		}
	}
	if (strchr(value, ',') &&
	    (value[0] == ',' || value[strlen(value) - 1] == ',' || strstr(value, ",,")))
		ok = false;
	strv_free(v);
	if (!ok || out.len == 0) {
		buf_free(&out);
		return NULL;
	}
	return out.data;
}

/* ORCPT=addr-type;xtext, with addr-type an atom such as rfc822 or utf-8. */
static char *esmtp_orcpt(const char *value)
{
	const char *semi = value ? strchr(value, ';') : NULL;
	char *addr, *out;

	if (semi == NULL || semi == value || strlen(value) > ESMTP_ORCPT_MAX)
		return NULL;
	for (const char *p = value; p < semi; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			(*p >= '0' && *p <= '9') || *p == '-'))
			return NULL;
	if ((addr = esmtp_xtext(semi + 1, ESMTP_ORCPT_MAX)) == NULL || *addr == 0) {
		free(addr);
		return NULL;
	}
	out = xasprintf("%.*s;%s", (int)(semi - value), value, addr);
	free(addr);
	return out;
}

static char *esmtp_rcpt_one(
    const struct smtpd_session *s, const char *key, const char *value, void *out)
{
	struct esmtp_rcpt *r = out;

	(void)s;
	if (str_case_eq(key, "NOTIFY") && esmtp_dsn_enabled()) {
		if ((r->notify = esmtp_notify(value)) == NULL)
			return xstrdup("501 5.5.4 Bad NOTIFY parameter syntax");
		return NULL;
	}
	if (str_case_eq(key, "ORCPT") && esmtp_dsn_enabled()) {
		if ((r->orcpt = esmtp_orcpt(value)) == NULL)
			return xstrdup("501 5.5.4 Bad ORCPT parameter syntax");
		return NULL;
	}
	return esmtp_unknown(key);
}

char *esmtp_mail_params(
    const struct smtpd_session *s, const char *p, const char *end, struct esmtp_mail *m)
{
	memset(m, 0, sizeof(*m));
	m->size = -1;
	return esmtp_each(s, p, end, esmtp_mail_one, m);
}

char *esmtp_rcpt_params(
    const struct smtpd_session *s, const char *p, const char *end, struct esmtp_rcpt *r)
{
	memset(r, 0, sizeof(*r));
	return esmtp_each(s, p, end, esmtp_rcpt_one, r);
}

void esmtp_mail_free(struct esmtp_mail *m)
{
	free(m->envid);
	m->envid = NULL;
}

void esmtp_rcpt_free(struct esmtp_rcpt *r)
{
	free(r->notify);
	free(r->orcpt);
	r->notify = r->orcpt = NULL;
}
